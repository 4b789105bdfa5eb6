import Foundation
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore

/// Options for a `PolicyGuard` run.
public struct GuardOptions: Sendable {
    /// Refuse anything that would change the lockfile (CI: `bouncer check --frozen`).
    public var frozen = false
    /// Pin what passes in the lockfile (off for `bouncer explain`-like dry runs).
    public var recordLock = true
    /// Take a locked artifact's bytes from the store when present (re-hashed) instead of the network
    /// (`bouncer check`); off by default so that a changed upstream body is noticed.
    public var useStore = false
    /// The time for expiry checks (exceptions, signature expiry).
    public var now = Date()
    /// Largest evidence file fetched (checksum lists, signatures, bundles).
    public var maxEvidenceSize: UInt64 = 64 << 20
    /// Where the newest signed lists seen are remembered (rollback protection).
    public var stateDirectory = FreshnessStore.defaultDirectory()

    public init() {}
}

/// The policy engine behind every adapter (`bouncer fetch`, the curl, wget,
/// pip and npm shims): for each request it finds the rule, downloads the
/// artifact once into the store while hashing it, fetches and checks the
/// rule's evidence, compares with the lockfile, decides, pins, and hands back
/// a file holding exactly the verified bytes.
///
/// Construct it from a found policy:
///
///     let policy = try PolicyGuard.locatePolicy(explicit: flagValue)   // --policy, BOUNCER_POLICY, nearest policy.json
///     let guard = PolicyGuard(policy: policy, fetcher: Fetcher(store: .standard(), options: options))
///     for result in guard.obtain(requests) { ... }   // then guard.release(artifact) when done with its file
public final class PolicyGuard: ArtifactGuard {
    public let policy: Policy
    public let fetcher: Fetcher
    public let options: GuardOptions
    public let lockStore: LockStore
    public let freshness: FreshnessStore

    public init(policy: Policy, fetcher: Fetcher = Fetcher(), options: GuardOptions = GuardOptions()) {
        self.policy = policy
        self.fetcher = fetcher
        self.options = options
        self.lockStore = LockStore(path: policy.lockfile)
        self.freshness = FreshnessStore(directory: options.stateDirectory)
    }

    /// Finds and loads the policy: `explicit` (a --policy flag), else
    /// `BOUNCER_POLICY`, else the nearest `policy.json` from `cwd` upwards.
    /// No policy anywhere is a configuration error (exit 2).
    public static func locatePolicy(explicit: String? = nil,
                                    environment: [String: String] = ProcessInfo.processInfo.environment,
                                    cwd: String = FileManager.default.currentDirectoryPath,
                                    now: Date = Date()) throws(BouncerError) -> Policy {
        guard let file = PolicyParser.locate(explicit: explicit, environment: environment, cwd: cwd) else {
            throw BouncerError(.configuration, code: "policy-missing",
                               "no policy.json found (give --policy FILE, set BOUNCER_POLICY, or add policy.json to the project)")
        }
        return try PolicyParser.load(file: file, now: now)
    }

    // MARK: - ArtifactGuard

    public func obtain(_ requests: [ArtifactRequest]) -> [Result<VerifiedArtifact, BouncerError>] {
        evaluate(requests).map { outcome in
            guard outcome.verdict != .refused, let path = outcome.path, let sha256 = outcome.sha256 else {
                return .failure(outcome.error)
            }
            let warnings = outcome.problems.map { "not proven: \($0.message)" } + outcome.notes
            return .success(VerifiedArtifact(request: outcome.request, path: path, sha256: sha256, size: outcome.size ?? 0,
                                             proofs: outcome.proofs.map(\.summary), warnings: warnings))
        }
    }

    /// Removes the verified file handed out by `obtain` once the caller has moved or copied it.
    public func release(_ artifact: VerifiedArtifact) {
        unlink(artifact.path)
    }

    // MARK: - Decision

