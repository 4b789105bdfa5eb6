import BouncerBase
import BouncerIO

/// The folders yarn 1 works on, found by yarn's own rules, not npm's
/// (`NpmConfiguration.localPrefix`): a member with `"workspaces": []` of its
/// own is its own root to yarn, and a `node_modules` folder marks no project,
/// so reading npm's had Bouncer check another package.json and yarn.lock
/// than yarn installed from (red team).
enum YarnProject {
    /// yarn's project folder (its `findProjectRoot`): the nearest folder with
    /// a package.json (any kind of file of that name), walking up `given`
    /// (yarn's `--cwd`, as written, else the working folder) as node's
    /// `path.dirname` walks it: a relative `--cwd` stops at the working
    /// folder (`a/b`, `a`, `.`). None: the `given` folder itself.
    static func root(given: String?, cwd: String) -> String {
        var folder = given ?? cwd
        while true {
            if exists(Filesystem.absolute(folder + "/package.json", cwd: cwd)) { return resolved(folder, cwd: cwd) }
            let parent = dirname(folder)
            if parent == folder { break }
            folder = parent
        }
        return resolved(given ?? cwd, cwd: cwd)
    }

    /// `path` under `cwd`, `.` and `..` resolved, as node's `path.resolve` gives it.
    static func resolved(_ path: String, cwd: String) -> String {
        var parts: [Substring] = []
        for part in Filesystem.absolute(path, cwd: cwd).split(separator: "/") where part != "." {
            if part == ".." { _ = parts.popLast() } else { parts.append(part) }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The folders whose package.json and yarn.lock yarn may take for
    /// `project`: the workspace root yarn looks for above it, then the project (its `findWorkspaceRoot`): the first folder up, the project's own
    /// included, whose manifest (package.json, else yarn.json) declares
    /// `workspaces` (an array, or an object with a `packages` array) ends the
    /// walk. yarn takes it for the root when its globs name the project;
    /// Bouncer reads it either way (a glob read differently from yarn's
    /// micromatch costs a stricter check, never a missed one), and one it
    /// cannot read too (yarn would stop on it; reading it refuses the call).
    static func folders(project: String) -> [String] {
        for folder in Filesystem.selfAndAncestors(project) {
            let manifest = ["package.json", "yarn.json"].map { Filesystem.absolute($0, cwd: folder) }.first(where: exists)
            guard let manifest else { continue }
            guard let bytes = (try? AtomicFile.read(manifest, limit: 16 << 20, code: "npm-package")).flatMap({ $0 }),
                  let json = try? JSON.parse(file: bytes, maxDepth: 128) else {
                return folder == project ? [project] : [folder, project]
            }
            if declaresWorkspaces(json) { return folder == project ? [project] : [folder, project] }
        }
        return [project]
    }

    /// yarn's `extractWorkspaces(…).packages`: `workspaces` an array, or an object whose `packages` is one.
    static func declaresWorkspaces(_ manifest: JSON) -> Bool {
        switch manifest["workspaces"] {
        case .array?: return true
        case .object(let fields)?: if case .array? = fields["packages"] { return true } else { return false }
        default: return false
        }
    }

    /// Whether anything is there (node's `existsSync`: a folder named package.json counts).
    static func exists(_ path: String) -> Bool {
        Filesystem.isFile(path) || Filesystem.isDirectory(path)
    }

    /// node's `path.dirname` (POSIX): trailing slashes ignored, `.` for a
    /// name with no folder, `/` at the root (`//` for `//x`).
    static func dirname(_ path: String) -> String {
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty else { return "." }
        let rooted = bytes[0] == UInt8(ascii: "/")
        var end = -1
        var matchedSlash = true
        var index = bytes.count - 1
        while index >= 1 {
            if bytes[index] == UInt8(ascii: "/") {
                if !matchedSlash { end = index; break }
            } else {
                matchedSlash = false
            }
            index -= 1
        }
        if end == -1 { return rooted ? "/" : "." }
        if rooted && end == 1 { return "//" }
        return String(decoding: bytes[..<end], as: UTF8.self)
    }
}
