import ArgumentParser
import FoundationEssentials
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools

struct VerifyBundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-bundle",
        abstract: "Verify a Sigstore bundle over a file or a sha256 digest, offline.",
        discussion: """
            Follows the sigstore-conformance CLI protocol. Keyless bundles need the expected \
            identity (--certificate-identity or --certificate-identity-regexp) and OIDC issuer \
            (--certificate-oidc-issuer or --certificate-oidc-issuer-regexp); a regexp must match \
            the whole value. Bundles signed with a self-managed key need --key PEM instead. \
            FILE_OR_DIGEST is the artifact, or `sha256:<hex>` when only its digest is known. \
            The trusted root is Sigstore's public-good production root unless --staging or \
            --trusted-root FILE is given.

            Exit codes: 0 verified; 1 refused; 2 usage error or unusable trust material; \
            3 a file could not be read.
            """
    )

    @Option(help: ArgumentHelp("The Sigstore bundle (JSON).", valueName: "FILE"))
    var bundle: String

    @Option(help: ArgumentHelp("A PEM public key, for bundles signed with a self-managed key.", valueName: "PEM"))
    var key: String?

    /// --certificate-identity[-regexp], --certificate-oidc-issuer[-regexp],
    /// --trusted-root, --staging: the same flags as verify-attestation.
    @OptionGroup var signer: AttestationIdentityOptions

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Argument(help: ArgumentHelp("The artifact, or sha256:<hex>.", valueName: "FILE_OR_DIGEST"))
    var artifact: String

    func validate() throws {
        try signer.validateShape()
        if key != nil {
            if signer.hasIdentity || signer.hasIssuer {
                throw ValidationError("--key verifies a self-managed key: do not combine it with identity flags")
            }
        } else if !signer.hasIdentity || !signer.hasIssuer {
            // Keyless verification without an expected identity would accept anyone's signature.
            throw ValidationError("keyless verification needs both an identity (--certificate-identity[-regexp]) and an issuer (--certificate-oidc-issuer[-regexp]), or --key PEM")
        }
    }

    func run() throws {
        try VerifyBundleRun(bundle: bundle, key: key, identity: signer.identity, identityRegexp: signer.identityRegexp,
                            issuer: signer.issuer, issuerRegexp: signer.issuerRegexp, trustedRoot: signer.trustedRoot,
                            staging: signer.staging, json: json, artifact: artifact).run()
    }

    static func report(_ verified: BundleVerifier.Verified, name: String) -> VerificationReport {
        let logs = verified.logIndexes.map(String.init).joined(separator: ",")
        let times = verified.signingTimes.map { String(Int64($0.timeIntervalSince1970.rounded(.down))) }.joined(separator: ",")
        var details: [String: String] = [
            "mediaType": verified.mediaType,
            "content": verified.content,
            "logIndex": logs,
            "signingTime": times,
            "timeSource": verified.timeSources.map(\.rawValue).joined(separator: ","),
        ]
        // A bundle from an instance without a log (GitHub's) has only its timestamp.
        let logged = verified.logIndexes.isEmpty ? "no transparency log, RFC 3161 timestamp \(times)" : "log index \(logs)"
        var summary: String
        if let identity = verified.identity, let issuer = verified.issuer {
            details["identity"] = identity
            details["issuer"] = issuer
            summary = "Sigstore bundle signed by \(identity) (issuer \(issuer)), \(logged)"
        } else {
            details["signer"] = "self-managed key"
            summary = "Sigstore bundle signed by the given key, \(logged)"
        }
        if !verified.timestampsNotVerified.isEmpty {
            // Said in the human line too: a timestamp that did not count is worth a look.
            details["timestampsNotVerified"] = verified.timestampsNotVerified.joined(separator: "; ")
            summary += "; not counted, did not verify: " + verified.timestampsNotVerified.joined(separator: "; ")
        }
        return VerificationReport(
            artifact: .init(name: name, sha256: verified.artifactSHA256?.hex),
            evidence: [.init(kind: "sigstore-bundle", proves: ["integrity", "origin"], summary: summary, details: details)])
    }
}

/// What `verify-bundle` does once its arguments are known, in a plain struct
/// so the start-up shortcut (`parsePlain`) need not build ArgumentParser's
/// command tree (a fifth of the instructions of verifying a bundle).
struct VerifyBundleRun: Equatable {
    let bundle: String
    let key: String?
    let identity: String?
    let identityRegexp: String?
    let issuer: String?
    let issuerRegexp: String?
    let trustedRoot: String?
    let staging: Bool
    let json: Bool
    let artifact: String