    /// One artifact on its way through the guard.
    private struct Work {
        var outcome: GuardOutcome
        var rule: PolicyRule?
        var key: String
        var locked: LockEntry?
        var fetched: (path: String, digests: [HashAlgorithm: Digest], size: UInt64, effectiveURL: String)?
        /// Problems an exception or audit mode may turn into warnings.
        var soft: [EvidenceProblem] = []
        /// Problems that refuse in every mode.
        var hard: [EvidenceProblem] = []
        var records: [LockEvidence] = []
        /// Signed lists its evidence relied on, remembered once the run is decided.
        var observations: [ListObservation] = []
        var done = false
    }

    /// Decides every request (in order). Allowed and warned outcomes carry a
    /// file with the verified bytes; refused ones carry none.
    public func evaluate(_ requests: [ArtifactRequest]) -> [GuardOutcome] {
        let snapshot: Lockfile
        do { snapshot = try lockStore.read() } catch {
            return requests.map { refusedUpFront($0, rule: "the lockfile", EvidenceProblem(error)) }
        }
        var work = requests.map { plan($0, snapshot: snapshot) }
        // The freshness state is read only when a signed list may be consulted.
        var seenLists: [String: SeenList] = [:]
        if work.contains(where: { !$0.done && ($0.rule?.require.contains(where: \.isSignedList) ?? false) }) {
            do { seenLists = try freshness.read().lists } catch {
                return requests.map { refusedUpFront($0, rule: "the freshness state", EvidenceProblem(error)) }
            }
        }
        download(&work)
        for index in work.indices where !work[index].done {
            verify(&work[index], snapshot: snapshot, seenLists: seenLists)
        }
        commit(&work)
        return work.map(\.outcome)
    }

    private func refusedUpFront(_ request: ArtifactRequest, rule: String, _ problem: EvidenceProblem) -> GuardOutcome {
        GuardOutcome(request: request, shownURL: Redaction.url(request.url), rule: rule, required: [], verdict: .refused,
                     proofs: [], problems: [.init(code: problem.code, message: problem.message)], notes: [],
                     family: problem.family)
    }

    /// Matches the rule and refuses what can be refused before downloading.
    private func plan(_ request: ArtifactRequest, snapshot: Lockfile) -> Work {
        let key = LockEntry.key(for: request)
        let matched = policy.rule(for: request)
        let label = matched.map { $0.rule.label(index: $0.index) } ?? "no rule (unmatched: \(policy.unmatched.rawValue))"
        var work = Work(outcome: GuardOutcome(request: request, shownURL: Redaction.url(request.url), rule: label,
                                              required: matched?.rule.require.map(\.summary) ?? [], verdict: .refused,
                                              proofs: [], problems: [], notes: [], family: nil),
                        rule: matched?.rule, key: key, locked: snapshot.entry(forKey: key))
        func refuse(_ problem: EvidenceProblem) {
            work.hard.append(problem)
            work.done = true
            finish(&work)
        }
        if let rule = matched?.rule {
            if let unavailable = rule.require.first(where: { !EvidenceCheck.isAvailable($0) }) {
                refuse(UnavailableEvidence.problem(for: unavailable))
                return work
            }
        } else if policy.unmatched == .deny {
            work.soft.append(EvidenceProblem(code: "policy-unmatched",
                                             message: "no rule in \(policy.file) matches it, and unmatched artifacts are denied"))
            if policy.mode == .enforce && activeException(for: request) == nil {
                work.done = true
                finish(&work)
                return work
            }
        }
        if options.frozen && work.locked == nil {
            refuse(EvidenceProblem(code: "lock-frozen", message: "it is not in \(policy.lockfile), and the lock is frozen"))
        }
        return work
    }

