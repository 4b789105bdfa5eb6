import FoundationEssentials
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
    /// What bouncer.lock pins for this artifact, if anything.
    var locked: LockedPin? = nil
    /// How many evidence files deep this check is (a list verified because
    /// it vouches for another file): bounded, so a rule cannot vouch for itself forever.
    var depth = 0

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
    func fetch(_ template: URLTemplate, what: String, unavailable: ReasonCode) -> Result<(bytes: [UInt8], shown: String), EvidenceProblem> {
        let url = template.expand(for: request)
        let shown = Redaction.url(url)
        switch fetchEvidence(url) {
        case .success(let bytes): return .success((bytes, shown))
        case .failure(let error):
            return .failure(EvidenceProblem(code: unavailable, family: error.family == .configuration ? .configuration : .evidence,
                                            message: "\(what) \(shown) could not be fetched: \(error.message)", cause: error))
        }
    }
}

/// A digest bouncer.lock pins, and where it was recorded from.
struct LockedPin {
    let sha256: Digest
    let from: String
    /// Whether a stated digest was proven when it was pinned (not merely
    /// pinned on first use, or let through by an exception or audit mode):
    /// only such a pin stands for a stated digest later.
    let digestWasStated: Bool

    /// A locked artifact's digest never changes: refused in every mode.
    func changed(actual: Digest, lockfile: String) -> EvidenceProblem {
        EvidenceProblem(code: .lockDigestChanged,
                        message: "\(lockfile) pins sha256 \(sha256.hex) (from \(from)), but the bytes now have sha256 \(actual.hex): refused in every mode",
                        refusesInEveryMode: true)
    }
}

/// What a piece of evidence establishes (design invariant 7: never "safe").
public enum Proven: String, Sendable, Codable {
    /// The bytes are the ones stated, listed or pinned.
    case integrity
    /// A named key or identity vouched for them.
    case origin
    /// The build that made them: builder, source repository, workflow.
    case provenance
    /// The signed list vouching for them is no older than one already seen.
    case freshness
}

/// A proven fact, with the short record kept in the lockfile.
struct EvidenceProof {
    let kind: EvidenceKind
    let proves: [Proven]
    let summary: String
    /// Who signed, from where, at which log index: what the lock records.
    let signer: String?
    let issuer: String?
    let source: String?
    let logIndex: String?
    /// Further facts for the report only (the lock's digest, say).
    var details: [String: String] = [:]
    /// A signed list this proof relied on, to be remembered as seen.
    var observation: ListObservation? = nil
    /// A time the evidence itself vouches for (Rekor integrated time or an
    /// RFC 3161 timestamp of a Sigstore bundle, an OpenPGP signature's
    /// creation time, a minisign trusted timestamp): a plain URL's release
    /// time for `minimumReleaseAge`.
    var verifiedTime: ReleaseTime? = nil

    init(kind: EvidenceKind, proves: [Proven], summary: String, signer: String? = nil, issuer: String? = nil,
         source: String? = nil, logIndex: String? = nil, details: [String: String] = [:], observation: ListObservation? = nil,
         verifiedTime: ReleaseTime? = nil) {
        self.verifiedTime = verifiedTime
        self.details = details
        self.kind = kind
        self.proves = proves
        self.summary = summary
        self.signer = signer
        self.issuer = issuer
        self.source = source
        self.logIndex = logIndex
        self.observation = observation
    }

    /// The report's form, built at the edge.
    var reportEvidence: VerificationReport.Evidence {
        var details = self.details
        if let signer { details["signer"] = signer }
        if let issuer { details["issuer"] = issuer }
        if let source { details["source"] = source }
        if let logIndex { details["logIndex"] = logIndex }
        return .init(kind: kind.rawValue, proves: proves.map(\.rawValue), summary: summary, details: details)
    }
}

/// Why a requirement is not met. `family` decides the exit code: evidence
/// (1) for missing or failed evidence, configuration (2) for problems in
/// the policy or keys. `refusesInEveryMode` says whether audit mode or an
/// exception may turn it into a warning: never for bad configuration (fail
/// closed), a stated digest that does not match, a changed pin, or a
/// replayed list.
struct EvidenceProblem: Error {
    let code: ReasonCode
    let family: ErrorFamily
    let message: String
    let refusesInEveryMode: Bool
    /// The failure underneath, when a verifier or the transport reported one.
    let cause: (any BouncerFailure)?

    init(code: ReasonCode, family: ErrorFamily = .evidence, message: String, refusesInEveryMode: Bool = false,
         cause: (any BouncerFailure)? = nil) {
        self.code = code
        self.family = family
        self.message = message
        self.refusesInEveryMode = refusesInEveryMode || family == .configuration
        self.cause = cause
    }

    init(_ error: any BouncerFailure) {
        self.init(code: ReasonCode(error), family: error.family, message: error.description, cause: error)
    }

    /// The report's form, built at the edge.
    var reportReason: VerificationReport.Reason { .init(code: code.rawValue, message: message) }
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
    static func isAvailable(_ requirement: Requirement, for request: ArtifactRequest? = nil) -> Bool {
        switch requirement {
        case .digest, .integrity, .checksums, .signature, .sigstore, .provenance: true
        // No npm registry keys are built in: without the policy's, nothing can verify.
        case .registrySignature(let key): key != nil
        // PEP 740 provenance: the URL the index offers for the file (the proxy passes it on), else the rule's url.
        case .attestation(let spec): spec.url != nil || request?.provenanceURL != nil
        }
    }
}
