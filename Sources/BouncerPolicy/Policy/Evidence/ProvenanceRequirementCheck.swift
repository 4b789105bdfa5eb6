import FoundationEssentials
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore

/// `{"provenance": {"attestation": "{url}.intoto.jsonl", "identity": …, "issuer": …,
/// "predicateType": …, "sourceRepo": …, "sourceRef": …, "builderId": …, "signerWorkflow": …}}`:
/// an attestation (a Sigstore bundle with a DSSE in-toto statement, JSON lines
/// of them, or a PEP 740 object) that names the artifact by digest, is signed
/// by the named signer and says what the rule requires. A list of bundles
/// passes on one that verifies; PEP 740 needs every attestation.
enum ProvenanceRequirementCheck {
    static func check(_ spec: ProvenanceRequirement, _ context: EvidenceContext) -> Result<EvidenceProof, EvidenceProblem> {
        let signer: BundleVerifier.Policy, root: SigstoreTrustedRoot
        switch SigstoreTrust.signerPolicy(spec.signer, context) {
        case .success(let value): signer = value
        case .failure(let problem): return .failure(problem)
        }
        switch SigstoreTrust.trustedRoot(context.policy) {
        case .success(let value): root = value
        case .failure(let problem): return .failure(problem)
        }
        guard let attestation = spec.attestation else {
            // Only image rules leave it out, and images are verified by ImageGuard.
            return .failure(EvidenceProblem(code: .provenanceUnavailable, family: .configuration,
                                            message: "this provenance requirement names no attestation URL (an image rule's), so it cannot verify a file"))
        }
        let fetched: (bytes: [UInt8], shown: String)
        switch context.fetch(attestation, what: "attestation", unavailable: .provenanceUnavailable) {
        case .success(let value): fetched = value
        case .failure(let problem): return .failure(problem)
        }
        guard let sha256 = context.sha256 else {
            return .failure(EvidenceProblem(code: .provenanceRefused, message: "the artifact's sha256 was not computed"))
        }
        let set: AttestationSet
        do { set = try AttestationSet.parse(fetched.bytes) } catch {
            return .failure(SigstoreTrust.problem(error, shown: fetched.shown))
        }
        guard set.kind != .npm else {
            // The registry's own publish attestation needs its keys and the package coordinates.
            return .failure(EvidenceProblem(code: .provenanceNpmResponse,
                                            message: "\(fetched.shown) is an npm attestations response; require provenance from one bundle (or JSON lines of bundles)"))
        }
        // Statements name the artifact by sha256 or sha512 (npm): give the verifier the bytes when they fit in memory.
        let digests: ArtifactDigests
        switch SigstoreTrust.readArtifact(context) {
        case .success(.bytes(let bytes)): digests = ArtifactDigests(bytes: bytes)
        // Too large to hold in memory: the subject is matched by the digest computed while downloading.
        case .success(.tooLarge): digests = ArtifactDigests(digest: sha256)
        case .failure(let problem): return .failure(problem)
        }

        var requirements = AttestationRequirements()
        requirements.predicateType = spec.predicateType
        requirements.sourceRepository = spec.sourceRepo.map { .exact($0) }
        requirements.sourceRef = spec.sourceRef.map { .exact($0) }
        requirements.builderID = spec.builderId.map { .exact($0) }
        requirements.signerWorkflow = spec.signerWorkflow
        var identity: IdentityPolicy? = nil, key: PublicKey? = nil
        switch signer {
        case .keyless(let policy): identity = policy
        case .key(let pinned): key = pinned
        }
        let run = AttestationRun.Context(artifact: digests, fileName: URLParts.dirAndFile(context.request.url).file,
                                         trustedRoot: root, identity: identity, key: key, requirements: requirements)
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
        // The statement must be about exactly the bytes that were hashed and will be handed over.
        guard facts.artifactSHA256.map({ $0.matches(sha256) }) ?? true else {
            return .failure(EvidenceProblem(code: .provenanceArtifactChanged,
                                            message: "\(fetched.shown): the attested bytes are not the downloaded artifact"))
        }
        let logIndex = facts.logIndexes.map(String.init).joined(separator: ",")
        let signedBy = facts.identity.map { "\($0) via \(facts.issuer ?? "?")" } ?? "key '\(spec.signer.key ?? "?")'"
        var summary = "provenance \(facts.predicateType) signed by \(signedBy)"
        if let repository = facts.sourceRepository { summary += ", source \(repository)" + (facts.sourceRef.map { "@\($0)" } ?? "") }
        if let builder = facts.builderID { summary += ", builder \(builder)" }
        summary += ", log index \(logIndex)"
        let proves: [Proven] = facts.provenance != nil ? [.integrity, .origin, .provenance] : [.integrity, .origin]
        return .success(EvidenceProof(kind: .provenance, proves: proves, summary: summary, signer: facts.identity ?? "key:\(spec.signer.key ?? "?")",
                                                           issuer: facts.identity == nil ? nil : facts.issuer,
                                                           source: fetched.shown, logIndex: logIndex))
    }
}
