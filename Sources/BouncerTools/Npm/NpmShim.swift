import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerIO
import BouncerPolicy

/// npm behind Bouncer: every command that fetches packages (`ci`, `install`,
/// `update`, `exec`/`npx`, ...) runs the real npm once, pointed at a verifying
/// proxy of its own (`bouncer serve` on 127.0.0.1:0 over the registry npm is
/// configured with). npm resolves against the proxy's packuments (versions the
/// policy would refuse are not on them) and every tarball is fetched, verified
/// (integrity, rule, lock, package.json name and version, install scripts)
/// and pinned by the proxy before npm sees a byte. The lock's `resolved` URLs
/// go through the proxy too (`replace-registry-host=always`), and npm gets an
/// empty cache of its own, so no tarball reaches it any other way.
public enum NpmShim {
    /// The commands that install a project's packages (npm's own names: see NpmCommands).
    static let installing: Set<String> = ["install", "ci", "install-test", "install-ci-test"]
    /// Other commands that fetch packages: through the proxy as well (`uninstall` and `prune` fetch
    /// what a project's node_modules lacks, `link` a linked package's dependencies).
    static let fetching: Set<String> = ["exec", "update", "dedupe", "init", "pack", "diff", "uninstall", "prune", "link"]
    /// Of those, the ones that install the project's dependencies as package.json and the lock name
    /// them: a local folder or tarball there is installed (and its scripts run) without the proxy.
    /// And `rebuild`, which fetches nothing but runs the install scripts of what is installed
    /// (a linked folder's too).
    static let reifying: Set<String> = ["update", "dedupe", "uninstall", "prune", "link", "rebuild"]

