import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerIO

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
    /// nil: `FreshnessStore.defaultDirectory()`, looked up when a guard is made
    /// (reading the environment costs ~0.1 ms, and options are made often).
    public var stateDirectory: String? = nil

    /// The freshness store at `stateDirectory`, else at the default place.
    var freshnessStore: FreshnessStore { FreshnessStore(directory: stateDirectory ?? FreshnessStore.defaultDirectory()) }

    public init() {}
}

/// The policy engine behind every adapter (`bouncer fetch`, the curl, wget,
/// pip and npm shims), one straight line in the design's order:
///
///     plan → fetch (artifacts, then evidence, each batch in parallel) → inspect
///          → verify (each candidate on its own core) → decide
///          → commit (freshness, lock, store) → hand over
///
/// Each stage is its own type in this folder; a candidate a stage refuses is
/// settled and passes the later ones by. `decide` is called once per
/// artifact. Allowed and warned outcomes carry a file holding exactly the
/// verified bytes; refused ones carry none.
///
///     let policy = try PolicyGuard.locatePolicy(explicit: flagValue)   // --policy, BOUNCER_POLICY, nearest policy.json
///     let guard = PolicyGuard(policy: policy, fetcher: Fetcher(store: .standard(), options: options))
///     for result in guard.obtain(requests) { ... }   // then guard.release(artifact) when done with its file
public final class PolicyGuard: ArtifactGuard, Sendable {
    public let policy: Policy
    /// Fetches artifacts and evidence (libcurl's `Fetcher`, or an in-memory one in unit tests).
    public let fetcher: any Transport
    public let options: GuardOptions
    public let lockStore: LockStore
    public let freshness: FreshnessStore
    /// Inspections of bytes seen before (a proxy's, shared by its guards), or nil.
    let inspections: InspectionMemo?

    public init(policy: Policy, fetcher: any Transport = Fetcher(), options: GuardOptions = GuardOptions(),
                inspections: InspectionMemo? = nil) {
        self.policy = policy
        self.fetcher = fetcher
        self.options = options
        self.lockStore = LockStore(path: policy.lockfile)
        self.freshness = options.freshnessStore
        self.inspections = inspections
    }

    /// Finds and loads the policy (see `PolicyLocator`). No policy anywhere
    /// is a configuration error (exit 2).
    public static func locatePolicy(explicit: String? = nil,
                                    environment: [String: String] = ProcessInfo.processInfo.environment,
                                    cwd: String = FileManager.default.currentDirectoryPath,
                                    now: Date = Date()) throws(BouncerError) -> Policy {
        try PolicyLocator.load(explicit: explicit, environment: environment, cwd: cwd, now: now)
    }

    // MARK: - ArtifactGuard

    public func obtain(_ requests: [ArtifactRequest]) -> [Result<VerifiedArtifact, BouncerError>] {
        evaluate(requests).map { outcome in
            guard outcome.verdict != .refused, let path = outcome.path, let sha256 = outcome.sha256 else {
                return .failure(outcome.error)
            }
            let warnings = outcome.warnings + outcome.notes
            return .success(VerifiedArtifact(request: outcome.request, path: path, sha256: sha256, size: outcome.size ?? 0,
                                             proofs: outcome.proofs.map(\.summary), warnings: warnings))
        }
    }

    /// Removes the verified file handed out by `obtain` once the caller has moved or copied it.
    public func release(_ artifact: VerifiedArtifact) {
        unlink(artifact.path)
    }

    // MARK: - The pipeline

    /// Decides every request (in order): `prepare`, then `commit`.
    public func evaluate(_ requests: [ArtifactRequest]) -> [GuardOutcome] {
        commit(prepare(requests))
    }

