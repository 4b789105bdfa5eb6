import Foundation
import BouncerBase
import BouncerIO
import BouncerSigstore

/// The docker and podman shims: `pull`, `run` and `create` name an image;
/// Bouncer resolves it to a digest, verifies its signatures for that digest,
/// and hands the real tool the reference rewritten to `REGISTRY/REPO@sha256:…`,
/// so it pulls exactly the verified manifest (layers are content-addressed by
/// it). Every other subcommand passes through untouched.
///
/// The policy file cannot name images yet (no `match.image` in the parser), so
/// the signer comes from the environment; the policy's mode still decides
/// between refusing (enforce) and warning (audit):
/// - `BOUNCER_IMAGE_KEY=PEM`, or `BOUNCER_IMAGE_IDENTITY` (+ `_IDENTITY_REGEXP`)
///   with `BOUNCER_IMAGE_ISSUER` (+ `_ISSUER_REGEXP`);
/// - `BOUNCER_IMAGE_TRUSTED_ROOT=FILE`, `BOUNCER_IMAGE_IGNORE_TLOG=1` (key only);
/// - plain http to the registry only where the real tool was told so too
///   (`--tls-verify=false`) or `BOUNCER_IMAGE_ALLOW_HTTP=1`.
public enum ContainerShim {
    /// Global options of docker / podman that take a value as the next argument.
    static let globalValueOptions: Set<String> = [
        "--root", "--runroot", "--storage-driver", "--storage-opt", "--config", "--context", "-c", "-H", "--host",
        "--log-level", "-l", "--connection", "--url", "--identity", "--cgroup-manager", "--conmon", "--events-backend",
        "--hooks-dir", "--network-cmd-path", "--network-config-dir", "--runtime", "--runtime-flag", "--tmpdir",
        "--volumepath", "--imagestore", "--module", "--ssh",
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
            index += (globalValueOptions.contains(option) ? 2 : 1)
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
            let reference = try ImageReference(parsing: arguments[call.imageIndex])
            let trust = try trust(variables)
            let platform = try call.platform.map(OCIPlatform.init(parsing:))
            var options = FetchOptions()
            options.progress = false
            let allowHTTP = call.plainHTTP || variables["BOUNCER_IMAGE_ALLOW_HTTP"] == "1"
            let outcome = try ImageVerification.verify(reference, trust: trust, allowHTTP: allowHTTP, platform: platform,
                                                       fetcher: Fetcher(store: Store.standard(), options: options))
            guard outcome.passed else {
                let reasons = outcome.refused.isEmpty ? ["no signatures found for \(outcome.pinned)"] : outcome.refused.map(\.message)
                for reason in reasons { ShimOutput.error("bouncer: \(tool): \(reason)") }
                if context.policy.enforce {
                    let message = "refused: \(reference) (\(outcome.digest)) has no signature from the required signer"
                    ShimOutput.error("bouncer: \(tool): \(message)")
                    context.annotateRefusal(message)
                    ShimOutput.error("bouncer: \(tool): nothing was pulled")
                    return ErrorFamily.evidence.exitCode
                }
                ShimOutput.error("bouncer: AUDIT: \(tool): \(reference) is not verified; running the real \(tool) on \(outcome.pinned) (enforce mode would refuse)")
                var rewritten = arguments
                rewritten[call.imageIndex] = outcome.pinned
                return context.passThrough(rewritten)
            }
            for fact in outcome.verified {
                ShimOutput.error("bouncer: \(tool): \(outcome.pinned) signed by \(fact.identity ?? "the given key") (\(fact.scheme))")
            }
            var rewritten = arguments
            rewritten[call.imageIndex] = outcome.pinned
            return context.passThrough(rewritten)
        } catch let failure as BouncerFailure {
            ShimOutput.error("bouncer: \(tool): \(failure)")
            context.annotateRefusal("\(failure)")
            return failure.family.exitCode
        } catch {
            ShimOutput.error("bouncer: \(tool): \(error)")
            return ErrorFamily.configuration.exitCode
        }
    }

    /// The signer from the environment (see the type's comment).
    static func trust(_ variables: [String: String]) throws -> ImageSignatureTrust {
        let root: SigstoreTrustedRoot
        if let file = variables["BOUNCER_IMAGE_TRUSTED_ROOT"], !file.isEmpty {
            guard let bytes = FileManager.default.contents(atPath: file) else { throw BouncerError.usage("BOUNCER_IMAGE_TRUSTED_ROOT: cannot read \(file)") }
            root = try SigstoreTrustedRoot.parse(Array(bytes), source: file)
        } else {
            root = try SigstoreTrustedRoot.production()
        }
        let ignoreTlog = variables["BOUNCER_IMAGE_IGNORE_TLOG"] == "1"
        if let keyFile = variables["BOUNCER_IMAGE_KEY"], !keyFile.isEmpty {
            guard let bytes = FileManager.default.contents(atPath: keyFile) else { throw BouncerError.usage("BOUNCER_IMAGE_KEY: cannot read \(keyFile)") }
            do {
                return ImageSignatureTrust(signer: .key(try PublicKey(pem: String(decoding: bytes, as: UTF8.self))), trustedRoot: root, ignoreTlog: ignoreTlog)
            } catch { throw BouncerError.usage("BOUNCER_IMAGE_KEY \(keyFile): \(error)") }
        }
        let identity = variables["BOUNCER_IMAGE_IDENTITY"].map { IdentityPolicy.Matcher.exact($0) } ?? variables["BOUNCER_IMAGE_IDENTITY_REGEXP"].map { .regex($0) }
        let issuer = variables["BOUNCER_IMAGE_ISSUER"].map { IdentityPolicy.Matcher.exact($0) } ?? variables["BOUNCER_IMAGE_ISSUER_REGEXP"].map { .regex($0) }
        guard let identity, let issuer, !ignoreTlog else {
            throw BouncerError.usage("no image signer: set BOUNCER_IMAGE_KEY=PEM, or BOUNCER_IMAGE_IDENTITY[_REGEXP] with BOUNCER_IMAGE_ISSUER[_REGEXP] (BOUNCER_IMAGE_IGNORE_TLOG is for keys only)",
                                     hint: "a signature from anyone proves nothing; name who must have signed")
        }
        return ImageSignatureTrust(signer: .keyless(identity: identity, issuer: issuer), trustedRoot: root)
    }
}
