import BouncerBase

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

    /// Commands install scripts run, with the packages that genuinely provide
    /// each (none: only the system's). Compared without case, as a
    /// case-insensitive file system finds them.
    static let commandsScriptsRun: [String: Set<String>] = [
        "node": ["node"], "nodejs": [], "npm": ["npm"], "npx": ["npm"], "corepack": ["corepack"],
        "node-gyp": ["node-gyp"], "node-pre-gyp": ["@mapbox/node-pre-gyp", "node-pre-gyp"],
        "prebuild-install": ["prebuild-install"], "yarn": ["yarn"], "yarnpkg": ["yarn"], "pnpm": ["pnpm"], "pnpx": ["pnpm"],
        "sh": [], "bash": [], "dash": [], "zsh": [], "env": [], "python": [], "python3": [], "python2": [],
        "make": [], "gmake": [], "cmake": [], "cc": [], "gcc": [], "g++": [], "c++": [], "clang": [], "clang++": [], "ld": [],
        "git": [], "tar": [], "curl": [], "wget": [],
    ]

    /// Whether `command` would take the place of a command install scripts
    /// run, and `package` is not the one that provides it.
    public static func shadowsACommandScriptsRun(_ command: String, package: String?) -> Bool {
        guard let owners = commandsScriptsRun[command.lowercased()] else { return false }
        return !(package.map(owners.contains) ?? false)
    }
}
