import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerIO
import BouncerPolicy

/// Where a shim runs: which tool it stands for, the shim file that started
/// Bouncer (so the real tool is looked up after its directory), the working
/// directory and the environment. Everything the mechanism decides is a pure
/// function of this value, so tests build one instead of touching the process.
public struct ShimEnvironment: Sendable {
    public var tool: String
    /// The shim file as started (`$0` of the shim script), absolute or relative to `cwd`; nil when unknown.
    public var shimPath: String?
    public var cwd: String
    /// The policy.json the shell shim found, if it passed one.
    public var foundPolicy: String? = nil
    public var variables: [String: String]
    /// The environment as the shim received it, when that differs from
    /// `variables` (under `bouncer exec`, whose proxy settings `variables`
    /// has undone for reading the user's own): what the real tool inherits.
    public var inherited: [String: String]? = nil

    public init(tool: String, shimPath: String?, cwd: String, variables: [String: String]) {
        self.tool = tool
        self.shimPath = shimPath
        self.cwd = cwd
        self.variables = variables
    }

    /// Tools a shim may stand for.
    public static let tools = ["curl", "wget", "pip", "pip3", "npm", "npx", "docker", "podman", "python", "python3", "uv", "uvx", "yarn", "yarnpkg", "skopeo", "buildah", "pipx"]

    /// Interpreters whose shim starts Bouncer only for `-m pip` (everything
    /// else they run is handed to the real interpreter by the script itself).
    public static let interpreters: Set<String> = ["python", "python3"]

    /// The family of a versioned name (`python3.12`, `python3.13t`, `pip3.12`):
    /// "python3" or "pip3"; nil for any other name. Shims are written for the
    /// versioned names found on PATH (`versionedNames`), not for every version.
    public static func versionedFamily(_ name: String) -> String? {
        for (prefix, family) in [("python3", "python3"), ("pip3", "pip3"), ("python2", "python3"), ("pip2", "pip3")] where name.hasPrefix(prefix) {
            var version = name.dropFirst(prefix.count)
            // `python2` and `pip2` themselves (`python3` and `pip3` are tools of their own).
            if version.isEmpty { return prefix.hasSuffix("2") ? family : nil }
            guard version.hasPrefix(".") else { return nil }
            version = version.dropFirst()
            // A free-threaded build (`3.13t`), an old pymalloc one (`3.7m`).
            if version.hasSuffix("t") || version.hasSuffix("m") { version = version.dropLast() }
            guard (1...3).contains(version.count), version.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            return family
        }
        return nil
    }

    /// A name a shim may stand for: one of `tools`, or a versioned Python or pip.
    public static func isGuarded(_ name: String) -> Bool {
        tools.contains(name) || versionedFamily(name) != nil
    }

    /// Whether the shim for `name` is an interpreter's (`-m pip` only).
    public static func isInterpreter(_ name: String) -> Bool {
        interpreters.contains(name) || versionedFamily(name) == "python3"
    }

    /// The versioned Python and pip names (`python3.11`, `pip3.11`) on PATH,
    /// outside `excluding` (the shim directory): they need shims of their own.
    public static func versionedNames(onPath variables: [String: String], cwd: String, excluding: String? = nil) -> [String] {
        var found = Set<String>()
        let skipped = excluding.map(Filesystem.realPath)
        for entry in SearchPath.directories(variables) {
            let directory = Filesystem.absolute(entry, cwd: cwd)
            if let skipped, Filesystem.realPath(directory) == skipped { continue }
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { continue }
            for name in names where versionedFamily(name) != nil && SearchPath.isExecutableFile(directory + "/" + name) {
                found.insert(name)
            }
        }
        return found.sorted()
    }

    /// Marks the first lines of every shim script `bouncer shims install` writes (and those in `shims/`).
    public static let shimMarker = "bouncer-shim"

    /// Set on the real tool's environment: the file Bouncer handed over to.
    /// If that file turns out to be a shim again, the lookup looped.
    public static let handOverVariable = "BOUNCER_HANDED_OVER_TO"
    /// How many hand-overs deep this call is (a loop through forks still ends).
    public static let depthVariable = "BOUNCER_SHIM_DEPTH"
    public static let maximumDepth = 16

