import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
/// `{"integrity": {}}`: npm's Subresource Integrity string from the
/// lockfile or packument, passed by the npm adapter as claimed digests
/// (sha512 usually); it must be present and match.
enum IntegrityRequirementCheck {
    static func check(_ context: EvidenceContext) -> Result<EvidenceProof, EvidenceProblem> {
        let stated = context.request.claimedDigests.filter(\.algorithm.isEvidence)
        guard !stated.isEmpty else {
            return .failure(EvidenceProblem(code: .integrityMissing,
                                            message: "no integrity (sha256/384/512 SRI) was stated for it"))
        }
        return ClaimedDigests.matchAll(stated, context).map { matched in
            EvidenceProof(kind: .integrity, proves: [.integrity],
                          summary: "integrity \(matched.algorithm.rawValue) matches", source: matched.sri)
        }
    }
}
