import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import NIOPosix
import CSystemShims
import BouncerBase
import BouncerIO
import BouncerPolicy

/// The guard's answer for one artifact request, for one client.
enum GateResult: Sendable {
    /// An open descriptor on exactly the verified bytes (the caller closes
    /// it), their size and the outcome (for the log).
    case allowed(fd: Int32, size: UInt64, outcome: GuardOutcome)
    /// The same verified bytes again, for a request shortly after one that
    /// was allowed (`ArtifactGate.served`); `at` is when they were decided.
    case allowedAgain(fd: Int32, size: UInt64, outcome: GuardOutcome, at: Date)
    case refused(GuardOutcome)
    /// The proxy itself failed (stopping, or the verified file could not be opened).
    case failed(String)
}

/// Runs the guard off the event loops (it blocks on libcurl and the disk),
/// one evaluation per artifact at a time: clients asking for the same
/// artifact while it is being verified wait for that one download and
/// verification, and each gets its own descriptor on the verified file.
///
/// It also verifies ahead: `anticipate` prepares an artifact a client is
/// about to ask for (fetched, inspected, verified, decided) while the client
/// is still resolving, and the request then only commits it (pins it in the
/// lock) and sends it. Nothing anticipated is pinned or served unless a
/// client asks for it; what nobody asks for within `anticipationLifetime`
/// is thrown away.
///
/// And it keeps what it served for `servedLifetime`: the same request again
/// gets the same verified bytes, not another download and verification,
/// while the lock still pins them. uv
/// asks for a wheel three times in a row when the index offers no PEP 658
/// metadata (HEAD, the ranges holding METADATA, then the whole file), which
/// cost three downloads and three verifications of every wheel.
final class ArtifactGate: @unchecked Sendable {
    private let pool: NIOThreadPool
    /// Verifications ahead run on threads of their own, which yield to
    /// everything else on the machine (`yieldToClients`): they are a guess at
    /// what a client will ask for, and on two cores they took CPU from the
    /// client itself (pip importing, resolving and unpacking while the proxy
    /// inflated 31 wheels for their `RECORD` checks).
    private let aheadPool: NIOThreadPool?
    private let makeGuard: @Sendable () -> PolicyGuard
    /// The lock the guards pin in: what is served again must still be pinned there.
    private let lockStore: LockStore
    private let mutex = Lock()
    /// Evaluations under way, with the clients waiting for each.
    private var running: [String: [CheckedContinuation<GateResult, Never>]] = [:]
    /// Anticipated and decided, waiting for a client to ask.
    private var prepared: [String: (batch: PreparedBatch, guard: PolicyGuard, at: Date)] = [:]
    private var anticipating = 0
    /// Commits of several clients at once share one lock rewrite.
    private let committer = GroupCommit()
    /// Anticipations waiting for room, in the order they were asked for.
    private var queued: [(key: String, request: ArtifactRequest)] = []
    /// Allowed and served, with when: the verified file is kept for the next request for it.
    private var served: [String: (outcome: GuardOutcome, at: Date)] = [:]

    /// How long an anticipated artifact waits for its request (its decision used the time it was made).
    let anticipationLifetime: TimeInterval = 30
    /// At most this many anticipations at once, so that they never hold up the requests themselves.
    let maxAnticipating: Int
    let maxPrepared = 64
    /// How long a served artifact is served again as decided (no longer than an anticipated one waits).
    let servedLifetime: TimeInterval = 30
    /// At most this many kept, and this many bytes on disk together: a proxy serving
    /// gigabyte wheels keeps the last two, not 64 (a larger one is not kept at all).
    let maxServed = 64
    let maxServedBytes: UInt64 = 2 << 30

    /// Told of each artifact verified, with a path to its bytes valid during the
    /// call (the proxy reads a wheel's dependencies to read ahead along them).
    /// It may be called on a thread verifying ahead: work it starts elsewhere
    /// should be started from the proxy's pool, not from there. Set before serving.
    var onVerified: (@Sendable (ArtifactRequest, String) -> Void)? = nil

    init(pool: NIOThreadPool, maxAnticipating: Int = 2, lockStore: LockStore, makeGuard: @escaping @Sendable () -> PolicyGuard) {
        self.pool = pool
        self.lockStore = lockStore
        self.maxAnticipating = maxAnticipating
        aheadPool = maxAnticipating > 0 ? NIOThreadPool(numberOfThreads: maxAnticipating) : nil
        aheadPool?.start()
        self.makeGuard = makeGuard
    }

    /// Requests are shared only when everything the guard decides on is the same.
    private static func key(_ request: ArtifactRequest) -> String {
        [request.ecosystem.rawValue, request.url, request.package ?? "", request.version ?? "",
         request.claimedDigests.map(\.description).sorted().joined(separator: ","),
         request.statedAlternatives.map(\.description).sorted().joined(separator: ","),
         request.provenanceURL ?? ""].joined(separator: "\n")
    }

