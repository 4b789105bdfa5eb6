import ArgumentParser
import FoundationEssentials
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools

struct VerifyAttestationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-attestation",
        abstract: "Verify attestations (DSSE, in-toto, SLSA provenance) about a file, offline.",
        discussion: """
            --bundle holds a Sigstore bundle with a DSSE envelope, JSON lines of such bundles (one \
            must verify), a PEP 740 attestation or provenance object, or an npm attestations \
            response (every attestation must verify). The statement must name FILE by its sha256 \
            or sha512 digest; FILE may be `sha256:<hex>` or `sha512:<hex>` when only the digest \
            is known. Regexps must match the whole value. Keyless attestations need a signer: \
            identity flags, or --signer-workflow / --source-repo / --owner (GitHub Actions), or \
            --trusted-publisher. Facts that are required and not proven are refused.

            Exit codes: 0 verified; 1 refused; 2 usage error or unusable trust material; \
            3 a file could not be read.
            """
    )

    @Option(help: ArgumentHelp("The attestation file (see above).", valueName: "FILE"))
    var bundle: String

    @OptionGroup var identityOptions: AttestationIdentityOptions

    @Option(help: ArgumentHelp("A PEM public key, for attestations signed with a self-managed key.", valueName: "PEM"))
    var key: String?

    @Option(name: .customLong("predicate-type"), help: ArgumentHelp("The predicate type the signed statement must have.", valueName: "URI"))
    var predicateType: String?

    @Option(name: .customLong("source-repo"), help: ArgumentHelp("The source repository (https://github.com/OWNER/REPO or github.com/OWNER/REPO).", valueName: "URI"))
    var sourceRepo: String?

    @Option(name: .customLong("source-repo-regexp"), help: ArgumentHelp("A regexp the whole https://HOST/OWNER/REPO must match.", valueName: "RE"))
    var sourceRepoRegexp: String?

    @Option(name: .customLong("source-ref"), help: ArgumentHelp("The exact source ref (refs/tags/v1.2.3).", valueName: "REF"))
    var sourceRef: String?

    @Option(name: .customLong("source-ref-regexp"), help: ArgumentHelp("A regexp the whole source ref must match.", valueName: "RE"))
    var sourceRefRegexp: String?

    @Option(name: .customLong("builder-id"), help: ArgumentHelp("The exact builder id.", valueName: "ID"))
    var builderID: String?

    @Option(name: .customLong("builder-id-regexp"), help: ArgumentHelp("A regexp the whole builder id must match.", valueName: "RE"))
    var builderIDRegexp: String?

    @Option(name: .customLong("build-type"), help: ArgumentHelp("The exact SLSA build type.", valueName: "URI"))
    var buildType: String?

    @Option(name: .customLong("workflow"), help: ArgumentHelp("The workflow file inside the source repository (.github/workflows/release.yml).", valueName: "PATH"))
    var workflow: String?

    @Option(name: .customLong("signer-workflow"), help: ArgumentHelp("The workflow that signed, OWNER/REPO/PATH (any ref).", valueName: "REPO/PATH"))
    var signerWorkflow: String?

    @Option(help: ArgumentHelp("The source repository's owner (GitHub).", valueName: "OWNER"))
    var owner: String?

    @Flag(name: .customLong("deny-self-hosted-runners"), help: "Require a GitHub-hosted runner.")
    var denySelfHostedRunners = false

    @Option(name: .customLong("trusted-publisher"), help: ArgumentHelp("A PyPI Trusted Publisher: github:OWNER/REPO/WORKFLOW.yml, gitlab:GROUP/PROJECT//PATH or google:EMAIL.", valueName: "SPEC"))
    var trustedPublisher: String?

    @Option(name: .customLong("registry-keys"), help: ArgumentHelp("npm registry keys (for the npm publish attestation).", valueName: "KEYS.json"))
    var registryKeys: String?

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Argument(help: ArgumentHelp("The artifact, or sha256:<hex> / sha512:<hex>.", valueName: "FILE"))
    var artifact: String

    func validate() throws {
        try identityOptions.validateShape()
        if sourceRepo != nil, sourceRepoRegexp != nil { throw ValidationError("give --source-repo or --source-repo-regexp, not both") }
        if sourceRef != nil, sourceRefRegexp != nil { throw ValidationError("give --source-ref or --source-ref-regexp, not both") }
        if builderID != nil, builderIDRegexp != nil { throw ValidationError("give --builder-id or --builder-id-regexp, not both") }
        if key != nil, identityOptions.hasIdentity || identityOptions.hasIssuer {
            throw ValidationError("--key verifies a self-managed key: do not combine it with identity flags")
        }
        if identityOptions.hasIdentity != identityOptions.hasIssuer, signerWorkflow == nil, trustedPublisher == nil,
           sourceRepo == nil, owner == nil {
            throw ValidationError("give both an identity (--certificate-identity[-regexp]) and an issuer (--certificate-oidc-issuer[-regexp])")
        }
    }

    func requirements() throws -> (AttestationRequirements, TrustedPublisher?) {
        var r = AttestationRequirements()
        r.predicateType = predicateType
        r.sourceRepository = sourceRepo.map { .exact($0) } ?? sourceRepoRegexp.map { .regex($0) }
        r.sourceRef = sourceRef.map { .exact($0) } ?? sourceRefRegexp.map { .regex($0) }
        r.builderID = builderID.map { .exact($0) } ?? builderIDRegexp.map { .regex($0) }
        r.buildType = buildType.map { .exact($0) }
        r.workflowPath = workflow.map { .exact($0) }
        r.signerWorkflow = signerWorkflow
        r.owner = owner
        r.denySelfHostedRunners = denySelfHostedRunners
        var publisher: TrustedPublisher? = nil
        if let trustedPublisher {
            guard let parsed = TrustedPublisher(parsing: trustedPublisher) else {
                throw BouncerError.usage("--trusted-publisher '\(trustedPublisher)' is not github:OWNER/REPO/WORKFLOW, gitlab:GROUP/PROJECT//PATH or google:EMAIL")
            }
            publisher = parsed
            r.trustedPublisher = parsed
        }
        if let repo = sourceRepo, SourceRepository.canonical(repo) == nil {
            throw BouncerError.usage("--source-repo '\(repo)' is not a plain repository URI")
        }
        return (r, publisher)
    }

    func run() throws {
        let (requirements, publisher) = try requirements()
        var identity: IdentityPolicy? = nil
        var publicKey: PublicKey? = nil
        if let key {
            let text = String(decoding: try readInput(key), as: UTF8.self)
            do { publicKey = try PublicKey(pem: text) } catch { throw BouncerError.usage("\(key): \(error)") }
        } else {
            identity = try identityOptions.policy(signerWorkflow: signerWorkflow, sourceRepository: sourceRepo,
                                                  owner: owner, publisher: publisher)
        }
        let root = try identityOptions.loadTrustedRoot()
        let npmKeys = try registryKeys.map { try NpmRegistryKeys.parse(try readInput($0, limit: 1 << 20), source: $0) }

        let digests: ArtifactDigests
        var fileName: String? = nil
        if let colon = artifact.firstIndex(of: ":"), ["sha256", "sha512"].contains(artifact[..<colon]),
           !FileManager.default.fileExists(atPath: artifact) {
            do { digests = ArtifactDigests(digest: try Digest(parsing: artifact)) } catch {
                throw BouncerError.usage("\(artifact): \(error)")
            }
        } else {
            digests = ArtifactDigests(bytes: try readArtifact(artifact))
            fileName = URL(fileURLWithPath: artifact).lastPathComponent
        }
        let input = try readInput(bundle, limit: 64 << 20)
        let context = AttestationRun.Context(artifact: digests, fileName: fileName, trustedRoot: root, identity: identity,
                                             key: publicKey, requirements: requirements, npmKeys: npmKeys)
        let report = try Self.verify(input, context: context, name: artifact)
        AttestationReport.emit(report, json: json)
        if report.verdict != .pass { throw ExitCode(ErrorFamily.evidence.exitCode) }
    }

    static func verify(_ input: [UInt8], context: AttestationRun.Context, name: String) throws -> VerificationReport {
        let artifact = VerificationReport.Artifact(name: name, sha256: context.artifact.sha256?.hex)
        let set: AttestationSet
        do { set = try AttestationSet.parse(input) } catch {
            if error.family != .evidence { throw error }
            return VerificationReport(artifact: artifact, reasons: [.init(code: error.code, message: error.description)])
        }
        let outcomes = AttestationRun.run(set, context)
        if let configuration = AttestationReport.configurationFailure(outcomes) { throw configuration }
        let publishers = Dictionary(set.items.map { ($0.label, $0.publisher ?? [:]) }, uniquingKeysWith: { a, _ in a })
        let evidence = outcomes.compactMap { AttestationReport.evidence($0, publisher: publishers[$0.label]) }
        let failures = outcomes.filter { $0.failure != nil }
        var report: VerificationReport
        if AttestationRun.passes(set, outcomes) {
            report = VerificationReport(artifact: artifact, evidence: evidence)
            if !failures.isEmpty {
                // Other bundles in a list that did not count: shown, not hidden.
                report.signatures = failures.map {
                    .init(status: "refused", format: set.kind.rawValue, reason: "\($0.label): \($0.failure?.description ?? "")")
                }
            }
        } else {
            let reasons = failures.map { VerificationReport.Reason(code: $0.failure?.code ?? "attestation", message: "\($0.label): \($0.failure?.description ?? "")") }
            report = VerificationReport(artifact: artifact, evidence: [],
                                        reasons: reasons.isEmpty ? [.init(code: AttestationError.Check.nothing.rawValue, message: "no attestation verified")] : reasons)
        }
        return report
    }
}
