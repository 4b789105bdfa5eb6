import FoundationEssentials
import BouncerBase
import BouncerPolicy

/// The uv and uvx shims. uv fetches packages itself (and writes the index
/// it used into uv.lock, so a proxy on a free port cannot stand in front of
/// it), so under a policy in enforce mode a uv command that may fetch runs
/// only when uv's one index is a `bouncer serve` of the user's own under the
/// same policy (`ProxyCoverage.localServe`, the README's standalone recipe,
/// at a fixed address), and then inside a network fence: HTTP(S) proxy
/// variables naming a port nobody listens on (held by the shim meanwhile),
/// with only the serve's host exempt, no Python downloads and no git transport but
/// local files. So anything uv would fetch past the serve — an index from a
/// requirement file, a URL requirement, a git source, a Python build, its
/// own update — fails instead of landing unverified. Anything else is
/// refused in enforce mode with how to set that up (audit mode: a warning,
/// and uv as asked). Commands that fetch nothing pass through untouched.
public enum UvShim {
    /// uv's options that take a value (global ones, which may stand anywhere, and the index options).
    static let valueOptions: Set<String> = ["--color", "--allow-insecure-host", "--directory", "--project", "--config-file",
                                            "--cache-dir", "--python-preference", "--python-fetch", "--preview-features"]
    static let flags: Set<String> = ["-q", "--quiet", "-v", "--verbose", "--system-certs", "--native-tls", "--offline", "--no-offline",
                                     "--no-progress", "--no-config", "-h", "--help", "-V", "--version", "-n", "--no-cache",
                                     "--managed-python", "--no-managed-python", "--no-python-downloads", "--preview", "--no-preview",
                                     "--isolated", "--show-settings", "--no-native-tls", "--no-system-certs", "--no-installer-metadata"]

    /// Commands that fetch and install nothing, by their first one or two words.
    static let harmless: [String: Set<String>?] = [
        "help": nil, "cache": nil, "generate-shell-completion": nil,
        "python": ["list", "find", "dir", "pin", "uninstall"],
        "tool": ["list", "dir", "uninstall", "update-shell"],
        "self": ["version"],
        "pip": ["list", "freeze", "show", "check", "uninstall", "tree"],
    ]

    public static func run(_ arguments: [String], context: ShimContext, asUvx: Bool = false) -> Int32 {
        // uvx is `uv tool run`.
        let words = asUvx ? ["tool", "run"] + arguments : arguments
        let command: [String]
        do {
            command = try commandWords(words)
        } catch {
            return context.unsupported(nil, why: error.description, arguments: arguments)
        }
        guard let first = command.first, mayFetch(words, command: command, asUvx: asUvx) else { return context.passThrough(arguments) }
        let name = asUvx ? "uvx" : (["uv"] + command.prefix(families.contains(first) ? 2 : 1)).joined(separator: " ")
        // A local project, archive or wheel (or a VCS or URL requirement) uv would build or install past the serve.
        do {
            // uv changes to `--directory` (UV_WORKING_DIR) first: relative files are read from there.
            let directory = OptionWords.lastValue(of: "--directory", in: Array(words.prefix(optionsEnd(words, command: command))))
                ?? context.environment.variables["UV_WORKING_DIR"].flatMap { $0.isEmpty ? nil : $0 }
            let uvCwd = directory.map { Filesystem.absolute($0, cwd: context.environment.cwd) } ?? context.environment.cwd
            let local = try UvLocalSources.found(words, command: command, cwd: uvCwd, environment: context.environment.variables)
                .filter { !context.policy.allowsExoticSource($0.form, .pypi) }
            if let first = local.first {
                return context.unsupported(nil, why: "\(name): \(first.form) (\(first.place)): \(first.why)", arguments: arguments)
            }
        } catch {
            return context.unsupported(nil, why: "\(name): \(error)", arguments: arguments)
        }
        let places = Places.read(Array(words.prefix(optionsEnd(words, command: command))), cwd: context.environment.cwd,
                                 environment: context.environment.variables)
        guard let serve = places.onlyIndex.flatMap({ ProxyCoverage.localServe($0, suffix: "/pypi/simple", policy: context.policy.path) }) else {
            let why = "\(name) fetches packages itself, and Bouncer verifies what uv fetches only through a bouncer serve of yours at a fixed address (uv.lock records the index): \(places.problem); "
                + "start one (bouncer serve --listen 127.0.0.1:8731 --ready-file F &) and set UV_DEFAULT_INDEX=http://127.0.0.1:8731/pypi/simple/"
            return context.unsupported(nil, why: why, arguments: arguments)
        }
        // `uv run PROGRAM`: the program out of the fence, the shims first on its PATH.
        var handed = arguments
        if !asUvx, first == "run", let shim = context.environment.shimPath, let program = UvRunProgram.programIndex(words),
           let unfenced = UvRunProgram.unfenced(arguments, program: program, shims: Filesystem.realPath(Filesystem.absolute(Filesystem.split(shim).directory, cwd: context.environment.cwd)),
                                                userEnvironment: context.toolEnvironment) {
            handed = unfenced
        }
        do {
            return try fenced(handed, serve: serve, context: context, programOutside: handed != arguments)
        } catch {
            return context.installStopped(error, tool: asUvx ? "uvx" : "uv")
        }
    }

