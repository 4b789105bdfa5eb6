import FoundationEssentials
import BouncerBase
import BouncerPolicy

/// What a uv command would install from the disk rather than the serve: a
/// local project or source archive (uv builds it, running its build
/// backend, and the network fence does not see a file read), a local wheel
/// (installed unverified), a VCS or URL requirement — named on uv's command
/// line (`uv pip install ./proj`, `uv add ../lib`, `uvx --from ./tool`,
/// `uv run --with x.whl`) or in a requirement file it reads (`-r`,
/// `--with-requirements`). Read as the pip shim reads pip's
/// (`PipSourceCheck.classify`); `exoticSources.allow` lets one through.
/// The project uv syncs itself (`uv sync`, `uv run`) is the user's own, as
/// with `uv` alone.
enum UvLocalSources {
    /// The commands that take requirements.
    static let installing: Set<[String]> = [["pip", "install"], ["pip", "sync"], ["pip", "compile"], ["add"], ["tool", "install"], ["tool", "run"], ["run"]]
    /// Options whose value is a requirement.
    static let requirementOptions: Set<String> = ["--with", "-w", "--from", "-e", "--editable", "--with-editable", "--with-executables-from"]
    /// Options whose value is a requirement file: uv installs what a constraints or overrides file names by URL or path too.
    static let fileOptions: Set<String> = ["-r", "--requirement", "--requirements", "--with-requirements", "-c", "--constraint", "--constraints",
                                           "--override", "--overrides", "--build-constraint", "--build-constraints", "-b"]
    /// The variables uv reads such files from (space-separated lists).
    static let fileVariables = ["UV_CONSTRAINT", "UV_OVERRIDE", "UV_BUILD_CONSTRAINT"]
    /// One-letter options that take a value (clap reads `-qr FILE` as `-q -r FILE`, `-rFILE` as `-r FILE`).
    static let valuedLetters: Set<Character> = ["r", "c", "b", "e", "w", "p", "o", "i", "f", "P", "C", "t"]
    /// Options whose value is some other path or word (never a requirement), beside uv's global ones.
    static let otherValues: Set<String> = [
        "--python", "-p", "--target", "--prefix", "-o", "--output-file", "--script", "--env-file", "--python-platform", "--exclude", "--excludes",
        "--index", "--default-index", "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--index-strategy", "--keyring-provider",
        "--resolution", "--prerelease", "--exclude-newer", "--link-mode", "-C", "--config-setting", "--package", "--extra", "--group",
        "--optional", "--tag", "--branch", "--rev", "--marker", "-m", "--bounds", "--reinstall-package", "-P", "--upgrade-package",
        "--no-binary-package", "--no-build-package", "--refresh-package", "--only-group", "--no-group", "--no-extra", "--python-version",
        "--fork-strategy", "--torch-backend", "--annotation-style", "--custom-compile-command", "--emit-index-annotation",
    ]

