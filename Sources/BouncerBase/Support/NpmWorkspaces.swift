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
    /// `yarn`: as yarn 1 reads them instead (its glob): a pattern starting with `!`
    /// matches nothing and excludes nothing, so it is dropped.
    public static func patterns(_ manifest: JSON, yarn: Bool = false) -> [String] {
        let texts = declared(manifest)
        return (yarn ? texts.filter { !$0.hasPrefix("!") } : texts).map(mapped).flatMap(expandBraces)
    }

    /// The strings of `workspaces` (an array) or yarn's `workspaces.packages`, as written.
    static func declared(_ manifest: JSON) -> [String] {
        var list: [JSON] = []
        if case .array(let items)? = manifest["workspaces"] { list = items }
        if case .array(let items)? = manifest["workspaces"]?["packages"] { list = items }
        return list.compactMap { if case .string(let text) = $0 { return text } else { return nil } }
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
        let given = declared(manifest).map(mapped)
        if let huge = given.first(where: { expanded($0) == nil }) { return huge }
        return given.flatMap(expandBraces).first { pattern in
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
    /// `yarn`: yarn 1 takes folders under `node_modules` too (its glob ignores only a workspace's own).
    public static func directories(project: String, patterns: [String], yarn: Bool = false) -> [String] {
        var found: [String] = []
        var visited = 0
        for pattern in patterns where !pattern.hasPrefix("!") {
            guard let glob = normalised(pattern) else { continue }
            walk(project: project, relative: [], glob: glob[...], found: &found, visited: &visited, modules: yarn)
        }
        var seen: Set<String> = []
        return found.filter { seen.insert($0).inserted && (yarn || contains($0, patterns: patterns)) }
    }

    static func walk(project: String, relative: [String], glob: ArraySlice<String>, found: inout [String], visited: inout Int, modules: Bool = false) {
        visited += 1
        // A bound on folders read, against a pattern of `**` over a huge tree.
        guard visited < 20_000 else { return }
        let here = ([project] + relative).joined(separator: "/")
        guard let segment = glob.first else {
            if access(here + "/package.json", F_OK) == 0 { found.append(relative.joined(separator: "/")) }
            return
        }
        if segment == "**" {
            walk(project: project, relative: relative, glob: glob.dropFirst(), found: &found, visited: &visited, modules: modules)
            for name in subfolders(here, modules: modules) where !name.hasPrefix(".") {
                walk(project: project, relative: relative + [name], glob: glob, found: &found, visited: &visited, modules: modules)
            }
        } else if segment.contains(where: { "*?[".contains($0) }) {
            for name in subfolders(here, modules: modules) where fnmatch(segment, name, FNM_PERIOD) == 0 {
                walk(project: project, relative: relative + [name], glob: glob.dropFirst(), found: &found, visited: &visited, modules: modules)
            }
        } else {
            walk(project: project, relative: relative + [segment], glob: glob.dropFirst(), found: &found, visited: &visited, modules: modules)
        }
    }

    static func subfolders(_ path: String, modules: Bool = false) -> [String] {
        entries(path).filter { name in
            guard modules || name != "node_modules" else { return false }
            var info = stat()
            return stat(path + "/" + name, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
        }
    }

    /// The names in the folder `path` but `.` and `..`, sorted; none when it cannot be read.
    public static func entries(_ path: String) -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name != ".", name != ".." { names.append(name) }
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

    /// Brace expansion as npm's glob library does it: `{a,b}` alternatives,
    /// nested (`{a,{b,c}}`), and ranges `{1..3}`, `{01..10}`, `{a..e}`, with a
    /// step (`{1..9..2}`). Past 256 patterns the rest is dropped (`unreadable` says so).
    public static func expandBraces(_ pattern: String) -> [String] {
        expanded(pattern) ?? [pattern]
    }

    /// nil when the expansion would pass 256 patterns.
    static func expanded(_ pattern: String) -> [String]? {
        var done: [String] = []
        var pending = [pattern]
        while let next = pending.popLast() {
            guard let (open, close) = outerBraces(next) else { done.append(next); continue }
            let inner = String(next[next.index(after: open)..<close])
            let head = String(next[..<open]), tail = String(next[next.index(after: close)...])
            let parts = topLevelParts(inner)
            let choices: [String]
            if parts.count > 1 {
                choices = parts
            } else if let range = range(inner) {
                guard !range.isEmpty else { return nil }
                choices = range
            } else {
                // `{x}`: no alternatives, the braces are literal (as brace-expansion leaves them).
                done.append(next)
                continue
            }
            pending += choices.reversed().map { head + $0 + tail }
            if done.count + pending.count > 256 { return nil }
        }
        return done
    }

    /// The first `{` and its matching `}`.
    static func outerBraces(_ text: String) -> (String.Index, String.Index)? {
        guard let open = text.firstIndex(of: "{") else { return nil }
        var depth = 0
        var index = open
        while index < text.endIndex {
            if text[index] == "{" { depth += 1 }
            if text[index] == "}" { depth -= 1; if depth == 0 { return (open, index) } }
            index = text.index(after: index)
        }
        return nil
    }

    /// The text split at commas outside nested braces.
    static func topLevelParts(_ text: String) -> [String] {
        var parts: [String] = []
        var depth = 0
        var current = ""
        for character in text {
            if character == "{" { depth += 1 } else if character == "}" { depth -= 1 }
            if character == ",", depth == 0 { parts.append(current); current = ""; continue }
            current.append(character)
        }
        parts.append(current)
        return parts
    }

    /// `1..3`, `01..10`, `a..e`, `1..9..2`; nil for anything else, empty for more than 256 values.
    static func range(_ text: String) -> [String]? {
        let parts = text.components(splitAt: "..")
        guard parts.count == 2 || parts.count == 3 else { return nil }
        // Bounded numbers only: a file's `{-9223372036854775808..1}` must not overflow.
        func number(_ text: String) -> Int? { Int(text).flatMap { $0.magnitude <= 1_000_000_000 ? $0 : nil } }
        let step = parts.count == 3 ? number(parts[2]).map(abs) : 1
        guard let step, step > 0 else { return nil }
        if Int(parts[0]) != nil && Int(parts[1]) != nil && (number(parts[0]) == nil || number(parts[1]) == nil) { return [] }
        if let from = number(parts[0]), let to = number(parts[1]) {
            let width = [parts[0], parts[1]].contains { $0.hasPrefix("0") && $0.count > 1 || $0.hasPrefix("-0") } ? max(parts[0].count, parts[1].count) : 0
            guard abs(to - from) / step < 256 else { return [] }
            return Swift.stride(from: from, through: to, by: from <= to ? step : -step).map { value in
                let digits = String(abs(value))
                let padded = String(repeating: "0", count: max(0, width - digits.count - (value < 0 ? 1 : 0))) + digits
                return (value < 0 ? "-" : "") + padded
            }
        }
        guard parts[0].unicodeScalars.count == 1, parts[1].unicodeScalars.count == 1,
              let from = parts[0].unicodeScalars.first, let to = parts[1].unicodeScalars.first,
              from.isASCII, to.isASCII, from.properties.isAlphabetic, to.properties.isAlphabetic else { return nil }
        let low = Int(from.value), high = Int(to.value)
        return Swift.stride(from: low, through: high, by: low <= high ? step : -step).compactMap { Unicode.Scalar($0).map { String(Character($0)) } }
    }
}