    /// Whether the command may fetch: not uv's help or version (which print
    /// and stop), not a family's name alone (`uv pip` prints its commands),
    /// not one of the `harmless` ones.
    static func mayFetch(_ words: [String], command: [String], asUvx: Bool) -> Bool {
        // uv's own words only: `uvx ruff --help` installs ruff, then asks it for help.
        let own = words.prefix(optionsEnd(words, command: command))
        guard let first = command.first, !own.contains("--help"), !own.contains("-h"),
              !(asUvx && (words.dropFirst(2).first == "--version" || words.dropFirst(2).first == "-V")) else { return false }
        if let known = harmless[first] {
            return !(known.map { command.count == 1 || $0.contains(command[1]) } ?? true)
        }
        return true
    }

    /// The commands whose second word names the command (`uv pip install`).
    static let families: Set<String> = ["pip", "tool", "python", "self", "cache"]

    /// Where uv's own options end: for `run` and `tool run` (uvx), at the
    /// program they run (its arguments are its own: a `-i` there is no index).
    static func optionsEnd(_ words: [String], command: [String]) -> Int {
        let runs = command.first == "run" || command.prefix(2) == ["tool", "run"]
        guard runs else { return words.count }
        var commandWordsSeen = 0
        let needed = command.first == "run" ? 1 : 2
        for (index, word) in words.enumerated() {
            if word == "--" { return index }
            guard !word.hasPrefix("-") else { continue }
            // An option's value looks like a word too; uv's own values are skipped only roughly
            // here, which can only end the region later (more of the words read as uv's).
            if commandWordsSeen < needed, word == command[commandWordsSeen] { commandWordsSeen += 1; continue }
            if commandWordsSeen == needed, index > 0, !words[index - 1].hasPrefix("-") || flags.contains(words[index - 1]) { return index }
        }
        return words.count
    }

    /// The command's words (`pip install`, `sync`), past uv's options; an
    /// option uv has that Bouncer does not know stops it (its value could be taken for the command).
    static func commandWords(_ words: [String]) throws(BouncerError) -> [String] {
        var found: [String] = []
        var index = 0
        while index < words.count, found.count < 2 {
            let word = words[index]
            if word == "--" { break }
            if !word.hasPrefix("-") || word == "-" {
                found.append(word)
                index += 1
            } else if word.hasPrefix("--"), word.contains("=") || flags.contains(word) {
                index += 1
            } else if valueOptions.contains(word) {
                index += 2
            } else if flags.contains(word) || (!word.hasPrefix("--") && word.dropFirst().allSatisfy({ flags.contains("-" + String($0)) })) {
                index += 1
            } else if found.isEmpty || families.contains(found[0]) {
                // Before the command's name (`pip` then `install`), an unknown option's value could be taken for it.
                throw .usage("cannot tell whether uv option '\(word)' takes a value, so uv's command is unknown")
            } else {
                // Past a command's name, its own options: only the first word counts.
                index += 1
            }
        }
        return found
    }