    /// `tool`: the name the user typed, for messages (`npx` runs through here as `npm exec`).
    public static func run(_ given: [String], context: ShimContext, tool: String = "npm") -> Int32 {
        // The command line as npm reads it, each option one word: `--name`, `--no-name` or `--name=value`
        // (`-registry=URL`, `--reg URL`, `-C dir`, `--before DATE`: see NpmOptions).
        let arguments = NpmOptions.normalised(given)
        var command: String? = nil
        var positionals: [String] = []
        var prefix: String? = nil
        /// `--userconfig FILE`, `--globalconfig FILE`: npmrc files npm reads instead of the usual ones.
        var configFiles: [String: String] = [:]
        var registry: String? = nil
        /// `--proxy`, `--https-proxy`, `--noproxy`, `--cafile` and `--replace-registry-host` as given to npm
        /// (the proxy takes the first two and the CA file for its own requests).
        var networkSettings: [String: String] = [:]
        var passed: [String] = []
        /// `npm exec --package SPEC`: what exec installs and runs.
        var packageSpecs: [String] = []
        var afterDashes: [String] = []
        /// `npm diff --diff=SPEC` values.
        var diffSpecs: [String] = []
        /// `--ca PEM` values, given on the command line.
        var inlineCAs: [String] = []
        /// `-g` / `--global[=BOOL]` / `--no-global`, and `--location`, as given (the last one counts, as in npm).
        var globalFlag: (on: Bool, spelling: String)? = nil
        var locationFlag: (value: String, spelling: String)? = nil
        /// `--no-workspaces` / `--workspaces=false` on the command line: npm's project is the nearest folder, no root above.
        var workspacesOff = false
        for (index, argument) in arguments.enumerated() {
            if argument.count >= 2 && argument.allSatisfy({ $0 == "-" }) {
                afterDashes = Array(arguments[(index + 1)...])
                passed += arguments[index...]
                break
            }
            guard argument.hasPrefix("--") else {
                if command == nil { command = argument } else { positionals.append(argument) }
                passed.append(argument)
                continue
            }
            let (name, negated, value) = option(argument)
            switch name {
            // The registry, the cache and where npm's requests go are the shim's to set (the proxy's
            // address must stay direct, the lock's tarball URLs must come through it): taken out of
            // the real npm's command line. A scope's registry (`--@scope:registry=URL`) becomes the
            // proxy's too (read below from `arguments`).
            case "registry":
                if !negated, let value { registry = value }
            case "cache":
                break
            case _ where name.hasPrefix("@") && name.lowercased().hasSuffix(":registry"):
                break
            case "replace-registry-host", "noproxy":
                networkSettings[name] = negated ? "" : value ?? ""
            case "proxy", "https-proxy", "cafile":
                networkSettings[name] = negated ? "" : value ?? ""
                passed.append(argument)
            default:
                passed.append(argument)
                switch name {
                case "package": if let value { packageSpecs.append(value) }
                // `npm diff --diff=SPEC` fetches each spec (a git one is cloned, installed and prepared).
                case "diff": if let value, !negated { diffSpecs.append(value) }
                // CA certificates inline (any number of them): the proxy's to trust too.
                case "ca": if let value, !value.isEmpty, !negated { inlineCAs.append(value) }
                // Where npm installs (read below, with the environment's and the npmrc files').
                case "global": globalFlag = ((value != "false") != negated, argument)
                case "location": locationFlag = (value ?? "", argument)
                case "prefix": prefix = value
                case "workspaces": workspacesOff = negated || value == "false"
                case "userconfig", "globalconfig": if let value { configFiles[name] = value }
                default: break
                }
            }
        }
        // npm reads the words after `--` as it reads the others (the command itself too: `npm -- install X`);
        // only `npm exec` hands them on, as the command's own arguments (see `exec` below).
        if command == nil, let first = afterDashes.first {
            command = first
            afterDashes.removeFirst()
        }
        positionals += afterDashes
        // The command as npm reads its word (an alias, a prefix: `npm exe`, `npm upd`).
        guard let word = command, let command = NpmCommands.command(word) else { return context.passThrough(given) }
        // `npm publish SPEC` packs what it names first: a git or GitHub spec is cloned and its
        // `prepare` runs, past any proxy (publish itself must reach the real registry, so it never
        // goes through one). A folder or tarball on disk is the user's own.
        if command == "publish" {
            let remote = positionals.filter { !ExoticSource.isLocalNpmPath($0) }
            if let refused = refuseExoticSources(project: nil, positionals: remote, tool: tool, context: context) { return refused }
            return context.passThrough(given)
        }
        // Commands that install outside any project or lock, however they are spelled:
        if command == "link", !positionals.isEmpty {
            return context.unsupportedCommand("npm link \(positionals.joined(separator: " "))",
                                              why: "installs the packages it names into npm's global folder, without a lock", arguments: given)
        }
        if command == "audit", positionals.first == "fix" {
            return context.unsupportedCommand("npm audit fix", why: "installs the versions npm's audit picks, which Bouncer's proxy does not ask the audit for (run `npm audit`, then `npm install NAME@VERSION`)",
                                              arguments: given)
        }
        if command == "cache", positionals.first == "add" {
            return context.unsupportedCommand("npm cache add", why: "puts packages into npm's own cache past the proxy (a git spec's prepare script runs as it is packed)",
                                              arguments: given)
        }
        guard installing.contains(command) || fetching.contains(command) || reifying.contains(command) else { return context.passThrough(given) }
        // The project npm works on: run in a subdirectory, still the project's (its .npmrc, package.json, lock).
        let project = prefix.map { Filesystem.absolute($0, cwd: context.environment.cwd) }
            ?? NpmConfiguration.localPrefix(cwd: context.environment.cwd, workspaceRoot: !workspacesOff)
        // npm's configuration as npm will read it: the command line's npmrc files in place of the usual ones.
        var configuration = context.environment.variables
        for (name, file) in configFiles {
            for key in configuration.keys where key.lowercased() == "npm_config_" + name { configuration[key] = nil }
            configuration["npm_config_" + name] = Filesystem.absolute(file, cwd: context.environment.cwd)
        }
        // A scope's own registry (`@scope:registry=URL`) is served by the proxy too, for that scope's
        // packages; npm is pointed at the proxy for each scope. One that is no http(s) URL (a ${VAR}
        // left unset) cannot be stood in for: npm would go there (or fail) on its own.
        let npmrc = NpmConfiguration.entries(project: project, environment: configuration, realTool: context.realTool)
        let scopes = NpmConfiguration.scopeRegistries(arguments: arguments, environment: configuration, npmrc: npmrc)
        let unusable = scopes.filter { !PipConfiguration.isRemote($0.value) }.sorted { $0.key < $1.key }
        for (scope, url) in unusable {
            let message = "\(scope):registry=\(Redaction.url(url)) is not an http(s) URL Bouncer's proxy can stand in for"
            if context.policy.enforce {
                ShimOutput.error("bouncer: \(tool): refused: \(message)")
                context.annotateRefusal("refused: " + message)
            } else {
                ShimOutput.error("bouncer: AUDIT: \(tool): \(message); going on UNVERIFIED for \(scope) (enforce mode would refuse)")
            }
        }
        if !unusable.isEmpty && context.policy.enforce {
            ShimOutput.error("hint: set the scope's registry to its http(s) URL (or the variable it names)")
            ShimOutput.error("bouncer: \(tool): nothing was fetched or installed")
            return ErrorFamily.configuration.exitCode
        }
        if installing.contains(command) {
            // A global install has no project and no lock: however npm is told to make one (the
            // command line, else the environment's and the npmrc files' `global` or `location`).
            if let global = globalInstall(global: globalFlag, location: locationFlag, npmrc: npmrc, environment: configuration) {
                return context.unsupported(global, why: "installs globally without a lock", arguments: given)
            }
            if (command == "ci" || command == "install-ci-test") && !positionals.isEmpty {
                ShimOutput.error("npm \(word) takes no package names")
                return 1
            }
            if let refused = refuseExoticSources(project: project, positionals: positionals, tool: tool, context: context) { return refused }
        } else if reifying.contains(command) {
            if command == "update", let global = globalInstall(global: globalFlag, location: locationFlag, npmrc: npmrc, environment: configuration) {
                return context.unsupported(global, why: "updates global packages without a lock", arguments: given)
            }
            if let refused = refuseExoticSources(project: project, positionals: [], tool: tool, context: context) { return refused }
            // `rebuild` fetches nothing: once the project's sources pass, the real npm runs it as asked
            // (the check had been unreachable, and a linked folder's postinstall ran; red team).
            if command == "rebuild" { return context.passThrough(given) }
        }
        // npm's `package` setting (`npm_config_package`, `package=` or `package[]=` in an npmrc a
        // repository may ship) is what `npm exec` and `npm init` install, beside or instead of `--package`.
        if command == "exec" || command == "init" {
            for (key, value) in configuration where key.lowercased().replacing("-", with: "_") == "npm_config_package" && !value.isEmpty {
                packageSpecs.append(value)
            }
            packageSpecs += npmrc.filter { ($0.key == "package" || $0.key == "package[]") && !$0.value.isEmpty }.map(\.value)
        }
        // Other commands that fetch the packages they name, where a URL, git or path spec would be
        // fetched past the proxy:
        let fetchedByName: [String]
        switch command {
        // `npm exec` (and npx, which is `npm exec`) installs and runs `--package` values, else the
        // command itself (before or after `--`); the arguments after the command are the command's.
        case "exec": fetchedByName = packageSpecs.isEmpty ? Array(positionals.prefix(1)) : packageSpecs
        // `npm create X` / `npm init X` run `npm exec` of X's create- package: `github:user/create-X` for a git spec.
        case "init": fetchedByName = Array(positionals.prefix(1)) + packageSpecs
        // `npm pack SPEC…` fetches each spec (and runs a git package's `prepare` to pack it).
        case "pack": fetchedByName = positionals
        // `npm diff --diff=SPEC…` (its positionals are paths to compare, not specs).
        case "diff": fetchedByName = diffSpecs
        default: fetchedByName = []
        }
        if !fetchedByName.isEmpty,
           let refused = refuseExoticSources(project: nil, positionals: fetchedByName, tool: tool, context: context) { return refused }
        // Only resolving a lock: no tarball is fetched or unpacked and nothing runs (scripts off).
        if arguments.contains(where: { $0 == "--package-lock-only" || $0 == "--package-lock-only=true" }) {
            passed.append("--ignore-scripts")
        }
        // The project files npm rewrites are put back byte for byte unless the verified install completes.
        // A signal while they are changed is recorded, not fatal (Interruption), so they are put back first.
        var snapshot: ProjectSnapshot? = nil
        var status: Int32 = Interruption.deferring { () -> Int32 in
            do {
                snapshot = try ProjectSnapshot(project: project)
                return try throughProxy(passed, registry: registry, scopes: scopes.filter { PipConfiguration.isRemote($0.value) },
                                        npmrc: npmrc, configuration: configuration, network: networkSettings, inlineCAs: inlineCAs,
                                        project: project, tool: tool, context: context)
            } catch {
                return context.installStopped(error, tool: tool)
            }
        }
        // Interrupted before the install completed: report it as the shell would (an install
        // that did complete stands, and its files are kept).
        if status != 0, let interrupted = Interruption.signal {
            ShimOutput.error("bouncer: \(tool): interrupted (signal \(interrupted)); nothing was installed")
            status = Interruption.exitStatus(interrupted)
        }
        if status != 0, let snapshot {
            let restored = snapshot.restore()
            for problem in restored.problems { ShimOutput.error("bouncer: \(tool): \(problem)") }
            if !restored.names.isEmpty {
                ShimOutput.error("bouncer: \(tool): put back \(restored.names.joined(separator: " and ")) as they were before this install")
            }
        }
        return status
    }

