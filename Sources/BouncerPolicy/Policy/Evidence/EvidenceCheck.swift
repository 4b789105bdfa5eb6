import Foundation
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore

/// What one requirement check sees: the downloaded bytes (a file Bouncer
/// wrote and hashed), the request, the policy's keys, and a way to fetch
/// evidence files. Checks are pure apart from fetching evidence.
struct EvidenceContext {
    let request: ArtifactRequest
    /// The artifact URL with credentials removed, for messages and the lock.
    let shownURL: String
    let artifactPath: String
    let size: UInt64
    let digests: [HashAlgorithm: Digest]
    let policy: Policy
    let now: Date
    /// Fetches an evidence file (checksum list, signature, bundle).
    let fetchEvidence: (String) -> Result<[UInt8], BouncerError>
    /// The newest signed lists seen so far, by list URL (rollback protection).
    var seenLists: [String: SeenList] = [:]

    var sha256: Digest? { digests[.sha256] }

    /// Digests under `algorithms`, hashing the file again only for ones not computed while downloading.
    func digests(including algorithms: [HashAlgorithm]) throws(BouncerError) -> [HashAlgorithm: Digest] {
        let missing = algorithms.filter { digests[$0] == nil }
        guard !missing.isEmpty else { return digests }
        var all = digests
        let result = try FileHasher.hash(path: artifactPath, algorithms: missing)
        for (algorithm, digest) in result.digests { all[algorithm] = digest }
        return all
    }

    func key(_ name: String) throws(BouncerError) -> PolicyKey {
        guard let key = policy.keys[name] else {
            throw BouncerError(.configuration, code: "policy-invalid", "\(policy.file): key '\(name)' is not defined")
        }
        return key
    }

    /// Fetches a templated evidence URL, or says why it is missing.
    func fetch(_ template: URLTemplate, what: String, code: String) -> Result<(bytes: [UInt8], shown: String), EvidenceProblem> {
        let url = template.expand(for: request.url)
        let shown = Redaction.url(url)
        switch fetchEvidence(url) {
        case .success(let bytes): return .success((bytes, shown))
        case .failure(let error):
            return .failure(EvidenceProblem(code: "\(code)-unavailable", family: error.family == .configuration ? .configuration : .evidence,
                                            message: "\(what) \(shown) could not be fetched: \(error.message)"))
        }
    }
}

/// A proven fact, with the short record kept in the lockfile.
struct EvidenceProof {
    let kind: String
    let proves: [String]
    let summary: String
    let record: LockEvidence
    /// A signed list this proof relied on, to be remembered as seen.
    var observation: ListObservation? = nil

    var reportEvidence: VerificationReport.Evidence {
        var details: [String: String] = [:]
        if let signer = record.signer { details["signer"] = signer }
        if let issuer = record.issuer { details["issuer"] = issuer }
        if let source = record.source { details["source"] = source }
        if let logIndex = record.logIndex { details["logIndex"] = logIndex }
        return .init(kind: kind, proves: proves, summary: summary, details: details)
    }
}

/// Why a requirement is not met. `family` decides the exit code: evidence
/// (1) for missing or failed evidence, configuration (2) for problems in
/// the policy or keys, which fail closed in every mode.
struct EvidenceProblem: Error {
    let code: String
    let family: ErrorFamily
    let message: String

    init(code: String, family: ErrorFamily = .evidence, message: String) {
        self.code = code
        self.family = family
        self.message = message
    }

    init(_ error: any BouncerFailure) {
        self.init(code: error.code, family: error.family, message: error.description)
    }
}

/// Dispatch: one evidence kind, one file. Kinds still without a verifier
/// here fail closed through `UnavailableEvidence`.
enum EvidenceCheck {
    static func check(_ requirement: Requirement, _ context: EvidenceContext) -> Result<EvidenceProof, EvidenceProblem> {
        switch requirement {
        case .digest(let pinned): DigestRequirementCheck.check(pinned: pinned, context)
        case .integrity: IntegrityRequirementCheck.check(context)
        case .checksums(let spec): ChecksumsRequirementCheck.check(spec, context)
        case .signature(let spec): SignatureRequirementCheck.check(spec, context)
        case .sigstore(let spec): SigstoreRequirementCheck.check(spec, context)
        case .provenance(let spec): ProvenanceRequirementCheck.check(spec, context)
        case .attestation(let spec): AttestationRequirementCheck.check(spec, context)
        case .registrySignature(let keyName): RegistrySignatureRequirementCheck.check(keyName: keyName, context)
        }
    }

    /// Whether this build can verify `kind` at all (checked before any download).
    static func isAvailable(_ requirement: Requirement) -> Bool {
        switch requirement {
        case .digest, .integrity, .checksums, .signature, .sigstore, .provenance: true
        // No npm registry keys are built in: without the policy's, nothing can verify.
        case .registrySignature(let key): key != nil
        // PEP 740 provenance is fetched from the rule's url (no adapter supplies it yet).
        case .attestation(let spec): spec.url != nil
        }
    }
}
