import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerIO
import BouncerPolicy

/// The policy in force for a shim call and the guard built from it.
public struct GuardedPolicy {
    public var path: String
    /// `enforce` refuses what is not proven; `audit` warns and lets the real tool run.
    public var enforce: Bool
    public var artifactGuard: any ArtifactGuard
    /// Gives a verified file back to the guard once it has been copied out.
    public var release: (VerifiedArtifact) -> Void
    /// The policy's `archive` limits, for the adapters' wheel and tarball checks.
    public var archive: ArchivePolicy
    /// Whether a `minimumReleaseAge` applies anywhere: the adapters then read release times.
    public var releaseTimesNeeded: Bool
    /// Whether the policy's `exoticSources.allow` admits a dependency spec from outside the registry.
    public var allowsExoticSource: (_ spec: String, _ ecosystem: Ecosystem) -> Bool = { _, _ in false }
    /// The loaded policy and the guard's options, for adapters that judge with
    /// their own guard (the docker / podman shims' `ImageGuard`).
    public var loaded: Policy?
    public var guardOptions = GuardOptions()

    public init(path: String, enforce: Bool, artifactGuard: any ArtifactGuard, archive: ArchivePolicy = .defaults,
                releaseTimesNeeded: Bool = false, release: @escaping (VerifiedArtifact) -> Void = { _ in }) {
        self.releaseTimesNeeded = releaseTimesNeeded
        self.path = path
        self.enforce = enforce
        self.artifactGuard = artifactGuard
        self.archive = archive
        self.release = release
    }
}

/// Builds the guard for a policy file (the CLI supplies the policy engine).
public typealias GuardFactory = (_ policyPath: String, _ environment: ShimEnvironment) throws -> GuardedPolicy

/// What one shim call has to work with once the real tool and the policy are known.
public struct ShimContext {
    public var environment: ShimEnvironment
    public var realTool: String
    /// Words the real tool takes before the caller's arguments: the
    /// interpreter's options and `-m pip` when pip runs as `python3 -m pip`.
    public var toolArguments: [String] = []
    public var policy: GuardedPolicy

    /// The real tool's environment (marks the hand-over for loop detection).
    public var toolEnvironment: [String: String] {
        HandOver.environment(environment.inherited ?? environment.variables, realTool: realTool)
    }

    /// The real tool in place of Bouncer, with the caller's arguments untouched.
    public func passThrough(_ arguments: [String]) -> Int32 {
        let failure = HandOver.exec(realTool, toolArguments + arguments, environment: toolEnvironment)
        ShimOutput.error("bouncer: \(failure)")
        return 126
    }

    /// Obtains through the guard; the caller releases each artifact after copying it.
    public func obtain(_ requests: [ArtifactRequest]) -> [Result<VerifiedArtifact, BouncerError>] {
        let results = policy.artifactGuard.obtain(requests)
        return requests.indices.map { index in
            index < results.count ? results[index]
                : .failure(BouncerError(.transport, code: "guard-no-result", "the guard returned no result for \(Redaction.url(requests[index].url))"))
        }
    }

    /// One line per verified artifact (unless quiet) and every warning (always: audit mode must be loud).
    public func report(_ artifact: VerifiedArtifact, as name: String, quiet: Bool) {
        if !quiet {
            let proofs = artifact.proofs.isEmpty ? "" : "; " + artifact.proofs.joined(separator: "; ")
            ShimOutput.error("bouncer: \(name) <- \(Redaction.url(artifact.request.url)): \(artifact.size) bytes, sha256:\(artifact.sha256.hex)\(proofs)")
        }
        for warning in artifact.warnings { ShimOutput.error("bouncer: WARNING: \(name): \(warning)") }
        if !artifact.warnings.isEmpty {
            annotate("warning", "\(Redaction.url(artifact.request.url)): allowed with warnings: " + artifact.warnings.joined(separator: "; "))
        }
    }

    /// An install (pip, npm) that stopped before the real tool installed
    /// anything: the reason and its hint, an annotation, "nothing was
    /// installed"; returns the exit status for it.
    public func installStopped(_ error: any Error, tool: String) -> Int32 {
        guard let failure = error as? any BouncerFailure else {
            ShimOutput.error("bouncer: \(tool): \(error)")
            return ErrorFamily.configuration.exitCode
        }
        ShimOutput.error("bouncer: \(tool): \(failure)")
        if let hint = failure.hint { ShimOutput.error("hint: \(hint)") }
        annotateRefusal("\(failure)")
        ShimOutput.error("bouncer: \(tool): nothing was installed")
        return failure.family.exitCode
    }