    /// The real npm, once, against a proxy of its own. `configuration`: the
    /// environment as npm reads its settings (with the command line's npmrc files).
    static func throughProxy(_ arguments: [String], registry: String?, scopes: [String: String] = [:], npmrc: [NpmConfiguration.Entry],
                             configuration: [String: String], network: [String: String] = [:], inlineCAs: [String] = [],
                             project: String, tool: String = "npm", context: ShimContext) throws -> Int32 {
        // (`-s`, `--silent`, `-q`, `--quiet` are these, written out by NpmOptions.)
        let quiet = arguments.contains { $0 == "--loglevel=silent" || $0 == "--loglevel=warn" }
        let locked = (try? PackageLock.read(project + "/package-lock.json")) ?? []
        let configured = registry ?? NpmConfiguration.registry(environment: context.environment.variables, npmrc: npmrc)
            ?? NpmConfiguration.lockedRegistry(locked)
        let cache = try Filesystem.makePrivateDirectory(prefix: "bouncer-npm-cache")
        defer { HandOver.removeInBackground(cache) }
        var proxyArguments = (configured.map { ["--npm-upstream", $0] } ?? []) + ["--npm-keep-tarball-urls", "--pypi-no-index", "--npm-project", project]
        for (scope, url) in scopes.sorted(by: { $0.key < $1.key }) { proxyArguments += ["--npm-scope-upstream", scope + "=" + url] }
        // The lock's top-level commands, as the proxy's own claims (LockedCommands.topLevel); a package a
        // policy exception names is left out, as refuseCommandCollisions lets it through. (A lock that does
        // not read was refused before, in enforce mode.)
        // The workspaces' own commands likewise, from their package.json (a first install has no lock),
        // and those of npm's hidden lock in node_modules, which it writes even with `package-lock=false`
        // (red team, round 9: with no lock, a second package claiming an installed one's command was offered).
        let now = Date()
        let read = try? ProjectSources.read(project: project, tool: .npm)
        let lockCommands = (read?.npmLock).map { LockedCommands.topLevel($0.json) } ?? []
        let installedCommands = (try? ProjectSources.readJSON(project, "node_modules/.package-lock.json")).flatMap { $0 }.map(LockedCommands.topLevel) ?? []
        var claimed = Set<String>()
        for (command, package) in (read?.workspaceCommands ?? []) + lockCommands + installedCommands
        where claimed.insert(command + "=" + package).inserted
            && context.policy.loaded?.activeException(for: ArtifactRequest(url: "npm:" + package, ecosystem: .npm, package: package), at: now) == nil {
            proxyArguments += ["--npm-claimed-command", command + "=" + package]
        }
        // The lock's registry tarballs are what npm will fetch: the proxy verifies them while npm starts.
        // (In a private directory of the shim's, with the other files it writes for the proxy.)
        let work = try Filesystem.makePrivateDirectory(prefix: "bouncer-npm-work")
        defer { try? FileManager.default.removeItem(atPath: work) }
        if let registry = configured, let file = try expectedTarballs(locked, registry: registry, into: work) {
            proxyArguments += ["--npm-expect", file, "--verify-ahead", "4"]
        }
        // npm's HTTP proxies (command line over environment over npmrc files) carry the proxy's own
        // upstream requests; npm reaches the proxy directly (`noproxy`, below).
        let settings = NpmConfiguration.settings(npmrc, environment: configuration)
        let httpProxy = network["proxy"] ?? settings["proxy"]
        let httpsProxy = network["https-proxy"] ?? settings["https-proxy"] ?? httpProxy
        // The proxy reads the same npmrc files for the registries' credentials.
        // npm's CA file (`cafile`: a registry behind a company CA) is the proxy's too, and so are the
        // certificates npm's `ca` setting gives inline (written to a file; `cafile` outranks them, as in npm).
        var caFile = network["cafile"] ?? settings["cafile"]
        let inline = NpmConfiguration.inlineCertificates(commandLine: inlineCAs, npmrc, environment: configuration)
        if caFile == nil, !inline.isEmpty {
            let file = work + "/ca.pem"
            try AtomicFile.replace(file, with: Array(inline.map { $0.hasSuffix("\n") ? $0 : $0 + "\n" }.joined().utf8), mode: 0o600)
            caFile = file
        }
        let trusted = EphemeralProxy.trusting(caFile, cwd: context.environment.cwd, over: configuration)
        // npm's registry is a bouncer serve on this machine (a shell set up as the README's standalone
        // recipe), with no scope registry of its own: npm reads from it, with no second proxy over it.
        let serve = scopes.isEmpty ? configured.flatMap { ProxyCoverage.localServe($0, suffix: "/npm", policy: context.policy.path) } : nil
        let proxy = serve == nil ? try EphemeralProxy.start(proxyArguments, context: context,
                                                            environment: EphemeralProxy.upstreamProxies(http: httpProxy, https: httpsProxy, over: trusted)) : nil
        let base = proxy?.base ?? serve ?? ""
        if let serve, !quiet {
            ShimOutput.error("bouncer: \(tool): the registry is the bouncer serve at \(serve), which verifies every tarball under this same policy: npm reads from it, with no proxy of the shim's over it")
        }
        var environment = context.toolEnvironment
        // npm's own list of hosts it reaches without a proxy, with the proxy's address on it (the
        // variable outranks every npmrc file; EphemeralProxy sets NO_PROXY the same way).
        let noProxy = EphemeralProxy.directHosts([network["noproxy"], settings["noproxy"], environment["NO_PROXY"] ?? environment["no_proxy"]])
        // Every spelling npm reads as these settings (any case, `-` or `_`).
        let takenOver: Set<String> = ["npm_config_noproxy", "npm_config_replace_registry_host", "npm_config_registry", "npm_config_cache"]
        for variable in environment.keys where takenOver.contains(variable.lowercased().replacing("-", with: "_")) {
            environment[variable] = nil
        }
        environment["npm_config_noproxy"] = noProxy
        environment["npm_config_registry"] = base + "/npm/"
        // Each scope's packages through the proxy as well (the variable outranks every npmrc file).
        for variable in environment.keys where variable.lowercased().hasPrefix("npm_config_@") && variable.lowercased().hasSuffix(":registry") {
            environment[variable] = nil
        }
        for scope in scopes.keys { environment["npm_config_\(scope):registry"] = base + "/npm/" }
        environment["npm_config_replace_registry_host"] = "always"
        environment["npm_config_cache"] = cache
        environment["npm_config_audit"] = "false"
        environment["npm_config_fund"] = "false"
        // npm keeps its update check's date in its cache, which is new on every run here: it would
        // fetch npm's own packument through the proxy each time. Unless the user asked for it.
        if !environment.keys.contains(where: { $0.lowercased().replacing("-", with: "_") == "npm_config_update_notifier" }) {
            environment["npm_config_update_notifier"] = "false"
        }
        if let signal = Interruption.signal {
            _ = proxy?.stop()
            throw BouncerError.io("interrupted by signal \(signal) before the real npm ran")
        }
        guard let proxy else {
            return try EphemeralProxy.runAgainst("the bouncer serve at \(serve ?? "")", tool: tool, context.realTool, arguments, environment: environment)
        }
        let (status, events) = try proxy.run(context.realTool, arguments, environment: environment)
        let refused = EphemeralProxy.report(events, tool: tool, label: { event in
            "\(event.package ?? "?")@\(event.version ?? "?")"
        }, quiet: quiet, context: context)
        if status != 0, let refused {
            ShimOutput.error("bouncer: \(tool): the real npm stopped at Bouncer's refusal; nothing was installed")
            return refused
        }
        if status != 0 { EphemeralProxy.reportUnavailable(events, tool: tool) }
        return status
    }
}

