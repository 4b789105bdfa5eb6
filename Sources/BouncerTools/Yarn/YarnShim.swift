import FoundationEssentials
import BouncerBase
import BouncerPolicy

/// The yarn shim (and Debian's `yarnpkg`), for yarn 1. yarn fetches
/// tarballs itself, from the URLs its yarn.lock records (never re-pointed at
/// the configured registry), so under a policy in enforce mode a yarn command
/// that may fetch runs only against a `bouncer serve` of the user's own
/// under the same policy (found where npm's registry is set, `YARN_REGISTRY`
/// or `--registry`), as the uv shim does: inside the network fence, with the
/// serve forced as yarn's registry (`--registry`, `npm_config_registry`) and
/// a private cache, after checking that yarn.lock fetches from the serve
/// only and that no setting of yarn's takes it round the fence (a proxy of
/// its own, an offline mirror, another yarn). Anything else is refused in
/// enforce mode with how to set that up (audit mode: a warning, and yarn as
/// asked). Commands that fetch nothing pass through untouched.
public enum YarnShim {
    public static func run(_ arguments: [String], context: ShimContext) -> Int32 {
        // yarn's own words: what follows `--` is a script's.
        let words = Array(arguments.prefix { $0 != "--" })
        guard let command = fetchingCommand(words) else { return context.passThrough(arguments) }
        let name = "yarn " + command
        let variables = context.environment.variables
        let here = context.environment.cwd
        let cwdOption = OptionWords.lastValue(of: "--cwd", in: words)
        let cwd = cwdOption.map { YarnProject.resolved($0, cwd: here) } ?? here
        // The project and the workspace root above it, found as yarn finds them (not as npm does).
        let project = YarnProject.root(given: cwdOption, cwd: here)
        let folders = YarnProject.folders(project: project)
        // yarn reads a --use-yarnrc file from the working folder whatever --cwd says, and looks for the
        // word anywhere, after `--` too, for the yarn-path it runs instead (red team: a .yarnrc-ci there
        // ran its yarn-path while Bouncer looked for the file under --cwd and skipped it).
        let named = useYarnrc(arguments).map { YarnProject.resolved($0, cwd: here) }
        var settings = YarnSettings.read(cwd: cwd, environment: variables, useYarnrc: named)
        // yarn looks for yarn-path in the working folder's .yarnrc files, not --cwd's: both count.
        if cwd != here { settings.include([YarnSettings.read(cwd: here, environment: variables, useYarnrc: [])]) }
        // `yarn workspace NAME …` (and `workspaces run …`) starts a yarn in the workspace's folder,
        // which reads that folder's own .yarnrc and .npmrc (an offline mirror there fed it a tarball
        // the serve refuses): every workspace's settings count.
        settings.include(folders.flatMap { YarnSettings.workspaceSettings(project: $0, environment: variables) })
        if let problem = roundTheFence(words, settings: settings, realTool: context.realTool) {
            return context.unsupported(nil, why: "\(name): \(problem)", arguments: arguments)
        }
        // Local code yarn installs with no registry at all (a `file:` or `link:` folder, a tarball, a git
        // repository on disk), named in package.json, a workspace's, its `resolutions` or the command line.
        // `yarn global add` installs into yarn's global folder, whose package.json and lock (any
        // dependency already listed there, a folder a .yarnrc names) Bouncer does not read: no lock
        // pins it either, as for npm's global installs. `yarn create x` is a `yarn global add create-x`
        // inside yarn, then runs its bin (red team: the global folder's own file: dependency ran its postinstall).
        if let last = command.split(separator: " ").last, last == "global" || last == "create" {
            return context.unsupported(nil, why: "\(name) installs into yarn's global folder, whose package.json and lock Bouncer does not check and no lock of yours pins; install into a project (npx or yarn in a project for a one-off command)",
                                       arguments: arguments)
        }
        // yarn 1 takes the command from the words before `--` and the packages from both sides of it
        // (`yarn add -- ./x.tgz` adds the tarball).
        let afterDashes = Array(arguments.drop { $0 != "--" }.dropFirst())
        // `x@evil` names the folder evil to yarn when one with a package.json is there (as in package.json):
        // in the project, where yarn looks (`yarn add x@evil` run in a subfolder installed the
        // project's evil and ran its postinstall), and in the working folder too.
        let positionals = (operands(words) + afterDashes).map { word -> String in
            let at = word.hasPrefix("@") ? word.dropFirst().firstIndex(of: "@") : word.firstIndex(of: "@")
            guard let at else { return word }
            let range = String(word[word.index(after: at)...])
            return [project, cwd].contains { ProjectSources.isYarnImplicitFolder(range, in: $0) } ? "file:" + range : word
        }
        for folder in folders {
            if let refused = NpmShim.refuseExoticSources(project: folder, positionals: folder == folders.first ? positionals : [], tool: context.environment.tool,
                                                         reader: .yarn, context: context) {
                return refused
            }
        }
        let given = OptionWords.lastValue(of: "--registry", in: words)
        let candidates = given.map { [$0] } ?? [settings.npmRegistry, settings.yarnRegistry].compactMap { $0 }
        guard let serve = candidates.lazy.compactMap({ ProxyCoverage.localServe($0, suffix: "/npm", policy: context.policy.path) }).first else {
            let named = candidates.isEmpty ? "yarn's registry is its built-in default" : "yarn's registry is \(candidates.joined(separator: ", then "))"
            let why = "\(name) fetches packages itself, from the URLs yarn.lock records, and Bouncer verifies what yarn fetches only through a bouncer serve of yours at a fixed address: "
                + "\(named), which is no bouncer serve of yours under this policy; start one (bouncer serve --listen 127.0.0.1:8731 --ready-file F &) and set npm_config_registry=http://127.0.0.1:8731/npm/"
            return context.unsupported(nil, why: why, arguments: arguments)
        }
        if let stray = folders.lazy.compactMap({ YarnLock.strayResolved(folder: $0, registry: serve + "/npm/") }).first {
            let why = "\(name): \(stray.file):\(stray.line) has yarn fetch \(Redaction.url(stray.url)) itself, not through the bouncer serve at \(serve) "
                + "(yarn fetches what yarn.lock records from there, whatever the registry); point yarn.lock at the serve (replace the registry's address in its resolved lines with \(serve)/npm/) or remove it"
            return context.unsupported(nil, why: why, arguments: arguments)
        }
        do {
            let cache = try Filesystem.makePrivateDirectory(prefix: "bouncer-yarn-cache")
            defer { HandOver.removeInBackground(cache) }
            let registry = serve + "/npm/"
            var extra: [String: String?] = [:]
            // The variables outrank every npmrc and yarnrc file, for the yarns yarn starts too (`yarn workspace`).
            for variable in variables.keys where ["npm_config_registry", "yarn_registry", "yarn_cache_folder"].contains(variable.lowercased()) {
                extra[variable] = .some(nil)
            }
            extra["npm_config_registry"] = registry
            extra["YARN_CACHE_FOLDER"] = cache
            if !words.contains(where: { $0 == "-s" || $0 == "--silent" }) {
                ShimOutput.error("bouncer: \(context.environment.tool): the registry is the bouncer serve at \(serve), which verifies every tarball under this same policy: yarn reads from it only, fenced from everything else")
            }
            return try NetworkFence.run(["--registry", registry, "--cache-folder", cache] + arguments, serve: serve, context: context, extra: extra,
                                        exemptingPort: true, toolName: "yarn", cutOff: "a scope's own registry, a URL, a git source")
        } catch {
            return context.installStopped(error, tool: "yarn")
        }
    }

