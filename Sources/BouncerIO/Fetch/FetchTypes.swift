import FoundationEssentials
import BouncerBase

/// One download: the URL, the digests to compute while it streams, and caps.
public struct FetchRequest: Sendable {
    public var url: String
    /// Digests computed in the same pass; sha256 is always included.
    public var algorithms: [HashAlgorithm]
    /// Abort once the body exceeds this many bytes (nil: `FetchOptions.maxSize`).
    public var maxSize: UInt64?
    /// Extra request headers (`Name: value`), e.g. an OCI registry's Accept
    /// and Authorization. curl does not send them on to another host after a
    /// redirect, so a registry token never reaches a blob store.
    public var headers: [String] = []
    /// HTTP statuses handed back as a result (with body and headers) instead
    /// of failing: a registry's 401 carries the challenge to answer, its 404
    /// says a referrers API is absent.
    public var acceptedStatuses: Set<Int> = []
    /// Keep the body in memory (`FetchedArtifact.body`), not in a temp file:
    /// for documents read once and thrown away (index pages, packuments).
    public var intoMemory = false

    public init(url: String, algorithms: [HashAlgorithm] = [.sha256], maxSize: UInt64? = nil,
                headers: [String] = [], acceptedStatuses: Set<Int> = []) {
        self.url = url
        self.algorithms = algorithms.contains(.sha256) ? algorithms : [.sha256] + algorithms
        self.maxSize = maxSize
        self.headers = headers
        self.acceptedStatuses = acceptedStatuses
    }
}

public struct FetchOptions: Sendable {
    /// Seconds to wait for a TCP/TLS connection.
    public var connectTimeout: Int = 30
    /// Seconds without receiving a byte before a transfer counts as stalled.
    public var stallTimeout: Int = 30
    public var maxRedirects: Int = 10
    /// Default size cap when a request names none: 4 GiB.
    public var maxSize: UInt64 = 4 << 30
    /// Further attempts after a transient failure (connection refused or
    /// reset, timeout, truncated body, HTTP 408/429/5xx). Each starts from
    /// byte 0: a resumed download could splice two different bodies.
    public var retries: Int = 2
    /// Seconds before the first retry; doubled for each further one. A
    /// connection refused, reset or closed before any byte of the response
    /// is first retried at once (`FetchError.retriesAtOnce`).
    public var retryDelay: Double = 0.5
    /// Transfers run at once through the curl multi interface.
    public var parallel: Int = 6
    /// Draw a progress bar on stderr (only honoured when stderr is a terminal).
    public var progress: Bool = true
    /// PEM file of CA certificates to trust instead of the system's (nil: the
    /// system store). Defaults to the variables curl and OpenSSL users already
    /// set for private CAs: BOUNCER_CA_BUNDLE, CURL_CA_BUNDLE, SSL_CERT_FILE.
    public var caBundle: String?
    /// The `Authorization` value to send with a request for a URL (nil: none):
    /// a private registry's credentials, from npm's configuration. Sent with
    /// the URL asked for only; libcurl does not send it on after a redirect
    /// to another host. A request's own Authorization header wins.
    public var authorization: (@Sendable (String) -> String?)? = nil
    /// Read credentials for a host from a netrc file, as pip does (`$NETRC`,
    /// else `~/.netrc`), when neither the URL nor `authorization` gives any.
    /// nil: no netrc (curl's own default, and Bouncer's outside the proxy).
    public var netrcFile: String? = nil
    /// The TLS client certificate to present for a request's URL (nil:
    /// none), for an index or registry that admits clients by certificate
    /// (mutual TLS). Defaults to BOUNCER_CLIENT_CERT (PEM; its key beside it
    /// in the same file, else in BOUNCER_CLIENT_KEY) for every host, as pip
    /// presents its `--client-cert` to every host it reaches.
    public var clientCertificate: (@Sendable (String) -> ClientCertificate?)? = nil

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        caBundle = ["BOUNCER_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"].lazy
            .compactMap { environment[$0] }.first { !$0.isEmpty }
        if let certificate = environment["BOUNCER_CLIENT_CERT"], !certificate.isEmpty {
            let everywhere = ClientCertificate(certificate: certificate, key: environment["BOUNCER_CLIENT_KEY"].flatMap { $0.isEmpty ? nil : $0 })
            clientCertificate = { _ in everywhere }
        }
    }
}

/// A TLS client certificate and its private key: PEM files (the key may be
/// in the certificate's file, as pip's `--client-cert` has it).
public struct ClientCertificate: Sendable, Equatable {
    public var certificate: String
    /// nil: the key is in `certificate`'s file.
    public var key: String?

    public init(certificate: String, key: String? = nil) {
        self.certificate = certificate
        self.key = key
    }
}

