import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerIO

/// A document read from upstream (an index page, a packument): its bytes and type.
struct UpstreamDocument: Sendable {
    var bytes: [UInt8]
    var contentType: String?
    /// The URL it finally came from (after redirects): relative links resolve against it.
    var url: String
}

/// Why an upstream document could not be had: the HTTP status to answer with, and the reason.
struct UpstreamFailure: Error, Sendable {
    var status: Int
    var reason: String
}

/// Fetches upstream documents with Bouncer's own fetcher (libcurl, size caps,
/// timeouts, https never downgraded), blocking: call it on the thread pool.
struct UpstreamClient: Sendable {
    let store: Store
    let options: FetchOptions
    /// Index pages and packuments larger than this are refused (the root index
    /// of a large registry is tens of megabytes).
    var maxDocumentSize: UInt64 = 256 << 20

    func document(_ url: String, accept: String?) -> Result<UpstreamDocument, UpstreamFailure> {
        let fetcher = Fetcher(store: store, options: options)
        var request = FetchRequest(url: url, maxSize: maxDocumentSize, headers: accept.map { ["Accept: \($0)"] } ?? [])
        // Read once and parsed: no temp file (creating and deleting one per page costs more than the page).
        request.intoMemory = true
        switch fetcher.fetch(request) {
        case .success(let fetched):
            guard let body = fetched.body else {
                return .failure(UpstreamFailure(status: 502, reason: "cannot read the downloaded \(Redaction.url(url))"))
            }
            return .success(UpstreamDocument(bytes: body, contentType: fetched.contentType, url: fetched.effectiveURL))
        case .failure(let error):
            return .failure(Self.failure(error))
        }
    }

    /// Downloads `url` into the store's temp directory and checks it against
    /// `expected` (PEP 658 metadata: small, verified by the index's digest).
    func verifiedFile(_ url: String, expected: Digest, maxSize: UInt64) -> Result<(path: String, size: UInt64), UpstreamFailure> {
        let fetcher = Fetcher(store: store, options: options)
        switch fetcher.fetch(FetchRequest(url: url, algorithms: [.sha256, expected.algorithm], maxSize: maxSize)) {
        case .success(let fetched):
            guard let actual = fetched.digests[expected.algorithm], actual.matches(expected) else {
                fetcher.discard(fetched)
                let got = fetched.digests[expected.algorithm]?.hex ?? "?"
                return .failure(UpstreamFailure(status: 403, reason: "\(Redaction.url(url)): \(expected.algorithm.rawValue) is \(got), but the index states \(expected.hex): refused"))
            }
            return .success((fetched.path, fetched.size))
        case .failure(let error):
            return .failure(Self.failure(error))
        }
    }

    static func failure(_ error: FetchError) -> UpstreamFailure {
        switch error {
        case .httpStatus(_, 404), .httpStatus(_, 410): UpstreamFailure(status: 404, reason: "not found upstream: \(error.description)")
        case .tooLarge, .insecureRedirect: UpstreamFailure(status: 403, reason: error.description)
        // Said as what it is (a private registry needs its credentials), and answered 403, not 5xx:
        // retrying will not help (npm retries a 502 for minutes), and a 401 would have pip ask for a password.
        case .httpStatus(let url, 401), .httpStatus(let url, 403):
            UpstreamFailure(status: 403, reason: "upstream refused the proxy: \(error.description) (a private registry's credentials: for npm, "
                            + "//\(URLParts.origin(url).components(splitAt: "://").last ?? "HOST")/PATH/:_authToken=TOKEN in .npmrc; for pip, in the index URL)")
        default: UpstreamFailure(status: 502, reason: "upstream unreachable: \(error.description)")
        }
    }
}

/// Recently read upstream documents, so that a file request is checked against
/// the page the client was just shown (not one the client could make up).
/// Bounded in entries and age.
final class RecentDocuments<Value: Sendable>: @unchecked Sendable {
    private let lock = Lock()
    private var entries: [String: (time: Date, value: Value)] = [:]
    let maxAge: TimeInterval
    let maxEntries: Int

    init(maxAge: TimeInterval = 300, maxEntries: Int = 512) {
        self.maxAge = maxAge
        self.maxEntries = maxEntries
    }

    func get(_ key: String) -> Value? {
        lock.lock(); defer { lock.unlock() }
        guard let entry = entries[key], Date().timeIntervalSince(entry.time) < maxAge else { return nil }
        return entry.value
    }

