import CCurl
import CCurlShims
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import FoundationEssentials

/// One download in flight: a curl easy handle streaming into a HashingWriter.
final class Transfer {
    let index: Int
    let request: FetchRequest
    let maxSize: UInt64
    let options: FetchOptions
    let easy: UnsafeMutableRawPointer
    let fd: Int32
    let path: String
    let writer: HashingWriter
    var attempt = 0
    /// Set by the write callback when it aborts the transfer on purpose.
    var abortedTooLarge = false
    /// For the progress bar, updated by curl's progress callback.
    var downloaded: Int64 = 0
    var expected: Int64 = 0
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private var headerList: OpaquePointer? = nil
    /// Headers of the response being received; reset at each status line
    /// (redirects, retries), so they are the final response's.
    var responseHeaders: [(name: String, value: String)] = []

    init(index: Int, request: FetchRequest, options: FetchOptions, store: Store) throws(FetchError) {
        self.index = index
        self.request = request
        self.maxSize = request.maxSize ?? options.maxSize
        self.options = options
        let lower = request.url.lowercased()
        // file:// for local artifacts (a pip --find-links wheelhouse): read through the same
        // hashing writer and caps; never reachable by a redirect.
        let local = lower.hasPrefix("file:///")
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://") || local else { throw .invalidURL(request.url) }
        guard let easy = bouncer_curl_easy_init() else { throw .io("curl_easy_init failed") }
        self.easy = easy
        let file: (fd: Int32, path: String)
        do {
            file = request.intoMemory ? (-1, "") : try store.makeTemporaryFile()
        } catch {
            bouncer_curl_easy_cleanup(easy)
            throw .io(error.description)
        }
        (fd, path) = file
        writer = HashingWriter(fd: fd, path: path, algorithms: request.algorithms)
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        self.local = local
        configure(options: options, secure: lower.hasPrefix("https://"))
    }

    /// A file:// URL: no HTTP status, no redirects.
    let local: Bool