    /// A refusal as a GitHub Actions `::error` annotation (GITHUB_ACTIONS=true), on
    /// standard error: standard output may be carrying a verified body.
    public func annotateRefusal(_ message: String) {
        annotate("error", message)
    }

    func annotate(_ level: String, _ message: String) {
        ShimOutput.annotate(level, "\(environment.tool): \(message)", variables: environment.variables)
    }

    /// A subcommand Bouncer does not guard (`pip download`): refused in enforce
    /// mode (exit 2), passed to the real tool with a warning in audit mode.
    public func unsupportedCommand(_ command: String, why: String, arguments: [String]) -> Int32 {
        let tool = environment.tool
        if policy.enforce {
            let message = "refused: \(command) \(why) (policy \(policy.path) is in enforce mode)"
            ShimOutput.error("bouncer: \(tool): \(message)")
            annotateRefusal(message)
            return ErrorFamily.configuration.exitCode
        }
        ShimOutput.error("bouncer: AUDIT: \(tool): \(command) \(why); running the real \(tool) UNVERIFIED (enforce mode would refuse)")
        return passThrough(arguments)
    }

    /// An option Bouncer cannot account for: refused in enforce mode (exit 2),
    /// passed to the real tool with a warning in audit mode. `option` nil:
    /// `why` names what could not be read itself.
    public func unsupported(_ option: String?, why: String, arguments: [String]) -> Int32 {
        let tool = environment.tool
        let what = option.map { "option \($0) \(why)" } ?? why
        if policy.enforce {
            let message = "refused: \(what); Bouncer cannot verify this \(tool) call (policy \(policy.path) is in enforce mode)"
            ShimOutput.error("bouncer: \(tool): \(message)")
            annotateRefusal(message)
            return ErrorFamily.configuration.exitCode
        }
        ShimOutput.error("bouncer: AUDIT: \(tool): \(what); running the real \(tool) UNVERIFIED (enforce mode would refuse)")
        return passThrough(arguments)
    }
}

/// stderr lines from the shims (unbuffered, so they interleave with the real tool's).
public enum ShimOutput {
    public static func error(_ line: String) {
        StandardError.line(line)
    }

    /// A GitHub Actions annotation on standard error, when GITHUB_ACTIONS=true.
    public static func annotate(_ level: String, _ message: String, variables: [String: String]) {
        guard GitHubAnnotation.isActive(variables) else { return }
        error(GitHubAnnotation.line(level, message))
    }
}

/// The mechanism every shim shares: loop check, real-tool lookup, policy
/// discovery, the no-policy pass-through, then the tool's adapter.
public enum ShimRunner {
    public static let noPolicyNoticeVariable = "BOUNCER_NO_POLICY_NOTICE_SHOWN"
    /// Set (non-empty) to let a shim pass through without a policy under CI=true.
    public static let allowUnguardedVariable = "BOUNCER_ALLOW_UNGUARDED"
    /// In CI a shim without a policy refuses: a guard that silently turned off is a downgrade.
    public static let ciNoPolicyMessage = "CI=true and no policy.json in this directory or above (and no BOUNCER_POLICY): refusing to run unguarded (BOUNCER_ALLOW_UNGUARDED=1 allows it)"

