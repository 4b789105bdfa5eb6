#if canImport(Glibc)
import Glibc
#endif

/// A project's workspaces (`workspaces` in package.json: an array of globs,
/// or yarn's `{"packages": [...]}`), as npm and yarn find them: each glob's
/// `*`, `?`, `[…]` within one folder name, `**` across folders, `{a,b}`
/// alternatives, `!` excluding; folders under `node_modules` are never one.
public enum NpmWorkspaces {
    /// The globs as npm's workspace mapper reads them, each excluding one with a
    /// single leading `!`: an odd number of `!` excludes, an even one includes
    /// (`!!pkgs/a`), a leading `/` or `./` is dropped, a backslash is a slash.
    public static func patterns(_ manifest: JSON) -> [String] {
        var list: [JSON] = []
        if case .array(let items)? = manifest["workspaces"] { list = items }
        if case .array(let items)? = manifest["workspaces"]?["packages"] { list = items }
        return list.compactMap { if case .string(let text) = $0 { return text } else { return nil } }.map(mapped).flatMap(expandBraces)
    }

    static func mapped(_ given: String) -> String {
        let bangs = given.prefix { $0 == "!" }.count
        var pattern = Substring(given.dropFirst(bangs))
        if pattern.hasPrefix("./") { pattern = pattern.dropFirst() }
        pattern = pattern.drop { $0 == "/" }
        let posix = pattern.replacing("\\", with: "/")
        return (bangs % 2 == 1 ? "!" : "") + posix
    }

    /// A pattern whose glob syntax Bouncer does not read (minimatch's
    /// `@(…)`, `+(…)`, `!(…)`, `*(…)`, `?(…)`), which npm expands to folders
    /// whose dependencies would then go unchecked; nil when every one reads.
    public static func unreadable(_ manifest: JSON) -> String? {
        patterns(manifest).first { pattern in
            let bytes = Array(pattern.utf8)
            return bytes.indices.dropLast().contains { bytes[$0 + 1] == UInt8(ascii: "(") && "@+!*?".utf8.contains(bytes[$0]) }
        }
    }

    /// Whether `path` (relative to the project, as a lock's link names its
    /// target) is a workspace folder: matched by a glob and excluded by none.
    public static func contains(_ path: String, patterns: [String]) -> Bool {
        guard let segments = normalised(path), !segments.isEmpty, !segments.contains("node_modules") else { return false }
        var included = false
        for pattern in patterns {
            let negated = pattern.hasPrefix("!")
            guard let glob = normalised(negated ? String(pattern.dropFirst()) : pattern) else { continue }
            if matches(segments[...], glob[...]) { included = !negated }
        }
        return included
    }

    /// The workspace folders (relative to `project`) that hold a package.json.
    public static func directories(project: String, patterns: [String]) -> [String] {
        var found: [String] = []
        var visited = 0
        for pattern in patterns where !pattern.hasPrefix("!") {
            guard let glob = normalised(pattern) else { continue }
            walk(project: project, relative: [], glob: glob[...], found: &found, visited: &visited)
        }
        var seen: Set<String> = []
        return found.filter { seen.insert($0).inserted && contains($0, patterns: patterns) }
    }

    static func walk(project: String, relative: [String], glob: ArraySlice<String>, found: inout [String], visited: inout Int) {
        visited += 1
        // A bound on folders read, against a pattern of `**` over a huge tree.
        guard visited < 20_000 else { return }
        let here = ([project] + relative).joined(separator: "/")
        guard let segment = glob.first else {
            if access(here + "/package.json", F_OK) == 0 { found.append(relative.joined(separator: "/")) }
            return
        }
        if segment == "**" {
            walk(project: project, relative: relative, glob: glob.dropFirst(), found: &found, visited: &visited)
            for name in subfolders(here) where !name.hasPrefix(".") {
                walk(project: project, relative: relative + [name], glob: glob, found: &found, visited: &visited)
            }
        } else if segment.contains(where: { "*?[".contains($0) }) {
            for name in subfolders(here) where fnmatch(segment, name, FNM_PERIOD) == 0 {
                walk(project: project, relative: relative + [name], glob: glob.dropFirst(), found: &found, visited: &visited)
            }
        } else {
            walk(project: project, relative: relative + [segment], glob: glob.dropFirst(), found: &found, visited: &visited)
        }
    }

    static func subfolders(_ path: String) -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            guard name != ".", name != "..", name != "node_modules" else { continue }
            var info = stat()
            if stat(path + "/" + name, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR { names.append(name) }
        }
        return names.sorted()
    }

    /// A glob's or path's folder names, `.` and `..` resolved; a folder above
    /// the project stays a leading `..` (npm takes `../sibling` as a workspace);
    /// nil for an absolute path.
    public static func normalised(_ path: String) -> [String]? {
        guard !path.hasPrefix("/") else { return nil }
        var segments: [String] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == "..", let last = segments.last, last != ".." {
                segments.removeLast()
                continue
            }
            segments.append(String(part))
        }
        return segments
    }

    static func matches(_ path: ArraySlice<String>, _ glob: ArraySlice<String>) -> Bool {
        guard let segment = glob.first else { return path.isEmpty }
        if segment == "**" {
            if matches(path, glob.dropFirst()) { return true }
            return !path.isEmpty && !path[path.startIndex].hasPrefix(".") && matches(path.dropFirst(), glob)
        }
        guard let name = path.first, fnmatch(segment, name, FNM_PERIOD) == 0 else { return false }
        return matches(path.dropFirst(), glob.dropFirst())
    }

    /// `packages/{a,b}` as `packages/a` and `packages/b` (braces one after
    /// another, none nested); at most 256 patterns come of one.
    public static func expandBraces(_ pattern: String) -> [String] {
        var done: [String] = []
        var pending = [pattern]
        while let next = pending.popLast() {
            guard let open = next.firstIndex(of: "{"), let close = next[open...].firstIndex(of: "}"), done.count + pending.count < 256 else {
                done.append(next)
                continue
            }
            let choices = next[next.index(after: open)..<close].split(separator: ",", omittingEmptySubsequences: false)
            guard choices.count > 1 else { done.append(next); continue }
            pending += choices.reversed().map { String(next[..<open]) + $0 + next[next.index(after: close)...] }
        }
        return done
    }
}