/// A completed download: the temp file in the store holding exactly the
/// bytes that were hashed, and their digests.
public struct FetchedArtifact: Sendable {
    public let url: String
    public let effectiveURL: String
    public let path: String
    public let size: UInt64
    public let digests: [HashAlgorithm: Digest]
    /// The final response's HTTP status (0 for file://).
    public var status: Int = 0
    /// The final response's headers, names lowercased, in order.
    public var headers: [(name: String, value: String)] = []
    /// The body, for a request made `intoMemory` (`path` is then empty).
    public var body: [UInt8]? = nil

    public init(url: String, effectiveURL: String, path: String, size: UInt64, digests: [HashAlgorithm: Digest]) {
        self.url = url
        self.effectiveURL = effectiveURL
        self.path = path
        self.size = size
        self.digests = digests
    }

    /// The response's Content-Type (nil for file:// or when the server sent none).
    public var contentType: String? { header("content-type") }

    /// The first value of a response header (name case-insensitive).
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name == wanted }?.value
    }

    /// The sha256 digest (always computed).
    public var sha256: Digest {
        digests[.sha256] ?? Digest(trusted: .sha256, bytes: [])
    }
}

/// Why a download failed. All are transport failures (exit 3) except a body
/// over the size cap, which is the server's fault and refused (exit 1), and
/// a malformed URL (exit 2).
public enum FetchError: BouncerFailure, Equatable {
    case invalidURL(String)
    case httpStatus(url: String, status: Int)
    case tooLarge(url: String, limit: UInt64)
    case tooManyRedirects(url: String, limit: Int)
    case insecureRedirect(url: String)
    case stalled(url: String, seconds: Int)
    case truncated(url: String, received: UInt64)
    case connection(url: String, detail: String)
    case transport(url: String, detail: String)
    case io(String)

    public var family: ErrorFamily {
        switch self {
        case .invalidURL: .configuration
        case .tooLarge, .insecureRedirect: .evidence
        default: .transport
        }
    }

    public var code: String {
        switch self {
        case .invalidURL: "fetch-invalid-url"
        case .httpStatus: "fetch-http-status"
        case .tooLarge: "fetch-too-large"
        case .tooManyRedirects: "fetch-too-many-redirects"
        case .insecureRedirect: "fetch-insecure-redirect"
        case .stalled: "fetch-stalled"
        case .truncated: "fetch-truncated"
        case .connection: "fetch-connection"
        case .transport: "fetch-transport"
        case .io: "fetch-io"
        }
    }

    public var description: String {
        switch self {
        case .invalidURL(let url): "invalid URL '\(Redaction.url(url))' (only http, https and file:/// URLs are fetched)"
        case .httpStatus(let url, let status): "\(Redaction.url(url)): HTTP \(status)"
        case .tooLarge(let url, let limit): "\(Redaction.url(url)): body is larger than the \(limit)-byte limit; download aborted"
        case .tooManyRedirects(let url, let limit):
            "\(Redaction.url(url)): more than \(limit) redirects (a redirect loop?)"
        case .insecureRedirect(let url):
            url.lowercased().hasPrefix("https:") ? "\(Redaction.url(url)): redirect from https to a non-https URL refused"
                : "\(Redaction.url(url)): redirect to a URL that is not http or https refused"
        case .stalled(let url, let seconds): "\(Redaction.url(url)): no data received for \(seconds) s; transfer abandoned"
        case .truncated(let url, let received):
            "\(Redaction.url(url)): connection closed after \(received) bytes, before the whole body arrived"
        case .connection(let url, let detail): "\(Redaction.url(url)): cannot connect: \(detail)"
        case .transport(let url, let detail): "\(Redaction.url(url)): \(detail)"
        case .io(let message): message
        }
    }

    /// Refused, reset or closed before a byte of the response arrived: a
    /// busy server's full accept queue, or a connection it had just closed.
    /// Nothing was received, so the first retry goes at once, as urllib3
    /// (pip's HTTP library) does; waiting half a second held up every
    /// request a proxy made to a small single-threaded index.
    var retriesAtOnce: Bool {
        switch self {
        case .connection: true
        case .truncated(_, let received): received == 0
        default: false
        }
    }

    /// Seconds to wait before retry number `attempt` (0 for the first).
    func retryDelay(attempt: Int, base: Double) -> Double {
        // Retried at once, the back-off starts one retry later.
        let backedOff = retriesAtOnce ? attempt - 1 : attempt
        return backedOff < 0 ? 0 : base * Double(1 << min(backedOff, 30))
    }

    var isTransient: Bool {
        switch self {
        case .httpStatus(_, let status): status == 408 || status == 429 || (500...599).contains(status)
        case .stalled, .truncated, .connection: true
        default: false
        }
    }
}
