import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix
import NIOHTTP1
import BouncerBase
import BouncerIO
import BouncerPolicy

/// What `bouncer serve` was asked to do.
public struct ServeSettings: Sendable {
    public var host: String
    public var port: Int
    public var policy: Policy
    /// nil: the upstream could not be determined; its routes answer 502 saying so.
    public var pypi: PyPISources
    public var npmUpstream: String?
    /// Each scope's own registry (`--npm-scope-upstream`, or npm's `@scope:registry`
    /// settings): that scope's packuments and tarballs come from it. URLs end in `/`.
    public var npmScopes: [String: String] = [:]
    /// npm's configuration (`NpmConfiguration.settings`), for the credentials it gives
    /// registries, and the registries it names (a tarball on a registry's host gets its credentials).
    public var npmSettings: [String: String] = [:]
    public var npmRegistries: [String] = []
    /// `--upstream-credentials`: origin → Authorization value, from a shim.
    public var upstreamCredentials: [String: String] = [:]
    /// No --npm-upstream: npm's configured registry, asked of npm at the first request.
    public var npmFromConfig = true
    /// Packuments keep the registry's tarball URLs (the shims' npm is sent here by replace-registry-host).
    public var npmKeepsTarballURLs = false
    /// `--npm-project`: the proxy serves one npm run on one project (the npm shim's), so every
    /// packument it serves may be part of one tree (`NpmCommandClaims`).
    public var npmOneProject = false
    /// `--npm-claimed-command`: the commands the project's lock gives its top-level packages
    /// (npm fetches no packument for those), claimed before any packument is served.
    public var npmClaimedCommands: [(command: String, package: String)] = []
    /// `--events FILE`: JSON lines for the shim that started this proxy.
    public var eventsFile: String?
    public var quiet: Bool
    public var guardOptions: GuardOptions
    public var fetchOptions: FetchOptions
    public var store: Store
    /// `--npm-expect FILE`: the tarballs of the lock the npm shim installs from, verified ahead.
    public var npmExpected: [NpmExpectation.Tarball] = []
    /// A listening socket to serve on instead of binding `host:port` (`--listen-fd`).
    public var listenFD: Int32?
    /// Threads that run guard evaluations and upstream reads (they block on libcurl).
    public var workers: Int = 16
    /// Files verified ahead of their request at once (`--verify-ahead`; 0: none).
    public var verifyAhead: Int = 2
    /// What the pip shim expects its pip to run on (`--pypi-platform-guess`), until pip says.
    public var pypiPlatformGuess: ClientPlatform?

    public init(host: String, port: Int, policy: Policy, pypi: PyPISources, npmUpstream: String?, quiet: Bool,
                guardOptions: GuardOptions, fetchOptions: FetchOptions, store: Store, eventsFile: String? = nil) {
        self.host = host
        self.port = port
        self.policy = policy
        self.pypi = pypi
        self.eventsFile = eventsFile
        self.npmUpstream = npmUpstream.map(Self.withSlash)
        self.quiet = quiet
        self.guardOptions = guardOptions
        self.fetchOptions = fetchOptions
        self.store = store
    }

    public static func withSlash(_ url: String) -> String { url.hasSuffix("/") ? url : url + "/" }
}

/// An HTTP response the handlers produce: a small body in memory, or an
/// open descriptor on verified bytes streamed from disk.
enum Reply: Sendable {
    case bytes(status: HTTPResponseStatus, type: String, body: [UInt8], headers: [(String, String)] = [])
    case file(fd: Int32, size: UInt64, type: String)

    static func text(_ status: HTTPResponseStatus, _ line: String) -> Reply {
        // One line: a refusal's reason never spills over into what a client might parse as more.
        let single = line.replacing("\r", with: " ").replacing("\n", with: " ")
        return .bytes(status: status, type: "text/plain; charset=utf-8", body: Array((single + "\n").utf8))
    }
}

