import ArgumentParser
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerTools

/// The flags of `bouncer serve`, parsed both here (for `--help` and usage
/// errors) and by the `bouncer-serve` binary that does the work.
public struct ServeOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Address to listen on; port 0 picks a free port.", valueName: "HOST:PORT"))
    public var listen: String = "127.0.0.1:0"

    @Option(help: ArgumentHelp("The policy (default: BOUNCER_POLICY, else the nearest policy.json).", valueName: "FILE"))
    public var policy: String?

    @Option(name: .customLong("pypi-upstream"),
            help: ArgumentHelp("The simple index served under /pypi/simple/ (default: pip's own configured index, with the extra indexes and find-links pip's configuration names).", valueName: "URL"))
    public var pypiUpstream: String?

    @Option(name: .customLong("pypi-extra-upstream"),
            help: ArgumentHelp("Another simple index whose files join the pages (repeatable); the policy judges them as not the primary index.", valueName: "URL"))
    public var pypiExtraUpstreams: [String] = []

    @Option(name: .customLong("pypi-find-links"),
            help: ArgumentHelp("A page of links or a local directory of distributions whose files join the pages (repeatable), as pip's --find-links.", valueName: "URL|DIR"))
    public var pypiFindLinks: [String] = []

    @Flag(name: .customLong("pypi-no-index"), help: .hidden)
    public var pypiNoIndex = false

    @Flag(name: .customLong("pypi-builtin-default"), help: .hidden)
    public var pypiBuiltinDefault = false

    /// A listening socket the shim bound and handed over (the tool starts before the proxy is up).
    @Option(name: .customLong("listen-fd"), help: .hidden)
    public var listenFD: Int32?

    @Option(name: .customLong("npm-expect"), help: .hidden)
    public var npmExpect: String?

    @Option(name: .customLong("pypi-expect"), help: .hidden)
    public var pypiExpect: [String] = []

    /// What the pip shim expects its pip to run on (PYTHON:CPU:GLIBC), so platform wheels are read ahead before pip's first request.
    @Option(name: .customLong("pypi-platform-guess"), help: .hidden)
    public var pypiPlatformGuess: String?

    @Flag(name: .customLong("no-npm"), help: .hidden)
    public var noNpm = false

    @Option(name: .customLong("stated-hashes"), help: .hidden)
    public var statedHashes: String?

    @Flag(name: .customLong("npm-keep-tarball-urls"), help: .hidden)
    public var npmKeepTarballURLs = false

    @Option(name: .customLong("events"), help: .hidden)
    public var events: String?

    @Option(name: .customLong("npm-upstream"),
            help: ArgumentHelp("The registry served under /npm/ (default: npm's configured registry).", valueName: "URL"))
    public var npmUpstream: String?

    @Option(name: .customLong("npm-scope-upstream"),
            help: ArgumentHelp("A scope's own registry, served under /npm/ for that scope's packages (repeatable; default without --npm-upstream: the @scope:registry settings of npm's configuration).", valueName: "@SCOPE=URL"))
    public var npmScopeUpstreams: [String] = []

    /// A shim's upstream credentials (origin → Authorization), kept off the command line; read and removed at start.
    @Option(name: .customLong("upstream-credentials"), help: .hidden)
    public var upstreamCredentials: String?

    /// The project whose `.npmrc` names scopes and registry credentials (default: the working directory).
    @Option(name: .customLong("npm-project"), help: .hidden)
    public var npmProject: String?

    /// `COMMAND=PACKAGE`: a command the npm shim's project lock already gives a top-level package.
    @Option(name: .customLong("npm-claimed-command"), help: .hidden)
    public var npmClaimedCommands: [String] = []

    @Option(name: .customLong("ready-file"),
            help: ArgumentHelp("When listening, write the base URL (http://HOST:PORT) to this file.", valueName: "FILE"))
    public var readyFile: String?

    @Option(name: .customLong("verify-ahead"),
            help: ArgumentHelp("Verify up to N files ahead of the client's request: the wheel whose metadata a client just read, or a page's only universal wheel of its newest release. Done at a lower priority (nice 10) than requests; pinned and sent only when asked for; 0 turns it off.", valueName: "N"))
    public var verifyAhead: Int = 2

    @Flag(help: "Log refusals and errors only, not every verified artifact.")
    public var quiet = false

    public init() {}

    /// The same flags, spelled out again for the `bouncer-serve` binary.
    public var argumentList: [String] {
        var out = ["--listen", listen]
        if let policy { out += ["--policy", policy] }
        if let pypiUpstream { out += ["--pypi-upstream", pypiUpstream] }
        for extra in pypiExtraUpstreams { out += ["--pypi-extra-upstream", extra] }
        for link in pypiFindLinks { out += ["--pypi-find-links", link] }
        if pypiNoIndex { out.append("--pypi-no-index") }
        if pypiBuiltinDefault { out.append("--pypi-builtin-default") }
        if let listenFD { out += ["--listen-fd", String(listenFD)] }
        for project in pypiExpect { out += ["--pypi-expect", project] }
        if let npmExpect { out += ["--npm-expect", npmExpect] }
        if let pypiPlatformGuess { out += ["--pypi-platform-guess", pypiPlatformGuess] }
        if noNpm { out.append("--no-npm") }
        if let statedHashes { out += ["--stated-hashes", statedHashes] }
        if let events { out += ["--events", events] }
        if npmKeepTarballURLs { out.append("--npm-keep-tarball-urls") }
        if let npmUpstream { out += ["--npm-upstream", npmUpstream] }
        for scope in npmScopeUpstreams { out += ["--npm-scope-upstream", scope] }
        if let npmProject { out += ["--npm-project", npmProject] }
        for claim in npmClaimedCommands { out += ["--npm-claimed-command", claim] }
        if let upstreamCredentials { out += ["--upstream-credentials", upstreamCredentials] }
        if let readyFile { out += ["--ready-file", readyFile] }
        if verifyAhead != 2 { out += ["--verify-ahead", String(verifyAhead)] }
        if quiet { out.append("--quiet") }
        return out
    }
}