extension NpmShim {
    /// One word of `NpmOptions.normalised`: the setting's name, whether it
    /// is negated (`--no-name`), and its value (nil: none given).
    static func option(_ word: String) -> (name: String, negated: Bool, value: String?) {
        var body = Substring(word.dropFirst(2))
        var value: String? = nil
        if let equals = body.firstIndex(of: "=") {
            value = String(body[body.index(after: equals)...])
            body = body[..<equals]
        }
        if body.hasPrefix("no-") { return (String(body.dropFirst(3)), true, value) }
        return (String(body), false, value)
    }

    /// How npm is told to install globally, for the refusal (`-g`,
    /// `npm_config_global=true`, `location=global in FILE`); nil: it is not.
    /// npm installs globally when its `global` setting is true or its
    /// `location` is `global`, each read from the command line, else the
    /// environment, else the first npmrc file that sets it.
    static func globalInstall(global: (on: Bool, spelling: String)?, location: (value: String, spelling: String)?,
                              npmrc: [NpmConfiguration.Entry], environment: [String: String]) -> String? {
        func configured(_ name: String) -> (value: String, spelling: String)? {
            if let variable = environment.keys.sorted().first(where: { $0.lowercased().replacing("-", with: "_") == "npm_config_" + name }),
               let value = environment[variable], !value.isEmpty {
                return (value, "\(variable)=\(value)")
            }
            return npmrc.first { $0.key == name }.map { ($0.value, "\(name)=\($0.value) in \($0.file)") }
        }
        let globalSetting = global.map { ($0.on, $0.spelling) } ?? configured("global").map { ($0.value != "false" && !$0.value.isEmpty, $0.spelling) }
        let locationSetting = location ?? configured("location")
        if let (on, spelling) = globalSetting, on { return spelling }
        if let (value, spelling) = locationSetting, value == "global" { return spelling }
        return nil
    }