/// The verifying registry proxy (design.md, "The verifying registry proxy").
public final class RegistryProxy: Sendable {
    let settings: ServeSettings
    let pool: NIOThreadPool
    let gate: ArtifactGate
    let upstream: UpstreamClient
    let pypiPages = RecentDocuments<ProjectPage>()
    /// Pages read ahead for `--pypi-expect` and what it requires, each served once (then read afresh).
    let pagesAhead = PagesAhead()
    /// The base URL once listening (pages read ahead are rendered for it).
    let servingBase = SharedValue<String>()
    /// Projects whose pages were read ahead (at most once each).
    let prefetched = NameSet()
    /// What the client runs on, from its first request's User-Agent (or the
    /// pip shim's guess until then): read ahead waits for it to pick among
    /// platform wheels (`--pypi-expect`).
    let clientPlatform = PlatformWaiters()
    /// `--npm-expect`: the npm shim's locked tarballs, by `NAME/-/FILE`.
    let npmExpected: [String: NpmExpectation.Tarball]
    let npmTarballs = RecentDocuments<[String: NpmTarball]>()
    let npmCommandClaims = NpmCommandClaims()
    let log: ServeLog
    /// pip's own index, extra indexes and find-links, when no `--pypi-upstream` names one.
    let lazyPip: LazyUpstream<PipUpstreams>?
    let lazyNpm: LazyUpstream<String?>?

    public init(settings: ServeSettings) {
        self.settings = settings
        for (command, package) in settings.npmClaimedCommands { _ = npmCommandClaims.claim([command], by: package) }
        let pool = NIOThreadPool(numberOfThreads: settings.workers)
        pool.start()
        self.pool = pool
        var fetchOptions = settings.fetchOptions
        fetchOptions.progress = false
        // What a client would send upstream, the proxy sends (and nothing else): npm's
        // registry credentials, and those in pip's index URLs (pip's, when read later).
        let credentials = UpstreamCredentials(npmSettings: settings.npmSettings, npmRegistries: settings.npmRegistries,
                                              origins: settings.upstreamCredentials)
        credentials.add(urls: [settings.pypi.primary].compactMap { $0 } + settings.pypi.extras + settings.pypi.findLinks)
        fetchOptions.authorization = { credentials.authorization(for: $0) }
        // npm's client certificate for a registry's URLs, else Bouncer's own (BOUNCER_CLIENT_CERT: pip's).
        let everywhere = fetchOptions.clientCertificate
        fetchOptions.clientCertificate = { credentials.clientCertificate(for: $0) ?? everywhere?($0) }
        // pip also takes an index host's credentials from a netrc file ($NETRC, else ~/.netrc).
        let variables = ProcessInfo.processInfo.environment
        let netrc = variables["NETRC"].flatMap { $0.isEmpty ? nil : $0 } ?? Filesystem.homeDirectory(environment: variables) + "/.netrc"
        if Filesystem.isFile(netrc) { fetchOptions.netrcFile = netrc }
        upstream = UpstreamClient(store: settings.store, options: fetchOptions)
        let policy = settings.policy, guardOptions = settings.guardOptions, store = settings.store, options = fetchOptions
        // The same bytes served again are not opened again: see InspectionMemo.
        let inspections = InspectionMemo()
        gate = ArtifactGate(pool: pool, maxAnticipating: settings.verifyAhead, lockStore: LockStore(path: policy.lockfile)) {
            // The time of each request, not of the start: releases age and exceptions expire while it serves.
            var current = guardOptions
            current.now = Date()
            return PolicyGuard(policy: policy, fetcher: Fetcher(store: store, options: options), options: current,
                               inspections: inspections)
        }
        log = ServeLog(quiet: settings.quiet, eventsFile: settings.eventsFile)
        var expected: [String: NpmExpectation.Tarball] = [:]
        for tarball in settings.npmExpected { expected[tarball.name + "/-/" + tarball.file] = tarball }
        npmExpected = expected
        if let guessed = settings.pypiPlatformGuess { clientPlatform.guess(guessed) }
        let environment = ProcessInfo.processInfo.environment
        let configured = !settings.pypi.builtinDefaultOnly
        lazyPip = settings.pypi.primaryFromPip ? LazyUpstream {
            let found = UpstreamDefaults.pip(environment: environment, configured: configured)
            credentials.add(urls: [found.index].compactMap { $0 } + found.extras + found.findLinks)
            return found
        } : nil
        lazyNpm = settings.npmUpstream == nil && settings.npmFromConfig ? LazyUpstream { UpstreamDefaults.npmRegistry(environment: environment).map(PyPISources.withSlash) } : nil
        gate.onVerified = { [weak self] request, path in self?.learn(from: request, path: path) }
        // Asked now, in the background: the answer is ready by the time a client (still starting up) asks.
        if let lazyPip { pool.submit { _ in _ = lazyPip.value() } }
        if let lazyNpm { pool.submit { _ in _ = lazyNpm.value() } }
        // Likewise libcurl and the CA file, which every first upstream request would wait for
        // (when an upstream may be https: one asked of pip or npm is not known yet).
        let pypi = settings.pypi
        let upstreams = [pypi.primary, settings.npmUpstream].compactMap { $0 } + pypi.extras + pypi.findLinks + settings.npmScopes.values
        if pypi.primaryFromPip || lazyNpm != nil || upstreams.contains(where: { $0.lowercased().hasPrefix("https:") }) {
            let fetcher = Fetcher(store: store, options: options)
            pool.submit { _ in fetcher.prepare() }
        }
    }

