import FoundationEssentials
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore

/// `{"attestation": {"url": "{url}.provenance", "publisher": {"kind": "GitHub",
/// "repository": "OWNER/REPO", "workflow": "release.yml"}}}`: PyPI PEP 740.
/// Every attestation in the fetched provenance (or attestation) object must
/// name the file by digest and be signed by the Trusted Publisher, as the
/// signing certificate proves it (issuer, source repository, workflow).
enum AttestationRequirementCheck {
    static func check(_ spec: AttestationRequirement, _ context: EvidenceContext) -> Result<EvidenceProof, EvidenceProblem> {
        // The index's own pointer to the file's provenance wins; the rule's template is the fallback.
        guard let template = context.request.provenanceURL.map({ URLTemplate(text: $0) }) ?? spec.url else { return .failure(missingURL) }
        let publisher: (identity: IdentityPolicy, requirements: AttestationRequirements)
        switch Self.publisher(spec) {
        case .success(let value): publisher = value
        case .failure(let problem): return .failure(problem)
        }
        let root: SigstoreTrustedRoot
        switch SigstoreTrust.trustedRoot(context.policy) {
        case .success(let value): root = value
        case .failure(let problem): return .failure(problem)
        }
        let fetched: (bytes: [UInt8], shown: String)
        switch context.fetch(template, what: "PEP 740 provenance", unavailable: .attestationUnavailable) {
        case .success(let value): fetched = value
        case .failure(let problem): return .failure(problem)
        }
        guard let sha256 = context.sha256 else {
            return .failure(EvidenceProblem(code: .attestationRefused, message: "the artifact's sha256 was not computed"))
        }
        let set: AttestationSet
        do { set = try AttestationSet.parse(fetched.bytes) } catch {
            return .failure(SigstoreTrust.problem(error, shown: fetched.shown))
        }
        guard set.kind == .pep740 else {
            return .failure(EvidenceProblem(code: .attestationNotPep740,
                                            message: "\(fetched.shown) is not a PEP 740 attestation or provenance object (found \(set.kind.rawValue))"))
        }
        let digests: ArtifactDigests
        switch SigstoreTrust.readArtifact(context) {
        case .success(.bytes(let bytes)): digests = ArtifactDigests(bytes: bytes)
        // Too large to hold in memory: the subject is matched by the digest computed while downloading.
        case .success(.tooLarge): digests = ArtifactDigests(digest: sha256)
        case .failure(let problem): return .failure(problem)
        }
        // PEP 740 statements name the distribution file: compare with the URL's last segment.
        let run = AttestationRun.Context(artifact: digests, fileName: URLParts.dirAndFile(context.request.url).file,
                                         trustedRoot: root, identity: publisher.identity, requirements: publisher.requirements)
        let outcomes = AttestationRun.run(set, run)
        if let configuration = outcomes.compactMap(\.failure).first(where: { $0.family == .configuration }) {
            return .failure(EvidenceProblem(code: ReasonCode(configuration), family: .configuration,
                                            message: "\(fetched.shown): \(configuration.description)"))
        }
        guard AttestationRun.passes(set, outcomes), let facts = outcomes.compactMap(\.facts).first else {
            let reasons = outcomes.compactMap { outcome in outcome.failure.map { (outcome.label, $0) } }
            let message = reasons.isEmpty ? "no attestation verified"
                : reasons.map { "\($0.0): \($0.1.description)" }.joined(separator: "; ")
            return .failure(EvidenceProblem(code: reasons.first.map { ReasonCode($0.1) } ?? ReasonCode(reported: AttestationError.Check.nothing.rawValue),
                                            message: "\(fetched.shown): \(message)"))
        }
        guard facts.artifactSHA256.map({ $0.matches(sha256) }) ?? true else {
            return .failure(EvidenceProblem(code: .attestationArtifactChanged,
                                            message: "\(fetched.shown): the attested bytes are not the downloaded artifact"))
        }
        let logIndex = outcomes.compactMap(\.facts).flatMap(\.logIndexes).map(String.init).joined(separator: ",")
        let identity = facts.identity ?? "?"
        return .success(EvidenceProof(kind: .attestation, proves: [.integrity, .origin],
                                      summary: "PEP 740: published by \(spec.publisherSummary) (\(identity)), log index \(logIndex)", signer: identity, issuer: facts.issuer,
                                                           source: fetched.shown, logIndex: logIndex))
    }

    static let missingURL = EvidenceProblem(code: .evidenceUnavailable, family: .configuration,
                                            message: "evidence kind 'attestation' needs a 'url' template for the PEP 740 provenance when the index offers none for the file")

    /// The publisher as the attestation checks want it: the issuer is fixed by
    /// the kind; the repository and workflow are bound by the certificate's
    /// Fulcio extensions (a workflow-less GitHub or GitLab publisher accepts any
    /// workflow of the repository).
    static func publisher(_ spec: AttestationRequirement) -> Result<(identity: IdentityPolicy, requirements: AttestationRequirements), EvidenceProblem> {
        if spec.environment != nil {
            // The environment is written by the index, unsigned: nothing offline can prove it.
            return .failure(EvidenceProblem(code: .attestationEnvironment, family: .configuration,
                                            message: "publisher.environment cannot be verified: the signing certificate does not carry it"))
        }
        var requirements = AttestationRequirements()
        let publisher: TrustedPublisher
        switch (spec.publisherKind, spec.workflow) {
        case ("GitHub", let workflow?):
            publisher = .gitHub(repository: spec.repository, workflow: workflow)
        case ("GitLab", let workflow?):
            publisher = .gitLab(repository: spec.repository, workflowPath: workflow)
        case ("GitHub", nil):
            requirements.sourceRepository = .exact("https://github.com/\(spec.repository)")
            return .success((IdentityPolicy(identity: .regex(".+"), issuer: .exact(TrustedPublisher.gitHubIssuer)), requirements))
        case ("GitLab", nil):
            requirements.sourceRepository = .exact("https://gitlab.com/\(spec.repository)")
            return .success((IdentityPolicy(identity: .regex(".+"), issuer: .exact(TrustedPublisher.gitLabIssuer)), requirements))
        default: // Google: the repository field names the service account's email
            publisher = .google(email: spec.repository)
        }
        requirements.trustedPublisher = publisher
        let identity: IdentityPolicy.Matcher = if case .google(let email) = publisher { .exact(email) } else { .regex(".+") }
        return .success((IdentityPolicy(identity: identity, issuer: .exact(publisher.issuer)), requirements))
    }
}
