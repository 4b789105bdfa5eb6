import FoundationEssentials
import BouncerBase

/// The pipx shim (and `python3 -m pipx`). pipx runs pip by its path, inside
/// venvs of its own, so no pip shim stands in front of it: a pipx command
/// that may install runs as under `bouncer exec` (`ExecProxy`), with a
/// verifying proxy of its own as pip's index in the environment, which every
/// pip pipx starts inherits. What would send pip past that proxy is refused
/// in enforce mode: an index on pipx's command line or in `--pip-args` (a
/// command-line index outranks the environment's), and a requirement pip
/// would fetch by URL itself (`git+https://…`, `NAME @ URL`). Commands that
/// install nothing pass through.
public enum PipxShim {
    /// pipx's commands that install nothing.
    static let harmless: Set<String> = ["list", "uninstall", "uninstall-all", "ensurepath", "completions", "environment", "interpreter",
                                        "pin", "unpin", "help"]
    /// pip's options that name where packages come from.
    static let pipSources: Set<String> = ["-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--no-index"]

    public static func run(_ arguments: [String], context: ShimContext) -> Int32 {
        guard let command = arguments.first(where: { !$0.hasPrefix("-") }), !harmless.contains(command),
              !arguments.prefix(while: { $0 != command }).contains(where: { $0 == "-h" || $0 == "--help" || $0 == "--version" }) else {
            return context.passThrough(arguments)
        }
        if let why = pastTheProxy(arguments, command: command) {
            return context.unsupported(nil, why: "pipx \(command): \(why)", arguments: arguments)
        }
        // The hand-over marked, as for every real tool a shim starts (a pipx that is the shim again is a loop).
        var environment = context.environment
        environment.variables = HandOver.environment(environment.variables, realTool: context.realTool)
        do {
            return try ExecProxy.run(context.realTool, context.toolArguments + arguments, environment: environment, policy: context.policy,
                                     tool: context.environment.tool)
        } catch {
            return context.installStopped(error, tool: context.environment.tool)
        }
    }

    /// Whether a word of pip's would have it read packages from elsewhere: an
    /// index, find-links, or a requirement or constraints file (pip obeys a
    /// file's `-i` over the environment). One-letter words are read loosely
    /// (`-Ur`, `-iURL`), which can only refuse more.
    static func redirectsPip(_ word: String) -> Bool {
        let written = word.split(separator: "=", maxSplits: 1).first.map(String.init) ?? word
        // pip takes any unambiguous prefix of a long option (`--requirem` is `--requirement`).
        let option = written.hasPrefix("--") ? PipArguments.longName(written) : written
        if pipSources.union(["-r", "--requirement", "-c", "--constraint"]).contains(option) { return true }
        return word.hasPrefix("-") && !word.hasPrefix("--") && !Set(word.dropFirst()).isDisjoint(with: ["i", "f", "r", "c"])
    }

    /// pipx 1.1.0's options for each command that may install, and whether
    /// each takes a value (1) or not (0), as its argparse parser holds them
    /// (`--preinstall` is a later pipx's). argparse also takes any unambiguous
    /// prefix of a long option (`--pip-a`, `--spe=`), and one-letter flags
    /// together (`-fi URL`): a red-team pass got past a reading that did not.
    static let options: [String: [String: Int]] = {
        let pipOptions = ["--index-url": 1, "-i": 1, "--pip-args": 1, "--editable": 0, "-e": 0, "--system-site-packages": 0,
                          "--verbose": 0, "--help": 0, "-h": 0]
        let forced = pipOptions.merging(["--force": 0, "-f": 0]) { $1 }
        return [
            "install": forced.merging(["--include-deps": 0, "--python": 1, "--suffix": 1, "--preinstall": 1]) { $1 },
            "inject": forced.merging(["--include-apps": 0, "--include-deps": 0]) { $1 },
            "upgrade": forced.merging(["--include-injected": 0]) { $1 },
            "run": pipOptions.merging(["--no-cache": 0, "--pypackages": 0, "--python": 1, "--spec": 1]) { $1 },
            "reinstall": ["--python": 1, "--verbose": 0, "--help": 0, "-h": 0],
            "reinstall-all": ["--python": 1, "--skip": 1, "--verbose": 0, "--help": 0, "-h": 0],
            "upgrade-all": ["--force": 0, "-f": 0, "--include-injected": 0, "--skip": 1, "--verbose": 0, "--help": 0, "-h": 0],
            "runpip": ["--verbose": 0, "--help": 0, "-h": 0],
        ]
    }()

