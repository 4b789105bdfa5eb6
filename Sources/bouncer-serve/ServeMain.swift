import ArgumentParser
import FoundationEssentials
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerIO
import BouncerPolicy
import BouncerCLI
import BouncerServe

/// `bouncer-serve`: the process `bouncer serve` becomes (its own binary, so
/// that `bouncer`, which every shim starts, does not link SwiftNIO).
struct ServeMain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bouncer serve",
        abstract: "Run the verifying registry proxy for pip, uv and npm.",
        discussion: serveDiscussion)

    @OptionGroup var options: ServeOptions
}

@main
enum Entrypoint {
    static func main() async {
        // It exits with its thread pool still running (a verification ahead
        // that no client waits for): OpenSSL's exit-time cleanup would free
        // the library under such a thread, which then crashes (SIGSEGV).
        OpenSSLProcess.skipCleanupAtExit()
        // A proxy of one process's own (a shim's, bouncer exec's) ends with that process, even one
        // killed outright, instead of serving on, orphaned; one whose process is gone already does
        // not start. (Killed: nobody is left to serve, and the lock and the store are only ever
        // replaced whole.)
        if !Spawn.endWithStarter() { exit(0) }
        // libarchive converts each zip entry's DOS time with mktime, and with
        // TZ unset glibc stats /etc/localtime on every call (6,757 stats for
        // one 31-wheel install). A TZ naming the same file is read once.
        // Set before any thread starts (setenv is not thread-safe).
        if getenv("TZ") == nil { setenv("TZ", ":/etc/localtime", 0) }
        let command: ParsableCommand
        do {
            command = try ServeMain.parseAsRoot(Array(CommandLine.arguments.dropFirst()))
        } catch {
            if ServeMain.exitCode(for: error) == .success {
                print(ServeMain.fullMessage(for: error))
                exit(0)
            }
            fail(ErrorFamily.configuration, ServeMain.fullMessage(for: error))
        }
        // `--help` parses as ArgumentParser's own help command, not as ServeMain.
        guard let parsed = command as? ServeMain else {
            print(ServeMain.helpMessage())
            exit(0)
        }
        let options = parsed.options
        let (host, port) = parseListen(options.listen)
        let policy: Policy
        do { policy = try PolicyGuard.locatePolicy(explicit: options.policy) } catch {
            fail(error.family, error.description)
        }
        let environment = ProcessInfo.processInfo.environment
        var guardOptions = GuardOptions()
        // As for the shims: in CI the lock is frozen (an install may only take what is pinned).
        guardOptions.frozen = environment["CI"] == "true" && environment["BOUNCER_NO_FROZEN"] != "1"
        // pip's own index is asked of pip at the first request, not before the proxy is ready.
        let pypi = options.pypiUpstream
        let npm = options.npmUpstream
        for (flag, value) in [("--pypi-upstream", pypi), ("--npm-upstream", npm)] + options.pypiExtraUpstreams.map({ ("--pypi-extra-upstream", $0) }) {
            if let value, !PipConfiguration.isRemote(value) {
                fail(.configuration, "\(flag) \(value): an http or https URL is needed")
            }
        }
        var findLinks: [String] = []
        for link in options.pypiFindLinks {
            let location = PipConfiguration.findLinksLocation(link, cwd: FileManager.default.currentDirectoryPath)
            guard PipConfiguration.isRemote(location) || Filesystem.isDirectory(location) else {
                fail(.configuration, "--pypi-find-links \(link): not an http(s) URL or a directory")
            }
            findLinks.append(location)
        }
        var stated: [String: [Digest]] = [:]
        if let file = options.statedHashes {
            do { stated = try PyPISources.readStatedHashes(file) } catch { fail(error.family, error.description) }
        }
        var sources = PyPISources(primary: pypi, primaryFromPip: !options.pypiNoIndex, extras: options.pypiExtraUpstreams,
                                  findLinks: findLinks, statedHashes: stated)
        sources.builtinDefaultOnly = options.pypiBuiltinDefault
        for text in options.pypiExpect {
            guard let project = PyPISources.ExpectedProject(text) else { fail(.configuration, "--pypi-expect \(text): not NAME or NAME==VERSION") }
            sources.expected.append(project)
        }
        var settings = ServeSettings(host: host, port: port, policy: policy, pypi: sources, npmUpstream: npm,
                                     quiet: options.quiet, guardOptions: guardOptions,
                                     fetchOptions: FetchOptions(environment: environment), store: .standard(),
                                     eventsFile: options.events)
        settings.npmKeepsTarballURLs = options.npmKeepTarballURLs
        settings.npmOneProject = options.npmProject != nil
        for text in options.npmClaimedCommands {
            guard let equals = text.firstIndex(of: "="), equals != text.startIndex, text.index(after: equals) != text.endIndex else {
                fail(.configuration, "--npm-claimed-command \(text): COMMAND=PACKAGE is needed")
            }
            settings.npmClaimedCommands.append((String(text[..<equals]), String(text[text.index(after: equals)...])))
        }
        guard (0...64).contains(options.verifyAhead) else { fail(.configuration, "--verify-ahead takes 0 to 64, not \(options.verifyAhead)") }
        settings.verifyAhead = options.verifyAhead
        if let text = options.pypiPlatformGuess {
            guard let guessed = PlatformGuess(text) else { fail(.configuration, "--pypi-platform-guess \(text): not PYTHON:CPU:GLIBC (e.g. 3.11:x86_64:2.36)") }
            settings.pypiPlatformGuess = ClientPlatform(guess: guessed)
        }
        if let file = options.upstreamCredentials {
            do { settings.upstreamCredentials = try UpstreamCredentials.read(file) } catch { fail(error.family, error.description) }
            unlink(file)
        }
        if let file = options.npmExpect {
            do { settings.npmExpected = try NpmExpectation.read(file) } catch { fail(error.family, error.description) }
        }
        if let fd = options.listenFD {
            // Only a listening TCP socket (what the shims hand over) is served on.
            var info = stat()
            var listening: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFSOCK,
                  getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) == 0, listening == 1 else {
                fail(.configuration, "--listen-fd \(fd): not a listening socket")
            }
            settings.listenFD = fd
        }
        // A pip shim's proxy serves no npm: npm is not asked for its registry.
        settings.npmFromConfig = !options.noNpm
        if !options.noNpm { configureNpm(&settings, options: options, environment: environment) }
        let proxy = RegistryProxy(settings: settings)
        let readyFile = options.readyFile
        // A ready file left by a proxy that was killed names a dead address: gone before we listen.
        if let readyFile { unlink(readyFile) }
        let quiet = options.quiet
        let noIndex = options.pypiNoIndex