    /// The local, VCS and URL requirements the command names, with where (`the command line`, `FILE:LINE`).
    static func found(_ words: [String], command: [String], cwd: String, environment: [String: String]) throws -> [PipSourceCheck.Finding] {
        // `pip install`, `tool run`: two words name the command; `add`, `run`: one (the next is an operand).
        guard let first = command.first else { return [] }
        let commandLength = UvShim.families.contains(first) ? 2 : 1
        guard installing.contains(Array(command.prefix(commandLength))) else { return [] }
        let own = Array(words.prefix(UvShim.optionsEnd(words, command: command)))
        var scan = PipSourceCheck.Scan()
        // uv takes an editable for a path whatever it looks like (`-e pwn` is the folder pwn).
        func editableFound(_ value: String, place: String) {
            scan.findings.append(PipSourceCheck.Finding(form: value, why: "an editable install of a source tree: \(PipSourceCheck.buildsCode)", place: place))
        }
        func readFile(_ value: String) throws {
            // uv reads these as a project's metadata, not requirement lines: it takes the project's
            // [tool.uv.sources] (a local project it builds) and builds the project itself when its
            // dependencies are dynamic (a red-team pass ran a build backend through -r pyproject.toml).
            let name = Filesystem.split(value).name.lowercased()
            // (`.py`: a script's inline metadata, PEP 723, with its own sources; `setup.py` is built.)
            if name.hasSuffix(".toml") || name.hasSuffix(".py") || name == "setup.cfg" {
                scan.findings.append(PipSourceCheck.Finding(form: value, why: "a project's metadata file, which uv reads with the project's [tool.uv.sources] and builds when its dependencies are dynamic, running its code; install a project's dependencies with uv sync (the project's own), or list them in a requirements file", place: "the command line"))
                return
            }
            var seen: Set<String> = []
            // A `file:` URL is read where uv reads it (as pip's are), not as a path under the folder.
            guard let path = RequirementLines.path(of: value, relativeTo: cwd) else { throw RequirementLines.remote(value, at: "-r") }
            try RequirementLines.visit(path, environment: environment, viaURL: value.lowercased().hasPrefix("file:"), seen: &seen) { line in
                if let requirement = line.requirement { PipSourceCheck.classify(requirement, base: Filesystem.split(line.file).directory, place: line.place, into: &scan) }
                for option in line.options {
                    if option.name == .editable { editableFound(option.value ?? "", place: line.place) }
                    // uv obeys a file's index and find-links lines: a local folder or a file: index is read past
                    // the serve, and the fence does not see a file read (a red-team pass installed a wheel's .pth so).
                    if [.indexURL, .extraIndexURL, .findLinks, .noIndex].contains(option.name) {
                        scan.findings.append(PipSourceCheck.Finding(form: ([option.name.rawValue] + (option.value.map { [$0] } ?? [])).joined(separator: " "),
                                                                    why: "an index or find-links line in a requirement file, which uv reads packages from itself, past your bouncer serve; set uv's index to the serve and leave these lines out",
                                                                    place: line.place))
                    }
                }
            }
        }
        for variable in fileVariables {
            for file in (environment[variable] ?? "").split(whereSeparator: { $0 == " " || $0 == "\t" }) { try readFile(String(file)) }
        }
        // `uv pip sync FILE…`, `uv pip compile FILE…`: the operands are requirement files.
        let operandsAreFiles = command.prefix(2) == ["pip", "sync"] || command.prefix(2) == ["pip", "compile"]
        // `uvx X`, `uv tool run X`: without --from, X is the command and also the package uv installs for it.
        let runsATool = command.prefix(2) == ["tool", "run"]
        var fromGiven = false
        func operand(_ word: String) throws {
            if operandsAreFiles { try readFile(word) } else { PipSourceCheck.classify(word, base: cwd, place: "the command line", into: &scan) }
        }
        var commandWordsLeft = commandLength
        var index = 0
        while index < own.count {
            let word = own[index]
            index += 1
            // clap takes every word after `--` as an operand (a red-team pass built `uv pip install -- ../proj`).
            if word == "--" {
                if first != "run", !runsATool { for rest in own[index...] { try operand(rest) } }
                break
            }
            var option = word
            var value: String? = nil
            if word.hasPrefix("--"), let equals = word.firstIndex(of: "=") {
                option = String(word[..<equals])
                value = String(word[word.index(after: equals)...])
            } else if word.hasPrefix("-"), word.count > 2, !word.hasPrefix("--") {
                // A word of one-letter options, as clap reads it: flags up to the first that takes a value,
                // whose value is the rest of the word or the next one (`-qr FILE`, `-e./x`).
                let letters = word.dropFirst()
                guard let valued = letters.firstIndex(where: { valuedLetters.contains($0) }) else { continue }
                option = "-" + String(letters[valued])
                let rest = letters[letters.index(after: valued)...]
                value = rest.isEmpty ? nil : String(rest)
            }
            if requirementOptions.contains(option) || fileOptions.contains(option) {
                if value == nil, index < own.count { value = own[index]; index += 1 }
                guard let value else { continue }
                if option == "--from" { fromGiven = true }
                if fileOptions.contains(option) {
                    try readFile(value)
                } else if ["-e", "--editable", "--with-editable"].contains(option) {
                    for editable in value.split(separator: ",").map({ $0.trimmingSpaces() }) where !editable.isEmpty {
                        editableFound(editable, place: "the command line")
                    }
                } else {
                    for requirement in value.split(separator: ",").map({ $0.trimmingSpaces() }) where !requirement.isEmpty {
                        PipSourceCheck.classify(requirement, base: cwd, place: "the command line", into: &scan)
                    }
                }
                continue
            }
            // `uv pip install --group NAME` reads pyproject.toml's dependency group with its
            // [tool.uv.sources] (a local project it builds), as -r pyproject.toml does.
            if command.first == "pip", ["--group", "--only-group"].contains(option) {
                if value == nil, index < own.count { value = own[index]; index += 1 }
                scan.findings.append(PipSourceCheck.Finding(form: "\(option) \(value ?? "")", why: "a dependency group uv reads from pyproject.toml with the project's [tool.uv.sources], which can name a local project uv builds, running its code; install it as the project's own (uv sync --group NAME)", place: "the command line"))
                continue
            }
            if word.hasPrefix("-") {
                if value == nil, otherValues.union(UvShim.valueOptions).contains(option) || (option.count == 2 && option != word) { index += 1 }
                continue
            }
            // The command's own words first (`pip install`), then its operands: requirements.
            if commandWordsLeft > 0 { commandWordsLeft -= 1; continue }
            // `uv run` and `uvx`: the first operand is the program, not a requirement.
            if first == "run" || runsATool { break }
            try operand(word)
        }
        // The tool `uvx` runs stands where uv's own options end (after a `--` too).
        if runsATool, !fromGiven {
            let end = UvShim.optionsEnd(words, command: command)
            let program = words.dropFirst(end).drop { $0 == "--" }.first
            if let program, let requirement = toolRequirement(program) {
                PipSourceCheck.classify(requirement, base: cwd, place: "the command line", into: &scan)
            }
        }
        var findings = scan.findings
        for exotic in scan.exotic where !findings.contains(where: { $0.place == exotic.place && exotic.form.contains($0.form) }) { findings.append(exotic) }
        return findings
    }

    /// The requirement in `uvx X`'s X: `name@version` and `name@latest` are
    /// uv's own spelling of a released version (nothing to classify beyond
    /// the name); anything else (a path, `name @ file://…`, a URL) is read
    /// as a requirement.
    static func toolRequirement(_ program: String) -> String? {
        if let at = program.firstIndex(of: "@"), at != program.startIndex {
            let name = program[..<at], version = program[program.index(after: at)...]
            let plain: (Character) -> Bool = { $0.isLetter || $0.isNumber || "._-+!*".contains($0) }
            if name.allSatisfy(plain), !version.isEmpty, version.allSatisfy(plain) { return String(name) }
        }
        return program
    }
}