    /// A command's words as pipx's argparse reads them: each option by its
    /// full name with its value, and the operands. For `run` and `runpip` the
    /// operands end option reading at the first one (argparse's REMAINDER):
    /// the app and its own arguments, or the venv and pip's words. A `--`
    /// makes every word after it an operand (pipx drops a leading one from
    /// `run`'s app, so `run -- URL` runs the URL).
    struct CommandLine {
        var options: [(name: String, value: String)] = []
        var operands: [String] = []
    }

    static func read(_ arguments: [String], command: String) -> CommandLine {
        let known = options[command] ?? [:]
        var line = CommandLine()
        guard let at = arguments.firstIndex(of: command) else { return line }
        let words = Array(arguments[(at + 1)...])
        let remainder = command == "run" || command == "runpip"
        var index = 0
        while index < words.count {
            let word = words[index]
            index += 1
            if word == "--" {
                let rest = words[index...]
                line.operands += remainder && line.operands.isEmpty ? rest.drop { $0 == "--" } : rest
                break
            }
            guard word.hasPrefix("-"), word != "-" else {
                line.operands.append(word)
                if remainder { line.operands += words[index...]; break }
                continue
            }
            if word.hasPrefix("--") {
                let written = String(word.prefix { $0 != "=" })
                let name = known[written] != nil ? written : {
                    let candidates = known.keys.filter { $0.hasPrefix("--") && $0.hasPrefix(written) }
                    return candidates.count == 1 ? candidates[0] : written
                }()
                if word.contains("=") {
                    line.options.append((name, String(word.drop { $0 != "=" }.dropFirst())))
                } else if known[name] == 1 {
                    line.options.append((name, index < words.count ? words[index] : ""))
                    index += 1
                } else {
                    line.options.append((name, ""))
                }
                continue
            }
            // One-letter flags together; a letter that takes a value takes the rest of the word, or the next word.
            var letters = Substring(word.dropFirst())
            while let letter = letters.first {
                letters = letters.dropFirst()
                let name = "-" + String(letter)
                guard known[name] == 1 else {
                    line.options.append((name, ""))
                    continue
                }
                let value = letters.drop { $0 == "=" }
                if value.isEmpty {
                    line.options.append((name, index < words.count ? words[index] : ""))
                    index += 1
                } else {
                    line.options.append((name, String(value)))
                }
                break
            }
        }
        return line
    }

