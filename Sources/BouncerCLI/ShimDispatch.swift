import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools

/// Bouncer started as a tool: `bouncer --as TOOL [--shim PATH] ARGS...` (the
/// shim scripts) or a binary named like the tool (argv[0] is curl, wget, pip,
/// pip3, npm, python3…, e.g. a symlink).
enum ShimDispatch {
    /// The tool and its arguments when argv asks for shim mode, else nil.
    /// `--shim PATH` names the shim script; `--found-policy FILE` is the
    /// policy.json the shell shim found (the search goes on from there).
    static func parse(_ arguments: [String]) -> (tool: String, shim: String?, foundPolicy: String?, rest: [String])? {
        if arguments.count >= 3, arguments[1] == "--as" {
            let tool = arguments[2]
            var rest = Array(arguments.dropFirst(3))
            var shim: String? = nil
            var foundPolicy: String? = nil
            if rest.count >= 2, rest[0] == "--shim" {
                shim = rest[1]
                rest = Array(rest.dropFirst(2))
            }
            if rest.count >= 2, rest[0] == "--found-policy" {
                foundPolicy = rest[1].isEmpty ? nil : rest[1]
                rest = Array(rest.dropFirst(2))
            }
            return (tool, shim, foundPolicy, rest)
        }
        guard let first = arguments.first else { return nil }
        let name = Filesystem.split(first).name
        guard ShimEnvironment.isGuarded(name) else { return nil }
        return (name, nil, nil, Array(arguments.dropFirst()))
    }

    static func run(tool: String, shim: String?, foundPolicy: String? = nil, arguments: [String]) -> Int32 {
        let received = ProcessInfo.processInfo.environment
        // Under `bouncer exec` the shim reads the user's own index and registry settings (and its
        // own proxy runs over them); the real tool still inherits what it was given.
        let own = ExecProxyEnvironment.restored(received)
        var environment = ShimEnvironment(tool: tool, shimPath: shim, cwd: FileManager.default.currentDirectoryPath, variables: own)
        if own != received { environment.inherited = received }
        environment.foundPolicy = foundPolicy
        return ShimRunner.run(environment, arguments: arguments, bouncerExecutable: currentExecutable(),
                              makeGuard: ShimGuards.make)
    }

    static func currentExecutable() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The policy engine behind the shims.
enum ShimGuards {
    static func make(policyPath: String, environment: ShimEnvironment) throws -> GuardedPolicy {
        let policy = try PolicyParser.load(file: policyPath, now: Date())
        // The environment read once, by the shim (each read of ProcessInfo's is ~0.1 ms).
        var options = FetchOptions(environment: environment.variables)
        // The real tool's own progress output is replaced by one line per verified artifact.
        options.progress = false
        // In CI the lock is frozen, as for `bouncer fetch` and `check`: an install may only
        // use what the committed lock pins (BOUNCER_NO_FROZEN=1 for a job that updates it).
        var guardOptions = GuardOptions()
        guardOptions.stateDirectory = FreshnessStore.defaultDirectory(environment: environment.variables)
        guardOptions.frozen = environment.variables["CI"] == "true" && environment.variables["BOUNCER_NO_FROZEN"] != "1"
        let policyGuard = PolicyGuard(policy: policy, fetcher: Fetcher(store: Store(root: Store.defaultRoot(environment: environment.variables)), options: options), options: guardOptions)
        var guarded = GuardedPolicy(path: policyPath, enforce: policy.mode == .enforce, artifactGuard: policyGuard,
                                    archive: policy.archive, releaseTimesNeeded: policy.usesReleaseAge,
                                    release: { policyGuard.release($0) })
        guarded.loaded = policy
        guarded.guardOptions = guardOptions
        // A rule matching the spec as a URL (or the ecosystem) may override the top level's list.
        // An active exception matching the spec (as a URL) lets it through, loudly, as for any refusal.
        guarded.allowsExoticSource = { spec, ecosystem in
            let request = ArtifactRequest(url: spec, ecosystem: ecosystem)
            if policy.threats(for: request).allowsExoticSource(spec) { return true }
            guard let exception = policy.activeException(for: request, at: Date()) else { return false }
            ShimOutput.error("bouncer: WARNING: \(Redaction.url(spec)) does not come from the registry (exotic-source); allowed by an exception until \(exception.until): \(exception.reason)")
            return true
        }
        return guarded
    }
}
