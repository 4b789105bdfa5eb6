import FoundationEssentials
import BouncerBase
import BouncerIO

/// The bytes the fetch stage downloaded (or took back from the store).
struct DownloadedArtifact {
    let path: String
    let digests: [HashAlgorithm: Digest]
    let size: UInt64
    let effectiveURL: String
}

/// What the stages found out about one artifact, in the order the report shows it.
struct Findings {
    /// "sha256 matches / pinned in bouncer.lock": shown first.
    var lockProof: EvidenceProof?
    /// The rule's requirements that were proven: what the lock records.
    var ruleProofs: [EvidenceProof] = []
    /// Proven beyond the rule: the tool's stated digests, a first-use pin.
    var otherProofs: [EvidenceProof] = []
    var problems: [EvidenceProblem] = []
    /// The codes of the problems that are the rule's own requirements not
    /// proven (a threat policy's or the lock's refusal is not one of them).
    var unmetRequirements: Set<ReasonCode> = []
    var notes: [String] = []
    /// Signed lists the evidence relied on, remembered as seen when pinned.
    var observations: [ListObservation] = []

    var proofs: [EvidenceProof] { (lockProof.map { [$0] } ?? []) + ruleProofs + otherProofs }

    func has(_ code: ReasonCode) -> Bool { problems.contains { $0.code == code } }
}

/// One artifact on its way down the pipeline. A candidate refused by a
/// stage is `settled`: the later stages pass it by, and `decide` refuses it.
struct Candidate {
    let request: ArtifactRequest
    /// The URL without credentials.
    let shownURL: String
    /// Its key in bouncer.lock.
    let lockKey: String
    let rule: PolicyRule?
    /// "rule 'example releases'", "rule #3" or "no rule (unmatched: pin)".
    let ruleLabel: String
    let locked: LockEntry?
    var fetched: DownloadedArtifact?
    var findings = Findings()
    var settled = false

    /// Locked by package coordinates (pip, npm), not by URL.
    var isPackageKeyed: Bool { request.package != nil && request.version != nil }

    mutating func refuse(_ problem: EvidenceProblem) {
        findings.problems.append(problem)
        settled = true
    }
}
