import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerIO
import BouncerPolicy

/// A `bouncer serve` of one install's own (design.md, "The verifying registry
/// proxy"): started on 127.0.0.1:0 over the index or registry the user's
/// command and configuration name, the real tool pointed at it through the
/// environment (so its children — pip's build isolation, npm's lifecycle
/// steps — go through it too), and stopped when the tool is done. What it
/// verified and refused comes back as events, for the shim to report.
struct EphemeralProxy {
    let pid: pid_t
    /// `http://127.0.0.1:PORT`.
    let base: String
    let directory: String

    /// One thing the proxy did: a verified artifact or a refusal.
    struct Event {
        enum Kind: String { case verified, refused, hidden, unreachable }
        var kind: Kind
        var verified: Bool { kind == .verified }
        var url: String
        var package: String?
        var version: String?
        var message: String
        var hint: String?
        var exitCode: Int32
        var size: Int64
        var sha256: String
        var proofs: [String]
        var warnings: [String]
    }

    /// The `bouncer-serve` binary beside the running `bouncer`.
    static func serverBinary() throws(BouncerError) -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { throw .io("cannot tell where this bouncer binary is (/proc/self/exe)") }
        let own = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let server = Filesystem.split(own).directory + "/bouncer-serve"
        guard access(server, X_OK) == 0 else {
            throw BouncerError(.configuration, code: "serve-missing",
                               "\(server) is missing or not executable: the pip and npm shims run their installs through it")
        }
        return server
    }

    /// Starts the proxy with `arguments` (upstreams and the like) under the
    /// shim's policy. The shim binds the listening socket itself and hands it
    /// over, so the base URL is known at once and the tool starts while the
    /// proxy does (its first connections wait in the socket's backlog). Its
    /// own log goes to a file, shown if it stops on its own.
    /// `ownProcessGroup`: out of the terminal's reach (`bouncer exec`, whose
    /// command may be an interactive shell that outlives a Ctrl-C).
    static func start(_ arguments: [String], context: ShimContext, quiet: Bool = true,
                      environment: [String: String]? = nil, ownProcessGroup: Bool = false) throws(BouncerError) -> EphemeralProxy {
        let server = try serverBinary()
        let directory = try Filesystem.makePrivateDirectory(prefix: "bouncer-serve")
        let events = directory + "/events", log = directory + "/serve.log"
        let listener: (fd: Int32, port: UInt16)
        do { listener = try listen() } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        defer { close(listener.fd) }
        var all = ["--listen-fd", "3", "--policy", context.policy.path, "--events", events] + (quiet ? ["--quiet"] : [])
        do { all += try withoutCredentials(arguments, directory: directory) } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        let pid: pid_t
        do {
            // The proxy ends with this process (bouncer-serve asks for that first thing).
            pid = try Spawn.start(server, all, environment: environment ?? context.environment.variables, ownProcessGroup: ownProcessGroup,
                                  endsWithThisProcess: true) { actions in
                posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
                posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
                posix_spawn_file_actions_addopen(&actions, 2, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
                posix_spawn_file_actions_adddup2(&actions, listener.fd, 3)
            }
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        return EphemeralProxy(pid: pid, base: "http://127.0.0.1:\(listener.port)", directory: directory)
    }

    /// The arguments with every upstream URL's `user:password@` taken out
    /// (any user on the machine can read a command line in /proc), and the
    /// credentials handed over in a file only this user can read
    /// (`--upstream-credentials`); the proxy sends them as the tool would.
    static func withoutCredentials(_ arguments: [String], directory: String) throws(BouncerError) -> [String] {
        var credentials: [String: String] = [:]
        let stripped = arguments.map { argument -> String in
            // A URL, or a scope's `@SCOPE=URL`.
            let url = argument.hasPrefix("@") ? String(argument.drop { $0 != "=" }.dropFirst()) : argument
            guard let (origin, authorization) = URLParts.basicAuthorization(url) else { return argument }
            if credentials[origin] == nil { credentials[origin] = authorization }
            return String(argument.dropLast(url.count)) + URLParts.withoutCredentials(url)
        }
        guard !credentials.isEmpty else { return arguments }
        let file = directory + "/upstream-credentials.json"
        try AtomicFile.replace(file, with: JSON.object(credentials.mapValues(JSON.string)).serialized(), mode: 0o600)
        return stripped + ["--upstream-credentials", file]
    }

    /// A listening TCP socket on 127.0.0.1 and a free port, close-on-exec and
    /// above the standard descriptors (only the proxy gets it, as descriptor 3).
    static func listen() throws(BouncerError) -> (fd: Int32, port: UInt16) {
        try LoopbackPort.bind(listening: 512, for: "the verifying proxy")
    }

    /// Runs the real tool against the proxy, then stops the proxy and returns
    /// the tool's status and what the proxy did. A proxy that stops on its
    /// own (it could not start) stops the tool too, and its reason is the error.
    /// `stopOnInterruption` false: a signal is passed on to the tool and the
    /// proxy serves on until the tool ends (`bouncer exec`'s command may
    /// carry on after a Ctrl-C: an interactive shell does).
    func run(_ program: String, _ arguments: [String], environment: [String: String],
             stopOnInterruption: Bool = true) throws(BouncerError) -> (status: Int32, events: [Event]) {
        let watch = Reaped()
        let status: Int32
        do {
            // Interrupted, the proxy is stopped on purpose and the tool left to roll back in peace.
            status = try HandOver.run(program, arguments, environment: Self.reachingTheProxyDirectly(environment),
                                      onInterruption: stopOnInterruption ? { watch.stopping = true; terminate() } : nil,
                                      stopWhen: { !watch.stopping && watch.check(pid) }, wakeFor: [pid])
        } catch {
            _ = stop(reaped: watch)
            throw error
        }
        if watch.done && !watch.stopping {
            let said = (try? AtomicFile.read(directory + "/serve.log", limit: 64 << 10, code: "serve-log")).flatMap { $0 }
                .map { String(decoding: $0, as: UTF8.self) } ?? ""
            _ = stop(reaped: watch)
            throw BouncerError(.configuration, code: "serve-failed",
                               "the verifying proxy stopped: " + said.trimmingWhitespace())
        }
        return (status, stop(reaped: watch))
    }

    /// The real tool pointed straight at a running `bouncer serve` of the
    /// user's own (`ProxyCoverage.localServe`), with no proxy of the shim's:
    /// that serve verifies, and says its refusals on its own output (`serves`:
    /// "the bouncer serve at BASE"). A signal sent to Bouncer alone is passed
    /// on to the tool, as on the proxy path.
    static func runAgainst(_ serves: String, tool: String, _ program: String, _ arguments: [String],
                           environment: [String: String]) throws -> Int32 {
        let status = try Interruption.deferring { try HandOver.run(program, arguments, environment: reachingTheProxyDirectly(environment)) }
        // A failure may be the serve's refusal (a tool stopped by a signal is not).
        if status != 0, status < 128 {
            ShimOutput.error("bouncer: \(tool): \(Filesystem.split(program).name) exited with \(status); what \(serves) refused (HTTP 403), and why, it says on its own output")
        }
        return status
    }

    /// The tool's environment with the proxy's address exempt from any HTTP
    /// proxy the tool is told to use (`no_proxy` and `NO_PROXY`, which pip,
    /// npm and uv read): a proxy in between cannot reach this machine's
    /// loopback, and whatever answered in the proxy's place would reach the
    /// tool unverified. The proxy itself still fetches through them.
    static func reachingTheProxyDirectly(_ environment: [String: String]) -> [String: String] {
        var environment = environment
        environment["no_proxy"] = directHosts([environment["no_proxy"], environment["NO_PROXY"]])
        environment["NO_PROXY"] = environment["no_proxy"]
        return environment
    }

    /// Comma-separated host lists (`no_proxy`, npm's `noproxy`) as one, each
    /// host once, with the proxy's address.
    static func directHosts(_ lists: [String?]) -> String {
        var hosts: [String] = []
        for host in lists.compactMap({ $0 }).flatMap({ $0.split(separator: ",") }).map({ $0.trimmingSpaces() }) + ["127.0.0.1"]
        where !host.isEmpty && !hosts.contains(host) {
            hosts.append(host)
        }
        return hosts.joined(separator: ",")
    }

    /// HTTP proxies given to the tool itself (pip's `--proxy`, npm's `proxy`
    /// and `https-proxy`) as the proxy's own, for its upstream requests of
    /// each scheme (libcurl reads these variables).
    static func upstreamProxies(http: String?, https: String?, over environment: [String: String]) -> [String: String] {
        var environment = environment
        if let http { environment["http_proxy"] = http }
        if let https { for variable in ["https_proxy", "HTTPS_PROXY"] { environment[variable] = https } }
        return environment
    }

    /// The CA certificates the tool was told to trust (pip's `cert`, npm's
    /// `cafile`: a private index behind a company CA) as the proxy's own for
    /// its upstream requests, unless the user named one for Bouncer already.
    static func trusting(_ caFile: String?, cwd: String, over environment: [String: String]) -> [String: String] {
        handing(caFile, as: "BOUNCER_CA_BUNDLE", cwd: cwd, over: environment)
    }

    /// The client certificate the tool was told to present (pip's
    /// `client-cert`: an index that admits clients by certificate) as the
    /// proxy's own for its upstream requests, unless the user named one for
    /// Bouncer already. (npm's per-registry `certfile` and `keyfile` the
    /// proxy reads from the npmrc files itself.)
    static func presenting(_ clientCertificate: String?, cwd: String, over environment: [String: String]) -> [String: String] {
        // (pip's file holds the key too: a BOUNCER_CLIENT_KEY meant for another certificate must go.)
        handing(clientCertificate, as: "BOUNCER_CLIENT_CERT", clearing: "BOUNCER_CLIENT_KEY", cwd: cwd, over: environment)
    }

    /// `environment` with `variable` naming `file` (made absolute), unless
    /// the user set `variable` already or there is no file.
    private static func handing(_ file: String?, as variable: String, clearing other: String? = nil, cwd: String,
                                over environment: [String: String]) -> [String: String] {
        guard let file, !file.isEmpty, environment[variable].map({ $0.isEmpty }) ?? true else { return environment }
        var environment = environment
        environment[variable] = Filesystem.absolute(file, cwd: cwd)
        if let other { environment[other] = nil }
        return environment
    }

    /// Whether the proxy has exited (reaped once).
    final class Reaped: @unchecked Sendable {
        private(set) var done = false
        /// The shim stopped it (an interruption), so its end is no failure.
        var stopping = false
        func check(_ pid: pid_t) -> Bool {
            guard !done else { return true }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { done = true }
            return done
        }
    }

    /// Asks the proxy to stop (it refuses new requests; `stop` then collects).
    func terminate() { kill(pid, SIGTERM) }

    /// Stops the proxy and returns what it did. SIGTERM lets it finish what is
    /// in flight; a request still waiting on its upstream a second later has no
    /// client left (the tool has exited), so it is killed: its store and lock
    /// writes are atomic renames, never half-written.
    func stop(reaped: Reaped? = nil) -> [Event] {
        if !(reaped?.done ?? false) {
            kill(pid, SIGTERM)
            let exits = ExitWatch([pid])
            let clock = ContinuousClock()
            let deadline = clock.now.advanced(by: .seconds(1))
            var status: Int32 = 0
            var killed = false
            while waitpid(pid, &status, WNOHANG) == 0 {
                if !killed && clock.now >= deadline {
                    kill(pid, SIGKILL)
                    killed = true
                }
                exits.sleep(milliseconds: 100)
            }
        }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        guard let bytes = (try? AtomicFile.read(directory + "/events", limit: 256 << 20, code: "serve-events")).flatMap({ $0 }) else { return [] }
        return bytes.split(separator: 0x0A).compactMap { line in
            guard let event = try? JSON.parse(Array(line)), case .string(let name)? = event["event"], let kind = Event.Kind(rawValue: name) else { return nil }
            func text(_ key: String) -> String? { if case .string(let value)? = event[key] { return value } else { return nil } }
            func number(_ key: String) -> Int64 { if case .integer(let value)? = event[key] { return value } else { return 0 } }
            func list(_ key: String) -> [String] {
                guard case .array(let items)? = event[key] else { return [] }
                return items.compactMap { if case .string(let value) = $0 { return value } else { return nil } }
            }
            return Event(kind: kind, url: text("url") ?? "", package: text("package"), version: text("version"),
                         message: text("message") ?? "", hint: text("hint"), exitCode: Int32(clamping: number("exit")),
                         size: number("size"), sha256: text("sha256") ?? "", proofs: list("proofs"), warnings: list("warnings"))
        }
    }

    /// What the proxy did, said as the shims always have: a line per verified
    /// artifact (unless quiet), every warning, and every refusal with its hint.
    /// Returns the exit status for the refusals (nil: none).
    static func report(_ events: [Event], tool: String, label: (Event) -> String, quiet: Bool, context: ShimContext) -> Int32? {
        var worst: Int32? = nil
        var said: Set<String> = []
        // A registry that is down refuses every tarball of a lock: a screenful of the same reason.
        let shownRefusals = 10
        var moreRefused: [String] = []
        defer {
            if !moreRefused.isEmpty {
                let names = moreRefused.prefix(20).joined(separator: ", ") + (moreRefused.count > 20 ? ", …" : "")
                ShimOutput.error("bouncer: \(tool): … and \(moreRefused.count) more refused: \(names)")
            }
        }
        for event in events {
            let name = label(event)
            if event.verified {
                if !quiet {
                    let proofs = event.proofs.isEmpty ? "" : "; " + event.proofs.joined(separator: "; ")
                    ShimOutput.error("bouncer: \(name) <- \(event.url): \(event.size) bytes, sha256:\(event.sha256)\(proofs)")
                }
                for warning in event.warnings { ShimOutput.error("bouncer: WARNING: \(name): \(warning)") }
                if !event.warnings.isEmpty {
                    context.annotate("warning", "\(event.url): allowed with warnings: " + event.warnings.joined(separator: "; "))
                }
            } else if event.kind == .refused {
                // Several clients (pip and its retries) may ask for the same refused file: said once.
                guard said.insert(name + "\n" + event.message).inserted else { continue }
                if said.count <= shownRefusals {
                    ShimOutput.error("bouncer: \(tool): refused \(name) (\(event.url)): \(event.message)")
                    if let hint = event.hint { ShimOutput.error("hint: \(hint)") }
                } else if !moreRefused.contains(name) {
                    moreRefused.append(name)
                }
                context.annotateRefusal("refused \(name): \(event.message)")
                let code = event.exitCode == 0 ? ErrorFamily.evidence.exitCode : event.exitCode
                if worst == nil || code == ErrorFamily.evidence.exitCode { worst = code }
            }
        }
        return worst
    }

    /// Why a tool that failed found nothing to install: pages or packuments
    /// upstream would not give (once each), and files left off the pages (a
    /// few per package, and how many more).
    static func reportUnavailable(_ events: [Event], tool: String) {
        var unreachable: Set<String> = []
        for event in events where event.kind == .unreachable && unreachable.insert(event.url).inserted {
            ShimOutput.error("bouncer: \(tool): could not read \(event.url) upstream: \(event.message)")
        }
        var shown: [String: Int] = [:]
        var said: Set<String> = []
        for event in events where event.kind == .hidden && said.insert(event.url).inserted {
            let package = event.package ?? "?"
            shown[package, default: 0] += 1
            if shown[package, default: 0] <= 5 { ShimOutput.error("bouncer: \(tool): not offered: \(event.message)") }
        }
        for (package, count) in shown.sorted(by: { $0.key < $1.key }) where count > 5 {
            ShimOutput.error("bouncer: \(tool): ... and \(count - 5) more files of \(package) not offered")
        }
    }
}
