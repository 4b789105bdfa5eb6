import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerIO

/// The commit stage, for what was decided allowed: the signed lists relied
/// on are remembered as seen, the lock is checked (frozen) or written (one
/// locked read-modify-write for the whole batch), and the verified bytes
/// are filed in the store. Anything that fails here refuses the artifact:
/// nothing unpinned is handed over.
struct LockCommit {
    let policy: Policy
    let options: GuardOptions
    let lockStore: LockStore
    let freshness: FreshnessStore
    let store: Store

    func commit(_ candidates: inout [Candidate], _ outcomes: inout [GuardOutcome]) {
        if options.recordLock { rememberLists(&candidates, &outcomes) }
        var pending: [Int] = []
        for index in candidates.indices where outcomes[index].verdict != .refused && candidates[index].fetched != nil {
            let candidate = candidates[index]
            let unpinnedAllow = candidate.rule == nil && policy.unmatched == .allow && candidate.locked == nil
            if options.frozen, let locked = candidate.locked, let fresh = entry(for: candidate), Self.changed(locked, fresh) {
                // Frozen: the lock must already say exactly this (digest, source, rule, evidence).
                outcomes[index].refuse(EvidenceProblem(code: .lockFrozen,
                                                       message: "its entry in \(policy.lockfile) would change (\(Self.difference(locked, fresh))), and the lock is frozen",
                                                       refusesInEveryMode: true))
                continue
            }
            if options.recordLock && !options.frozen && !unpinnedAllow { pending.append(index) }
        }
        if !pending.isEmpty { pin(pending, &candidates, &outcomes) }
        for index in candidates.indices {
            guard let fetched = candidates[index].fetched else { continue }
            if outcomes[index].verdict == .refused {
                unlink(fetched.path)
            } else if let sha256 = fetched.digests[.sha256] {
                _ = try? store.adopt(temporaryPath: fetched.path, sha256: sha256)
                outcomes[index].path = fetched.path
            }
        }
    }

    private func pin(_ pending: [Int], _ candidates: inout [Candidate], _ outcomes: inout [GuardOutcome]) {
        let lockName = Filesystem.split(policy.lockfile).name
        do {
            let conflicts: [Int: String] = try lockStore.update { (lock: inout Lockfile) throws(BouncerError) -> [Int: String] in
                var conflicts: [Int: String] = [:]
                for index in pending {
                    guard let entry = entry(for: candidates[index]) else { continue }
                    if let existing = lock.entry(forKey: entry.key), existing.sha256 != entry.sha256 {
                        // Another run pinned different bytes meanwhile: the lock wins.
                        conflicts[index] = existing.sha256
                        continue
                    }
                    lock.upsert(entry)
                }
                return conflicts
            }
            for index in pending where conflicts[index] == nil && candidates[index].locked == nil && candidates[index].rule != nil {
                outcomes[index].proofs.insert(EvidenceProof(kind: .lock, proves: [.integrity], summary: "sha256 pinned in \(lockName)").reportEvidence,
                                              at: 0)
            }
            for (index, locked) in conflicts {
                outcomes[index].refuse(EvidenceProblem(code: .lockDigestChanged,
                                                       message: "\(policy.lockfile) now pins sha256 \(locked), but these bytes have sha256 \(outcomes[index].sha256?.hex ?? "?")",
                                                       refusesInEveryMode: true))
            }
        } catch {
            for index in pending {
                outcomes[index].refuse(EvidenceProblem(code: ReasonCode(error), family: error.family,
                                                       message: "could not pin it in \(policy.lockfile): \(error.message)",
                                                       refusesInEveryMode: true, cause: error))
            }
        }
    }

    /// Records the signed lists this run verified as seen. Another run may
    /// have seen a newer one meanwhile: that refuses here too. A state that
    /// cannot be written refuses what relied on it (fail closed).
    private func rememberLists(_ candidates: inout [Candidate], _ outcomes: inout [GuardOutcome]) {
        let owners = candidates.indices.filter { outcomes[$0].verdict != .refused }
            .flatMap { index in candidates[index].findings.observations.map { (index, $0) } }
        guard !owners.isEmpty else { return }
        var problems: [Int: EvidenceProblem] = [:]
        do {
            for (slot, rollback) in try freshness.record(owners.map(\.1)) where problems[owners[slot].0] == nil {
                problems[owners[slot].0] = EvidenceProblem(code: .checksumsRollback, message: rollback.message, refusesInEveryMode: true)
            }
        } catch {
            let problem = EvidenceProblem(code: ReasonCode(error), family: error.family,
                                          message: "could not record the signed list as seen in \(freshness.path): \(error.message)",
                                          refusesInEveryMode: true, cause: error)
            for (index, _) in owners where problems[index] == nil { problems[index] = problem }
        }
        for (index, problem) in problems { outcomes[index].refuse(problem) }
    }

    /// The entry the lock should hold for an allowed artifact. The same
    /// bytes under the same package coordinates keep the source first recorded.
    func entry(for candidate: Candidate) -> LockEntry? {
        guard let fetched = candidate.fetched, let sha256 = fetched.digests[.sha256] else { return nil }
        let request = candidate.request
        var url = LockEntry.recordedURL(candidate.shownURL, lockDirectory: Filesystem.split(policy.lockfile).directory)
        var index = request.index.map(LockIndex.init)
        if let locked = candidate.locked, candidate.isPackageKeyed, locked.sha256 == sha256.hex {
            // The source first recorded stays, its index with it; an entry from before locks
            // recorded indexes gains this one only when the bytes came from the recorded URL.
            if locked.index != nil || locked.url != url { index = locked.index }
            url = locked.url
        }
        return LockEntry(key: candidate.lockKey, url: url, ecosystem: request.ecosystem, package: request.package,
                         version: request.version, sha256: sha256.hex, size: fetched.size,
                         rule: candidate.rule.map { $0.name ?? candidate.ruleLabel } ?? "unmatched",
                         evidence: candidate.findings.ruleProofs.map(LockEvidence.init), index: index)
    }

    /// Whether a frozen lock's entry would change. An entry written before
    /// entries recorded their index has none: that alone is no change.
    static func changed(_ locked: LockEntry, _ fresh: LockEntry) -> Bool {
        var fresh = fresh
        if locked.index == nil { fresh.index = nil }
        return fresh != locked
    }

    static func difference(_ old: LockEntry, _ new: LockEntry) -> String {
        var fields: [String] = []
        if old.sha256 != new.sha256 { fields.append("sha256") }
        if old.url != new.url { fields.append("url") }
        if old.size != new.size { fields.append("size") }
        if old.rule != new.rule { fields.append("rule '\(old.rule)' -> '\(new.rule)'") }
        if old.index != new.index {
            func said(_ index: LockIndex?) -> String { index.map { $0.url + ($0.primary ? " (primary)" : "") } ?? "none" }
            fields.append("index \(said(old.index)) -> \(said(new.index))")
        }
        if old.evidence != new.evidence {
            fields.append("evidence [\(old.evidence.map(\.kind.rawValue).joined(separator: ", "))] -> [\(new.evidence.map(\.kind.rawValue).joined(separator: ", "))]")
        }
        return fields.joined(separator: ", ")
    }
}