    /// Downloads every artifact still in play, in parallel (or takes a locked one from the store).
    private func download(_ work: inout [Work]) {
        var fetchIndices: [Int] = []
        var fetchRequests: [FetchRequest] = []
        for index in work.indices where !work[index].done {
            let request = work[index].outcome.request
            if options.useStore, let locked = work[index].locked, let sha = try? Digest(algorithm: .sha256, hex: locked.sha256),
               let reused = reuse(sha) {
                work[index].fetched = (reused.path, [.sha256: sha], reused.size, request.url)
                continue
            }
            var algorithms: [HashAlgorithm] = [.sha256]
            for digest in request.claimedDigests where !algorithms.contains(digest.algorithm) { algorithms.append(digest.algorithm) }
            fetchIndices.append(index)
            fetchRequests.append(FetchRequest(url: request.url, algorithms: algorithms, maxSize: work[index].rule?.maxSize))
        }
        guard !fetchRequests.isEmpty else { return }
        let results = fetcher.fetch(fetchRequests)
        for (slot, index) in fetchIndices.enumerated() {
            switch results[slot] {
            case .success(let artifact):
                work[index].fetched = (artifact.path, artifact.digests, artifact.size, artifact.effectiveURL)
            case .failure(let error):
                work[index].hard.append(EvidenceProblem(error))
                work[index].done = true
                finish(&work[index])
            }
        }
    }

    /// A locked blob from the store, re-hashed, linked to a fresh temp path the caller may move.
    private func reuse(_ sha256: Digest) -> (path: String, size: UInt64)? {
        guard let blob = fetcher.store.verifiedBlob(sha256),
              let (fd, path) = try? fetcher.store.makeTemporaryFile(prefix: "reuse") else { return nil }
        close(fd)
        unlink(path)
        guard link(blob, path) == 0 else { return nil }
        // Hash the linked file itself: the blob may have been replaced in between.
        guard let hashed = try? FileHasher.hash(path: path, algorithms: [.sha256]),
              let actual = hashed.digests[.sha256], actual.matches(sha256) else {
            unlink(path)
            return nil
        }
        return (path, hashed.size)
    }