    /// The first fresh entry `match` finds something in.
    func first<T>(_ match: (String, Value) -> T?) -> T? {
        lock.lock(); defer { lock.unlock() }
        let now = Date()
        for (key, entry) in entries where now.timeIntervalSince(entry.time) < maxAge {
            if let found = match(key, entry.value) { return found }
        }
        return nil
    }

    func set(_ key: String, _ value: Value) {
        lock.lock(); defer { lock.unlock() }
        if entries.count >= maxEntries {
            let now = Date()
            entries = entries.filter { now.timeIntervalSince($0.value.time) < maxAge }
            if entries.count >= maxEntries, let oldest = entries.min(by: { $0.value.time < $1.value.time })?.key {
                entries[oldest] = nil
            }
        }
        entries[key] = (Date(), value)
    }
}

/// Where pip itself would take packages from: its index, extra indexes and find-links.
public struct PipUpstreams: Sendable, Equatable {
    /// nil: none (`no-index`), or pip could not be asked.
    public var index: String?
    public var extras: [String] = []
    /// http(s) pages, or absolute directories (relative ones resolved against the working directory).
    public var findLinks: [String] = []

    public init(index: String?, extras: [String] = [], findLinks: [String] = []) {
        self.index = index
        self.extras = extras
        self.findLinks = findLinks
    }
}

/// The upstreams used when no flag names them: the ones pip and npm
/// themselves would use, asked of pip and npm.
public enum UpstreamDefaults {
    /// What pip would use, from its environment variables and the
    /// configuration files `python3 -m pip` reads (with the `python3` on
    /// PATH): `PIP_INDEX_URL` or `index-url`, else pip's built-in default
    /// index; `extra-index-url` and `find-links` too. A proxy standing in for
    /// the index serves them all, so that pip, told to read none of them
    /// itself, loses nothing. `configured: false`: the caller has read pip's
    /// configuration already (the pip shim): only the built-in default.
    public static func pip(environment: [String: String] = ProcessInfo.processInfo.environment, configured: Bool = true,
                           directory: String = FileManager.default.currentDirectoryPath) -> PipUpstreams {
        var found = PipUpstreams(index: nil)
        if configured {
            let python = SearchPath.firstExecutable("python3", environment: environment) ?? ""
            let configuration = PipConfiguration.read(environment: environment, realTool: python, isolated: false)
            if configuration.noIndex { return PipUpstreams(index: nil, findLinks: findLinksLocations(configuration.findLinks, directory)) }
            found = PipUpstreams(index: configuration.indexURL, extras: configuration.extraIndexURLs,
                                 findLinks: findLinksLocations(configuration.findLinks, directory))
        }
        if found.index == nil {
            // pip's own default, from pip (never written here). Isolated (-I): `-c` would put the working
            // folder first on sys.path, and a pip/ there (an unpacked archive, a checkout) ran (red team).
            let code = "from pip._internal.models.index import PyPI; print(PyPI.simple_url)"
            found.index = run(["python3", "-I", "-c", code], environment: environment)?.trimmingWhitespace().nonEmpty
        }
        return found
    }

    /// pip's index alone (`pip(environment:configured:)`).
    public static func pipIndex(environment: [String: String] = ProcessInfo.processInfo.environment, configured: Bool = true) -> String? {
        pip(environment: environment, configured: configured).index
    }

    /// find-links as the proxy takes them: URLs as they are, `file://` and
    /// relative paths as absolute directories (pip resolves them against its
    /// working directory); what is neither a URL nor a directory is left out,
    /// as pip finds nothing there either.
    static func findLinksLocations(_ links: [String], _ directory: String) -> [String] {
        links.map { PipConfiguration.findLinksLocation($0, cwd: directory) }
            .filter { PipConfiguration.isRemote($0) || Filesystem.isDirectory($0) }
    }

    /// `npm_config_registry`, else `npm config get registry`.
    public static func npmRegistry(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        for key in ["npm_config_registry", "NPM_CONFIG_REGISTRY"] {
            if let explicit = environment[key], !explicit.isEmpty { return explicit }
        }
        return run(["npm", "config", "get", "registry"], environment: environment)?.trimmingWhitespace().nonEmpty
    }


    /// Runs a command through /usr/bin/env (found on PATH) and returns its standard output (nil on failure).
    static func run(_ arguments: [String], environment: [String: String]) -> String? {
        guard let ran = try? Spawn.output("/usr/bin/env", arguments, environment: environment), ran.status == 0 else { return nil }
        return String(decoding: ran.output, as: UTF8.self)
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