    public static func run(_ given: ShimEnvironment, arguments: [String], bouncerExecutable: String?,
                           makeGuard: GuardFactory) -> Int32 {
        var environment = given
        let tool = environment.tool
        if let handedOver = environment.loopedThrough(pid: getpid()) {
            ShimOutput.error("bouncer: \(tool): loop: Bouncer handed over to \(handedOver), which runs Bouncer again; put the real \(tool) on PATH after the shims")
            return ErrorFamily.configuration.exitCode
        }
        let realTool: String
        do {
            realTool = try RealToolLocator.locate(environment, bouncerExecutable: bouncerExecutable)
        } catch {
            ShimOutput.error("bouncer: \(tool): \(error)")
            if let hint = error.hint { ShimOutput.error("hint: \(hint)") }
            // Only shims on PATH (a loop) is bad configuration; no real tool at all is the shell's 127.
            return error.skipped.isEmpty ? 127 : ErrorFamily.configuration.exitCode
        }
        let call = environment.callKey(arguments)
        if environment.variables[ShimEnvironment.callVariable] == call {
            ShimOutput.error("bouncer: \(tool): loop: Bouncer handed over to \(realTool), which ran this same \(tool) command through the shim again instead of a \(tool) of its own "
                             + "(a pyenv shim for a Python that is not selected falls back to PATH); select that Python (pyenv shell, PYENV_VERSION) or run one that is installed")
            return ErrorFamily.configuration.exitCode
        }
        environment.variables[ShimEnvironment.callVariable] = call
        environment.inherited?[ShimEnvironment.callVariable] = call
        guard let policyPath = PolicyLocator.find(environment: environment.variables, cwd: environment.cwd,
                                                  start: environment.foundPolicy) else {
            if environment.variables["CI"] == "true" && (environment.variables[allowUnguardedVariable] ?? "").isEmpty {
                ShimOutput.error("bouncer: \(tool): \(ciNoPolicyMessage)")
                ShimOutput.annotate("error", "\(tool): \(ciNoPolicyMessage)", variables: environment.variables)
                return ErrorFamily.configuration.exitCode
            }
            var variables = environment.inherited ?? environment.variables
            if variables[noPolicyNoticeVariable] == nil {
                ShimOutput.error("bouncer: no policy.json in \(environment.cwd) or above (and no BOUNCER_POLICY): \(tool) runs unguarded")
                variables[noPolicyNoticeVariable] = "1"
            }
            let failure = HandOver.exec(realTool, arguments, environment: HandOver.environment(variables, realTool: realTool))
            ShimOutput.error("bouncer: \(failure)")
            return 126
        }
        let policy: GuardedPolicy
        do {
            policy = try makeGuard(policyPath, environment)
        } catch let failure as BouncerFailure {
            ShimOutput.error("bouncer: \(tool): \(failure)")
            if let hint = failure.hint { ShimOutput.error("hint: \(hint)") }
            ShimOutput.annotate("error", "\(tool): \(failure)", variables: environment.variables)
            return failure.family.exitCode
        } catch {
            ShimOutput.error("bouncer: \(tool): policy \(policyPath): \(error)")
            ShimOutput.annotate("error", "\(tool): policy \(policyPath): \(error)", variables: environment.variables)
            return ErrorFamily.configuration.exitCode
        }
        let context = ShimContext(environment: environment, realTool: realTool, policy: policy)
        switch tool {
        case "curl": return CurlShim.run(arguments, context: context)
        case "wget": return WgetShim.run(arguments, context: context)
        case "pip", "pip3": return PipShim.run(arguments, context: context)
        case "npm": return NpmShim.run(arguments, context: context)
        case "npx": return NpxShim.run(arguments, context: context, bouncerExecutable: bouncerExecutable)
        case "docker", "podman": return ContainerShim.run(arguments, context: context)
        case "python", "python3": return PythonShim.run(arguments, context: context)
        case "uv": return UvShim.run(arguments, context: context)
        case "uvx": return UvShim.run(arguments, context: context, asUvx: true)
        case "yarn", "yarnpkg": return YarnShim.run(arguments, context: context)
        case "skopeo": return SkopeoShim.run(arguments, context: context)
        case "buildah": return BuildahShim.run(arguments, context: context)
        case "pipx": return PipxShim.run(arguments, context: context)
        case _ where ShimEnvironment.versionedFamily(tool) == "pip3": return PipShim.run(arguments, context: context)
        case _ where ShimEnvironment.versionedFamily(tool) == "python3": return PythonShim.run(arguments, context: context)
        default:
            ShimOutput.error("bouncer: no shim for \(tool) (known: \(ShimEnvironment.tools.joined(separator: ", ")))")
            return ErrorFamily.configuration.exitCode
        }
    }
}

/// Helpers the download adapters share.
enum ShimFiles {
    static func isDirectory(_ path: String) -> Bool {
        Filesystem.isDirectory(path)
    }


    /// "sha256:abcd…1234" for human lines.
    static func short(_ digest: Digest) -> String {
        let hex = digest.hex
        return "\(digest.algorithm.rawValue):\(hex.prefix(12))…"
    }
}
