import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import BouncerBase
@testable import BouncerIO
import BouncerTestSupport

/// Connections stay open from one fetch to the next (libcurl multi handles
/// kept in a pool, one fetch at a time each): a proxy's upstream requests,
/// one fetch each, no longer open a connection apiece. Real transfers
/// against a loopback server that keeps connections alive unless told to
/// close them.
@Suite struct ConnectionReuseTests {
    /// An HTTP/1.1 server that answers `/close/...` with `Connection: close`
    /// and anything else on a connection it keeps open; it counts the
    /// connections it accepted.
    final class KeepAliveServer: @unchecked Sendable {
        let listener: LoopbackListener
        let connections = Locked(0)
        let requests = Locked(0)

        init() throws {
            listener = try LoopbackListener()
            listener.start { [connections, requests] client in
                connections.withLock { $0 += 1 }
                var pending: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    // One request head at a time (curl does not pipeline).
                    while !Self.hasHead(pending) {
                        let count = read(client, &buffer, buffer.count)
                        if count <= 0 { return }
                        pending += buffer[0..<count]
                    }
                    guard let end = Self.headEnd(pending) else { return }
                    let head = String(decoding: pending[..<end], as: UTF8.self)
                    pending.removeFirst(end + 4)
                    let path = head.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
                    requests.withLock { $0 += 1 }
                    let body = Array("body of \(path)\n".utf8)
                    let closing = path.hasPrefix("/close/")
                    let reply = "HTTP/1.1 200 OK\r\nContent-Length: \(body.count)\r\n" + (closing ? "Connection: close\r\n" : "") + "\r\n"
                    let bytes = Array(reply.utf8) + body
                    guard bytes.withUnsafeBytes({ write(client, $0.baseAddress, $0.count) }) == bytes.count, !closing else { return }
                }
            }
        }

        static func headEnd(_ bytes: [UInt8]) -> Int? {
            guard bytes.count >= 4 else { return nil }
            return (0...(bytes.count - 4)).first { bytes[$0] == 13 && bytes[$0 + 1] == 10 && bytes[$0 + 2] == 13 && bytes[$0 + 3] == 10 }
        }

        static func hasHead(_ bytes: [UInt8]) -> Bool { headEnd(bytes) != nil }

        func url(_ path: String) -> String { "http://127.0.0.1:\(listener.port)\(path)" }
    }

    func fetcher(_ dir: String) -> Fetcher {
        var options = FetchOptions()
        options.progress = false
        return Fetcher(store: Store(root: dir), options: options)
    }

    func body(_ result: Result<FetchedArtifact, FetchError>) throws -> String {
        let fetched = try result.get()
        defer { unlink(fetched.path) }
        return try String(contentsOfFile: fetched.path, encoding: .utf8)
    }

    @Test func fetchesOneAfterAnotherShareOneConnection() throws {
        let server = try KeepAliveServer()
        defer { server.listener.stop() }
        let dir = try BouncerProcess.temporaryDirectory("bouncer-reuse").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Separate fetches, as the proxy makes them (and separate Fetchers, as each request's guard has).
        for name in ["a", "b", "c", "d"] {
            #expect(try body(fetcher(dir).fetch(FetchRequest(url: server.url("/keep/\(name)")))) == "body of /keep/\(name)\n")
        }
        #expect(server.requests.value == 4)
        #expect(server.connections.value == 1, "one connection for four fetches")
    }

    /// The count above is the server's own: a server that closes each
    /// connection is sent a new one each time.
    @Test func aConnectionTheServerClosedIsNotReused() throws {
        let server = try KeepAliveServer()
        defer { server.listener.stop() }
        let dir = try BouncerProcess.temporaryDirectory("bouncer-reuse").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for name in ["a", "b", "c"] {
            #expect(try body(fetcher(dir).fetch(FetchRequest(url: server.url("/close/\(name)")))) == "body of /close/\(name)\n")
        }
        #expect(server.connections.value == 3)
        // The next fetch after a closed one opens a connection and keeps it.
        for name in ["d", "e"] {
            #expect(try body(fetcher(dir).fetch(FetchRequest(url: server.url("/keep/\(name)")))) == "body of /keep/\(name)\n")
        }
        #expect(server.connections.value == 4)
    }

    /// Fetches on several threads at once each hold a multi handle (and its
    /// connections) of their own, as libcurl requires:
    /// all complete with their own bodies, and no more connections are open
    /// than fetches ran at once.
    @Test func concurrentFetchesEachUseTheirOwnConnections() throws {
        let server = try KeepAliveServer()
        defer { server.listener.stop() }
        let dir = try BouncerProcess.temporaryDirectory("bouncer-reuse").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bodies = Locked([String: String]())
        let shared = fetcher(dir)
        for round in 0..<3 {
            Parallel.forEach(Array(0..<8)) { index in
                let path = "/keep/\(round)-\(index)"
                let text = (try? body(shared.fetch(FetchRequest(url: server.url(path))))) ?? "failed"
                bodies.withLock { $0[path] = text }
            }
        }
        #expect(bodies.value.count == 24)
        for (path, text) in bodies.value { #expect(text == "body of \(path)\n") }
        #expect(server.requests.value == 24)
        let opened = server.connections.value
        #expect(opened >= 1 && opened <= 8, "\(opened) connections for 24 fetches, at most 8 at once")
    }
}
