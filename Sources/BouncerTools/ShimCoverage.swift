import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerIO
import BouncerPolicy

/// Which guarded tools a bare `curl`, `pip`... would actually reach: a
/// Bouncer shim, or the real tool with no shim in front of it. A shim that
/// is missing from the shim directory, or a directory on PATH before it,
/// silently turns the guard off for that tool; CI runs `bouncer shims check`
/// to make that fail hard.
public enum ShimCoverage {
    public enum Status: Sendable, Equatable {
        /// The first `tool` on PATH is a Bouncer shim (its real tool, if any, follows).
        case guarded(shim: String, realTool: String?)
        /// The first `tool` on PATH is not a shim: it runs unguarded.
        case unguarded(realTool: String)
        /// No `tool` on PATH at all: nothing can run.
        case absent
    }

    public struct Tool: Sendable, Equatable {
        public let tool: String
        public let status: Status
    }

    public static func survey(tools: [String], variables: [String: String], cwd: String,
                              bouncerExecutable: String?) -> [Tool] {
        let entries = SearchPath.directories(variables)
        let ownSelf = bouncerExecutable.map(Filesystem.realPath)
        return tools.map { tool in
            for entry in entries {
                let candidate = Filesystem.absolute(entry, cwd: cwd) + "/" + tool
                guard SearchPath.isExecutableFile(candidate) else { continue }
                let resolved = Filesystem.realPath(candidate)
                guard resolved == ownSelf || RealToolLocator.isShimScript(resolved) else {
                    return Tool(tool: tool, status: .unguarded(realTool: candidate))
                }
                let environment = ShimEnvironment(tool: tool, shimPath: candidate, cwd: cwd, variables: variables)
                let real = try? RealToolLocator.locate(environment, bouncerExecutable: bouncerExecutable)
                return Tool(tool: tool, status: .guarded(shim: candidate, realTool: real))
            }
            return Tool(tool: tool, status: .absent)
        }
    }
}
