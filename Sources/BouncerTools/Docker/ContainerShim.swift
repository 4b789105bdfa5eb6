import FoundationEssentials
import BouncerBase
import BouncerIO
import BouncerSigstore
import BouncerPolicy

/// The docker and podman shims: `pull`, `run` and `create` name an image;
/// Bouncer resolves it to a digest, verifies its signatures for that digest,
/// and hands the real tool the reference rewritten to `REGISTRY/REPO@sha256:…`,
/// so it pulls exactly the verified manifest (layers are content-addressed by
/// it). Every other subcommand passes through untouched.
///
/// The policy decides (`ImageGuard`): the first rule whose `match.image`
/// (or `"ecosystem": "oci"`) covers `REGISTRY/REPO` names the signer; an
/// image no rule covers is treated as `unmatched` says (refused under
/// `deny`); the lock pins the digest each tag resolved to and refuses a tag
/// that moved, in every mode. The environment may override the signer
/// explicitly (a first rule for every image):
/// - `BOUNCER_IMAGE_KEY=PEM`, or `BOUNCER_IMAGE_IDENTITY` (+ `_IDENTITY_REGEXP`)
///   with `BOUNCER_IMAGE_ISSUER` (+ `_ISSUER_REGEXP`);
/// - `BOUNCER_IMAGE_TRUSTED_ROOT=FILE`, `BOUNCER_IMAGE_IGNORE_TLOG=1` (key only).
/// Plain http to the registry only where the real tool was told so too
/// (`--tls-verify=false`) or `BOUNCER_IMAGE_ALLOW_HTTP=1`.
public enum ContainerShim {
    /// Global options of docker / podman that take a value as the next argument.
    static let globalValueOptions: Set<String> = [
        "--root", "--runroot", "--storage-driver", "--storage-opt", "--config", "--context", "-c", "-H", "--host",
        "--log-level", "-l", "--connection", "--url", "--identity", "--cgroup-manager", "--conmon", "--events-backend",
        "--hooks-dir", "--network-cmd-path", "--network-config-dir", "--runtime", "--runtime-flag", "--tmpdir",
        "--volumepath", "--imagestore", "--module", "--ssh", "--namespace", "--tlscacert", "--tlscert", "--tlskey",
        "--cdi-spec-dir", "--db-backend", "--network-backend", "--out", "--registries-conf",
    ]
    /// Global options of docker / podman that take no value. Any other
    /// global option is refused: taken for a flag, its value would be taken
    /// for the subcommand (`--tlscacert FILE pull IMAGE` is no pull), and
    /// the call passed through unverified.
    static let globalFlags: Set<String> = [
        "-D", "--debug", "--tls", "--tlsverify", "-v", "--version", "--help", "-h", "--noout", "-r", "--remote",
        "--syslog", "--transient-store",
    ]
    /// Options of pull / run / create that take a value as the next argument.
    static let subcommandValueOptions: Set<String> = [
        "--platform", "--arch", "--os", "--variant", "--authfile", "--creds", "--cert-dir", "--retry", "--retry-delay",
        "--decryption-key", "-e", "--env", "--env-file", "-v", "--volume", "-p", "--publish", "--name", "--entrypoint",
        "-w", "--workdir", "-u", "--user", "--network", "--net", "-l", "--label", "--label-file", "--mount", "-m", "--memory",
        "--cpus", "--hostname", "-h", "--add-host", "--dns", "--cap-add", "--cap-drop", "--device", "--tmpfs", "--restart",
        "--security-opt", "--ulimit", "--log-driver", "--log-opt", "--pull", "--pod", "--userns", "--ipc", "--pid", "--uts",
        "--stop-signal", "--stop-timeout", "--health-cmd", "--group-add", "--shm-size", "--cidfile", "--annotation",
        "--secret", "--expose", "--gpus", "--runtime", "--cgroupns", "--cgroup-parent", "--init-path", "--pidfile",
        "--sysctl", "--timeout", "--attach", "-a", "--detach-keys", "--volumes-from", "--link", "--platform",
    ]

    struct Call {
        var imageIndex: Int
        var subcommand: String
        var platform: String?
        var plainHTTP: Bool
    }