    /// Every stage up to the decision (fetch, inspect, verify, decide) and
    /// nothing that writes: no lock entry, no freshness state, no store blob
    /// (only the store folder a blob would be filed in, `Store.makeShelf`).
    /// The proxy prepares what a client is about to ask for (the wheel whose
    /// metadata it just fetched) and commits when the client asks; a batch
    /// never committed must be discarded, which removes its downloads.
    public func prepare(_ requests: [ArtifactRequest]) -> PreparedBatch {
        let snapshot: Lockfile
        do { snapshot = try lockStore.read() } catch {
            return PreparedBatch(candidates: [], outcomes: requests.map {
                GuardOutcome.refusedUpFront($0, by: "the lockfile", EvidenceProblem(error)) })
        }
        let plan = GuardPlan(policy: policy, options: options)
        var candidates = requests.map { plan.candidate(for: $0, snapshot: snapshot) }
        // The freshness state is read only when a signed list may be consulted.
        var seenLists: [String: SeenList] = [:]
        if candidates.contains(where: { !$0.settled && ($0.rule?.require.contains(where: \.isSignedList) ?? false) }) {
            do { seenLists = try freshness.read().lists } catch {
                return PreparedBatch(candidates: [], outcomes: requests.map {
                    GuardOutcome.refusedUpFront($0, by: "the freshness state", EvidenceProblem(error)) })
            }
        }

        download(&candidates)
        for candidate in candidates {
            if let sha256 = candidate.fetched?.digests[.sha256] { fetcher.store.makeShelf(for: sha256) }
        }
        // Inspecting (inflating and hashing every member) and verifying
        // (signature checks) are CPU-bound and independent per candidate.
        Parallel.update(&candidates, where: { !$0.settled }) { inspect(&$0) }
        let evidence = EvidenceFetcher(transport: fetcher.forEvidence(maxSize: options.maxEvidenceSize), maxSize: options.maxEvidenceSize)
        evidence.prefetch(candidates.filter { !$0.settled }.flatMap { candidate in
            (candidate.rule?.require ?? []).flatMap { $0.evidenceURLs(for: candidate.request) }
        })
        let verification = EvidenceVerification(policy: policy, now: options.now, evidence: evidence, seenLists: seenLists,
                                                lock: LockComparison(policy: policy, snapshot: snapshot, frozen: options.frozen))
        Parallel.update(&candidates, where: { !$0.settled }) { verification.verify(&$0) }

        let outcomes = candidates.map { candidate in
            GuardOutcome(candidate, Decision.decide(candidate.findings.problems, mode: policy.mode,
                                                    exception: policy.activeException(for: candidate.request, at: options.now),
                                                    expired: policy.expiredExceptions(for: candidate.request, at: options.now)))
        }
        return PreparedBatch(candidates: candidates, outcomes: outcomes)
    }

    /// Commits a prepared batch (freshness, lock, store) and returns the
    /// outcomes. The lock is re-read under its file lock here, so an entry
    /// another run pinned since `prepare` still wins.
    public func commit(_ batch: PreparedBatch) -> [GuardOutcome] {
        var candidates = batch.candidates, outcomes = batch.outcomes
        guard !candidates.isEmpty else { return outcomes }
        LockCommit(policy: policy, options: options, lockStore: lockStore, freshness: freshness, store: fetcher.store)
            .commit(&candidates, &outcomes)
        return outcomes
    }

    /// Downloads every artifact still in play, in parallel (or takes a locked one from the store).
    private func download(_ candidates: inout [Candidate]) {
        var indices: [Int] = []
        var fetches: [FetchRequest] = []
        for index in candidates.indices where !candidates[index].settled {
            let request = candidates[index].request
            if options.useStore, let locked = candidates[index].locked, let sha = try? Digest(algorithm: .sha256, hex: locked.sha256),
               let reused = reuse(sha) {
                candidates[index].fetched = DownloadedArtifact(path: reused.path, digests: [.sha256: sha], size: reused.size,
                                                               effectiveURL: request.url)
                continue
            }
            var algorithms: [HashAlgorithm] = [.sha256]
            for digest in request.claimedDigests + request.statedAlternatives where !algorithms.contains(digest.algorithm) {
                algorithms.append(digest.algorithm)
            }
            indices.append(index)
            fetches.append(FetchRequest(url: request.url, algorithms: algorithms, maxSize: candidates[index].rule?.maxSize))
        }
        guard !fetches.isEmpty else { return }
        let results = fetcher.fetch(fetches)
        for (slot, index) in indices.enumerated() {
            switch slot < results.count ? results[slot] : .failure(.io("no result")) {
            case .success(let artifact):
                candidates[index].fetched = DownloadedArtifact(path: artifact.path, digests: artifact.digests, size: artifact.size,
                                                               effectiveURL: artifact.effectiveURL)
            case .failure(let error):
                // A failed transfer refuses in every mode: nothing was there to verify.
                candidates[index].refuse(EvidenceProblem(code: ReasonCode(error), family: error.family, message: error.description,
                                                         refusesInEveryMode: true, cause: error))
            }
        }
    }

