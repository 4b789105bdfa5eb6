import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
/// `{"digest": {}}`: a strong digest stated by the tool's metadata (pip
/// `--hash`, an index `#sha256=`, `bouncer fetch --sha256`) or pinned in the
/// rule, and the bytes match every one of them.
enum DigestRequirementCheck {
    static func check(pinned: Digest?, _ context: EvidenceContext) -> Result<EvidenceProof, EvidenceProblem> {
        let stated = (pinned.map { [$0] } ?? []) + context.request.claimedDigests.filter(\.algorithm.isEvidence)
        guard !stated.isEmpty else {
            return .failure(EvidenceProblem(code: "digest-missing",
                                            message: "no sha256/sha384/sha512 digest was stated for it (pip --hash, #sha256=, --sha256, or the rule's sha256)"))
        }
        return ClaimedDigests.matchAll(stated, context).map { matched in
            EvidenceProof(kind: "digest", proves: ["integrity"],
                          summary: "\(matched.algorithm.rawValue) matches the " + (pinned != nil ? "policy's pin" : "stated digest"),
                          record: LockEvidence(kind: "digest", source: matched.description))
        }
    }
}

/// Shared by `digest` and `integrity`: every stated digest must match.
enum ClaimedDigests {
    /// The strongest digest that matched; a failure names the first mismatch.
    static func matchAll(_ stated: [Digest], _ context: EvidenceContext) -> Result<Digest, EvidenceProblem> {
        let actual: [HashAlgorithm: Digest]
        do { actual = try context.digests(including: stated.map(\.algorithm)) } catch {
            return .failure(EvidenceProblem(error))
        }
        for digest in stated {
            guard let computed = actual[digest.algorithm], digest.matches(computed) else {
                let got = actual[digest.algorithm]?.hex ?? "not computed"
                return .failure(EvidenceProblem(code: "digest-mismatch",
                                                message: "\(digest.algorithm.rawValue) is \(got), expected \(digest.hex)"))
            }
        }
        let strongest = stated.filter(\.algorithm.isEvidence).max { $0.bytes.count < $1.bytes.count }
        guard let strongest else {
            return .failure(EvidenceProblem(code: "digest-weak", message: "md5 and sha1 never count as evidence"))
        }
        return .success(strongest)
    }
}
