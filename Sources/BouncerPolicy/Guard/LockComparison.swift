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
        for other in snapshot.artifacts where other.family == family {
            let lost = other.kinds.subtracting(proven)
            if !lost.isEmpty {
                candidate.findings.problems.append(EvidenceProblem(
                    code: .trustDowngrade,
                    message: "trust downgrade: \(other.url) (locked) was verified by \(other.kinds.map(\.rawValue).sorted().joined(separator: ", ")); this one lacks \(lost.map(\.rawValue).sorted().joined(separator: ", "))"))
                break
            }
        }
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