    /// Binds, calls `ready` with the base URL, and serves until the task is cancelled.
    public func run(ready: @Sendable (String) -> Void) async throws {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        let initializer: @Sendable (Channel) -> EventLoopFuture<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>> = { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
            }
        }
        let server: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>
        if let fd = settings.listenFD {
            server = try await bootstrap.bind(fd, childChannelInitializer: initializer)
        } else {
            server = try await bootstrap.bind(host: settings.host, port: settings.port, childChannelInitializer: initializer)
        }
        let port = server.channel.localAddress?.port ?? settings.port
        let host = settings.host.contains(":") ? "[\(settings.host)]" : settings.host
        let base = "http://\(host):\(port)"
        servingBase.set(base)
        ready(base)
        if !settings.pypi.expected.isEmpty {
            Task { await self.prefetchExpected() }
        }
        if !settings.npmExpected.isEmpty {
            Task { await self.prefetchNpmLock() }
        }
        try await withThrowingDiscardingTaskGroup { group in
            try await server.executeThenClose { inbound in
                for try await connection in inbound {
                    group.addTask { await self.serve(connection, base: base) }
                }
            }
        }
    }

    public func shutdown() {
        gate.discardPrepared()
        gate.shutdown()
        pool.shutdownGracefully { _ in }
    }

    // MARK: - HTTP

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, base: String) async {
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead? = nil
            for try await part in inbound {
                switch part {
                case .head(let received): head = received
                case .body: continue // request bodies (npm audit's POST) are not read
                case .end:
                    guard let request = head else { continue }
                    head = nil
                    let reply = await self.route(request, base: self.base(for: request, fallback: base))
                    try await self.send(reply, for: request, to: outbound)
                    if !request.isKeepAlive { return }
                }
            }
        }
    }

    /// The base URL the client used (links must work for whoever reached us,
    /// e.g. a shared service on 0.0.0.0); the listening address when the Host header is unusable.
    private func base(for request: HTTPRequestHead, fallback: String) -> String {
        guard let host = request.headers.first(name: "host"), !host.isEmpty, host.count <= 255,
              host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ".-:[]".contains($0)) }) else { return fallback }
        return "http://" + host
    }

    private func send(_ reply: Reply, for request: HTTPRequestHead,
                      to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Connection", value: request.isKeepAlive ? "keep-alive" : "close")
        let headOnly = request.method == .HEAD
        switch reply {
        case .bytes(let status, let type, let body, let extra):
            headers.add(name: "Content-Type", value: type)
            headers.add(name: "Content-Length", value: String(body.count))
            for (name, value) in extra { headers.add(name: name, value: value) }
            try await outbound.write(.head(HTTPResponseHead(version: request.version, status: status, headers: headers)))
            if !headOnly && !body.isEmpty { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
            try await outbound.write(.end(nil))
        case .file(let fd, let size, let type):
            defer { close(fd) }
            headers.add(name: "Content-Type", value: type)
            headers.add(name: "Accept-Ranges", value: "bytes")
            // The whole file has passed before any part of it is served.
            let status: HTTPResponseStatus
            var (offset, end) = (UInt64(0), size)
            // Ranges are defined for GET only (RFC 9110, 14.2).
            let range = headOnly ? nil : request.headers.first(name: "range")
            switch ByteRange(header: range, ifRange: request.headers.first(name: "if-range"), size: size) {
            case .whole:
                status = .ok
            case .part(let first, let last):
                status = .partialContent
                (offset, end) = (first, last + 1)
                headers.add(name: "Content-Range", value: "bytes \(first)-\(last)/\(size)")
            case .unsatisfiable:
                status = .rangeNotSatisfiable
                end = 0
                headers.add(name: "Content-Range", value: "bytes */\(size)")
            }
            headers.add(name: "Content-Length", value: String(end - offset))
            try await outbound.write(.head(HTTPResponseHead(version: request.version, status: status, headers: headers)))
            if !headOnly {
                // Streamed from the verified file in chunks; the writer's back-pressure keeps
                // memory flat however large the artifact. A client gone mid-way ends it here.
                var chunk = [UInt8](repeating: 0, count: 256 * 1024)
                while offset < end {
                    let wanted = Int(min(UInt64(chunk.count), end - offset))
                    let count = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, wanted, off_t(offset)) }
                    guard count > 0 else { throw UpstreamFailure(status: 500, reason: "short read of the verified file") }
                    try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: chunk[0..<count]))))
                    offset += UInt64(count)
                }
            }
            try await outbound.write(.end(nil))
        }
    }

    // MARK: - Routing

    func route(_ request: HTTPRequestHead, base: String) async -> Reply {
        guard request.method == .GET || request.method == .HEAD else {
            if request.method == .POST, request.uri.hasPrefix("/npm/-/npm/v1/security/") {
                return .text(.notFound, "npm audit is not answered by bouncer serve")
            }
            return .text(.methodNotAllowed, "only GET and HEAD are served")
        }
        let path = request.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let raw = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        var segments: [String] = []
        for item in raw {
            guard let decoded = PathCoding.decode(item) else { return .text(.badRequest, "malformed percent-encoding in the path") }
            segments.append(decoded)
        }
        let trailingSlash = path.hasSuffix("/") && segments.count > 0
        if trailingSlash { segments.removeLast() }
        let accept = request.headers[canonicalForm: "accept"].joined(separator: ", ")
        switch segments.first {
        case "pypi"?:
            return await pypi(Array(segments.dropFirst()), accept: accept.isEmpty ? nil : accept, base: base,
                              userAgent: request.headers.first(name: "user-agent"))
        case "npm"?:
            return await npm(Array(segments.dropFirst()), rawSegments: raw.dropFirst().map(String.init),
                             accept: accept.isEmpty ? nil : accept, base: base,
                             statedIntegrity: request.headers.first(name: "pacote-integrity"))
        case nil, ""?:
            // Which policy file it judges by (its path, hashed: not shown to the network): a shim on this
            // machine hands its tool to this proxy only when that is its own (ProxyCoverage.localServe).
            return .text(.ok, "bouncer serve: \(base)/pypi/simple/ (pip, uv), \(base)/npm/ (npm) policy: \(Policy.fileMark(settings.policy.file))")
        default:
            return .text(.notFound, "not found: the proxy serves /pypi/simple/ and /npm/")
        }
    }

    /// Runs blocking work (libcurl reads) on the worker threads.
    func blocking<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T? {
        try? await pool.runIfActive(body)
    }
}

