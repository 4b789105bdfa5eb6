import CCurl
import CCurlShims
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase

/// Downloads through libcurl's multi interface: several transfers at once,
/// each streamed into the store while hashed, with size caps, timeouts and
/// resume-free retries. Returns one result per request, in request order.
public final class Fetcher: @unchecked Sendable {
    public let store: Store
    public let options: FetchOptions


    public init(store: Store = .standard(), options: FetchOptions = FetchOptions()) {
        self.store = store
        self.options = options
    }

    /// Does now, off the clock, what the first transfer would otherwise wait
    /// for: loading libcurl and parsing the CA file (~40 ms). For a process
    /// that knows transfers are coming, such as a proxy before its first client.
    public func prepare() {
        guard bouncer_curl_load() == nil else { return }
        bouncer_curl_preload_ca_bundle(options.caBundle)
    }

    /// Fetches one URL.
    public func fetch(_ request: FetchRequest) -> Result<FetchedArtifact, FetchError> {
        fetch([request])[0]
    }

    public func fetch(_ requests: [FetchRequest]) -> [Result<FetchedArtifact, FetchError>] {
        var results = [Result<FetchedArtifact, FetchError>?](repeating: nil, count: requests.count)
        if let why = bouncer_curl_load() {
            let message = "libcurl is unusable: \(String(cString: why))"
            return requests.map { _ in .failure(.io(message)) }
        }
        // The multi handle an earlier fetch from the same server left (a proxy's index, its files),
        // with its open connections; given back with every transfer ended.
        let origin = requests.first.map { URLParts.origin($0.url) } ?? ""
        guard let multi = bouncer_curl_multi_take(origin) else {
            return requests.map { _ in .failure(.io("libcurl failed to initialise")) }
        }
        defer { bouncer_curl_multi_give(multi, origin) }

        var pending = Array(requests.indices.reversed())
        var active: [UnsafeMutableRawPointer: Transfer] = [:]
        var waiting: [(due: Date, transfer: Transfer)] = []
        let progress = ProgressBar(enabled: options.progress)

        func finish(_ transfer: Transfer, _ result: Result<FetchedArtifact, FetchError>) {
            if case .success = result { transfer.close(keepFile: true) } else { transfer.close(keepFile: false) }
            results[transfer.index] = result
        }

        while !pending.isEmpty || !active.isEmpty || !waiting.isEmpty {
            if let signal = Interruption.signal {
                // Interrupted while the caller holds state to put back: end every transfer now, keep nothing.
                let failure = FetchError.io("interrupted by signal \(signal) before the download completed")
                for transfer in active.values {
                    bouncer_curl_multi_remove_handle(multi, transfer.easy)
                    finish(transfer, .failure(failure))
                }
                for entry in waiting { finish(entry.transfer, .failure(failure)) }
                for index in pending { results[index] = .failure(failure) }
                active.removeAll(); waiting.removeAll(); pending.removeAll()
                break
            }
            while active.count + waiting.count < max(1, options.parallel), let next = pending.popLast() {
                do {
                    let transfer = try Transfer(index: next, request: requests[next], options: options, store: store)
                    active[transfer.easy] = transfer
                    bouncer_curl_multi_add_handle(multi, transfer.easy)
                } catch {
                    results[next] = .failure(error)
                }
            }
            let now = Date()
            while let due = waiting.firstIndex(where: { $0.due <= now }) {
                let transfer = waiting.remove(at: due).transfer
                active[transfer.easy] = transfer
                bouncer_curl_multi_add_handle(multi, transfer.easy)
            }

            var running: Int32 = 0
            bouncer_curl_multi_perform(multi, &running)
            var left: Int32 = 0
            while let message = bouncer_curl_multi_info_read(multi, &left) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                      let transfer = active.removeValue(forKey: easy) else { continue }
                let code = message.pointee.data.result
                bouncer_curl_multi_remove_handle(multi, easy)
                let result = transfer.outcome(code)
                if case .failure(let error) = result, error.isTransient, transfer.attempt < options.retries {
                    // Start over from byte 0: never splice a resumed body onto a different one.
                    do {
                        try transfer.writer.reset()
                        transfer.abortedTooLarge = false
                        let delay = error.retryDelay(attempt: transfer.attempt, base: options.retryDelay)
                        transfer.attempt += 1
                        waiting.append((Date().addingTimeInterval(delay), transfer))
                    } catch {
                        finish(transfer, .failure(.io(error.description)))
                    }
                } else {
                    finish(transfer, result)
                }
            }
            progress.update(Array(active.values) + waiting.map(\.transfer))
            // Sleeps no longer than until the next retry is due (a retry at once: not at all).
            let untilRetry = waiting.map { Int32(max(0, ($0.due.timeIntervalSinceNow * 1000).rounded(.up))) }.min()
            if !active.isEmpty {
                bouncer_curl_multi_poll(multi, min(100, untilRetry ?? 100))
            } else if let untilRetry {
                usleep(UInt32(min(untilRetry, 20)) * 1000)
            }
        }
        progress.clear()
        return results.enumerated().map { index, result in
            result ?? .failure(.io("internal: no result for \(Redaction.url(requests[index].url))"))
        }
    }

}
