import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase

/// The fence a tool that fetches by itself (uv, yarn) runs in against the
/// user's own `bouncer serve`: every HTTP(S) proxy variable names a port the
/// shim holds bound and never listens on, only the serve's host is exempt,
/// and git may use local files only. So whatever the tool would fetch past
/// the serve (another index or registry, a URL, a git source) fails instead
/// of landing unverified. Tools that honour no proxy variables need more
/// (the shim says what); a proxy the tool's own configuration names is
/// refused by its shim before this point.
enum NetworkFence {
    /// The variables the fence sets.
    static let variables = ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy", "NO_PROXY", "no_proxy", "GIT_ALLOW_PROTOCOL"]

    /// Runs the real tool fenced, with `extra` variables on top (nil: taken out). On a
    /// failure of its own, says what it could reach and what was cut off
    /// (`cutOff`: the kinds of place, in the tool's words).
    /// `exemptingPort`: the tool reads `NO_PROXY` entries as `HOST:PORT`, so
    /// only the serve's own port is exempt (otherwise every port of its host is).
    static func run(_ arguments: [String], serve: String, context: ShimContext, extra: [String: String?] = [:],
                    exemptingPort: Bool = false, toolName: String, cutOff: String, programOutside: Bool = false) throws -> Int32 {
        let fence = try ClosedPort()
        defer { fence.close() }
        var environment = context.toolEnvironment
        let nowhere = "http://127.0.0.1:\(fence.port)"
        for variable in variables where variable.lowercased().hasSuffix("_proxy") && !variable.lowercased().hasPrefix("no_") { environment[variable] = nowhere }
        // Only the serve's own host (or port) is reached directly (written as in its URL).
        let host = URLParts.host(serve) ?? "127.0.0.1"
        let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        environment["NO_PROXY"] = exemptingPort ? "\(bare):\(URLParts.port(serve))" : bare
        environment["no_proxy"] = environment["NO_PROXY"]
        environment["GIT_ALLOW_PROTOCOL"] = "file"
        for (key, value) in extra { environment[key] = value }
        let status = try Interruption.deferring { try HandOver.run(context.realTool, context.toolArguments + arguments, environment: environment) }
        if status != 0, status < 128 {
            // `programOutside`: the status may be the program's own (`uv run pytest` with a failing test).
            let whose = programOutside ? " (the program's own status, or \(toolName)'s when it stopped before starting it; the program ran outside the fence)" : ""
            ShimOutput.error("bouncer: \(context.environment.tool): \(toolName) exited with \(status)\(whose). It could reach the bouncer serve at \(serve)\(exemptingPort ? "" : " (and other ports of its host)") only: "
                             + "anything the serve refused (HTTP 403) it says, with why, on its own output; anything else \(toolName) would have fetched (\(cutOff)) was cut off")
        }
        return status
    }
}

/// A TCP port on 127.0.0.1 that is bound and never listened on, held while
/// the object lives: a connection there is refused at once, and no other
/// program can take the port meanwhile. The fence names it as the tool's
/// HTTP proxy, so the tool reaches nothing but the host it exempts.
final class ClosedPort {
    let port: UInt16
    private var fd: Int32

    init() throws(BouncerError) {
        (fd, port) = try LoopbackPort.bind(listening: nil, for: "a shim's network fence")
    }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    deinit { close() }
}
