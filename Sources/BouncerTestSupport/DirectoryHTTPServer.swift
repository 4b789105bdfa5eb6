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

/// A real HTTP/1.1 server on 127.0.0.1 serving the files under a directory,
/// for package-index tests (a PEP 503 simple index, an npm registry): GET and
/// HEAD of `/PATH` serve `root/PATH` (`root/PATH/index.html` for a directory)
/// with a Content-Type from the extension; POST answers 200 with the number
/// of body bytes it read. One thread per connection; every response closes it.
/// Files may be changed while it runs (tests tamper with them).
public final class DirectoryHTTPServer: @unchecked Sendable {
    public let root: String
    public let port: UInt16
    private let listener: LoopbackListener
    private let lock = NSLock()
    private var stopped = false
    private var log: [String] = []
    private var open = 0
    private var mostOpen = 0
    private var delay: useconds_t = 0
    private var required: String? = nil
    private var authorizationLog: [String?] = []
    private var userAgentLog: [String?] = []

    public init(root: String) throws {
        self.root = root
        listener = try LoopbackListener(backlog: 128)
        port = listener.port
        listener.start { [self] client in handle(client) }
    }

    deinit { stop() }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// "METHOD /path" of every request so far, in arrival order.
    public var requests: [String] {
        lock.lock(); defer { lock.unlock() }
        return log
    }

    /// The most requests it had in hand at once so far (arrived, not yet answered).
    public var mostRequestsAtOnce: Int {
        lock.lock(); defer { lock.unlock() }
        return mostOpen
    }

    /// The `Authorization` header every request must carry (a private
    /// registry's token); others are answered 401. nil: none needed.
    public var requiredAuthorization: String? {
        get { lock.lock(); defer { lock.unlock() }; return required }
        set { lock.lock(); required = newValue; lock.unlock() }
    }

    /// The `Authorization` header of every request so far (nil: none), in the order of `requests`.
    public var authorizations: [String?] {
        lock.lock(); defer { lock.unlock() }
        return authorizationLog
    }

    /// The `User-Agent` header of every request so far (nil: none), in the
    /// order of `requests`: pip's own requests say "pip/…", the proxy's do not.
    public var userAgents: [String?] {
        lock.lock(); defer { lock.unlock() }
        return userAgentLog
    }

    /// Waits this long before answering each request: a slower server, so
    /// that a client's concurrent requests overlap.
    public var responseDelay: Double {
        get { lock.lock(); defer { lock.unlock() }; return Double(delay) / 1e6 }
        set { lock.lock(); delay = useconds_t(max(0, newValue) * 1e6); lock.unlock() }
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
        guard let (method, target, bodyLength, extra, authorization, userAgent) = readRequest(client) else { return }
        lock.lock()
        log.append("\(method) \(target)")
        authorizationLog.append(authorization)
        userAgentLog.append(userAgent)
        let wait = delay
        let needed = required
        open += 1
        mostOpen = max(mostOpen, open)
        lock.unlock()
        // A request counts from its arrival until its answer starts: a client
        // that has its answer may start its next request before this thread
        // gets to run again, and must not be counted twice.
        var answered = false
        func answering() {
            guard !answered else { return }
            answered = true
            lock.lock(); open -= 1; lock.unlock()
        }
        defer { answering() }
        if wait > 0 { usleep(wait) }
        if let needed, authorization != needed {
            answering()
            let text = Array("authentication required\n".utf8)
            send(client, head(401, length: text.count, type: "text/plain"))
            send(client, text)
            return
        }
        if method == "POST" || method == "PUT" {
            var remaining = bodyLength - extra
            var buffer = [UInt8](repeating: 0, count: 65536)
            while remaining > 0 {
                let count = recv(client, &buffer, min(buffer.count, remaining), 0)
                if count <= 0 { break }
                remaining -= count
            }
            let text = Array("received \(bodyLength) bytes\n".utf8)
            answering()
            send(client, head(200, length: text.count, type: "text/plain"))
            send(client, text)
            return
        }
        answering()
        var path = String(target.prefix(while: { $0 != "?" && $0 != "#" }))
        path = path.removingPercentEncoding ?? path
        let parts = path.split(separator: "/")
        guard !parts.contains(".."), !parts.contains(where: { $0.hasPrefix(".") }) else { return notFound(client) }
        var file = root + path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), isDirectory.boolValue {
            file += file.hasSuffix("/") ? "index.html" : "/index.html"
        }
        guard let data = FileManager.default.contents(atPath: file) else { return notFound(client) }
        send(client, head(200, length: data.count, type: Self.contentType(file)))
        if method != "HEAD" { send(client, [UInt8](data)) }
    }

    static func contentType(_ file: String) -> String {
        if file.hasSuffix(".html") { return "text/html" }
        if file.hasSuffix(".json") { return "application/json" }
        if file.hasSuffix(".tgz") || file.hasSuffix(".gz") { return "application/gzip" }
        if file.hasSuffix(".txt") || file.hasSuffix("SUMS") { return "text/plain" }
        // npm packuments are served at /NAME without an extension.
        if !(file.split(separator: "/").last ?? "").contains(".") { return "application/json" }
        return "application/octet-stream"
    }

    private func notFound(_ client: Int32) {
        let text = Array("not found\n".utf8)
        send(client, head(404, length: text.count, type: "text/plain"))
        send(client, text)
    }

    /// Method, target, Content-Length, how many body bytes were already read with the head, and the Authorization and User-Agent headers.
    private func readRequest(_ client: Int32) -> (String, String, Int, Int, String?, String?)? {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var headEnd: Int? = nil
        while received.count < 65536 {
            let count = recv(client, &buffer, buffer.count, 0)
            if count <= 0 { return nil }
            received += buffer[0..<count]
            if let end = find([13, 10, 13, 10], in: received) { headEnd = end; break }
        }
        guard let headEnd else { return nil }
        let text = String(decoding: received[0..<headEnd], as: UTF8.self)
        let lines = text.components(separatedBy: "\r\n")
        guard let first = lines.first else { return nil }
        let fields = first.split(separator: " ")
        guard fields.count >= 2 else { return nil }
        var length = 0
        var authorization: String? = nil
        var userAgent: String? = nil
        for line in lines.dropFirst() {
            if line.lowercased().hasPrefix("content-length:") {
                length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
            } else if line.lowercased().hasPrefix("authorization:") {
                authorization = line.dropFirst("authorization:".count).trimmingCharacters(in: .whitespaces)
            } else if line.lowercased().hasPrefix("user-agent:") {
                userAgent = line.dropFirst("user-agent:".count).trimmingCharacters(in: .whitespaces)
            }
        }
        return (String(fields[0]), String(fields[1]), length, received.count - (headEnd + 4), authorization, userAgent)
    }

    private func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }

    private func head(_ status: Int, length: Int, type: String) -> [UInt8] {
        let reason = [200: "OK", 401: "Unauthorized", 404: "Not Found"][status] ?? "Status"
        let lines = ["HTTP/1.1 \(status) \(reason)", "Content-Type: \(type)", "Content-Length: \(length)", "Connection: close"]
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