    func verify(_ request: ArtifactRequest) async -> GateResult {
        let key = Self.key(request)
        return await withCheckedContinuation { continuation in
            mutex.lock()
            sweep()
            if running[key] != nil {
                running[key]?.append(continuation)
                mutex.unlock()
                return
            }
            if let kept = served[key] {
                // Opened under the mutex: a sweep cannot unlink it in between.
                if let result = servable(kept, request: request) {
                    mutex.unlock()
                    continuation.resume(returning: result)
                    return
                }
                // No longer as it was served: decided afresh, as if never kept.
                forget(key)
            }
            running[key] = [continuation]
            let ready = prepared.removeValue(forKey: key)
            queued.removeAll { $0.key == key }
            mutex.unlock()
            pool.submit { [self] state in
                guard case .active = state else {
                    ready?.batch.discard()
                    return finish(key, nil, request: request)
                }
                // Decided ahead (allowed, or refused for what the bytes are): committed now, or refused as decided.
                if let ready { return finish(key, committer.commit(ready.batch, with: ready.guard).first, request: request) }
                finish(key, evaluate(request), request: request, learn: true)
            }
        }
    }

    /// Prepares `request` in the background, unless it is already under
    /// way or prepared: at most `maxAnticipating` at once, the rest queued
    /// in order (a queued one a client asks for first is simply evaluated).
    func anticipate(_ request: ArtifactRequest) {
        guard maxAnticipating > 0 else { return }
        let key = Self.key(request)
        mutex.lock()
        sweep()
        guard running[key] == nil, prepared[key] == nil, !queued.contains(where: { $0.key == key }),
              prepared.count + queued.count + anticipating < maxPrepared else {
            mutex.unlock()
            return
        }
        queued.append((key, request))
        let next = startable()
        mutex.unlock()
        for (key, request) in next { prepareAhead(key, request) }
    }

    /// Takes queued anticipations off the queue while there is room to run them. Called with the mutex held.
    private func startable() -> [(key: String, request: ArtifactRequest)] {
        var started: [(key: String, request: ArtifactRequest)] = []
        while anticipating < maxAnticipating, !queued.isEmpty {
            let next = queued.removeFirst()
            guard running[next.key] == nil else { continue }
            running[next.key] = []
            anticipating += 1
            started.append(next)
        }
        return started
    }

    private func prepareAhead(_ key: String, _ request: ArtifactRequest) {
        // (Without a pool of its own, --verify-ahead 0, nothing is anticipated; the fallback only keeps this total.)
        let own = aheadPool != nil
        (aheadPool ?? pool).submit { [self] state in
            if own { Self.yieldToClients() }
            guard case .active = state else {
                mutex.lock(); anticipating -= 1; mutex.unlock()
                return finish(key, nil, request: request)
            }
            let guardian = makeGuard()
            let batch = guardian.prepare([request])
            if let path = batch.verifiedPath { onVerified?(request, path) }
            mutex.lock()
            anticipating -= 1
            let next = startable()
            // A refusal for what the bytes are is kept too (the same bytes are not fetched again to be
            // refused again); one that may be a passing network failure is decided afresh when asked.
            let keep = !batch.failedInTransport
            if running[key]?.isEmpty ?? true {
                // Nobody asked yet: kept for the request.
                running.removeValue(forKey: key)
                if keep { prepared[key] = (batch, guardian, Date()) }
                mutex.unlock()
                if !keep { batch.discard() }
            } else {
                mutex.unlock()
                // Clients asked while it was being prepared: committed (or refused) for them, at the
                // clients' priority (a client is waiting now, nothing about it is a guess any more).
                pool.submit { [self] state in
                    guard case .active = state else {
                        batch.discard()
                        return finish(key, nil, request: request)
                    }
                    if keep {
                        finish(key, committer.commit(batch, with: guardian).first, request: request)
                    } else {
                        batch.discard()
                        finish(key, evaluate(request), request: request, learn: true)
                    }
                }
            }
            for (key, request) in next { prepareAhead(key, request) }
        }
    }

    /// Lowers the calling thread's priority to nice 10 (its own: the threads
    /// it starts, such as a transfer's writer, inherit it). A verification
    /// ahead gets what clients and the rest of the machine leave, and still
    /// all of an idle core. Only these threads call it: an unprivileged thread
    /// cannot raise its priority again.
    private static func yieldToClients() {
        _ = bouncer_lower_thread_priority(aheadNice)
    }

    /// The priority of verifications ahead: a tenth of a normal thread's share of a busy core.
    static let aheadNice: Int32 = 10

    /// Stops the threads that verify ahead (after `discardPrepared`, as the proxy stops).
    func shutdown() {
        aheadPool?.shutdownGracefully { _ in }
    }

