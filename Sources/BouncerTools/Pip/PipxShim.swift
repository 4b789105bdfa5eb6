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

    /// What would have pip fetch past the proxy, or nil. `run`'s program
    /// arguments (after the app) are the app's own and not read.
    static func pastTheProxy(_ arguments: [String], command: String) -> String? {
        var words = Array(arguments.prefix { $0 != "--" })
        if command == "run", let at = words.firstIndex(of: "run") {
            // pipx run's options that take a value; the first other word is the app.
            let valued: Set<String> = ["--spec", "--python", "--pip-args", "--index-url", "-i"]
            var index = at + 1
            while index < words.count, words[index].hasPrefix("-") { index += valued.contains(words[index]) ? 2 : 1 }
            words = Array(words.prefix(min(index + 1, words.count)))
        }
        for (index, word) in words.enumerated() {
            let option = word.split(separator: "=", maxSplits: 1).first.map(String.init) ?? word
            if option == "--index-url" || word == "-i" || (word.hasPrefix("-i") && !word.hasPrefix("--") && command != "runpip") {
                return "\(option == "--index-url" ? "--index-url" : "-i") has pip read from that index, past Bouncer's proxy; set pip's index (PIP_INDEX_URL, pip.conf) instead, which the proxy reads from"
            }
            if option == "--pip-args" {
                let value = word.contains("=") ? String(word.drop { $0 != "=" }.dropFirst()) : (index + 1 < words.count ? words[index + 1] : "")
                // pipx splits the value as a shell would (shlex): `'-e' pwn` is `-e pwn`.
                for pipWord in RequirementOption.shellWords(value) {
                    if redirectsPip(pipWord) {
                        return "--pip-args gives pip \(pipWord), which outranks Bouncer's proxy or names a file that may; set pip's index (PIP_INDEX_URL, pip.conf) instead"
                    }
                    // pip takes the words as its own requirements too: `--pip-args ./proj` (or `-e./proj`)
                    // is a local project pip builds, running its code (a red-team pass did).
                    // An editable is a source tree pip builds, whatever its name looks like (`--edit=pwn`, `-epwn`).
                    let written = pipWord.split(separator: "=", maxSplits: 1).first.map(String.init) ?? pipWord
                    let isEditable = (written.hasPrefix("--") && PipArguments.longName(written) == "--editable")
                        || (pipWord.hasPrefix("-") && !pipWord.hasPrefix("--") && pipWord.dropFirst().contains("e"))
                    if isEditable || isLocalPath(pipWord) {
                        return "--pip-args gives pip \(pipWord), a local project or archive: pip builds it (running its code) or installs it without Bouncer's proxy; install a released package from the index"
                    }
                }
            }
            if command == "runpip", redirectsPip(word) {
                return "\(word) has pip read from what Bouncer's proxy does not stand in front of; run pip through pipx install or inject"
            }
            if word.contains("://") {
                return "pip would fetch \(Redaction.url(word)) itself, past Bouncer's proxy; install it from the index"
            }
        }
        // A local project or archive (`pipx install ./proj`, `run --spec ./proj`, `inject APP x.whl`, pip's
        // own words under runpip): pip builds it, running its code, or installs it, and no proxy sees it.
        let values: Set<String> = ["--python", "--pip-args", "--suffix", "--index-url", "-i", "--preinstall", "--spec"]
        for (index, word) in words.enumerated() where index > 0 && !word.hasPrefix("-") {
            let previous = words[index - 1]
            // `--spec` and `--preinstall` name what pip installs.
            let spec = ["--spec", "--preinstall"].contains(previous) ? word : (values.contains(previous) ? nil : word)
            guard let spec, spec != command, isLocalPath(spec), !(command == "run" && previous != "--spec" && spec.lowercased().hasSuffix(".py")) else { continue }
            return "\(spec) is a local project or archive: pip builds it (running its code) or installs it without Bouncer's proxy; install a released package from the index"
        }
        for word in words {
            for option in ["--spec=", "--preinstall="] where word.hasPrefix(option) && isLocalPath(String(word.dropFirst(option.count))) {
                return "\(word.dropFirst(option.count)) is a local project or archive: pip builds it (running its code) or installs it without Bouncer's proxy; install a released package from the index"
            }
        }
        return nil
    }

    /// A word pip takes for a path: a folder separator, a leading `.` or `~`,
    /// or an archive's name (`x.whl`, `x.tar.gz`, `x.tlz`…); a URL is refused on its own.
    static func isLocalPath(_ word: String) -> Bool {
        let lower = word.lowercased()
        guard !lower.contains("://") else { return false }
        let requirement = lower.split(separator: "@", maxSplits: 1).last.map { $0.trimmingSpaces() } ?? lower
        return requirement.hasPrefix(".") || requirement.hasPrefix("~") || requirement.contains("/") || requirement.hasSuffix(".whl")
            || PipSourceCheck.sdistSuffixes.contains { requirement.hasSuffix($0) }
    }
}