/// One line per event on stderr (refusals always, verified artifacts unless
/// --quiet), and with `--events FILE` one JSON object per line for the shim
/// that started the proxy: what it verified and what it refused, so the shim
/// can say why the real tool stopped.
final class ServeLog: Sendable {
    let quiet: Bool
    private let lock = Lock()
    /// O_APPEND descriptor of the events file, or -1.
    private let events: Int32

    init(quiet: Bool, eventsFile: String? = nil) {
        self.quiet = quiet
        events = eventsFile.map { open($0, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600) } ?? -1
    }

    func info(_ line: String) {
        if !quiet { write(line) }
    }

    func error(_ line: String) { write(line) }

    func verified(_ outcome: GuardOutcome) {
        for line in outcome.humanLines() { info(line) }
        let warnings = outcome.warnings + outcome.notes
        event(["event": .string("verified"), "url": .string(outcome.shownURL),
               "size": .integer(Int64(outcome.size ?? 0)), "sha256": .string(outcome.sha256?.hex ?? ""),
               "proofs": .array(outcome.proofs.map { .string($0.summary) }), "warnings": .array(warnings.map { .string($0) }),
               "package": outcome.request.package.map { .string($0) } ?? .null,
               "version": outcome.request.version.map { .string($0) } ?? .null])
    }

    func refused(_ request: ArtifactRequest, message: String, status: Int, hint: String? = nil, family: ErrorFamily? = .evidence) {
        error("\(status) \(message)")
        event(["event": .string("refused"), "url": .string(Redaction.url(request.url)), "status": .integer(Int64(status)),
               "message": .string(message), "hint": hint.map { .string($0) } ?? .null,
               "exit": .integer(Int64((family ?? .evidence).exitCode)),
               "package": request.package.map { .string($0) } ?? .null, "version": request.version.map { .string($0) } ?? .null])
    }

    /// A file left off a page, said to the shim only (pip then reports "no matching distribution").
    func hidden(_ request: ArtifactRequest, file: String, reason: String) {
        event(["event": .string("hidden"), "url": .string(file), "message": .string(reason),
               "package": request.package.map { .string($0) } ?? .null, "version": request.version.map { .string($0) } ?? .null])
    }