    /// Set on the real tool's environment: the call the shim was made with
    /// (tool, directory, arguments). The same call reaching a shim again
    /// under it is a loop however many processes stand between (a pyenv shim
    /// for a Python that is not selected falls back to PATH, and so to the shim).
    public static let callVariable = "BOUNCER_SHIM_CALL"

    /// This call's key for `callVariable`: a 64-bit FNV-1a hash of tool, directory and arguments.
    public func callKey(_ arguments: [String]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in ([tool, cwd] + arguments).joined(separator: "\u{0}").utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return String(hash, radix: 16)
    }

    /// The real tool this very process was handed over to, if the hand-over
    /// came straight back (same process id after exec): a loop.
    public func loopedThrough(pid: Int32) -> String? {
        if let depth = Int(variables[Self.depthVariable] ?? ""), depth >= Self.maximumDepth {
            return variables[Self.handOverVariable].map { String($0.drop(while: { $0 != ":" }).dropFirst()) } ?? "a tool"
        }
        guard let value = variables[Self.handOverVariable], let colon = value.firstIndex(of: ":"),
              Int32(value[..<colon]) == pid else { return nil }
        return String(value[value.index(after: colon)...])
    }
}

/// Finds the real tool on PATH after the shim's own directory, never a shim.
public enum RealToolLocator {
    public struct NotFound: BouncerFailure {
        public let tool: String
        public let skipped: [String]
        public var family: ErrorFamily { .configuration }
        public var code: String { skipped.isEmpty ? "shim-no-real-tool" : "shim-loop" }
        public var description: String {
            skipped.isEmpty
                ? "no real \(tool) on PATH after the shim directory"
                : "no real \(tool) on PATH after the shim directory: \(skipped.joined(separator: ", ")) \(skipped.count == 1 ? "is a Bouncer shim" : "are Bouncer shims") (a loop)"
        }
        public var hint: String? { "install \(tool), or put its directory on PATH after the shims" }
    }

    /// - Parameters:
    ///   - bouncerExecutable: the running Bouncer binary (a PATH entry resolving to it is a shim by symlink).
    public static func locate(_ environment: ShimEnvironment, bouncerExecutable: String?) throws(NotFound) -> String {
        let tool = environment.tool
        let entries = SearchPath.directories(environment.variables)
        let shimDir = environment.shimPath.map { Filesystem.realPath(Filesystem.absolute(Filesystem.split($0).directory, cwd: environment.cwd)) }
        let ownSelf = bouncerExecutable.map(Filesystem.realPath)
        // Start after the shim's own directory when it is on PATH; otherwise search all of PATH.
        var start = 0
        if let shimDir, let index = entries.firstIndex(where: { Filesystem.realPath(Filesystem.absolute($0, cwd: environment.cwd)) == shimDir }) {
            start = index + 1
        }
        var skipped: [String] = []
        for entry in entries[start...] {
            let candidate = Filesystem.absolute(entry, cwd: environment.cwd) + "/" + tool
            guard SearchPath.isExecutableFile(candidate) else { continue }
            let resolved = Filesystem.realPath(candidate)
            if let ownSelf, resolved == ownSelf { skipped.append(candidate); continue }
            if let shimDir, Filesystem.realPath(Filesystem.split(resolved).directory) == shimDir { skipped.append(candidate); continue }
            if isShimScript(resolved) { skipped.append(candidate); continue }
            return candidate
        }
        throw NotFound(tool: tool, skipped: skipped)
    }

    /// A shim script has the marker comment as its second line ("# bouncer-shim: ...");
    /// a mere mention (e.g. a venv under a directory named bouncer-shim-x) is not enough.
    static func isShimScript(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = read(fd, &buffer, buffer.count)
        guard count > 2, buffer[0] == 0x23, buffer[1] == 0x21 else { return false }  // "#!"
        return String(decoding: buffer[0..<count], as: UTF8.self).contains("\n# \(ShimEnvironment.shimMarker): ")
    }
}