    /// Wheels and npm tarballs are opened before anything is pinned.
    /// What would run on install is refused unless `installScripts.allow` names the package.
    private func inspect(_ candidate: inout Candidate) {
        let threats = policy.threats(for: candidate.request)
        if let sdist = ArtifactInspection.sdistProblem(candidate.request, threats: threats) {
            candidate.findings.problems.append(sdist)
        }
        guard let fetched = candidate.fetched, let kind = ArtifactInspection.kind(of: candidate.request) else { return }
        let request = candidate.request
        let inspect = { ArtifactInspection.inspect(fetched.path, as: kind, request: request, archive: self.policy.archive, threats: threats) }
        let result: ArtifactInspection.Result
        if let inspections, let sha256 = fetched.digests[.sha256] {
            let key = InspectionMemo.Key(sha256: sha256.hex, kind: kind, package: request.package,
                                         allowsInstallScripts: threats.allowsInstallScripts(of: request.package), archive: policy.archive)
            result = inspections.result(for: key, inspect: inspect)
        } else {
            result = inspect()
        }
        if let refusal = result.refusal { candidate.refuse(refusal) }
        if let scripts = result.installScripts { candidate.findings.problems.append(scripts) }
        if let exotic = ArtifactInspection.exoticProblem(result.directReferences, package: request.package, threats: threats) {
            candidate.findings.problems.append(EvidenceProblem(code: .exoticSource, message: exotic))
        }
        if let shipped = ArtifactInspection.shippedLockProblem(result.shippedSources, package: request.package, threats: threats) {
            candidate.findings.problems.append(EvidenceProblem(code: .exoticSource, message: shipped))
        }
    }

    /// A locked blob from the store, re-hashed, linked to a fresh temp path the caller may move.
    private func reuse(_ sha256: Digest) -> (path: String, size: UInt64)? {
        guard let (fd, path) = try? fetcher.store.makeTemporaryFile(prefix: "reuse") else { return nil }
        close(fd)
        unlink(path)
        guard let size = fetcher.store.linkIntact(sha256, at: path) else { return nil }
        return (path, size)
    }
}

/// Requests decided but not committed (`PolicyGuard.prepare`): commit them
/// with `PolicyGuard.commit`, or `discard` them.
public struct PreparedBatch: @unchecked Sendable {
    var candidates: [Candidate]
    var outcomes: [GuardOutcome]

    /// Several batches as one (committed in one lock rewrite), in order.
    public init(merging batches: [PreparedBatch]) {
        candidates = batches.flatMap(\.candidates)
        outcomes = batches.flatMap(\.outcomes)
    }

    init(candidates: [Candidate], outcomes: [GuardOutcome]) {
        self.candidates = candidates
        self.outcomes = outcomes
    }

    /// How many requests it decided.
    public var count: Int { outcomes.count }

    /// Refused before any stage ran (the lock or the freshness state unreadable): nothing to commit.
    public var refusedUpFront: Bool { candidates.isEmpty }

    /// Whether every request was decided allowed (or warned) so far.
    public var allowed: Bool { !outcomes.isEmpty && outcomes.allSatisfy { $0.verdict != .refused } }

    /// Whether a refusal may be a passing network failure (asking again may go otherwise).
    public var failedInTransport: Bool { outcomes.contains { $0.verdict == .refused && $0.family == .transport } }

    /// The verified bytes of its first request, until it is committed or discarded.
    public var verifiedPath: String? { allowed ? candidates.first?.fetched?.path : nil }

    /// Removes what was downloaded for it.
    public func discard() {
        for candidate in candidates { if let fetched = candidate.fetched { unlink(fetched.path) } }
    }
}