    /// A page or packument upstream would not give (not a 404: unreachable, or
    /// refusing the proxy's credentials), said on stderr and to the shim (the
    /// tool then reports only "no matching distribution" or its own status).
    func unreachable(_ what: String, status: Int, reason: String) {
        error("\(status) \(what): \(reason)")
        event(["event": .string("unreachable"), "url": .string(what), "message": .string(reason), "status": .integer(Int64(status))])
    }

    private func event(_ fields: [String: JSON]) {
        guard events >= 0 else { return }
        let line = JSON.object(fields).serialized() + [0x0A]
        lock.lock(); defer { lock.unlock() }
        _ = line.withUnsafeBytes { Glibc.write(events, $0.baseAddress, $0.count) }
    }

    private func write(_ line: String) {
        let text = "bouncer serve: " + line.replacing("\n", with: " ")
        lock.lock(); defer { lock.unlock() }
        StandardError.line(text)
    }
}

/// A set of names shared between tasks.
final class NameSet: @unchecked Sendable {
    private let mutex = Lock()
    private var names: Set<String> = []

    /// Whether `name` was new.
    func insert(_ name: String) -> Bool {
        mutex.lock(); defer { mutex.unlock() }
        return names.insert(name).inserted
    }
}

/// Work that needs the client's platform, run once a request has said it,
/// or at once on the pip shim's guess (`guess`: pip's interpreter, before pip
/// has started) and again should the client then say otherwise. The first
/// platform a client says is kept: a shim's proxy serves one pip (and the
/// build-isolation pips it starts, on the same interpreter). Running work
/// twice costs only a verification ahead that no one asks for.
final class PlatformWaiters: @unchecked Sendable {
    private let mutex = Lock()
    private var platform: ClientPlatform?
    /// A client said it (not only guessed).
    private var said = false
    /// Work to run (again) once a client says its platform.
    private var waiting: [@Sendable (ClientPlatform) -> Void] = []

    /// Runs `body` with the platform: now when it is known or guessed, and
    /// (again, if it differs from the guess) when a client says it.
    func whenKnown(_ body: @escaping @Sendable (ClientPlatform) -> Void) {
        mutex.lock()
        if !said { waiting.append(body) }
        let known = platform
        mutex.unlock()
        if let known { body(known) }
    }

    /// What the client probably runs on; the first guess counts, and none after a client has said.
    func guess(_ guessed: ClientPlatform) {
        mutex.lock()
        guard platform == nil else {
            mutex.unlock()
            return
        }
        platform = guessed
        let ready = waiting
        mutex.unlock()
        for body in ready { body(guessed) }
    }

    func learn(_ learnt: ClientPlatform) {
        mutex.lock()
        guard !said else {
            mutex.unlock()
            return
        }
        said = true
        let ready = platform == learnt ? [] : waiting
        platform = learnt
        waiting = []
        mutex.unlock()
        for body in ready { body(learnt) }
    }
}

/// Project pages read ahead, each handed to one client request: ready (for
/// a minute), or awaited while it is still being read.
final class PagesAhead: @unchecked Sendable {
    private let mutex = Lock()
    private var reading: [String: Task<AheadPage?, Never>] = [:]
    private var ready: [String: (at: Date, page: AheadPage)] = [:]
    let maxAge: TimeInterval = 60

    func start(_ name: String, _ task: Task<AheadPage?, Never>) {
        mutex.lock(); defer { mutex.unlock() }
        reading[name] = task
    }

    /// Kept for a client unless one already took the read while it ran.
    func finish(_ name: String, _ page: AheadPage?) {
        mutex.lock(); defer { mutex.unlock() }
        guard reading.removeValue(forKey: name) != nil, let page else { return }
        ready[name] = (Date(), page)
    }

    func take(_ name: String) async -> AheadPage? {
        switch claim(name) {
        case .ready(let page): return page
        case .reading(let task): return await task.value
        case .none: return nil
        }
    }

    private enum Claim { case ready(AheadPage), reading(Task<AheadPage?, Never>), none }

    private func claim(_ name: String) -> Claim {
        mutex.lock(); defer { mutex.unlock() }
        if let entry = ready.removeValue(forKey: name) {
            return Date().timeIntervalSince(entry.at) < maxAge ? .ready(entry.page) : .none
        }
        return reading.removeValue(forKey: name).map { .reading($0) } ?? .none
    }
}

/// A value set once, read from any task.
final class SharedValue<Value: Sendable>: @unchecked Sendable {
    private let mutex = Lock()
    private var stored: Value?
    var value: Value? { mutex.lock(); defer { mutex.unlock() }; return stored }
    func set(_ value: Value) { mutex.lock(); stored = value; mutex.unlock() }
}