    /// yarn 1's global options that take a value (required or optional): the
    /// next word is theirs, as yarn's own reading of its command name has it.
    static let valueOptions: Set<String> = [
        "--use-yarnrc", "--link-folder", "--global-folder", "--modules-folder", "--preferred-cache-folder", "--cache-folder",
        "--mutex", "--emoji", "--cwd", "--proxy", "--https-proxy", "--registry", "--network-concurrency", "--network-timeout",
        "--scripts-prepend-node-path", "--otp", "--prod", "--production", "--prefix",
    ]

    /// yarn 1's commands; any other first word is a script of the project's (`yarn build` is `yarn run build`).
    static let commands: Set<String> = [
        "access", "add", "audit", "autoclean", "bin", "cache", "check", "config", "create", "exec", "generate-lock-entry", "generateLockEntry",
        "global", "help", "import", "info", "init", "install", "licenses", "link", "list", "login", "logout", "node", "outdated", "owner",
        "pack", "policies", "publish", "remove", "run", "tag", "team", "unlink", "unplug", "upgrade", "upgrade-interactive",
        "upgradeInteractive", "version", "versions", "why", "workspace", "workspaces",
    ]

    /// The commands that install what they fetch (`remove` and `upgrade` install the rest again), and
    /// those that resolve or fetch the project's packages to read them (each runs yarn's Install
    /// `hydrate`, `init` or `fetchRequestFromCwd`: red team, `yarn licenses` fetched a tarball from any host).
    static let fetching: Set<String> = ["install", "add", "upgrade", "upgrade-interactive", "upgradeInteractive", "remove", "create", "import", "policies",
                                        "audit", "check", "licenses", "list", "outdated", "unplug", "why"]

    /// The files yarn takes for `--use-yarnrc`: its option parser's `--use-yarnrc FILE` and
    /// `--use-yarnrc=FILE` before `--`, and, for the yarn-path it looks for first, the word
    /// `--use-yarnrc` anywhere with a FILE not starting with `-`.
    static func useYarnrc(_ arguments: [String]) -> [String] {
        let words = arguments.prefix { $0 != "--" }
        return arguments.indices.dropLast().filter { arguments[$0] == "--use-yarnrc" && !arguments[$0 + 1].hasPrefix("-") }.map { arguments[$0 + 1] }
            + words.filter { $0.hasPrefix("--use-yarnrc=") }.map { String($0.dropFirst("--use-yarnrc=".count)) }
    }