    /// The lock's tarballs under `registry` (`REGISTRY/NAME/-/FILE`), written
    /// as the proxy's `--npm-expect` file; nil when there are none.
    static func expectedTarballs(_ locked: [LockedTarball], registry: String, into directory: String) throws -> String? {
        let prefix = registry.hasSuffix("/") ? registry : registry + "/"
        var items: [JSON] = []
        var seen: Set<String> = []
        for tarball in locked {
            guard let place = NpmConfiguration.registryPlace(tarball), place.registry == prefix,
                  seen.insert(tarball.name + "/-/" + place.file).inserted else { continue }
            var item: [String: JSON] = ["name": .string(tarball.name), "file": .string(place.file), "version": .string(tarball.version)]
            if let integrity = tarball.integrity { item["integrity"] = .string(integrity.description) }
            items.append(.object(item))
        }
        guard !items.isEmpty else { return nil }
        let file = directory + "/expected-tarballs.json"
        try AtomicFile.replace(file, with: JSON.array(items).serialized(), mode: 0o600)
        return file
    }

    /// Dependencies from outside the registry (`exoticSources`), refused in
    /// enforce mode before anything is fetched: a tarball URL, a git or
    /// GitHub spec or a path in the lock, package.json (the workspaces' too)
    /// or the command line (`ProjectSources`). A project file Bouncer cannot
    /// read is refused too (exit 2). (The proxy leaves versions whose own
    /// dependencies are exotic off its packuments.) nil: go on.
    /// `project` nil: the command line alone (`npm exec` installs none of the project's dependencies).
    static func refuseExoticSources(project: String?, positionals: [String], tool: String = "npm", reader: ProjectSources.Tool = .npm,
                                    context: ShimContext) -> Int32? {
        var exotic: [(place: String, spec: String)] = []
        var npmLock: (name: String, json: JSON)? = nil
        if let project {
            do {
                let read = try ProjectSources.read(project: project, tool: reader)
                exotic += read.exotic.map { ($0.place, $0.spec) }
                npmLock = read.npmLock
            } catch {
                if context.policy.enforce {
                    ShimOutput.error("bouncer: \(tool): refused: \(error)")
                    context.annotateRefusal("refused: \(error)")
                    ShimOutput.error("bouncer: \(tool): nothing was fetched or installed")
                    return error.family.exitCode
                }
                ShimOutput.error("bouncer: AUDIT: \(tool): \(error); going on UNCHECKED for exotic sources (enforce mode would refuse)")
            }
        }
        for positional in positionals where ExoticSource.isExoticNpmArgument(positional) {
            exotic.append(("the command line", positional))
        }
        var seen: Set<String> = []
        let refused = exotic.filter { !context.policy.allowsExoticSource($0.spec, .npm) && seen.insert($0.spec + "\n" + $0.place).inserted }
        if let stopped = refuse(refused.map { "\(Redaction.url($0.spec)) (\($0.place)) does not come from the registry, and the policy's exoticSources.allow does not name it (exotic-source)" },
                                auditNote: "; going on UNVERIFIED by the registry (enforce mode would refuse)", tool: tool, context: context) {
            return stopped
        }
        return npmLock.flatMap { refuseCommandCollisions($0, tool: tool, context: context) }
    }

