import FoundationEssentials
import BouncerBase
import BouncerPolicy

/// `bouncer exec -- CMD` under a policy: CMD runs with the shims first on
/// PATH *and* a verifying proxy of its own in the environment
/// (`ExecProxyEnvironment`), over the index and registry pip's and npm's
/// configuration name, so a pip or npm no shim stands in front of — an
/// activated venv's, one called by its path — is guarded too. The proxy
/// keeps the registry's tarball URLs in what it serves, as the npm shim's
/// does, so npm's lockfile records those and never the proxy's passing
/// address. What the proxy verified and refused is said when CMD ends, as
/// the shims say it. A client already pointed at a running `bouncer serve`
/// of the user's own under the same policy stays pointed there, as the
/// shims' clients do (`ProxyCoverage.localServe`).
public enum ExecProxy {
    /// Runs `program` (already found on PATH) and returns its exit status.
    /// `tool`: who says what the proxy did (`exec`, or the pipx shim that runs pipx this way).
    public static func run(_ program: String, _ arguments: [String], environment shimEnvironment: ShimEnvironment,
                           policy: GuardedPolicy, tool: String = "exec") throws -> Int32 {
        let context = ShimContext(environment: shimEnvironment, realTool: program, policy: policy)
        let variables = context.environment.variables
        let pip = PipConfiguration.read(environment: variables, realTool: "", isolated: false)
        // pip's own settings naming a source tree to build or a file to obey (`PIP_EDITABLE`,
        // `PIP_REQUIREMENT`, pip.conf's `editable =`): every pip the command starts would take them
        // unread by Bouncer (a red-team pass built a project through pipx this way).
        let unread = pip.editables.map { "the editable \($0)" } + (pip.requirementFiles + pip.constraintFiles).map { "the requirement file \($0)" }
        if let first = unread.first {
            let message = "pip's configuration (a PIP_* variable or pip.conf) names \(first), which every pip \(tool == "exec" ? "the command" : tool) starts would build or obey without Bouncer reading it"
            if context.policy.enforce {
                ShimOutput.error("bouncer: \(tool): refused: \(message)")
                context.annotateRefusal("refused: " + message)
                return ErrorFamily.configuration.exitCode
            }
            ShimOutput.error("bouncer: AUDIT: \(tool): \(message) (enforce mode would refuse)")
        }
        let npmrc = NpmConfiguration.entries(project: NpmConfiguration.localPrefix(cwd: context.environment.cwd), environment: variables,
                                             realTool: SearchPath.firstExecutable("npm", environment: variables) ?? "/usr/bin/npm")
        let scopes = NpmConfiguration.scopeRegistries(arguments: [], environment: variables, npmrc: npmrc)
            .filter { PipConfiguration.isRemote($0.value) }.keys.sorted()
        // pip's one index, or npm's registry (with no scope registry of its own), may be a running
        // bouncer serve of the user's own under this same policy (the README's standalone recipe):
        // that client stays pointed there, with no proxy of exec's over it, as the shims do.
        let policy = context.policy.path
        let pipServe = PipIndexes(noIndex: pip.noIndex, primary: pip.indexURL, extras: pip.extraIndexURLs, findLinks: pip.findLinks)
            .runningServe(policy: policy)
        let registry = NpmConfiguration.registry(environment: variables, npmrc: npmrc)
        let npmServe = scopes.isEmpty ? registry.flatMap { ProxyCoverage.localServe($0, suffix: "/npm", policy: policy) } : nil
        for (client, serve) in [("pip's index", pipServe), ("npm's registry", npmServe)] {
            if let serve {
                ShimOutput.error("bouncer: \(tool): \(client) is the bouncer serve at \(serve), which verifies every file under this same policy: no proxy of \(tool == "exec" ? "exec's" : "the shim's") over it")
            }
        }
        // An npm cache of the command's own, as the npm shim has.
        let cache = try Filesystem.makePrivateDirectory(prefix: "bouncer-exec-npm-cache")
        defer { HandOver.removeInBackground(cache) }
        if let pipServe, let npmServe {
            let environment = ExecProxyEnvironment.pointing(at: "", over: variables, pip: pip, npmScopes: scopes, npmCache: cache,
                                                            pipServed: true, npmServed: true)
            let serves = pipServe == npmServe ? "the bouncer serve at \(pipServe)" : "the bouncer serves at \(pipServe) and \(npmServe)"
            return try EphemeralProxy.runAgainst(serves, tool: tool, program, arguments, environment: environment)
        }
        // The proxy reads pip's and npm's settings for its upstreams itself, as `bouncer serve` does.
        let proxy = try EphemeralProxy.start(["--npm-keep-tarball-urls"], context: context, ownProcessGroup: true)
        let environment = ExecProxyEnvironment.pointing(at: proxy.base, over: variables, pip: pip, npmScopes: scopes, npmCache: cache,
                                                        pipServed: pipServe != nil, npmServed: npmServe != nil)
        // A signal sent to exec alone is passed on to the command, whose end ends the proxy.
        let (status, events) = try Interruption.deferring { try proxy.run(program, arguments, environment: environment, stopOnInterruption: false) }
        _ = EphemeralProxy.report(events, tool: tool, label: { event in
            event.package.map { "\($0) \(event.version ?? "")".trimmingWhitespace() } ?? (URLParts.lastSegment(of: event.url) ?? event.url)
        }, quiet: false, context: context)
        if status != 0 { EphemeralProxy.reportUnavailable(events, tool: tool) }
        return status
    }
}