    private func configure(options: FetchOptions, secure: Bool) {
        let this = Unmanaged.passUnretained(self).toOpaque()
        _ = bouncer_curl_setopt_string(easy, CURLOPT_URL, request.url)
        _ = bouncer_curl_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer)
        _ = bouncer_curl_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        // Only HTTP(S) (or the one local file asked for); a redirect from https may only lead to https.
        _ = bouncer_curl_setopt_string(easy, CURLOPT_PROTOCOLS_STR, local ? "file" : "http,https")
        _ = bouncer_curl_setopt_string(easy, CURLOPT_REDIR_PROTOCOLS_STR, secure ? "https" : "http,https")
        _ = bouncer_curl_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 1)
        _ = bouncer_curl_setopt_long(easy, CURLOPT_MAXREDIRS, options.maxRedirects)
        // HTTP errors end the transfer before any body is written.
        _ = bouncer_curl_setopt_long(easy, CURLOPT_FAILONERROR, 1)
        _ = bouncer_curl_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 1)
        _ = bouncer_curl_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 2)
        // An https transfer's new connections take the CA file's certificates from one parsed
        // copy (ca_bundle.c); otherwise (plain http, which may redirect to https) libcurl loads it.
        let shared = secure && bouncer_curl_share_ca_bundle(easy, options.caBundle) == 1
        if !shared, let caBundle = options.caBundle { _ = bouncer_curl_setopt_string(easy, CURLOPT_CAINFO, caBundle) }
        // Unshared, where libcurl caches the CA store in a kept multi handle (7.87+, a bundle and no
        // CA directory), it reads it again after 10 minutes, not a day: a long-running proxy sees a
        // certificate removed from the bundle.
        _ = bouncer_curl_setopt_long(easy, CURLOPT_CA_CACHE_TIMEOUT, 600)
        _ = bouncer_curl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT, options.connectTimeout)
        _ = bouncer_curl_setopt_long(easy, CURLOPT_LOW_SPEED_LIMIT, 1)
        _ = bouncer_curl_setopt_long(easy, CURLOPT_LOW_SPEED_TIME, options.stallTimeout)
        // A declared Content-Length over the cap is refused before the body starts.
        _ = bouncer_curl_setopt_off(easy, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(clamping: maxSize))
        _ = bouncer_curl_setopt_long(easy, CURLOPT_BUFFERSIZE, 512 * 1024)
        _ = bouncer_curl_setopt_string(easy, CURLOPT_USERAGENT, "bouncer/\(BouncerCoreVersion.string)")
        if !local, let netrc = options.netrcFile {
            _ = bouncer_curl_setopt_long(easy, CURLOPT_NETRC, Int(CURL_NETRC_OPTIONAL.rawValue))
            _ = bouncer_curl_setopt_string(easy, CURLOPT_NETRC_FILE, netrc)
        }
        // A client certificate, for a host that admits clients by one (libcurl presents it on
        // every TLS connection of this transfer, as pip and npm do; a connection made with
        // another certificate, or none, is not reused for it).
        if !local, let client = options.clientCertificate?(request.url) {
            _ = bouncer_curl_setopt_string(easy, CURLOPT_SSLCERT, client.certificate)
            _ = bouncer_curl_setopt_string(easy, CURLOPT_SSLCERTTYPE, "PEM")
            if let key = client.key { _ = bouncer_curl_setopt_string(easy, CURLOPT_SSLKEY, key) }
        }
        var headers = request.headers
        if !local, let authorization = options.authorization?(request.url),
           !headers.contains(where: { $0.lowercased().hasPrefix("authorization:") }) {
            headers.append("Authorization: " + authorization)
        }
        if !headers.isEmpty {
            var list: UnsafeMutablePointer<curl_slist>? = nil
            for header in headers { list = bouncer_curl_slist_append(list, header) }
            headerList = OpaquePointer(list)
            _ = bouncer_curl_setopt_slist(easy, CURLOPT_HTTPHEADER, list)
        }
        if !request.acceptedStatuses.isEmpty {
            // The statuses the caller wants back are judged in outcome(); curl must not drop their body.
            _ = bouncer_curl_setopt_long(easy, CURLOPT_FAILONERROR, 0)
        }
        _ = bouncer_curl_setopt_pointer(easy, CURLOPT_HEADERDATA, this)
        _ = bouncer_curl_setopt_header_function(easy) { data, size, count, userdata in
            guard let data, let userdata else { return 0 }
            let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
            let length = size * count
            let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
            if line.hasPrefix("HTTP/") {
                transfer.responseHeaders = []
            } else if let colon = line.firstIndex(of: ":"), transfer.responseHeaders.count < 200 {
                let name = line[..<colon].trimmingSpaces().lowercased()
                let value = line[line.index(after: colon)...].trimmingWhitespace()
                transfer.responseHeaders.append((name, value))
            }
            return length
        }
        _ = bouncer_curl_setopt_pointer(easy, CURLOPT_WRITEDATA, this)
        _ = bouncer_curl_setopt_write_function(easy) { data, size, count, userdata in
            guard let data, let userdata else { return 0 }
            let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
            let length = size * count
            // The cap also holds when the server sent no (or a lying) Content-Length.
            if transfer.writer.bytesReceived + UInt64(length) > transfer.maxSize {
                transfer.abortedTooLarge = true
                return 0
            }
            return transfer.writer.append(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
        }
        if options.progress {
            _ = bouncer_curl_setopt_long(easy, CURLOPT_NOPROGRESS, 0)
            _ = bouncer_curl_setopt_pointer(easy, CURLOPT_XFERINFODATA, this)
            _ = bouncer_curl_setopt_xferinfo_function(easy) { userdata, total, now, _, _ in
                guard let userdata else { return 0 }
                let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
                transfer.downloaded = Int64(now)
                transfer.expected = Int64(total)
                return 0
            }
        }
    }

    /// Turns curl's result into the artifact or a precise error.
    func outcome(_ code: CURLcode) -> Result<FetchedArtifact, FetchError> {
        let url = request.url
        var status: Int = 0
        _ = bouncer_curl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        let detail = errorDetail(code)
        let received = writer.bytesReceived
        switch code {
        case CURLE_OK:
            guard local || (200...299).contains(status) || request.acceptedStatuses.contains(status) else {
                return .failure(.httpStatus(url: url, status: status))
            }
            do {
                let (digests, size) = try writer.finish()
                var effective: UnsafePointer<CChar>? = nil
                _ = bouncer_curl_getinfo_string(easy, CURLINFO_EFFECTIVE_URL, &effective)
                let effectiveURL = effective.map { String(cString: $0) } ?? url
                var artifact = FetchedArtifact(url: url, effectiveURL: effectiveURL, path: path,
                                               size: size, digests: digests)
                artifact.status = status
                artifact.headers = responseHeaders
                if request.intoMemory { artifact.body = writer.memory }
                return .success(artifact)
            } catch {
                return .failure(.io(error.description))
            }
        case CURLE_HTTP_RETURNED_ERROR:
            return .failure(.httpStatus(url: url, status: status))
        case CURLE_FILESIZE_EXCEEDED:
            return .failure(.tooLarge(url: url, limit: maxSize))
        case CURLE_WRITE_ERROR:
            if abortedTooLarge { return .failure(.tooLarge(url: url, limit: maxSize)) }
            do {
                _ = try writer.finish()
                return .failure(.io("\(path): write failed"))
            } catch {
                return .failure(.io(error.description))
            }
        case CURLE_TOO_MANY_REDIRECTS:
            return .failure(.tooManyRedirects(url: url, limit: options.maxRedirects))
        case CURLE_UNSUPPORTED_PROTOCOL:
            // The first URL was checked to be http(s) before the transfer, so
            // an unsupported protocol after a 3xx is a redirect the protocol
            // allowlist refused (https -> http).
            var status = 0
            _ = bouncer_curl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
            if (300...399).contains(status) { return .failure(.insecureRedirect(url: url)) }
            return .failure(.invalidURL(url))
        case CURLE_URL_MALFORMAT:
            return .failure(.invalidURL(url))
        case CURLE_FILE_COULDNT_READ_FILE:
            return .failure(.io("cannot read \(Redaction.url(url)): \(detail)"))
        case CURLE_OPERATION_TIMEDOUT:
            var connectTime: Double = 0
            _ = bouncer_curl_getinfo_double(easy, CURLINFO_CONNECT_TIME, &connectTime)
            if connectTime == 0 { return .failure(.connection(url: url, detail: detail)) }
            return .failure(.stalled(url: url, seconds: options.stallTimeout))
        case CURLE_PARTIAL_FILE:
            return .failure(.truncated(url: url, received: received))
        case CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_SEND_ERROR:
            return received > 0 || code == CURLE_GOT_NOTHING
                ? .failure(.truncated(url: url, received: received))
                : .failure(.connection(url: url, detail: detail))
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return .failure(.connection(url: url, detail: detail))
        default:
            return .failure(.transport(url: url, detail: detail))
        }
    }

    private func errorDetail(_ code: CURLcode) -> String {
        var detail = String(cString: errorBuffer)
        if detail.isEmpty { detail = String(cString: bouncer_curl_easy_strerror(code)) }
        // TLS 1.3's alert for a server that admits clients by certificate only: say how to give one.
        if detail.contains("alert certificate required") && options.clientCertificate?(request.url) == nil {
            detail += " (the server admits only clients with a certificate: set BOUNCER_CLIENT_CERT, or pip's --client-cert, or npm's //HOST/:certfile and :keyfile)"
        }
        return detail
    }

    /// Releases the handle, the worker thread and the descriptor. The temp
    /// file is removed unless `keepFile` (a successful download the caller now owns).
    func close(keepFile: Bool) {
        writer.stop()
        bouncer_curl_easy_cleanup(easy)
        bouncer_curl_slist_free_all(UnsafeMutablePointer(headerList))
        if fd >= 0 {
            Glibc.close(fd)
            if !keepFile { unlink(path) }
        }
        errorBuffer.deallocate()
    }
}

public enum BouncerCoreVersion {
    public static let string = "0.1.0"
}

extension Transfer {
    /// How many times this process parsed the CA file at `path` for shared use (ca_bundle.c).
    static func caBundleParses(of path: String) -> UInt { UInt(bouncer_curl_ca_bundle_parses(path)) }
}