    /// Each of `messages` refused (and annotated in CI), then nil when there are none or
    /// the policy only audits (each said, with `auditNote`), else the evidence exit status.
    static func refuse(_ messages: [String], auditNote: String, tool: String, context: ShimContext) -> Int32? {
        guard !messages.isEmpty else { return nil }
        for message in messages {
            if context.policy.enforce {
                ShimOutput.error("bouncer: \(tool): refused: " + message)
                context.annotateRefusal("refused: " + message)
            } else {
                ShimOutput.error("bouncer: AUDIT: \(tool): \(message)\(auditNote)")
            }
        }
        guard context.policy.enforce else { return nil }
        ShimOutput.error("bouncer: \(tool): nothing was fetched or installed")
        return ErrorFamily.evidence.exitCode
    }
}

extension NpmShim {
    /// Two packages of the lock installing one command into one folder (`LockedCommands`):
    /// refused in enforce mode (install-script), as the proxy refuses it for a tree it resolves.
    static func refuseCommandCollisions(_ lock: (name: String, json: JSON), tool: String, context: ShimContext) -> Int32? {
        // A policy exception naming one of the two packages lets a known pair through, with a warning.
        let now = Date()
        let collisions = LockedCommands.collisions(lock.json).filter { collision in
            guard let excepted = collision.packages.first(where: { name in
                context.policy.loaded?.activeException(for: ArtifactRequest(url: "npm:" + name, ecosystem: .npm, package: name), at: now) != nil
            }) else { return true }
            ShimOutput.error("bouncer: WARNING: \(tool): \(collision.packages.joined(separator: " and ")) both install the command \(collision.command) into \(collision.folder)/.bin; let through by the policy's exception for \(excepted)")
            return false
        }
        if let stopped = refuse(collisions.map { "\(lock.name): \($0.packages.joined(separator: " and ")) both install the command \($0.command) into \($0.folder)/.bin: npm links one of them, so a script that runs \($0.command) could run the other's code (install-script)" },
                                auditNote: " (enforce mode would refuse)", tool: tool, context: context) {
            return stopped
        }
        return refuseShadowingCommands(lock, tool: tool, context: context)
    }