    /// The words after the command's that are no options or their values
    /// (`yarn add A B@1`, `yarn global add C`: the packages, and the subcommand).
    static func operands(_ words: [String]) -> [String] {
        let words = words.enumerated().filter { index, word in !word.hasPrefix("-") && !(index > 0 && valueOptions.contains(words[index - 1])) }
        return words.dropFirst().map(\.element)
    }

    /// The command as yarn reads it, when it may fetch and install: nil for
    /// help, the version, scripts and everything that fetches nothing.
    static func fetchingCommand(_ words: [String]) -> String? {
        if words.first == "-v" || words.first == "--version" { return nil }
        let first = words.indices.first { index in
            !words[index].hasPrefix("-") && !(index > 0 && valueOptions.contains(words[index - 1]))
        }
        let before = first.map { Array(words[..<$0]) } ?? words
        let rest = first.map { Array(words[($0 + 1)...]) } ?? []
        let name = first.map { words[$0] } ?? "install"
        let isHelp: (String) -> Bool = { $0 == "--help" || $0 == "-h" }
        if before.contains(where: isHelp) { return nil }
        if commands.contains(name), rest.first.map(isHelp) == true { return nil }
        switch name {
        case "set" where rest.first == "version": return "set version"  // yarn's spelling of `policies set-version`
        case "global": return ["list", "bin", "dir"].contains(rest.first ?? "") ? nil : "global"
        case "init": return rest.contains { $0 == "-2" || $0 == "--2" || $0 == "--yarn2" } ? "init -2" : nil  // it sets a newer yarn's version
        case "workspace":
            // `yarn workspace PACKAGE COMMAND…` runs that command in the package; yarn's own options
            // may stand before PACKAGE (`workspace --json w1 add x`: a red-team pass ran add past the shim).
            guard let at = rest.indices.first(where: { index in
                !rest[index].hasPrefix("-") && !(index > 0 && valueOptions.contains(rest[index - 1]))
            }), at + 1 < rest.count else { return nil }
            return fetchingCommand(Array(rest[(at + 1)...])).map { "workspace \(rest[at]) \($0)" }
        default: return fetching.contains(name) ? name : nil
        }
    }

    /// Why yarn could fetch round the fence or from what Bouncer does not
    /// see, or nil: a proxy yarn's own settings name (yarn then ignores
    /// NO_PROXY), an offline mirror or a cache of the user's (read before
    /// any registry), a folder of the project's yarn takes packages from as
    /// they are, another yarn it would run instead (`yarn-path`,
    /// `.yarnrc.yml`'s `yarnPath`, corepack), or a settings file Bouncer cannot read.
    static func roundTheFence(_ words: [String], settings: YarnSettings, realTool: String) -> String? {
        for option in ["--proxy", "--https-proxy", "--cache-folder", "--preferred-cache-folder"] where OptionWords.lastValue(of: option, in: words) != nil {
            return "\(option) on yarn's command line: " + (option.hasSuffix("proxy") ? "yarn's own proxy setting outranks the fence's (and yarn then ignores NO_PROXY)" : "yarn would take packages from that cache before the registry")
        }
        if let (file, failure) = settings.unreadable.first {
            return "\(file)\(failure.line > 0 ? " line \(failure.line)" : ""): \(failure.reason): it cannot tell what the file sets"
        }
        if let setting = settings.dangerous.first {
            if setting.key == "--" {
                return "a bare -- is set in \(setting.place): yarn would put -- on its command line, and every word after it would be a package to add (what the file names there, and your own options), which Bouncer does not see"
            }
            if setting.key == "cwd" || setting.key == "use-yarnrc" {
                return "\(setting.key) is set in \(setting.place): yarn would work on another folder or read another settings file than the ones Bouncer checked; give it on yarn's command line instead"
            }
            if YarnSettings.folderKeys.contains(setting.key) {
                return "\(setting.key) is set in \(setting.place): yarn takes packages from that folder as they are (a linked package, the global folder's own package.json), which Bouncer does not check"
            }
            return "\(setting.key) is set in \(setting.place): " + (setting.key.hasSuffix("proxy") ? "yarn's own proxy setting outranks the fence's (and yarn then ignores NO_PROXY)"
                : setting.key.contains("mirror") ? "yarn takes tarballs from that folder before the registry" : "yarn would run another yarn, which Bouncer does not read")
        }
        let resolved = Filesystem.realPath(realTool)
        if resolved.contains("/corepack/") || resolved.hasSuffix("/corepack") {
            return "the yarn after the shim (\(resolved)) is corepack's, which downloads the yarn version a package.json names unverified"
        }
        return nil
    }
}
