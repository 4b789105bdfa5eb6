import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import CCurl
import CCurlShims
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
    /// Runs one easy handle to its end on a multi handle of its own (a new
    /// one: the pool's key names no origin in use) and returns curl's result.
    func perform(_ easy: UnsafeMutableRawPointer) -> CURLcode {
        guard let multi = bouncer_curl_multi_take("test://\(UUID().uuidString)") else { return CURLE_FAILED_INIT }
        defer { bouncer_curl_multi_give(multi, "test://unused") }
        guard bouncer_curl_multi_add_handle(multi, easy) == CURLM_OK else { return CURLE_FAILED_INIT }
        defer { _ = bouncer_curl_multi_remove_handle(multi, easy) }
        var running: Int32 = 1
        while running > 0 {
            guard bouncer_curl_multi_perform(multi, &running) == CURLM_OK else { return CURLE_FAILED_INIT }
            if running > 0 { _ = bouncer_curl_multi_poll(multi, 100) }
        }
        var left: Int32 = 0
        guard let message = bouncer_curl_multi_info_read(multi, &left) else { return CURLE_FAILED_INIT }
        return message.pointee.data.result
    }

    /// Every easy handle shares one DNS cache, whichever multi handle runs it:
    /// what one transfer resolved, the next uses, even on a new multi handle
    /// (a proxy's concurrent fetches each hold one). Shown with a name only
    /// the first transfer can resolve (curl's --resolve entry).
    @Test func aNameResolvedOnceIsKnownToEveryHandle() throws {
        #expect(bouncer_curl_load() == nil)
        let server = try KeepAliveServer()
        defer { server.listener.stop() }
        let host = "dns-share-\(UInt32.random(in: 0...UInt32.max)).test:\(server.listener.port)"
        let discard: bouncer_curl_write_cb = { _, size, count, _ in size * count }

        guard let first = bouncer_curl_easy_init() else { Issue.record("no easy handle"); return }
        defer { bouncer_curl_easy_cleanup(first) }
        let entry = bouncer_curl_slist_append(nil, host + ":127.0.0.1")
        defer { bouncer_curl_slist_free_all(entry) }
        _ = bouncer_curl_setopt_slist(first, CURLOPT_RESOLVE, entry)
        _ = bouncer_curl_setopt_string(first, CURLOPT_URL, "http://\(host)/close/first")
        _ = bouncer_curl_setopt_write_function(first, discard)
        #expect(perform(first) == CURLE_OK)

        guard let second = bouncer_curl_easy_init() else { Issue.record("no easy handle"); return }
        defer { bouncer_curl_easy_cleanup(second) }
        _ = bouncer_curl_setopt_string(second, CURLOPT_URL, "http://\(host)/close/second")
        _ = bouncer_curl_setopt_write_function(second, discard)
        // Without the shared cache: CURLE_COULDNT_RESOLVE_HOST (the name exists nowhere else).
        #expect(perform(second) == CURLE_OK)
        #expect(server.requests.value == 2)
    }
}