    /// A command the lock gives a package (`bin`) in place of one install scripts run
    /// (`LockedCommands.shadowing`): refused in enforce mode (install-script) unless
    /// `installScripts.allow` names the package, as the tarball check refuses the tarball's own.
    static func refuseShadowingCommands(_ lock: (name: String, json: JSON), tool: String, context: ShimContext) -> Int32? {
        let now = Date()
        let shadowing = LockedCommands.shadowing(lock.json).filter { found in
            let request = ArtifactRequest(url: "npm:" + found.package, ecosystem: .npm, package: found.package)
            if context.policy.loaded?.threats(for: request).allowsInstallScripts(of: found.package) == true { return false }
            guard context.policy.loaded?.activeException(for: request, at: now) != nil else { return true }
            ShimOutput.error("bouncer: WARNING: \(tool): \(found.package) installs the command \(found.command) (\(lock.name) \(found.location)); let through by the policy's exception for it")
            return false
        }
        return refuse(shadowing.map { "\(lock.name): \($0.location) installs the command \($0.command), in place of the one install scripts run: npm links it first on every install script's PATH (the project's own too), and the policy's installScripts.allow does not name \($0.package) (install-script)" },
                      auditNote: " (enforce mode would refuse)", tool: tool, context: context)
    }
}

/// The lock's registry, for an npm whose configuration names none.
extension NpmConfiguration {
    /// With no registry configured, the one the lock's tarballs all come from
    /// (`REGISTRY/NAME/-/FILE.tgz`), so `npm ci` reads the registry it was locked against.
    static func lockedRegistry(_ locked: [LockedTarball]) -> String? {
        var registries: Set<String> = []
        for tarball in locked {
            guard let place = registryPlace(tarball) else { return nil }
            registries.insert(place.registry)
        }
        return registries.count == 1 ? registries.first : nil
    }

