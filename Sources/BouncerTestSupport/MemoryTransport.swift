import Foundation
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerIO

/// A `Transport` that serves registered bytes from memory: the guard's
/// unit tests run the whole pipeline (fetch, inspect, verify, decide,
/// commit) without sockets. Files land in the store's temp directory and
/// are hashed there, as libcurl's fetcher does; size caps apply; an
/// unknown URL is a 404. It records every URL asked for.
public final class MemoryTransport: Transport, @unchecked Sendable {
    public let store: Store
    private let maxSize: UInt64?
    private let lock = NSLock()
    private var bodies: [String: [UInt8]]
    private var asked: [String] = []

    public init(store: Store, bodies: [String: [UInt8]] = [:], maxSize: UInt64? = nil) {
        self.store = store
        self.bodies = bodies
        self.maxSize = maxSize
    }

    public func serve(_ url: String, _ body: [UInt8]) {
        lock.lock(); defer { lock.unlock() }
        bodies[url] = body
    }

    /// Every URL fetched so far, in order.
    public var requests: [String] {
        lock.lock(); defer { lock.unlock() }
        return asked
    }

    public func forEvidence(maxSize: UInt64) -> any Transport {
        lock.lock(); defer { lock.unlock() }
        return Shared(parent: self, maxSize: maxSize)
    }

    public func fetch(_ requests: [FetchRequest]) -> [Result<FetchedArtifact, FetchError>] {
        requests.map { request in fetch(request, cap: maxSize) }
    }

    func fetch(_ request: FetchRequest, cap: UInt64?) -> Result<FetchedArtifact, FetchError> {
        lock.lock()
        asked.append(request.url)
        let body = bodies[request.url]
        lock.unlock()
        guard let body else { return .failure(.httpStatus(url: request.url, status: 404)) }
        if let limit = request.maxSize ?? cap, UInt64(body.count) > limit { return .failure(.tooLarge(url: request.url, limit: limit)) }
        do {
            let (fd, path) = try store.makeTemporaryFile()
            defer { close(fd) }
            let written = body.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written == body.count else { unlink(path); return .failure(.io("cannot write \(path)")) }
            let hashed = try FileHasher.hash(path: path, algorithms: request.algorithms)
            return .success(FetchedArtifact(url: request.url, effectiveURL: request.url, path: path, size: hashed.size, digests: hashed.digests))
        } catch {
            return .failure(.io(error.message))
        }
    }

    /// The evidence view: the same bodies and request log, another cap.
    private final class Shared: Transport, @unchecked Sendable {
        let parent: MemoryTransport
        let maxSize: UInt64
        init(parent: MemoryTransport, maxSize: UInt64) { self.parent = parent; self.maxSize = maxSize }
        var store: Store { parent.store }
        func fetch(_ requests: [FetchRequest]) -> [Result<FetchedArtifact, FetchError>] {
            requests.map { parent.fetch($0, cap: maxSize) }
        }
        func forEvidence(maxSize: UInt64) -> any Transport { Shared(parent: parent, maxSize: maxSize) }
    }
}