    /// Checks the rule's evidence, the stated digests, the lock and trust downgrades.
    private func verify(_ work: inout Work, snapshot: Lockfile, seenLists: [String: SeenList]) {
        guard let fetched = work.fetched else { return }
        let request = work.outcome.request
        work.outcome.sha256 = fetched.digests[.sha256]
        work.outcome.size = fetched.size
        let context = EvidenceContext(request: request, shownURL: work.outcome.shownURL, artifactPath: fetched.path,
                                      size: fetched.size, digests: fetched.digests, policy: policy, now: options.now,
                                      fetchEvidence: evidenceFetcher(), seenLists: seenLists)

        // Redirects may only end on the URL's own host or an allowed one.
        if let allowed = work.rule?.redirectHosts, let finalHost = URLParts.host(fetched.effectiveURL),
           finalHost != URLParts.host(request.url), !allowed.contains(where: { $0.matches(finalHost) }) {
            work.hard.append(EvidenceProblem(code: "redirect-host",
                                             message: "redirected to \(finalHost), which the rule's redirectHosts does not allow"))
        }

        var provedDigest = false
        if let rule = work.rule {
            for requirement in rule.require {
                switch EvidenceCheck.check(requirement, context) {
                case .success(let proof):
                    work.outcome.proofs.append(proof.reportEvidence)
                    work.records.append(proof.record)
                    if let observed = proof.observation { work.observations.append(observed) }
                    if proof.kind == "digest" || proof.kind == "integrity" { provedDigest = true }
                case .failure(let problem):
                    // A replayed list is refused in every mode, like a changed locked digest.
                    if problem.family == .configuration || problem.code == "digest-mismatch" || problem.code == "checksums-rollback" {
                        work.hard.append(problem)
                    } else {
                        work.soft.append(problem)
                    }
                }
            }
        }
        // Digests the tool's metadata states are requirements whatever the rule says.
        if !provedDigest && !request.claimedDigests.isEmpty {
            switch ClaimedDigests.matchAll(request.claimedDigests, context) {
            case .success(let matched):
                work.outcome.proofs.append(.init(kind: "digest", proves: ["integrity"],
                                                 summary: "\(matched.algorithm.rawValue) matches the stated digest"))
            case .failure(let problem):
                // The rule's digest check may already have refused on the same mismatch: say it once.
                if problem.code == "digest-mismatch", !work.hard.contains(where: { $0.message == problem.message }) {
                    work.hard.append(problem)
                }
            }
        }

        guard let sha = fetched.digests[.sha256] else { return }
        // The lock: a locked artifact's digest never changes, in any mode.
        if let locked = work.locked {
            if locked.sha256 != sha.hex {
                work.hard.append(EvidenceProblem(code: "lock-digest-changed",
                                                 message: "\(policy.lockfile) pins sha256 \(locked.sha256) (from \(locked.url)), but the bytes now have sha256 \(sha.hex): refused in every mode"))
            } else {
                if locked.url != lockURL(work) {
                    let note = "its locked digest was recorded from \(locked.url); it now comes from \(work.outcome.shownURL)"
                    if options.frozen {
                        work.hard.append(EvidenceProblem(code: "lock-frozen", message: note + ", and the lock is frozen"))
                    } else {
                        work.outcome.notes.append(note)
                    }
                }
                // Only bytes that match the lock are proven by it.
                work.outcome.proofs.insert(.init(kind: "lock", proves: ["integrity"], summary: "sha256 matches \(Filesystem.split(policy.lockfile).name)",
                                                 details: ["sha256": sha.hex]), at: 0)
            }
        } else {
            for other in snapshot.artifacts where other.sha256 == sha.hex {
                work.outcome.notes.append("the same bytes are locked as \(other.url)")
            }
            // Trust downgrade: a new member of a locked family proving less than the ones it replaces.
            let family = LockEntry.family(ecosystem: request.ecosystem, package: request.package, url: lockURL(work))
            let now = Set(work.records.map(\.kind))
            for other in snapshot.artifacts where other.family == family {
                let lost = other.kinds.subtracting(now)
                if !lost.isEmpty {
                    work.soft.append(EvidenceProblem(code: "trust-downgrade",
                                                     message: "trust downgrade: \(other.url) (locked) was verified by \(other.kinds.sorted().joined(separator: ", ")); this one lacks \(lost.sorted().joined(separator: ", "))"))
                    break
                }
            }
        }
        if work.rule == nil && policy.unmatched == .pin && work.locked == nil {
            work.outcome.proofs.append(.init(kind: "pin", proves: [], summary: "sha256 pinned on first use (unmatched: pin; nothing else verified)"))
        } else if work.rule == nil && policy.unmatched == .allow && work.outcome.proofs.isEmpty {
            work.outcome.notes.append("allowed unverified: no rule matches and unmatched is 'allow'")
        }
        finish(&work)
    }

    /// Turns problems into the verdict: hard ones refuse; soft ones refuse in
    /// enforce mode unless an active exception covers the artifact.
    private func finish(_ work: inout Work) {
        let request = work.outcome.request
        work.outcome.problems = (work.hard + work.soft).map { .init(code: $0.code, message: $0.message) }
        if !work.hard.isEmpty {
            work.outcome.verdict = .refused
            work.outcome.family = worst(work.hard.map(\.family))
        } else if work.soft.isEmpty {
            work.outcome.verdict = .allowed
        } else if let exception = activeException(for: request) {
            work.outcome.verdict = .warned
            work.outcome.notes.append("allowed by an exception until \(exception.until): \(exception.reason)")
        } else {
            for expired in policy.exceptions where expired.match.matches(request) && !expired.isActive(at: options.now) {
                work.outcome.notes.append("an exception expired on \(expired.until) and no longer applies (\(expired.reason))")
            }
            if policy.mode == .audit {
                work.outcome.verdict = .warned
                work.outcome.notes.append("AUDIT MODE: allowed, but enforce mode would refuse it")
            } else {
                work.outcome.verdict = .refused
                work.outcome.family = worst(work.soft.map(\.family))
            }
        }
        if work.outcome.verdict == .refused, let fetched = work.fetched {
            unlink(fetched.path)
            work.fetched = nil
        }
        work.done = true
    }