    /// Where the image argument is, or nil for a subcommand Bouncer does not guard.
    static func locate(_ arguments: [String]) throws(BouncerError) -> Call? {
        var index = 0
        var plainHTTP = false
        // Global options, then the subcommand.
        while index < arguments.count, arguments[index].hasPrefix("-") {
            let option = arguments[index]
            if option.contains("=") || globalFlags.contains(option) {
                index += 1
            } else if globalValueOptions.contains(option) {
                index += 2
            } else {
                throw .usage("cannot tell whether global option '\(option)' takes a value, so the subcommand is unknown")
            }
        }
        guard index < arguments.count else { return nil }
        let subcommand = arguments[index]
        var images = false
        if subcommand == "image" || subcommand == "container", index + 1 < arguments.count {
            // `docker image pull`, `docker container run|create`.
            index += 1
            images = true
        }
        let verb = arguments[index]
        guard ["pull", "run", "create"].contains(verb), !(images && subcommand == "image" && verb != "pull") else { return nil }
        index += 1
        var platform: String? = nil
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" { index += 1; break }
            guard argument.hasPrefix("-"), argument != "-" else { break }
            let name = argument.split(separator: "=", maxSplits: 1).first.map(String.init) ?? argument
            let inlineValue = argument.contains("=") ? String(argument.split(separator: "=", maxSplits: 1)[1]) : nil
            if name == "--tls-verify" { plainHTTP = inlineValue == "false" }
            if subcommandValueOptions.contains(name) {
                let value = inlineValue ?? (index + 1 < arguments.count ? arguments[index + 1] : nil)
                if name == "--platform" { platform = value }
                index += inlineValue == nil ? 2 : 1
            } else if argument.hasPrefix("--") || argument.count == 2 || argument.allSatisfy({ $0 == "-" || $0.isLetter }) {
                index += 1  // a flag (or bundled short flags such as -it / -dit)
            } else {
                throw .usage("\(verb): cannot tell whether option '\(argument)' takes a value, so the image argument is unknown")
            }
        }
        guard index < arguments.count else { return nil }
        return Call(imageIndex: index, subcommand: verb, platform: platform, plainHTTP: plainHTTP)
    }

    public static func run(_ arguments: [String], context: ShimContext) -> Int32 {
        let tool = context.environment.tool
        let call: Call
        do {
            guard let located = try locate(arguments) else { return context.passThrough(arguments) }
            call = located
        } catch {
            return context.unsupported(arguments.first { $0.hasPrefix("-") } ?? "?", why: error.description, arguments: arguments)
        }
        let variables = context.environment.variables
        do {
            guard let loaded = context.policy.loaded else {
                throw BouncerError(.configuration, code: "policy-unavailable", "no policy was loaded for the \(tool) shim")
            }
            let policy = try withOverride(loaded, variables)
            let reference = try ImageReference(parsing: arguments[call.imageIndex])
            let platform = try call.platform.map(OCIPlatform.init(parsing:))
            var options = FetchOptions()
            options.progress = false
            let allowHTTP = call.plainHTTP || variables["BOUNCER_IMAGE_ALLOW_HTTP"] == "1"
            let store = Store.standard()
            let source = RegistryImageSource(reference, allowHTTP: allowHTTP, platform: platform,
                                             fetcher: Fetcher(store: store, options: options))
            let result = ImageGuard(policy: policy, options: context.policy.guardOptions, store: store).evaluate(reference, registry: source)
            let outcome = result.outcome
            switch outcome.verdict {
            case .refused:
                for line in outcome.humanLines() { ShimOutput.error("bouncer: \(tool): \(line)") }
                context.annotateRefusal(outcome.error.message)
                ShimOutput.error("bouncer: \(tool): nothing was pulled")
                return (outcome.family ?? .evidence).exitCode
            case .warned:
                for line in outcome.humanLines() { ShimOutput.error("bouncer: \(tool): \(line)") }
                let warnings = (outcome.problems.map(\.message) + outcome.notes).joined(separator: "; ")
                ShimOutput.annotate("warning", "\(tool): \(outcome.shownURL): allowed with warnings: \(warnings)", variables: variables)
            case .allowed:
                for line in outcome.humanLines() { ShimOutput.error("bouncer: \(tool): \(line)") }
            }
            guard let pinned = result.pinned else {
                throw BouncerError(.evidence, code: "oci-unresolved", "\(reference) was not resolved to a digest")
            }
            var rewritten = arguments
            rewritten[call.imageIndex] = pinned
            return context.passThrough(rewritten)
        } catch let failure as BouncerFailure {
            ShimOutput.error("bouncer: \(tool): \(failure)")
            if let hint = failure.hint { ShimOutput.error("hint: \(hint)") }
            context.annotateRefusal("\(failure)")
            return failure.family.exitCode
        } catch {
            ShimOutput.error("bouncer: \(tool): \(error)")
            return ErrorFamily.configuration.exitCode
        }
    }

    /// The policy, with the environment's signer in a first rule for every
    /// image when `BOUNCER_IMAGE_KEY` or `BOUNCER_IMAGE_IDENTITY[_REGEXP]` is
    /// set (an explicit override; the policy's `match.image` rules are the
    /// normal route). The lock, the mode and the threat policies still apply.
    static func withOverride(_ policy: Policy, _ environment: [String: String]) throws -> Policy {
        // An empty variable is an unset one.
        let variables = environment.filter { !$0.value.isEmpty }
        let keyFile = variables["BOUNCER_IMAGE_KEY"]
        let identity = variables["BOUNCER_IMAGE_IDENTITY"].map { IdentityPolicy.Matcher.exact($0) } ?? variables["BOUNCER_IMAGE_IDENTITY_REGEXP"].map { .regex($0) }
        let issuer = variables["BOUNCER_IMAGE_ISSUER"].map { IdentityPolicy.Matcher.exact($0) } ?? variables["BOUNCER_IMAGE_ISSUER_REGEXP"].map { .regex($0) }
        guard keyFile != nil || identity != nil || issuer != nil else { return policy }
        var root: (root: SigstoreTrustedRoot, path: String)? = nil
        if let file = variables["BOUNCER_IMAGE_TRUSTED_ROOT"] {
            guard let bytes = FileManager.default.contents(atPath: file) else { throw BouncerError.usage("BOUNCER_IMAGE_TRUSTED_ROOT: cannot read \(file)") }
            root = (try SigstoreTrustedRoot.parse(Array(bytes), source: file), file)
        }
        var key: (path: String, bytes: [UInt8])? = nil
        if let keyFile {
            guard let bytes = FileManager.default.contents(atPath: keyFile) else { throw BouncerError.usage("BOUNCER_IMAGE_KEY: cannot read \(keyFile)") }
            do { _ = try PublicKey(pem: String(decoding: bytes, as: UTF8.self)) } catch { throw BouncerError.usage("BOUNCER_IMAGE_KEY \(keyFile): \(error)") }
            key = (keyFile, Array(bytes))
        }
        return try policy.overridingImageSigner(key: key, identity: identity, issuer: issuer,
                                                requireLog: variables["BOUNCER_IMAGE_IGNORE_TLOG"] != "1", trustedRoot: root)
    }

    /// A locked image (`bouncer check`, `bouncer lock`): its tag resolved
    /// again and verified under the policy; a tag that moved is refused.
    /// Plain http to a registry only with `BOUNCER_IMAGE_ALLOW_HTTP=1` (`allowHTTP`).
    public static func recheck(_ request: ArtifactRequest, policy: Policy, options: GuardOptions, allowHTTP: Bool) -> GuardOutcome {
        let version = request.version ?? "latest"
        let text = (request.package ?? "") + (version.hasPrefix("sha256:") ? "@" : ":") + version
        let store = Store.standard()
        var fetchOptions = FetchOptions()
        fetchOptions.progress = false
        do {
            let reference = try ImageReference(parsing: text)
            let source = RegistryImageSource(reference, allowHTTP: allowHTTP, platform: nil, fetcher: Fetcher(store: store, options: fetchOptions))
            return ImageGuard(policy: policy, options: options, store: store).evaluate(reference, registry: source).outcome
        } catch {
            return ImageGuard.refused(request, error)
        }
    }
}