    /// A locked tarball in the registry layout, `REGISTRY/NAME/-/FILE`: the
    /// registry (with its trailing slash) and the file name.
    static func registryPlace(_ tarball: LockedTarball) -> (registry: String, file: String)? {
        guard let range = tarball.url.ranges(of: "/\(tarball.name)/-/").last else { return nil }
        let file = tarball.url[range.upperBound...]
        guard !file.isEmpty, !file.contains("/") else { return nil }
        return (String(tarball.url[..<range.lowerBound]) + "/", String(file))
    }
}

/// The project files `npm install NAME` rewrites (package.json and the lock,
/// or the shrinkwrap that replaces it), as they were before the install: the
/// bytes and mode of each, or that it did not exist.
struct ProjectSnapshot {
    static let names = ["package.json", "package-lock.json", "npm-shrinkwrap.json"]
    struct Saved { let name: String; let path: String; let bytes: [UInt8]?; let mode: mode_t }
    let files: [Saved]

    init(project: String) throws(BouncerError) {
        var files: [Saved] = []
        for name in Self.names {
            let path = project + "/" + name
            let bytes = try AtomicFile.read(path, limit: 256 << 20, code: "npm-project")
            var info = stat()
            let mode: mode_t = bytes != nil && stat(path, &info) == 0 ? info.st_mode & 0o7777 : 0o644
            files.append(Saved(name: name, path: path, bytes: bytes, mode: mode))
        }
        self.files = files
    }

    /// Puts every file back that differs from the snapshot (removes one that
    /// did not exist); returns the names put back and what could not be.
    func restore() -> (names: [String], problems: [String]) {
        var names: [String] = []
        var problems: [String] = []
        for saved in files {
            let now: [UInt8]?
            do { now = try AtomicFile.read(saved.path, limit: 256 << 20, code: "npm-project") } catch {
                problems.append("cannot put back \(saved.path): \(error.message)")
                continue
            }
            guard now != saved.bytes else { continue }
            if let bytes = saved.bytes {
                do { try AtomicFile.replace(saved.path, with: bytes, mode: saved.mode) } catch {
                    problems.append("cannot put back \(saved.path): \(error.message)")
                    continue
                }
            } else if unlink(saved.path) != 0 && errno != ENOENT {
                problems.append("cannot remove \(saved.path), which this install created: \(String(cString: strerror(errno)))")
                continue
            }
            names.append(saved.name)
        }
        return (names, problems)
    }
}