    private func worst(_ families: [ErrorFamily]) -> ErrorFamily {
        if families.contains(.evidence) { return .evidence }
        if families.contains(.configuration) { return .configuration }
        return families.first ?? .evidence
    }

    private func activeException(for request: ArtifactRequest) -> PolicyException? {
        policy.exceptions.first { $0.match.matches(request) && $0.isActive(at: options.now) }
    }

    /// Pins what passed (one locked read-modify-write for the whole batch)
    /// and files the verified bytes in the store.
    private func commit(_ work: inout [Work]) {
        if options.recordLock { rememberLists(&work) }
        var pending: [Int] = []
        for index in work.indices where work[index].outcome.verdict != .refused {
            guard let fetched = work[index].fetched else { continue }
            work[index].outcome.path = fetched.path
            let unpinnedAllow = work[index].rule == nil && policy.unmatched == .allow && work[index].locked == nil
            if options.frozen, let locked = work[index].locked, let fresh = entry(for: work[index]), fresh != locked {
                // Frozen: the lock must already say exactly this (digest, source, rule, evidence).
                work[index].hard.append(EvidenceProblem(code: "lock-frozen",
                                                        message: "its entry in \(policy.lockfile) would change (\(Self.difference(locked, fresh))), and the lock is frozen"))
                finish(&work[index])
                work[index].outcome.path = nil
                continue
            }
            if options.recordLock && !options.frozen && !unpinnedAllow { pending.append(index) }
        }
        if !pending.isEmpty {
            do {
                let conflicts: [Int: String] = try lockStore.update { (lock: inout Lockfile) throws(BouncerError) -> [Int: String] in
                    var conflicts: [Int: String] = [:]
                    for index in pending {
                        guard let entry = entry(for: work[index]) else { continue }
                        if let existing = lock.entry(forKey: entry.key), existing.sha256 != entry.sha256 {
                            // Another run pinned different bytes meanwhile: the lock wins.
                            conflicts[index] = existing.sha256
                            continue
                        }
                        lock.upsert(entry)
                    }
                    return conflicts
                }
                for index in pending where conflicts[index] == nil && work[index].locked == nil && work[index].rule != nil {
                    work[index].outcome.proofs.insert(.init(kind: "lock", proves: ["integrity"],
                                                            summary: "sha256 pinned in \(Filesystem.split(policy.lockfile).name)"), at: 0)
                }
                for (index, locked) in conflicts {
                    work[index].hard.append(EvidenceProblem(code: "lock-digest-changed",
                                                            message: "\(policy.lockfile) now pins sha256 \(locked), but these bytes have sha256 \(work[index].outcome.sha256?.hex ?? "?")"))
                    finish(&work[index])
                    work[index].outcome.path = nil
                }
            } catch {
                for index in pending {
                    work[index].hard.append(EvidenceProblem(code: error.code, family: error.family,
                                                            message: "could not pin it in \(policy.lockfile): \(error.message)"))
                    finish(&work[index])
                    work[index].outcome.path = nil
                }
            }
        }
        for index in work.indices where work[index].outcome.verdict != .refused {
            if let path = work[index].outcome.path, let sha = work[index].outcome.sha256 {
                _ = try? fetcher.store.adopt(temporaryPath: path, sha256: sha)
            }
        }
    }