    /// What would have pip fetch past the proxy, or nil. `run`'s program
    /// arguments (after the app) are the app's own and not read.
    static func pastTheProxy(_ arguments: [String], command: String) -> String? {
        let line = read(arguments, command: command)
        for (name, value) in line.options {
            if name == "--index-url" || name == "-i" {
                return "\(name) has pip read from that index, past Bouncer's proxy; set pip's index (PIP_INDEX_URL, pip.conf) instead, which the proxy reads from"
            }
            if name == "--pip-args" {
                // pipx splits the value as a shell would (shlex): `'-e' pwn` is `-e pwn`.
                if let why = pipWords(RequirementOption.shellWords(value), origin: "--pip-args gives pip") { return why }
            }
            // `--spec` and `--preinstall` name what pip installs.
            if name == "--spec" || name == "--preinstall", let why = requirement(value) { return why }
        }
        switch command {
        case "run":
            // The app, unless `--spec` names the package: a local `.py` is the user's own script, which pipx runs as it is.
            guard let app = line.operands.first else { return nil }
            if line.options.contains(where: { $0.name == "--spec" }) { return nil }
            if app.contains("://") { return "pipx would fetch \(Redaction.url(app)) itself and run it, past Bouncer's proxy; install it from the index" }
            return app.lowercased().hasSuffix(".py") ? nil : requirement(app)
        case "runpip":
            // pip's own words, after the venv's name: an install, download or wheel read as the pip shim
            // reads pip's (`wheel -w DIR` is no local project); any other command word by word, strictly.
            let pipArguments = Array(line.operands.dropFirst().drop { $0 == "--" })
            let pip = PipArguments.parse(pipArguments)
            guard let subcommand = pip.subcommand, PipArguments.resolving.contains(subcommand) else {
                return pipWords(pipArguments, origin: "pipx runpip gives pip")
            }
            if pip.indexURL != nil || pip.noIndex || !(pip.extraIndexURLs + pip.findLinks + pip.requirementFiles + pip.constraintFiles).isEmpty {
                return "pipx runpip gives pip an index, find-links or a requirement or constraints file, which outranks Bouncer's proxy or may name what does; set pip's index (PIP_INDEX_URL, pip.conf) instead"
            }
            if let editable = pip.editables.first ?? (pip.editable ? "" : nil) {
                return "pipx runpip gives pip -e \(editable), an editable: a local project or archive pip builds, running its code; install a released package from the index"
            }
            if let unknown = pip.unknownOption {
                return "pipx runpip gives pip \(unknown), an option Bouncer does not know (its value could name a local project or an index)"
            }
            for requirement in pip.requirements { if let why = self.requirement(requirement) { return why } }
            return nil
        default:
            for operand in line.operands { if let why = requirement(operand) { return why } }
            return nil
        }
    }

    /// A requirement pip would take past the proxy: a URL it fetches itself,
    /// or a local project or archive it builds (running its code) or installs.
    static func requirement(_ word: String) -> String? {
        if word.contains("://") {
            return "pip would fetch \(Redaction.url(word)) itself, past Bouncer's proxy; install it from the index"
        }
        if isLocalPath(word) {
            return "\(word) is a local project or archive: pip builds it (running its code) or installs it without Bouncer's proxy; install a released package from the index"
        }
        return nil
    }

    /// pip's own words (from `--pip-args` or `runpip`): an index, find-links or
    /// a file that may name one, an editable (a source tree pip builds, whatever
    /// its name looks like: `--edit=pwn`, `-epwn`), or a requirement as above.
    static func pipWords(_ words: [String], origin: String) -> String? {
        for word in words {
            if redirectsPip(word) {
                return "\(origin) \(word), which outranks Bouncer's proxy or names a file that may; set pip's index (PIP_INDEX_URL, pip.conf) instead"
            }
            let written = word.split(separator: "=", maxSplits: 1).first.map(String.init) ?? word
            let isEditable = (written.hasPrefix("--") && PipArguments.longName(written) == "--editable")
                || (word.hasPrefix("-") && !word.hasPrefix("--") && word.dropFirst().contains("e"))
            if isEditable {
                return "\(origin) \(word), an editable: a local project or archive pip builds, running its code; install a released package from the index"
            }
            if let why = requirement(word) { return why }
        }
        return nil
    }

    /// A word pip takes for a path (`PipSourceCheck.isPathLike`), alone or
    /// after `NAME @`; a URL is refused on its own.
    static func isLocalPath(_ word: String) -> Bool {
        guard !word.lowercased().contains("://") else { return false }
        let requirement = word.split(separator: "@", maxSplits: 1).last.map { String($0.trimmingSpaces()) } ?? word
        return PipSourceCheck.isPathLike(requirement)
    }
}