    func run() throws {
        let policy: BundleVerifier.Policy
        if let key {
            let text = String(decoding: try readInput(key), as: UTF8.self)
            do { policy = .key(try PublicKey(pem: text)) } catch {
                throw BouncerError.usage("\(key): \(error)")
            }
        } else {
            let id: IdentityPolicy.Matcher = identity.map { .exact($0) } ?? .regex(identityRegexp ?? "")
            let iss: IdentityPolicy.Matcher = issuer.map { .exact($0) } ?? .regex(issuerRegexp ?? "")
            policy = .keyless(IdentityPolicy(identity: id, issuer: iss))
        }
        let root = try AttestationIdentityOptions.loadTrustedRoot(path: trustedRoot, staging: staging)

        let input: BundleVerifier.Artifact
        var name = artifact
        if artifact.hasPrefix("sha256:"), !FileManager.default.fileExists(atPath: artifact) {
            do { input = .digest(try Digest(algorithm: .sha256, hex: String(artifact.dropFirst(7)))) } catch {
                throw BouncerError.usage("\(artifact): \(error)")
            }
        } else {
            input = .bytes(try readArtifact(artifact))
            name = artifact
        }
        let bundleBytes = try readInput(bundle, limit: SigstoreBundle.maxBytes)

        var report: VerificationReport
        do {
            let parsed = try SigstoreBundle.parse(bundleBytes)
            let verified = try BundleVerifier.verify(bundle: parsed, artifact: input, trustedRoot: root, policy: policy)
            report = VerifyBundleCommand.report(verified, name: name)
        } catch let failure as BouncerFailure where failure.family == .evidence {
            let sha256: String? = if case .digest(let d) = input { d.hex } else if case .bytes(let b) = input { Hasher.digest(b, .sha256).hex } else { nil }
            report = VerificationReport(artifact: .init(name: name, sha256: sha256),
                                        reasons: [.init(code: failure.code, message: failure.description)])
        }
        if json {
            Console.output(report.jsonLine())
        } else {
            for line in report.humanLines() {
                if report.verdict == .pass { Console.output(line) } else { Console.error(line) }
            }
        }
        if report.verdict != .pass { throw ExitCode(ErrorFamily.evidence.exitCode) }
    }
}

extension VerifyBundleCommand {
    /// `verify-bundle` in its plain form (long options, each value a separate
    /// argument, each option at most once, one artifact), parsed without
    /// ArgumentParser. Anything else, and anything `validate()` would refuse,
    /// returns nil and goes to ArgumentParser, which parses or reports it
    /// exactly as before. A test checks that both parsers agree.
    static func parsePlain(_ arguments: [String]) -> VerifyBundleRun? {
        guard arguments.first == "verify-bundle" else { return nil }
        func plain(_ value: String) -> Bool { !value.isEmpty && !value.hasPrefix("-") && value != "help" }
        var values: [String: String] = [:]
        var artifact: String? = nil, staging = false, json = false
        var rest = arguments.dropFirst()
        while let token = rest.popFirst() {
            if plain(token) {
                guard artifact == nil else { return nil }
                artifact = token
                continue
            }
            switch token {
            case "--staging":
                guard !staging else { return nil }
                staging = true
            case "--json":
                guard !json else { return nil }
                json = true
            case "--bundle", "--key", "--certificate-identity", "--certificate-identity-regexp",
                 "--certificate-oidc-issuer", "--certificate-oidc-issuer-regexp", "--trusted-root":
                guard values[token] == nil, let value = rest.popFirst(), plain(value) else { return nil }
                values[token] = value
            default:
                return nil
            }
        }
        let run = VerifyBundleRun(
            bundle: values["--bundle"] ?? "", key: values["--key"],
            identity: values["--certificate-identity"], identityRegexp: values["--certificate-identity-regexp"],
            issuer: values["--certificate-oidc-issuer"], issuerRegexp: values["--certificate-oidc-issuer-regexp"],
            trustedRoot: values["--trusted-root"], staging: staging, json: json, artifact: artifact ?? "")
        // Both required, and `validate()`'s rules, so no validation error is ever produced here.
        guard values["--bundle"] != nil, artifact != nil,
              run.identity == nil || run.identityRegexp == nil, run.issuer == nil || run.issuerRegexp == nil,
              !(run.staging && run.trustedRoot != nil) else { return nil }
        let hasIdentity = run.identity != nil || run.identityRegexp != nil
        let hasIssuer = run.issuer != nil || run.issuerRegexp != nil
        if run.key != nil { guard !hasIdentity && !hasIssuer else { return nil } } else { guard hasIdentity && hasIssuer else { return nil } }
        return run
    }
}