    /// Records the signed lists this run verified as seen. Another run may
    /// have seen a newer one meanwhile: that refuses here too. A state that
    /// cannot be written refuses what relied on it (fail closed).
    private func rememberLists(_ work: inout [Work]) {
        let owners = work.indices.flatMap { index in work[index].observations.map { (index, $0) } }
        guard !owners.isEmpty else { return }
        let problems: [Int: EvidenceProblem]
        do {
            let rollbacks = try freshness.record(owners.map(\.1))
            problems = Dictionary(rollbacks.map { (owners[$0.key].0, EvidenceProblem(code: "checksums-rollback", message: $0.value.message)) },
                                  uniquingKeysWith: { first, _ in first })
        } catch {
            let problem = EvidenceProblem(code: error.code, family: error.family,
                                          message: "could not record the signed list as seen in \(freshness.path): \(error.message)")
            problems = Dictionary(owners.map { ($0.0, problem) }, uniquingKeysWith: { first, _ in first })
        }
        for (index, problem) in problems where work[index].outcome.verdict != .refused {
            work[index].hard.append(problem)
            finish(&work[index])
            work[index].outcome.path = nil
        }
    }

    static func difference(_ old: LockEntry, _ new: LockEntry) -> String {
        var fields: [String] = []
        if old.sha256 != new.sha256 { fields.append("sha256") }
        if old.url != new.url { fields.append("url") }
        if old.size != new.size { fields.append("size") }
        if old.rule != new.rule { fields.append("rule '\(old.rule)' -> '\(new.rule)'") }
        if old.evidence != new.evidence {
            fields.append("evidence [\(old.evidence.map(\.kind).joined(separator: ", "))] -> [\(new.evidence.map(\.kind).joined(separator: ", "))]")
        }
        return fields.joined(separator: ", ")
    }

    /// The artifact's URL as the lock records it (a file beside the lock: relative to it).
    private func lockURL(_ work: Work) -> String {
        LockEntry.recordedURL(work.outcome.shownURL, lockDirectory: Filesystem.split(policy.lockfile).directory)
    }

    private func entry(for work: Work) -> LockEntry? {
        guard let sha = work.outcome.sha256, let size = work.outcome.size else { return nil }
        let request = work.outcome.request
        return LockEntry(key: work.key, url: lockURL(work), ecosystem: request.ecosystem, package: request.package,
                         version: request.version, sha256: sha.hex, size: size,
                         rule: work.rule.map { $0.name ?? work.outcome.rule } ?? "unmatched", evidence: work.records)
    }

    /// Evidence files: fetched once per URL per run, size-capped, read into memory.
    private func evidenceFetcher() -> (String) -> Result<[UInt8], BouncerError> {
        var evidenceOptions = fetcher.options
        evidenceOptions.progress = false
        evidenceOptions.maxSize = options.maxEvidenceSize
        let evidence = Fetcher(store: fetcher.store, options: evidenceOptions)
        let cache = EvidenceCache()
        return { url in
            if let hit = cache.get(url) { return hit }
            let result: Result<[UInt8], BouncerError>
            switch evidence.fetch(FetchRequest(url: url, maxSize: self.options.maxEvidenceSize)) {
            case .success(let fetched):
                defer { evidence.discard(fetched) }
                if let data = FileManager.default.contents(atPath: fetched.path) {
                    result = .success(Array(data))
                } else {
                    result = .failure(.io("cannot read the downloaded \(Redaction.url(url))"))
                }
            case .failure(let error):
                result = .failure(BouncerError(error))
            }
            cache.set(url, result)
            return result
        }
    }
}

/// Evidence fetched during one evaluation (one thread).
private final class EvidenceCache {
    private var entries: [String: Result<[UInt8], BouncerError>] = [:]
    func get(_ url: String) -> Result<[UInt8], BouncerError>? { entries[url] }
    func set(_ url: String, _ value: Result<[UInt8], BouncerError>) { entries[url] = value }
}
