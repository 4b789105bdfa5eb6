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

/// An HTTP/1.1 server on 127.0.0.1 that answers each path with a scripted
/// sequence of responses: the n-th request to a path gets the n-th response
/// (the last one repeats). It does what LoopbackHTTPServer cannot: different
/// bytes on a later request, any status with any headers (an HTML error page
/// served as 200, a gzip Content-Encoding), a Content-Length that overstates
/// the body, a stall after part of the body. It also records every request's
/// headers, so tests can check what a client sent. Every response closes the
/// connection.
public final class MisbehavingServer: @unchecked Sendable {
    public struct Response: Sendable {
        public var status: Int
        public var headers: [String]
        public var body: [UInt8]
        /// The Content-Length sent; nil sends the body's true length.
        public var contentLength: Int?
        /// After the body, hold the connection open and silent.
        public var stall: Bool

        public init(status: Int = 200, headers: [String] = [], body: [UInt8], contentLength: Int? = nil, stall: Bool = false) {
            self.status = status
            self.headers = headers
            self.body = body
            self.contentLength = contentLength
            self.stall = stall
        }

        public static func redirect(_ location: String) -> Response {
            Response(status: 302, headers: ["Location: \(location)"], body: [])
        }
    }

    public let port: UInt16
    private let listener: LoopbackListener
    private let lock = NSLock()
    private var routes: [String: [Response]] = [:]
    private var counts: [String: Int] = [:]
    private var requestHeads: [String] = []
    private var stopped = false

    public init() throws {
        listener = try LoopbackListener(backlog: 64)
        port = listener.port
        listener.start { [self] client in handle(client) }
    }

    deinit { stop() }

    public var baseURL: String { "http://127.0.0.1:\(port)" }
    public func url(_ path: String) -> String { baseURL + path }

    /// Scripts the answers for `path` (the request target, query included).
    public func route(_ path: String, _ responses: [Response]) {
        lock.lock(); defer { lock.unlock() }
        routes[path] = responses
        counts[path] = 0
    }

    public func requests(to path: String) -> Int {
        lock.lock(); defer { lock.unlock() }
        return counts[path, default: 0]
    }

    /// The request line and headers of every request received so far.
    public var receivedRequests: [String] {
        lock.lock(); defer { lock.unlock() }
        return requestHeads
    }

    public func stop() {
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
        guard let head = readHead(client) else { return }
        let fields = (head.split(separator: "\r\n").first ?? "").split(separator: " ")
        let path = fields.count >= 2 ? String(fields[1]) : ""
        lock.lock()
        requestHeads.append(head)
        counts[path, default: 0] += 1
        let n = counts[path, default: 1]
        let script = routes[path] ?? []
        lock.unlock()
        guard let response = script.isEmpty ? nil : script[min(n, script.count) - 1] else {
            let text = Array("not found\n".utf8)
            send(client, Array("HTTP/1.1 404 Not Found\r\nContent-Length: \(text.count)\r\nConnection: close\r\n\r\n".utf8) + text)
            return
        }
        var lines = ["HTTP/1.1 \(response.status) Scripted", "Content-Length: \(response.contentLength ?? response.body.count)", "Connection: close"]
        lines += response.headers
        send(client, Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8) + response.body)
        if response.stall {
            var byte: UInt8 = 0
            while !isStopped, recv(client, &byte, 1, 0) > 0 {}
        }
    }

    private func readHead(_ client: Int32) -> String? {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while received.count < 65536 {
            let count = recv(client, &buffer, buffer.count, 0)
            if count <= 0 { return nil }
            received += buffer[0..<count]
            if let text = String(bytes: received, encoding: .utf8), let end = text.range(of: "\r\n\r\n") {
                return String(text[..<end.lowerBound])
            }
        }
        return nil
    }

    private func send(_ client: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return -1 }
                return Glibc.send(client, base + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent <= 0 {
                if sent < 0 && errno == EINTR { continue }
                return
            }
            offset += sent
        }
    }
}
