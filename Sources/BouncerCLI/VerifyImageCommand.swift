import ArgumentParser
import FoundationEssentials
import BouncerBase
import BouncerIO
import BouncerSigstore
import BouncerTools

struct VerifyImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-image",
        abstract: "Verify a container image's signatures in its registry, as cosign verify does.",
        discussion: """
            IMAGE is REGISTRY/REPO:TAG or REGISTRY/REPO@sha256:<hex>; a tag is resolved to a \
            digest once, and every signature must be for that digest: cosign's sha256-<hex>.sig \
            tag (simple-signing payloads) and Sigstore bundles attached as OCI referrers (the \
            referrers API or its sha256-<hex> tag). One signature from the required signer \
            suffices; each one found is reported. Keyless signatures need a log entry or a \
            trusted timestamp; --insecure-ignore-tlog is for key-signed images (and a private \
            PKI given with --ca-roots, whose certificate is then checked at the current time). \
            This command takes the signer from its flags and reads no policy; the docker and \
            podman shims take it from the policy.json rule whose match.image covers the image, \
            and pin each tag's digest in bouncer.lock.

            Exit codes: 0 verified; 1 refused; 2 usage error or unusable trust material; \
            3 the registry could not be reached.
            """
    )

    @Argument(help: ArgumentHelp("The image: REGISTRY/REPO:TAG or REGISTRY/REPO@sha256:<hex>.", valueName: "IMAGE"))
    var image: String

    @Option(help: ArgumentHelp("A PEM public key, for images signed with a self-managed key.", valueName: "PEM"))
    var key: String?

    @OptionGroup var signer: AttestationIdentityOptions

    @Option(name: .customLong("ca-roots"), help: ArgumentHelp("PEM root certificates of a private PKI, trusted instead of Fulcio.", valueName: "PEM"))
    var caRoots: String?

    @Option(name: .customLong("ca-intermediates"), help: ArgumentHelp("PEM intermediate certificates of the private PKI.", valueName: "PEM"))
    var caIntermediates: String?

    @Flag(name: .customLong("insecure-ignore-tlog"), help: "Accept a key-signed image (or a private-PKI certificate) without a transparency-log entry.")
    var ignoreTlog = false

    @Flag(name: .customLong("insecure-ignore-sct"), help: "Do not require an embedded SCT in the signing certificate (2021 Fulcio certificates have none).")
    var ignoreSCT = false

    @Flag(name: .customLong("allow-missing-oidc-issuer"), help: "Accept a certificate with no OIDC-issuer extension (2021 Fulcio, private PKI); its SAN must still match.")
    var allowMissingIssuer = false

    @Option(name: .customLong("signed-reference"), help: ArgumentHelp("Require the signature's docker-reference to be exactly this (podman's matchExact).", valueName: "REF"))
    var signedReference: String?

    @Option(help: ArgumentHelp("For an index: the platform whose manifest is selected (default linux/amd64).", valueName: "OS/ARCH[/VARIANT]"))
    var platform: String?

    @Flag(name: .customLong("allow-http-registry"), help: "Talk to the registry over plain http (a loopback or lab registry).")
    var allowHTTPRegistry = false

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        try signer.validateShape()
        if key != nil {
            if signer.hasIdentity || signer.hasIssuer || caRoots != nil {
                throw ValidationError("--key verifies a self-managed key: do not combine it with identity flags or --ca-roots")
            }
        } else {
            // Keyless verification without an expected identity would accept anyone's signature.
            guard signer.hasIdentity, signer.hasIssuer || allowMissingIssuer else {
                throw ValidationError("keyless verification needs an identity (--certificate-identity[-regexp]) and an issuer (--certificate-oidc-issuer[-regexp]), or --key PEM")
            }
            if ignoreTlog && caRoots == nil {
                throw ValidationError("--insecure-ignore-tlog is for key-signed images (or a private PKI with --ca-roots): a Fulcio certificate needs a log entry or timestamp for its signing time")
            }
        }
        if caIntermediates != nil && caRoots == nil { throw ValidationError("--ca-intermediates needs --ca-roots") }
    }

    func run() throws {
        let reference: ImageReference
        let chosenPlatform: OCIPlatform?
        do {
            reference = try ImageReference(parsing: image)
            chosenPlatform = try platform.map(OCIPlatform.init(parsing:))
        } catch {
            throw BouncerError.usage(error.description)
        }
        let trust = try Self.trust(key: key, signer: signer, caRoots: caRoots, caIntermediates: caIntermediates,
                                   ignoreTlog: ignoreTlog, ignoreSCT: ignoreSCT, allowMissingIssuer: allowMissingIssuer,
                                   signedReference: signedReference)
        var options = FetchOptions()
        options.progress = false
        let outcome = try ImageVerification.verify(reference, trust: trust, allowHTTP: allowHTTPRegistry, platform: chosenPlatform,
                                                   fetcher: Fetcher(options: options))
        let report = Self.report(outcome)
        if json {
            Console.output(report.jsonLine())
        } else {
            for line in report.humanLines() {
                if report.verdict == .pass { Console.output(line) } else { Console.error(line) }
            }
            for entry in report.signatures ?? [] where report.verdict == .pass && entry.status != "verified" {
                Console.error("not counted: \(entry.reason ?? entry.status)")
            }
        }
        if report.verdict != .pass { throw ExitCode(ErrorFamily.evidence.exitCode) }
    }

    static func trust(key: String?, signer: AttestationIdentityOptions, caRoots: String?, caIntermediates: String?,
                      ignoreTlog: Bool, ignoreSCT: Bool, allowMissingIssuer: Bool, signedReference: String?) throws -> ImageSignatureTrust {
        let who: ImageSignatureTrust.Signer
        if let key {
            let text = String(decoding: try readInput(key, limit: 1 << 20), as: UTF8.self)
            do { who = .key(try PublicKey(pem: text)) } catch { throw BouncerError.usage("\(key): \(error)") }
        } else {
            let id: IdentityPolicy.Matcher = signer.identity.map { .exact($0) } ?? .regex(signer.identityRegexp ?? "")
            let iss: IdentityPolicy.Matcher? = signer.issuer.map { .exact($0) } ?? signer.issuerRegexp.map { .regex($0) }
            who = .keyless(identity: id, issuer: iss)
        }
        var privateCAs: [SigstoreTrustedRoot.CertificateAuthority]? = nil
        if let caRoots {
            let roots = String(decoding: try readInput(caRoots, limit: 4 << 20), as: UTF8.self)
            let intermediates = try caIntermediates.map { String(decoding: try readInput($0, limit: 4 << 20), as: UTF8.self) }
            do { privateCAs = try ImageSignatureTrust.privateAuthorities(rootsPEM: roots, intermediatesPEM: intermediates) } catch {
                throw BouncerError.usage("\(caRoots): \(error)")
            }
        }
        return ImageSignatureTrust(signer: who, trustedRoot: try signer.loadTrustedRoot(), privateAuthorities: privateCAs,
                                   ignoreTlog: ignoreTlog, ignoreSCT: ignoreSCT, allowMissingIssuer: allowMissingIssuer,
                                   exactReference: signedReference)
    }

    static func report(_ outcome: ImageVerification.Outcome) -> VerificationReport {
        var evidence: [VerificationReport.Evidence] = []
        var entries: [VerificationReport.SignatureEntry] = []
        for fact in outcome.verified {
            var details: [String: String] = ["scheme": fact.scheme, "source": fact.source, "digest": outcome.digest.description]
            details["identity"] = fact.identity
            details["issuer"] = fact.issuer
            details["dockerReference"] = fact.dockerReference
            if !fact.logIndexes.isEmpty { details["logIndex"] = fact.logIndexes.map(String.init).joined(separator: ",") }
            if !fact.signingTimes.isEmpty {
                details["signingTime"] = fact.signingTimes.map { String(Int64($0.timeIntervalSince1970.rounded(.down))) }.joined(separator: ",")
                details["timeSource"] = fact.timeSources.map(\.rawValue).joined(separator: ",")
            }
            if !fact.notes.isEmpty { details["notes"] = fact.notes.joined(separator: "; ") }
            if let platformDigest = outcome.platformDigest { details["platformDigest"] = platformDigest.description }
            let who = fact.identity.map { "\($0)\(fact.issuer.map { " (issuer \($0))" } ?? "")" } ?? "the given key"
            let logged = fact.logIndexes.isEmpty ? (fact.timeSources.contains(.rfc3161) ? "RFC 3161 timestamp" : "no transparency log")
                                                 : "log index \(fact.logIndexes.map(String.init).joined(separator: ","))"
            let summary = "\(outcome.digest) signed by \(who) (\(fact.scheme == "cosign-legacy" ? "cosign signature" : "Sigstore bundle referrer"), \(logged))"
            evidence.append(.init(kind: fact.scheme == "cosign-legacy" ? "image-signature" : "sigstore-bundle",
                                  proves: ["integrity", "origin"], summary: summary, details: details))
            entries.append(.init(status: "verified", format: fact.scheme, signer: fact.identity ?? "key", details: ["source": fact.source]))
        }
        var reasons: [VerificationReport.Reason] = []
        for refusal in outcome.refused {
            entries.append(.init(status: "refused", format: nil, signer: nil, reason: refusal.message, details: ["source": refusal.source, "code": refusal.code]))
        }
        if outcome.verified.isEmpty {
            reasons = outcome.refused.map { .init(code: $0.code, message: $0.message) }
            if reasons.isEmpty {
                reasons = [.init(code: ImageSignatureError.Step.noSignatures.rawValue,
                                 message: "\(outcome.reference.name)@\(outcome.digest): no signatures found (no \("sha256-\(outcome.digest.hex).sig") tag, no Sigstore bundle referrers)")]
            }
        }
        var report = VerificationReport(artifact: .init(name: outcome.reference.description, sha256: outcome.digest.hex),
                                        evidence: evidence, reasons: reasons)
        report.signatures = entries
        return report
    }
}
