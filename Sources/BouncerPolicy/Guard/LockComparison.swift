import BouncerBase

/// What bouncer.lock says about the downloaded bytes: a locked artifact's
/// digest never changes (refused in every mode); the same bytes from
/// another source are the same artifact (the lock keeps its first source);
/// a new member of a locked family proving less than the ones it replaces
/// is a trust downgrade.
struct LockComparison {
    let policy: Policy
    let snapshot: Lockfile
    let frozen: Bool

    func compare(_ candidate: inout Candidate, sha256: Digest) {
        let lockName = Filesystem.split(policy.lockfile).name
        if let locked = candidate.locked {
            guard locked.sha256 == sha256.hex else {
                if !candidate.findings.has(.lockDigestChanged) {
                    candidate.findings.problems.append(Self.changed(locked, sha256: sha256, lockfile: policy.lockfile))
                }
                return
            }
            let source = recordedURL(candidate)
            if locked.url != source {
                // Package coordinates and digest are the artifact's identity; where it
                // came from this time (a wheelhouse, a mirror) is only a note, so the
                // lock does not flip between sources. A URL-keyed entry moving is a
                // different artifact and is refused while frozen.
                let note = "its locked digest was recorded from \(locked.url); it now comes from \(candidate.shownURL)"
                if frozen && !candidate.isPackageKeyed {
                    candidate.findings.problems.append(EvidenceProblem(code: .lockFrozen, message: note + ", and the lock is frozen",
                                                                       refusesInEveryMode: true))
                } else {
                    candidate.findings.notes.append(note)
                }
            }
            candidate.findings.lockProof = EvidenceProof(kind: .lock, proves: [.integrity], summary: "sha256 matches \(lockName)",
                                                         details: ["sha256": sha256.hex])
            return
        }
        for other in snapshot.artifacts where other.sha256 == sha256.hex && other.url != recordedURL(candidate) {
            candidate.findings.notes.append("the same bytes are locked as \(other.url)")
        }
        let family = LockEntry.family(ecosystem: candidate.request.ecosystem, package: candidate.request.package,
                                      url: recordedURL(candidate))
        let proven = Set(candidate.findings.ruleProofs.map(\.kind))
        let members = snapshot.artifacts.filter { $0.family == family }
        for other in members {
            let lost = other.kinds.subtracting(proven)
            if !lost.isEmpty {
                candidate.findings.problems.append(EvidenceProblem(
                    code: .trustDowngrade,
                    message: "trust downgrade: \(other.url) (locked) was verified by \(other.kinds.map(\.rawValue).sorted().joined(separator: ", ")); this one lacks \(lost.map(\.rawValue).sorted().joined(separator: ", "))"))
                break
            }
        }
        if let problem = Self.signerChange(candidate.findings.ruleProofs, family: members,
                                           pinning: policy.threats(for: candidate.request).identity ?? .pin) {
            candidate.findings.problems.append(problem)
        }
    }

    /// Identity pinning: for each evidence kind that names a signer, a new
    /// member of a locked family must be signed by one of the signers its
    /// locked members were (`identity-drift`), and signed at all where they
    /// were (`trust-downgrade`). Signers are compared within one kind: an
    /// OpenPGP fingerprint, minisign/signify key id or SSH key (as
    /// `format:id`), a Sigstore SAN with its issuer, a PEP 740 publisher.
    /// npm's registry signature is left out: the registry's own key signs
    /// every package and is rotated for all of them at once.
    static func signerChange(_ proofs: [EvidenceProof], family: [LockEntry], pinning: ThreatPolicy.IdentityPinning) -> EvidenceProblem? {
        guard pinning == .pin else { return nil }
        for proof in proofs where proof.kind != .registrySignature {
            var locked: [String: String] = [:] // signer → the locked URL that recorded it
            for entry in family {
                for evidence in entry.evidence where evidence.kind == proof.kind {
                    if let signer = evidence.signer, !signer.isEmpty {
                        locked[identity(signer, evidence.issuer)] = locked[identity(signer, evidence.issuer)] ?? entry.url
                    }
                }
            }
            guard let (someSigner, someURL) = locked.sorted(by: { $0.key < $1.key }).first else { continue }
            guard let signer = proof.signer, !signer.isEmpty else {
                return EvidenceProblem(code: .trustDowngrade,
                                       message: "trust downgrade: \(someURL) (locked) was signed by \(someSigner) (\(proof.kind.rawValue)); this one is signed by no one")
            }
            let now = identity(signer, proof.issuer)
            // A lock written before SSH keys were pinned recorded the principal alone: it still matches.
            let principalOnly = now.hasPrefix("ssh:") ? now.firstRange(of: " key ").map { String(now[..<$0.lowerBound]) } : nil
            if locked[now] == nil && principalOnly.flatMap({ locked[$0] }) == nil {
                return EvidenceProblem(code: .identityDrift,
                                       message: "identity drift: signed by \(now) (\(proof.kind.rawValue)), but the locked versions of this package or URL family were signed by \(locked.keys.sorted().joined(separator: ", ")) (\(someURL)); identity is pinned")
            }
        }
        return nil
    }

    /// The signer as compared: a keyless identity without the git ref it
    /// signed from. A GitHub or GitLab workflow's identity names the ref
    /// (`…/release.yml@refs/tags/v1.0`), which every release changes: the
    /// repository and workflow are the signer, and each release would
    /// otherwise have been identity drift.
    static func identity(_ signer: String, _ issuer: String?) -> String {
        var signer = Substring(signer)
        if signer.hasPrefix("https://"), let ref = signer.ranges(of: "@refs/").last { signer = signer[..<ref.lowerBound] }
        return issuer.map { "\(signer) via \($0)" } ?? String(signer)
    }

    static func changed(_ locked: LockEntry, sha256: Digest, lockfile: String) -> EvidenceProblem {
        EvidenceProblem(code: .lockDigestChanged,
                        message: "\(lockfile) pins sha256 \(locked.sha256) (from \(locked.url)), but the bytes now have sha256 \(sha256.hex): refused in every mode",
                        refusesInEveryMode: true)
    }

    /// The artifact's URL as the lock records it (a file beside the lock: relative to it).
    func recordedURL(_ candidate: Candidate) -> String {
        LockEntry.recordedURL(candidate.shownURL, lockDirectory: Filesystem.split(policy.lockfile).directory)
    }
}
