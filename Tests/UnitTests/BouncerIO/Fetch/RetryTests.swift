import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import BouncerBase
@testable import BouncerIO
import BouncerTestSupport

/// When a failed transfer is tried again.
@Suite struct RetryTests {
    /// Nothing received (refused, reset, closed at once): the first retry
    /// goes at once, later ones back off; a server's status or a body cut
    /// short backs off from the first.
    @Test func aConnectionThatFailedBeforeAnyByteIsRetriedAtOnceThenBacksOff() {
        let base = 0.5
        for error in [FetchError.connection(url: "u", detail: "reset"), .truncated(url: "u", received: 0)] {
            #expect(error.retriesAtOnce)
            #expect((0..<4).map { error.retryDelay(attempt: $0, base: base) } == [0, 0.5, 1, 2], "\(error)")
        }
        for error in [FetchError.httpStatus(url: "u", status: 503), .truncated(url: "u", received: 10), .stalled(url: "u", seconds: 30)] {
            #expect(!error.retriesAtOnce)
            #expect((0..<3).map { error.retryDelay(attempt: $0, base: base) } == [0.5, 1, 2], "\(error)")
        }
    }

    /// A real reset: the server's first connection is closed with an RST
    /// before any response, the second is answered. With an hour between
    /// retries the fetch can only finish because the first retry went at
    /// once; the wait below is a bound on a hang, not a measure of speed.
    @Test func aResetConnectionIsFetchedOnTheNextAttemptWithoutWaiting() throws {
        let body = Array("served on the second connection\n".utf8)
        let listener = try LoopbackListener()
        let connections = Locked(0)
        listener.start { client in
            var request = [UInt8](repeating: 0, count: 4096)
            _ = read(client, &request, request.count)
            if connections.withLock({ $0 += 1; return $0 }) == 1 {
                // SO_LINGER with a zero timeout: close sends RST, not FIN.
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                return
            }
            let head = "HTTP/1.1 200 OK\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
            _ = (Array(head.utf8) + body).withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
        }
        defer { listener.stop() }
        let dir = try BouncerProcess.temporaryDirectory("bouncer-retry").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var options = FetchOptions()
        options.progress = false
        options.retries = 1
        options.retryDelay = 3600
        let fetcher = Fetcher(store: Store(root: dir), options: options)
        let done = DispatchSemaphore(value: 0)
        let result = Locked<Result<FetchedArtifact, FetchError>?>(nil)
        Thread {
            let fetched = fetcher.fetch(FetchRequest(url: "http://127.0.0.1:\(listener.port)/file"))
            result.withLock { $0 = fetched }
            done.signal()
        }.start()
        #expect(done.wait(timeout: .now() + 120) == .success, "the retry after a reset waited for the back-off")
        guard case .success(let fetched)? = result.value else {
            Issue.record("not fetched: \(String(describing: result.value))")
            return
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: fetched.path)) == Data(body))
        #expect(connections.value == 2)
        unlink(fetched.path)
    }
}
