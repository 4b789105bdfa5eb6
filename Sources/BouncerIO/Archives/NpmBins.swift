import BouncerBase
#if canImport(Glibc)
import Glibc
#endif

/// The commands an npm package installs (`bin`, else every file under
/// `directories.bin`), and the ones that would take the place of a command
/// install scripts run. npm links every package's commands into
/// `node_modules/.bin` before it runs any install script, and puts that folder
/// first on each script's PATH: a package with no script of its own but a
/// command named `node` runs its code as soon as an allowed package's
/// `postinstall` (or the project's own `prepare`) calls `node`.
public enum NpmBins {
    /// The command names `bin` gives, as npm normalises them
    /// (npm-normalize-package-bin): a string is one command named like the
    /// package, an array's paths and an object's keys are commands too, each
    /// cut to its last path segment (`\` and `:` read as `/`).
    /// `directoryBins`: the files under `directories.bin`, used when there is no `bin`.
    public static func names(_ bin: JSON?, packageName: String?, directoryBins: [String]) -> [String] {
        let keys: [String]
        switch bin {
        case .string?: keys = packageName.map { [$0] } ?? []
        case .array(let items)?: keys = items.compactMap { if case .string(let path) = $0 { path } else { nil } }
        case .object(let members)?: keys = members.keys.sorted()
        default: return directoryBins
        }
        return keys.compactMap { key in
            let segment = key.replacing("\\", with: "/").replacing(":", with: "/").split(separator: "/").last.map(String.init)
            return segment.flatMap { $0 == "." || $0 == ".." ? nil : $0 }
        }
    }

    /// The command a file under `directories.bin` (`folder`, relative to the
    /// package) becomes: its last path segment; nil when it is not under it.
    public static func inFolder(_ folder: String, file: String) -> String? {
        let prefix = folder.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
        guard !prefix.isEmpty, file.hasPrefix(prefix + "/") else { return nil }
        return file.split(separator: "/").last.map(String.init)
    }

    /// Commands install scripts run that are not (or not always) on PATH,
    /// with the packages that genuinely provide each (none: only the
    /// system's): node's own tools, the helpers packages' install scripts call
    /// (`node-gyp-build` is the whole install script of bufferutil and its
    /// kind), shells and build tools.
    static let commandsScriptsRun: [String: Set<String>] = [
        "node": ["node"], "nodejs": [], "npm": ["npm"], "npx": ["npm"], "corepack": ["corepack"],
        "node-gyp": ["node-gyp"], "node-pre-gyp": ["@mapbox/node-pre-gyp", "node-pre-gyp"],
        "node-gyp-build": ["node-gyp-build"], "node-gyp-build-optional": ["node-gyp-build"],
        "node-gyp-build-optional-packages": ["node-gyp-build-optional-packages"], "prebuild-install": ["prebuild-install"],
        "prebuild": ["prebuild"], "opencollective-postinstall": ["opencollective-postinstall"], "patch-package": ["patch-package"],
        "husky": ["husky"], "cross-env": ["cross-env"], "rimraf": ["rimraf"], "tsc": ["typescript"], "is-ci": ["is-ci"],
        "yarn": ["yarn"], "yarnpkg": ["yarn"], "pnpm": ["pnpm"], "pnpx": ["pnpm"],
        // Shells and build tools, also where this machine lacks them (node-gyp calls make and a compiler).
        "sh": [], "bash": [], "dash": [], "zsh": [], "env": [], "python": [], "python3": [], "python2": [],
        "make": [], "gmake": [], "cmake": [], "cc": [], "gcc": [], "g++": [], "c++": [], "clang": [], "clang++": [], "ld": [],
        "git": [], "tar": [], "curl": [], "wget": [],
    ]

    /// Whether `command` would take the place of a command install scripts
    /// run, and `package` is not the one that provides it: one of
    /// `commandsScriptsRun`, or any program on `path` (PATH's folders: `mkdir`,
    /// `sh`, `python3`, `curl`), which an install script, the project's own
    /// `prepare` included, may call by name. A program on PATH that is this
    /// same package installed globally (a link into `node_modules/PACKAGE/`) is its own.
    public static func shadowsACommandScriptsRun(_ command: String, package: String?,
                                                 path: String? = getenv("PATH").map { String(cString: $0) }) -> Bool {
        if let owners = commandsScriptsRun[command.lowercased()] { return !(package.map(owners.contains) ?? false) }
        guard let program = onPath(command, path: path ?? "") else { return false }
        guard let package, let resolved = realpath(program, nil) else { return true }
        defer { free(resolved) }
        return !String(cString: resolved).contains("/node_modules/\(package)/")
    }

    /// The first executable file named `command` in `path`'s folders, leaving out
    /// relative folders and node_modules' own `.bin` folders (npm's, not the system's).
    static func onPath(_ command: String, path: String) -> String? {
        guard !command.isEmpty, !command.contains("/") else { return nil }
        for folder in path.split(separator: ":") where folder.hasPrefix("/") && !folder.contains("/node_modules/") {
            let candidate = folder + "/" + command
            var info = stat()
            if stat(candidate, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}