public let serveDiscussion = """
    A verifying registry proxy. BASE/pypi/simple/ is a PEP 503 (HTML) and PEP 691 (JSON) \
    simple index over --pypi-upstream (with the files of any --pypi-extra-upstream and \
    --pypi-find-links merged in, each judged by the index it came from); BASE/npm/ is an npm registry over --npm-upstream \
    (a scope's packages over its --npm-scope-upstream). Upstream requests carry the credentials npm's configuration \
    gives each registry (`//HOST/PATH/:_authToken`, `:_auth`, `:username` and `:_password`, `${VAR}` expanded; \
    its client certificate, `:certfile` with `:keyfile`), and \
    an index URL's USER:PASSWORD@ goes with every request to its host, as pip sends it (a host's entry in $NETRC or \
    ~/.netrc too). A client certificate in BOUNCER_CLIENT_CERT (its key in the same file or BOUNCER_CLIENT_KEY) is \
    presented to every host that asks for one; CA certificates to trust are read from BOUNCER_CA_BUNDLE. \
    Every file and tarball link points back at the proxy, and a file request is fetched, \
    verified under the policy and pinned in the lock exactly as the shims do (frozen under \
    CI=true) before any byte is sent; a refusal is HTTP 403 with a one-line reason (also on \
    stderr), an unreachable upstream 502. Yanked files, sdists in enforce mode, files no rule \
    covers (unmatched: deny) and releases younger than minimumReleaseAge are left out of the \
    index pages, so a range resolves to what can pass. When ready, the base URL is written to --ready-file and said on \
    stderr; SIGTERM or SIGINT stops it (exit 0).

    Point the clients at it: PIP_INDEX_URL=BASE/pypi/simple/, UV_DEFAULT_INDEX=BASE/pypi/simple/, \
    npm_config_registry=BASE/npm/, and for each scope served here npm_config_@SCOPE:registry=BASE/npm/ \
    (or --@SCOPE:registry=BASE/npm/ on npm's command line).
    """

/// `bouncer serve`: runs `bouncer-serve` from the same directory as this
/// binary, so `bouncer` itself (started by every shim) never links SwiftNIO.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the verifying registry proxy for pip, uv and npm.",
        discussion: serveDiscussion)

    @OptionGroup var options: ServeOptions

    func run() throws {
        guard let bouncer = ShimDispatch.currentExecutable() else {
            throw BouncerError.io("cannot tell where this bouncer binary is (/proc/self/exe)")
        }
        let server = Filesystem.split(bouncer).directory + "/bouncer-serve"
        guard access(server, X_OK) == 0 else {
            throw BouncerError(.configuration, code: "serve-missing",
                               "\(server) is missing or not executable: bouncer serve needs the bouncer-serve binary installed beside bouncer")
        }
        Console.flush()
        let argv = (["bouncer-serve"] + options.argumentList).map { strdup($0) } + [nil]
        execv(server, argv)
        throw BouncerError(.configuration, code: "exec-failed", "cannot run \(server): \(String(cString: strerror(errno)))")
    }
}
