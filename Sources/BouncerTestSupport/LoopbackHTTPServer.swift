import Foundation
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools

/// A real HTTP/1.1 server on 127.0.0.1 for tests, with the misbehaviours a
/// fetcher must survive. One thread per connection; every response closes
/// the connection. Routes (NAME is a registered body):
///
/// - `/files/NAME`              the body with a correct Content-Length
/// - `/truncate/NAME`           full Content-Length, but the connection closes halfway
/// - `/short-length/NAME`       Content-Length one byte shorter than the body
/// - `/stall/NAME`              headers and the first half, then silence
/// - `/flaky/NAME`              503 on the first request for NAME, then the body
/// - `/redirect/N/NAME`         N redirects, then `/files/NAME`
/// - `/loop`                    redirects to itself forever
/// - `/to-absolute?url`         redirects to the given absolute URL
/// - `/endless`                 an endless body without Content-Length
/// - anything else              404
///
/// `holdReplies(until:fallback:)` holds every reply until that many requests
/// are waiting, so that concurrent clients really proceed at the same moment.
public final class LoopbackHTTPServer: @unchecked Sendable {
    public let port: UInt16
    private let listener: LoopbackListener
    private let lock = NSLock()
    private var bodies: [String: [UInt8]] = [:]
    private var requestCounts: [String: Int] = [:]
    private var stopped = false
    /// The reply barrier (`holdReplies`), under its own condition.
    private let gate = NSCondition()
    private var barrier: (count: Int, fallback: TimeInterval)? = nil
    private var held = 0
    private var barrierState = BarrierState.waiting

    /// How a reply barrier ended.
    public enum BarrierState: Sendable, Equatable {
        /// Not every request has arrived yet (or no barrier was set).
        case waiting
        /// All the requests were held at once and then answered together.
        case releasedTogether
        /// The fallback expired (or the server stopped) first: replies went out without the rest.
        case fellBack
    }

    public init() throws {
        listener = try LoopbackListener(backlog: 64)
        port = listener.port
        listener.start(noDelay: true) { [self] client in handle(client) }
    }

    deinit { stop() }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public func url(_ path: String) -> String { baseURL + path }

    public func register(_ name: String, _ body: [UInt8]) {
        lock.lock(); defer { lock.unlock() }
        bodies[name] = body
    }

    /// How many requests reached `path` (for retry tests).
    public func requests(to path: String) -> Int {
        lock.lock(); defer { lock.unlock() }
        return requestCounts[path, default: 0]
    }

    /// Holds every reply until `count` requests are waiting, then answers them
    /// all at once, so that the clients' next steps really run concurrently.
    /// A request that waits `fallback` seconds without the rest arriving
    /// breaks the barrier (every held reply goes out), so a test cannot hang.
    public func holdReplies(until count: Int, fallback: TimeInterval) {
        gate.lock(); defer { gate.unlock() }
        barrier = (count, fallback)
        held = 0
        barrierState = .waiting
    }

    /// How the barrier set by `holdReplies` ended.
    public var barrierOutcome: BarrierState {
        gate.lock(); defer { gate.unlock() }
        return barrierState
    }

    private func waitAtBarrier() {
        gate.lock(); defer { gate.unlock() }
        guard let barrier, barrierState == .waiting else { return }
        held += 1
        if held >= barrier.count {
            barrierState = .releasedTogether
            gate.broadcast()
            return
        }
        let deadline = Date().addingTimeInterval(barrier.fallback)
        while barrierState == .waiting {
            if !gate.wait(until: deadline) && barrierState == .waiting {
                barrierState = .fellBack
                gate.broadcast()
            }
        }
    }

    public func stop() {
        gate.lock()
        if barrierState == .waiting && barrier != nil { barrierState = .fellBack }
        gate.broadcast()
        gate.unlock()
        lock.lock()
        let wasStopped = stopped
        stopped = true
        lock.unlock()
        if !wasStopped { listener.stop() }
    }

    private var isStopped: Bool {
        lock.lock(); defer { lock.unlock() }
        return stopped
    }

    private func handle(_ client: Int32) {
        guard let path = readRequestPath(client) else { return }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        lock.lock()
        requestCounts[path, default: 0] += 1
        let count = requestCounts[path, default: 0]
        let body = parts.count >= 2 ? bodies[parts[parts.count - 1]] : nil
        lock.unlock()
        waitAtBarrier()

        switch (parts.first, body) {
        case ("files", let body?):
            send(client, head(200, length: body.count))
            send(client, body)
        case ("truncate", let body?):
            send(client, head(200, length: body.count))
            send(client, Array(body.prefix(body.count / 2)))
        case ("short-length", let body?):
            send(client, head(200, length: max(0, body.count - 1)))
            send(client, body)
        case ("stall", let body?):
            send(client, head(200, length: body.count))
            send(client, Array(body.prefix(body.count / 2)))
            // Hold the connection open, silent, until the client gives up or the server stops.
            var byte: UInt8 = 0
            while !isStopped, recv(client, &byte, 1, 0) > 0 {}
        case ("flaky", let body?):
            if count == 1 {
                send(client, head(503, length: 0))
            } else {
                send(client, head(200, length: body.count))
                send(client, body)
            }
        case ("redirect", _) where parts.count == 3:
            let remaining = Int(parts[1]) ?? 0
            let next = remaining > 1 ? "/redirect/\(remaining - 1)/\(parts[2])" : "/files/\(parts[2])"
            send(client, head(302, length: 0, extra: ["Location: \(next)"]))
        case ("loop", _):
            send(client, head(302, length: 0, extra: ["Location: /loop"]))
        case ("endless", _):
            send(client, Array("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".utf8))
            let chunk = [UInt8](repeating: 0x41, count: 1 << 16)
            while !isStopped, send(client, chunk) {}
        default:
            if path.hasPrefix("/to-absolute?") {
                let target = String(path.dropFirst("/to-absolute?".count))
                send(client, head(302, length: 0, extra: ["Location: \(target)"]))
            } else {
                let text = Array("not found\n".utf8)
                send(client, head(404, length: text.count))
                send(client, text)
            }
        }
    }

    private func readRequestPath(_ client: Int32) -> String? {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while received.count < 65536 {
            let count = recv(client, &buffer, buffer.count, 0)
            if count <= 0 { return nil }
            received += buffer[0..<count]
            if received.count >= 4, received.suffix(4) == [13, 10, 13, 10] { break }
            if let text = String(bytes: received, encoding: .utf8), text.contains("\r\n\r\n") { break }
        }
        guard let text = String(bytes: received, encoding: .utf8),
              let line = text.split(separator: "\r\n").first else { return nil }
        let fields = line.split(separator: " ")
        return fields.count >= 2 ? String(fields[1]) : nil
    }

    private func head(_ status: Int, length: Int, extra: [String] = []) -> [UInt8] {
        let reason = [200: "OK", 302: "Found", 404: "Not Found", 503: "Service Unavailable"][status] ?? "Status"
        var lines = ["HTTP/1.1 \(status) \(reason)", "Content-Length: \(length)", "Connection: close"]
        lines += extra
        return Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8)
    }

    @discardableResult
    private func send(_ client: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { Glibc.send(client, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 {
                if sent < 0 && errno == EINTR { continue }
                return false
            }
            offset += sent
        }
        return true
    }
}

public struct ServerError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
