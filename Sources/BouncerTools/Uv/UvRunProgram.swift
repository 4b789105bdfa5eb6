import FoundationEssentials
import BouncerBase

/// The program `uv run` starts, taken out of the fence uv itself runs in:
/// uv syncs (fenced, against the serve), then starts the program through
/// `/bin/sh` and `env`, which put the user's own proxy settings back and the
/// shims first on PATH — ahead of the project's `.venv/bin`, so a `pip` or
/// `python -m pip` the program runs is the shim's again, not the venv's. So
/// `uv run pytest` or `uv run flask run` reach the network as without
/// Bouncer, while what uv installs stays fenced. Done only when the program's
/// word is known for certain (every option before it known to uv 0.13's
/// `uv run`, or `--`) and uv would not read it as a Python script with
/// dependencies of its own (`.py`, a URL, `-`, `--module`, `--script`).
enum UvRunProgram {
    /// `uv run`'s options that take a value (uv 0.13), beside uv's global ones.
    static let valued: Set<String> = [
        "--extra", "--no-extra", "--group", "--no-group", "--only-group", "--no-editable-package", "--env-file", "-w", "--with",
        "--with-editable", "--with-requirements", "--package", "--python-platform", "--index", "--default-index", "-i", "--index-url",
        "--extra-index-url", "-f", "--find-links", "--index-strategy", "--keyring-provider", "-P", "--upgrade-package", "--upgrade-group",
        "--resolution", "--prerelease", "--prerelease-package", "--fork-strategy", "--exclude-newer", "--exclude-newer-package",
        "--no-sources-package", "--reinstall-package", "--link-mode", "-C", "--config-setting", "--config-settings-package",
        "--no-build-isolation-package", "--no-build-package", "--no-binary-package", "--refresh-package", "-p", "--python",
    ]
    static let flags: Set<String> = [
        "--all-extras", "--no-dev", "--only-dev", "--no-default-groups", "--all-groups", "--no-editable", "--exact", "--no-env-file",
        "--isolated", "--active", "--no-sync", "--locked", "--frozen", "--all-packages", "--no-project", "--no-index", "-U", "--upgrade",
        "--no-sources", "--reinstall", "--compile-bytecode", "--no-build-isolation", "--no-build", "--no-binary", "--require-build-hashes",
        "--no-require-build-hashes", "--refresh",
    ]
    /// Options after which uv runs a Python module or script itself.
    static let scripted: Set<String> = ["-m", "--module", "-s", "--script", "--gui-script"]

    /// The variables the fence sets, which the program gets back as the user had them.
    static let fenced = NetworkFence.variables + ["UV_PYTHON_DOWNLOADS"]

    /// Where `uv run`'s program word is in `words` (uv's arguments), or nil.
    static func programIndex(_ words: [String]) -> Int? {
        let allValued = valued.union(UvShim.valueOptions)
        let allFlags = flags.union(UvShim.flags).union(scripted)
        var commandSeen = false
        var index = 0
        while index < words.count {
            let word = words[index]
            if word == "--" { return commandSeen && index + 1 < words.count ? index + 1 : nil }
            if !word.hasPrefix("-") || word == "-" {
                if commandSeen { return word == "-" ? nil : index }
                guard word == "run" else { return nil }
                commandSeen = true
                index += 1
                continue
            }
            var names: [String] = []
            if word.hasPrefix("--"), let equals = word.firstIndex(of: "=") {
                names = [String(word[..<equals])]
                guard allValued.contains(names[0]) || allFlags.contains(names[0]) else { return nil }
                index += 1
            } else if allValued.contains(word) {
                names = [word]
                index += 2
            } else if allFlags.contains(word) {
                names = [word]
                index += 1
            } else if let run = ShortOptions.read(word, flags: allFlags, valued: allValued) {
                names = run.options.map(\.name)
                index += run.takesNextWord ? 2 : 1
            } else {
                return nil
            }
            if names.contains(where: scripted.contains) { return nil }
        }
        return nil
    }

    /// `arguments` with the program at `program` started out of the fence
    /// (`shims`: the directory of the shims, first on its PATH); nil when
    /// the program is one uv reads itself or cannot be handed to env.
    static func unfenced(_ arguments: [String], program: Int, shims: String, userEnvironment: [String: String]) -> [String]? {
        guard program < arguments.count else { return nil }
        let word = arguments[program]
        let lower = word.lowercased()
        // A script (its inline dependencies), a URL; `NAME=VALUE` would be taken by env for a variable.
        guard !lower.hasSuffix(".py"), !lower.hasSuffix(".pyw"), !word.contains("://"), !word.contains("="), !shims.contains(":") else { return nil }
        var unset: [String] = []
        var set: [String] = []
        for variable in fenced {
            if let value = userEnvironment[variable] { set.append("\(variable)=\(value)") } else { unset += ["-u", variable] }
        }
        let start = ["/bin/sh", "-c", "PATH=\"$0:$PATH\" exec /usr/bin/env \"$@\"", shims]
        return Array(arguments[..<program]) + start + unset + set + Array(arguments[program...])
    }
}
