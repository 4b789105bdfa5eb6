import Foundation
#if canImport(Glibc)
import Glibc
#endif
import NIOPosix
import BouncerBase
import BouncerIO
import BouncerPolicy

/// The guard's answer for one artifact request, for one client.
enum GateResult: Sendable {
    /// An open descriptor on exactly the verified bytes (the caller closes
    /// it), their size and the outcome (for the log).
    case allowed(fd: Int32, size: UInt64, outcome: GuardOutcome)
    case refused(GuardOutcome)
    /// The proxy itself failed (stopping, or the verified file could not be opened).
    case failed(String)
}

/// Runs `PolicyGuard.evaluate` off the event loops (it blocks on libcurl and
/// the disk), one evaluation per artifact at a time: clients asking for the
/// same artifact while it is being verified wait for that one download and
/// verification, and each gets its own descriptor on the verified file.
final class ArtifactGate: @unchecked Sendable {
    private let pool: NIOThreadPool
    private let makeGuard: @Sendable () -> PolicyGuard
    private let lock = NSLock()
    private var waiting: [String: [CheckedContinuation<GateResult, Never>]] = [:]

    init(pool: NIOThreadPool, makeGuard: @escaping @Sendable () -> PolicyGuard) {
        self.pool = pool
        self.makeGuard = makeGuard
    }

    func verify(_ request: ArtifactRequest) async -> GateResult {
        // Requests are shared only when everything the guard decides on is the same.
        let key = [request.ecosystem.rawValue, request.url, request.package ?? "", request.version ?? "",
                   request.claimedDigests.map(\.description).sorted().joined(separator: ",")].joined(separator: "\n")
        return await withCheckedContinuation { continuation in
            lock.lock()
            if waiting[key] != nil {
                waiting[key]?.append(continuation)
                lock.unlock()
                return
            }
            waiting[key] = [continuation]
            lock.unlock()
            pool.submit { [self] state in
                var outcome: GuardOutcome? = nil
                if case .active = state { outcome = makeGuard().evaluate([request]).first }
                lock.lock()
                let waiters = waiting.removeValue(forKey: key) ?? []
                lock.unlock()
                for waiter in waiters { waiter.resume(returning: Self.result(outcome, request: request)) }
                // Every waiter holds its own descriptor now: the guard's temp path can go.
                if let path = outcome?.path { unlink(path) }
            }
        }
    }

    private static func result(_ outcome: GuardOutcome?, request: ArtifactRequest) -> GateResult {
        guard let outcome else { return .failed("the proxy is stopping") }
        guard outcome.verdict != .refused, let path = outcome.path, let size = outcome.size else { return .refused(outcome) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failed("cannot open the verified file \(path): \(String(cString: strerror(errno)))") }
        return .allowed(fd: fd, size: size, outcome: outcome)
    }
}