    /// Decides one request now (prepared, then committed with whatever else is being committed).
    private func evaluate(_ request: ArtifactRequest) -> GuardOutcome? {
        let guardian = makeGuard()
        return committer.commit(guardian.prepare([request]), with: guardian).first
    }

    /// Throws away every anticipated artifact nobody asked for (the proxy is stopping).
    func discardPrepared() {
        mutex.lock()
        let all = prepared.values.map(\.batch)
        prepared.removeAll()
        queued.removeAll()
        for key in served.keys { forget(key) }
        mutex.unlock()
        for batch in all { batch.discard() }
    }

    /// Drops anticipations and served files older than their lifetimes. Called with the mutex held.
    private func sweep() {
        let now = Date()
        for (key, entry) in prepared where now.timeIntervalSince(entry.at) > anticipationLifetime {
            prepared.removeValue(forKey: key)
            entry.batch.discard()
        }
        for (key, entry) in served where now.timeIntervalSince(entry.at) > servedLifetime { forget(key) }
    }

    /// Lets a kept file go: no longer served again, and off the disk. Called with the mutex held.
    private func forget(_ key: String) {
        if let path = served.removeValue(forKey: key)?.outcome.path { unlink(path) }
    }

    /// The kept bytes, again, while they are still what was served: the lock
    /// still pins exactly them (a lock removed, emptied or edited since is
    /// not bypassed: the request is decided afresh and pins them again), and
    /// the file still opens. Called with the mutex held.
    private func servable(_ kept: (outcome: GuardOutcome, at: Date), request: ArtifactRequest) -> GateResult? {
        guard let sha256 = kept.outcome.sha256?.hex, let lock = try? lockStore.read(),
              lock.entry(forKey: LockEntry.key(for: request))?.sha256 == sha256 else { return nil }
        let result = Self.result(kept.outcome, request: request, servedAt: kept.at)
        if case .failed = result { return nil }
        return result
    }

    /// Keeps an allowed outcome's file for the next request for it (the oldest
    /// go beyond `maxServed` or `maxServedBytes`); false when it is not kept
    /// (refused, too large), and its file is the caller's to remove. Called with the mutex held.
    private func rememberServed(_ key: String, _ outcome: GuardOutcome?) -> Bool {
        guard let outcome, let path = outcome.path, outcome.verdict != .refused, let size = outcome.size, size <= maxServedBytes else { return false }
        if served[key]?.outcome.path != path { forget(key) }
        served[key] = (outcome, Date())
        let kept = served.map { (key: $0.key, size: $0.value.outcome.size ?? 0, at: $0.value.at) }
        for old in Self.overflow(kept, count: maxServed, bytes: maxServedBytes) { forget(old) }
        return true
    }

    /// The kept files to let go, oldest first, so that at most `count` files and `bytes` bytes stay.
    static func overflow(_ kept: [(key: String, size: UInt64, at: Date)], count: Int, bytes: UInt64) -> [String] {
        var remaining = kept.count
        var total = kept.reduce(UInt64(0)) { $0 + $1.size }
        var going: [String] = []
        for entry in kept.sorted(by: { $0.at < $1.at }) {
            guard remaining > count || total > bytes else { break }
            going.append(entry.key)
            remaining -= 1
            total -= entry.size
        }
        return going
    }

    /// Hands the outcome to every client waiting for `key`.
    /// `learn`: tell `onVerified` too, once the clients have their answer.
    private func finish(_ key: String, _ outcome: GuardOutcome?, request: ArtifactRequest, learn: Bool = false) {
        // Each waiter's descriptor is opened, and the file kept for the next request, before anyone is
        // answered and in one hold of the mutex: a client that asks again the moment it has its answer
        // (uv's HEAD, then the ranges holding METADATA, then the whole file) finds it served, where it
        // once found it neither running nor served yet and had it downloaded and verified again.
        mutex.lock()
        let waiters = running.removeValue(forKey: key) ?? []
        let results = waiters.map { _ in Self.result(outcome, request: request) }
        let kept = rememberServed(key, outcome)
        mutex.unlock()
        for (waiter, result) in zip(waiters, results) { waiter.resume(returning: result) }
        if learn, let path = outcome?.path, outcome?.verdict != .refused { onVerified?(request, path) }
        // Not kept: every waiter holds its own descriptor now, and the file goes.
        if !kept, let path = outcome?.path { unlink(path) }
    }

    private static func result(_ outcome: GuardOutcome?, request: ArtifactRequest, servedAt: Date? = nil) -> GateResult {
        guard let outcome else { return .failed("the proxy is stopping") }
        guard outcome.verdict != .refused, let path = outcome.path, let size = outcome.size else { return .refused(outcome) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failed("cannot open the verified file \(path): \(String(cString: strerror(errno)))") }
        if let servedAt { return .allowedAgain(fd: fd, size: size, outcome: outcome, at: servedAt) }
        return .allowed(fd: fd, size: size, outcome: outcome)
    }
}