        let server = Task {
            try await proxy.run { base in
                if let readyFile {
                    // Written whole, then renamed: whoever polls for the file never reads half a URL.
                    let temporary = readyFile + ".\(getpid()).tmp"
                    guard FileManager.default.createFile(atPath: temporary, contents: Data((base + "\n").utf8)),
                          rename(temporary, readyFile) == 0 else {
                        fail(.transport, "cannot write the ready file \(readyFile): \(String(cString: strerror(errno)))")
                    }
                }
                var line = "bouncer serve: listening on \(base)" + (readyFile.map { " (written to \($0))" } ?? "")
                if !quiet {
                    line += "; PyPI upstream \(pypi.map { Redaction.url($0) } ?? (noIndex ? "none" : "pip's configured index, extra indexes and find-links")), npm upstream \(npm.map { Redaction.url($0) } ?? "npm's configured registry")"
                }
                StandardError.line(line)
            }
        }
        // SIGTERM / SIGINT: stop accepting, let the connections end, exit 0.
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            // @Sendable: the handler runs on a global queue, not on the main actor `main` runs on.
            source.setEventHandler { @Sendable in
                StandardError.line("bouncer serve: stopping (signal \(number))")
                server.cancel()
                // Transfers in flight get a few seconds; the lock and the store are written atomically either way.
                DispatchQueue.global().asyncAfter(deadline: .now() + 5) { @Sendable in finish(readyFile, 0) }
            }
            source.resume()
            signalSources.append(source)
        }
        do {
            try await server.value
        } catch is CancellationError {
        } catch {
            if !server.isCancelled { fail(.transport, "cannot listen on \(options.listen): \(error)") }
        }
        proxy.shutdown()
        finish(readyFile, 0)
    }

    nonisolated(unsafe) static var signalSources: [DispatchSourceSignal] = []

    /// Each scope's registry and the credentials for the npm registries, from
    /// npm's configuration (the project's `.npmrc`, the user's, the global one,
    /// `npm_config_*`) and the flags. Scopes come from npm's configuration only
    /// when no --npm-upstream names the registry (as pip's extra indexes do).
    static func configureNpm(_ settings: inout ServeSettings, options: ServeOptions, environment: [String: String]) {
        let cwd = FileManager.default.currentDirectoryPath
        let project = options.npmProject.map { Filesystem.absolute($0, cwd: cwd) } ?? NpmConfiguration.localPrefix(cwd: cwd)
        let npm = SearchPath.firstExecutable("npm", environment: environment) ?? "/usr/bin/npm"
        let npmrc = NpmConfiguration.entries(project: project, environment: environment, realTool: npm)
        var scopes: [String: String] = [:]
        if options.npmUpstream == nil {
            for (scope, url) in NpmConfiguration.scopeRegistries(arguments: [], environment: environment, npmrc: npmrc)
            where PipConfiguration.isRemote(url) {
                scopes[scope] = url
            }
        }
        for text in options.npmScopeUpstreams {
            guard let equals = text.firstIndex(of: "="), NpmConfiguration.isScope(String(text[..<equals])) else {
                fail(.configuration, "--npm-scope-upstream \(text): @SCOPE=URL is needed")
            }
            let url = String(text[text.index(after: equals)...])
            guard PipConfiguration.isRemote(url) else {
                fail(.configuration, "--npm-scope-upstream \(text): an http or https URL is needed")
            }
            scopes[String(text[..<equals])] = url
        }
        settings.npmScopes = scopes.mapValues(ServeSettings.withSlash)
        settings.npmSettings = NpmConfiguration.settings(npmrc, environment: environment)
        settings.npmRegistries = ([settings.npmUpstream, NpmConfiguration.registry(npmrc)].compactMap { $0 } + settings.npmScopes.values)
            .map(ServeSettings.withSlash)
    }

    static func finish(_ readyFile: String?, _ code: Int32) -> Never {
        if let readyFile { unlink(readyFile) }
        exit(code)
    }

    /// HOST:PORT, [IPv6]:PORT; a bad value is a usage error (exit 2).
    static func parseListen(_ text: String) -> (String, Int) {
        var host = "", portText = ""
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { fail(.configuration, "--listen \(text): expected [HOST]:PORT") }
            portText = String(rest.dropFirst())
        } else if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            portText = String(text[text.index(after: colon)...])
        }
        guard !host.isEmpty, let port = Int(portText), (0...65535).contains(port) else {
            fail(.configuration, "--listen \(text): expected HOST:PORT (e.g. 127.0.0.1:0 for a free port)")
        }
        return (host, port)
    }

    static func fail(_ family: ErrorFamily, _ message: String) -> Never {
        StandardError.line("bouncer serve: \(message)")
        exit(family.exitCode)
    }
}
