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
        // A digest pinned in bouncer.lock was stated once and reviewed since:
        // it means the same to every command (fetch, check, the shims).
        if stated.isEmpty, let locked = context.locked, locked.digestWasStated, let sha256 = context.sha256 {
            guard locked.sha256.matches(sha256) else { return .failure(locked.changed(actual: sha256, lockfile: context.policy.lockfile)) }
            // Worded as for any stated digest (the lock's own proof says where it is pinned),
            // so `check` reports what it always has.
            return .success(EvidenceProof(kind: .digest, proves: [.integrity], summary: "sha256 matches the stated digest",
                                          source: locked.sha256.description))
        }
        guard !stated.isEmpty else {
            return .failure(EvidenceProblem(code: .digestMissing,
                                            message: "no sha256/sha384/sha512 digest was stated for it (pip --hash, #sha256=, --sha256, or the rule's sha256)"))
        }
        return ClaimedDigests.matchAll(stated, context).map { matched in
            EvidenceProof(kind: .digest, proves: [.integrity],
                          summary: "\(matched.algorithm.rawValue) matches the " + (pinned != nil ? "policy's pin" : "stated digest"), source: matched.description)
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
                return .failure(EvidenceProblem(code: .digestMismatch,
                                                message: "\(digest.algorithm.rawValue) is \(got), expected \(digest.hex)",
                                                refusesInEveryMode: true))
            }
        }
        let strongest = stated.filter(\.algorithm.isEvidence).max { $0.bytes.count < $1.bytes.count }
        guard let strongest else {
            return .failure(EvidenceProblem(code: .digestWeak, message: "md5 and sha1 never count as evidence"))
        }
        return .success(strongest)
    }

    /// pip's rule for a `--hash` list: the bytes match one of them. The match, or a mismatch naming them all.
    static func matchOne(_ alternatives: [Digest], _ context: EvidenceContext) -> Result<Digest, EvidenceProblem> {
        let strong = alternatives.filter(\.algorithm.isEvidence)
        guard !strong.isEmpty else {
            return .failure(EvidenceProblem(code: .digestWeak, message: "md5 and sha1 never count as evidence"))
        }
        let actual: [HashAlgorithm: Digest]
        do { actual = try context.digests(including: strong.map(\.algorithm)) } catch {
            return .failure(EvidenceProblem(error))
        }
        if let matched = strong.first(where: { actual[$0.algorithm].map($0.matches) == true }) { return .success(matched) }
        let got = Set(strong.map(\.algorithm)).sorted { $0.rawValue < $1.rawValue }
            .map { "\($0.rawValue) is \(actual[$0]?.hex ?? "not computed")" }.joined(separator: ", ")
        return .failure(EvidenceProblem(code: .digestMismatch,
                                        message: "\(got), expected one of " + strong.map(\.description).joined(separator: ", "),
                                        refusesInEveryMode: true))
    }
}