    /// uv under the fence, against the user's own serve, with no Python downloads.
    static func fenced(_ arguments: [String], serve: String, context: ShimContext, programOutside: Bool = false) throws -> Int32 {
        try NetworkFence.run(arguments, serve: serve, context: context, extra: ["UV_PYTHON_DOWNLOADS": "never"], toolName: "uv",
                             cutOff: "another index, a URL, a git source, a Python download", programOutside: programOutside)
    }

    /// Where uv would look for packages: its command line over its
    /// environment over its configuration files.
    struct Places {
        var defaultIndex: String?
        var others: [String] = []
        var noIndex = false

        /// The one index uv would use, when it uses exactly one.
        var onlyIndex: String? { noIndex || !others.isEmpty ? nil : defaultIndex }

        var problem: String {
            if noIndex { return "uv is told to use no index (what it installs would come from find-links or its cache)" }
            if !others.isEmpty { return "uv also reads \(others.joined(separator: ", "))" }
            return defaultIndex.map { "uv's index is \($0), which is no bouncer serve of yours under this policy" }
                ?? "uv's index is its built-in default, not a bouncer serve"
        }

        static func read(_ words: [String], cwd: String, environment: [String: String]) -> Places {
            var places = Places()
            var configurationEnvironment = environment
            var directory = environment["UV_WORKING_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? cwd
            var project: String? = nil
            var cli: (defaultIndex: String?, others: [String]) = (nil, [])
            var index = 0
            func value(_ word: String, _ names: [String]) -> String? {
                for name in names {
                    if word == name, index + 1 < words.count { index += 1; return words[index] }
                    if word.hasPrefix(name + "=") { return String(word.dropFirst(name.count + 1)) }
                    if name.count == 2, word.hasPrefix(name), word.count > 2 { return String(word.dropFirst(2)) }
                }
                return nil
            }
            while index < words.count {
                let word = words[index]
                if word == "--" { break }
                if let url = value(word, ["--default-index", "--index-url", "-i"]) {
                    cli.defaultIndex = url
                } else if let url = value(word, ["--index", "--extra-index-url", "--find-links", "-f"]) {
                    // `--index NAME=URL`: the URL.
                    if let equals = url.firstIndex(of: "="), !url[..<equals].contains(":") {
                        cli.others.append(String(url[url.index(after: equals)...]))
                    } else {
                        cli.others.append(url)
                    }
                } else if word == "--no-index" {
                    places.noIndex = true
                } else if let file = value(word, ["--config-file"]) {
                    configurationEnvironment["UV_CONFIG_FILE"] = Filesystem.absolute(file, cwd: cwd)
                } else if word == "--no-config" {
                    configurationEnvironment["UV_NO_CONFIG"] = "1"
                } else if let path = value(word, ["--directory"]) {
                    directory = Filesystem.absolute(path, cwd: cwd)
                } else if let path = value(word, ["--project"]) {
                    project = path
                }
                index += 1
            }
            // uv discovers its configuration from the project's folder (`--project`, UV_PROJECT, relative to
            // --directory): a red-team pass had uv read a project's find-links the shim never saw.
            if let project = project ?? environment["UV_PROJECT"].flatMap({ $0.isEmpty ? nil : $0 }) {
                directory = Filesystem.absolute(project, cwd: directory)
            }
            if let off = environment["UV_NO_INDEX"], !off.isEmpty, !["0", "false", "no"].contains(off.lowercased()) { places.noIndex = true }
            let configured = UvConfiguration.read(cwd: directory, environment: configurationEnvironment)
            places.defaultIndex = cli.defaultIndex
                ?? ["UV_DEFAULT_INDEX", "UV_INDEX_URL"].lazy.compactMap { environment[$0] }.first { !$0.isEmpty }
                ?? configured.defaultIndex
            places.others = cli.others + ProxyCoverage.uvDirectSources(environment) + configured.indexes + configured.findLinks
            return places
        }
    }
}
