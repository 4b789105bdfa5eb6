import BouncerBase
import BouncerIO
import BouncerPolicy
/// A pip command line split into what Bouncer needs: global options, the
/// subcommand, and for `install` which options carry over to the final,
/// offline install of verified files and which only steer resolution.
public struct PipInvocation: Equatable, Sendable {
    public var globalOptions: [String] = []
    public var subcommand: String?
    public var subcommandArguments: [String] = []
    /// Requirement files named with -r (for their --hash lines).
    public var requirementFiles: [String] = []
    /// Options for the final install: placement and verbosity (--target, --user, --prefix, -U, -q...).
    public var carried: [String] = []
    public var dryRun = false
    public var editable = false
    public var noBinary = false
    /// The requirement arguments (names, specifiers, paths, URLs), in order.
    public var requirements: [String] = []
    /// What -e / --editable named.
    public var editables: [String] = []
    /// Constraint files named with -c (read for the same checks as -r files).
    public var constraintFiles: [String] = []
    /// An option Bouncer does not know, with the reason it matters.
    public var unknownOption: String?
    /// Where pip is told to look (-i, --extra-index-url, -f, --no-index): the
    /// proxy takes them over, so they are not passed to the real pip.
    public var indexURL: String?
    public var extraIndexURLs: [String] = []
    public var findLinks: [String] = []
    public var noIndex = false
    /// The install's options as pip reads them (clusters split), without the index options.
    public var installOptions: [String] = []
}

public enum PipArguments {
    /// Global options that take a value (pip's general options).
    static let globalValued: Set<String> = ["--cache-dir", "--log", "--proxy", "--retries", "--timeout", "--exists-action",
                                            "--trusted-host", "--cert", "--client-cert", "--python", "--use-feature",
                                            "--use-deprecated", "--keyring-provider", "--log-file", "--local-log"]

    /// install options that steer resolution only (dropped from the final install).
    static let resolveValued: Set<String> = ["-r", "--requirement", "-c", "--constraint", "-i", "--index-url",
                                             "--extra-index-url", "-f", "--find-links", "--upgrade-strategy",
                                             "--only-binary", "--no-binary", "--platform", "--python-version",
                                             "--implementation", "--abi", "-C", "--config-settings", "--src",
                                             "--progress-bar", "--report"]
    static let resolveFlags: Set<String> = ["--pre", "--no-deps", "--require-hashes", "--prefer-binary", "--no-index",
                                            "--no-build-isolation", "--use-pep517", "--no-use-pep517", "--check-build-dependencies",
                                            "--ignore-requires-python", "--no-clean"]
    /// install options that carry over to the final install.
    static let carryValued: Set<String> = ["-t", "--target", "--root", "--prefix", "--root-user-action"]
    static let carryFlags: Set<String> = ["--user", "-U", "--upgrade", "--force-reinstall", "-I", "--ignore-installed",
                                          "--no-warn-script-location", "--no-warn-conflicts", "--no-compile", "--compile",
                                          "--break-system-packages", "-q", "--quiet", "-v", "--verbose",
                                          "--disable-pip-version-check", "--no-cache-dir", "--isolated", "--no-input",
                                          "--no-color", "--exists-action"]

    /// The subcommands guarded beside `install`: `download` and `wheel`
    /// resolve and fetch as it does, through the same proxy.
    static let resolving: Set<String> = ["install", "download", "wheel"]

    /// Options of `download` and `wheel` alone: where the files go, how wheels
    /// are built (passed on as given).
    static let ownValued: [String: Set<String>] = ["download": ["-d", "--dest"],
                                                   "wheel": ["-w", "--wheel-dir", "--build-option", "--global-option"]]
    static let ownFlags: [String: Set<String>] = ["wheel": ["--no-verify"]]

    /// Every option a subcommand takes, as named above.
    static func optionSets(_ subcommand: String?) -> [Set<String>] {
        [globalValued, resolveValued, resolveFlags, carryValued, carryFlags, ["--editable", "--dry-run"],
         ownValued[subcommand ?? ""] ?? [], ownFlags[subcommand ?? ""] ?? []]
    }

    /// optparse's reading of a long option: the exact name, else the one name
    /// of the subcommand's it begins (`--index-ur`, `--extra`); `--pypi-url`
    /// is an old name of `--index-url`. A prefix of several (or of none) stays
    /// as written: an option Bouncer does not know.
    static func longName(_ written: String, subcommand: String? = nil) -> String {
        let sets = optionSets(subcommand)
        let name = sets.contains(where: { $0.contains(written) }) ? written : {
            let candidates = sets.reduce(Set(["--pypi-url"])) { $0.union($1) }.filter { $0.hasPrefix("--") && $0.hasPrefix(written) }
            return candidates.count == 1 ? candidates.first ?? written : written
        }()
        return name == "--pypi-url" ? "--index-url" : name
    }

    static func takesValue(_ name: String, subcommand: String? = nil) -> Bool {
        name == "-e" || name == "--editable" || resolveValued.contains(name) || carryValued.contains(name) || globalValued.contains(name)
            || ownValued[subcommand ?? ""]?.contains(name) == true
    }

    public static func parse(_ arguments: [String]) -> PipInvocation {
        var invocation = PipInvocation()
        var index = 0
        // Global options before the subcommand.
        while index < arguments.count {
            var argument = arguments[index]
            if !argument.hasPrefix("-") { break }
            if argument.hasPrefix("--"), !argument.contains("=") { argument = longName(argument) }
            invocation.globalOptions.append(argument)
            if globalValued.contains(argument), index + 1 < arguments.count {
                index += 1
                invocation.globalOptions.append(arguments[index])
            }
            index += 1
        }
        guard index < arguments.count else { return invocation }
        invocation.subcommand = arguments[index]
        invocation.subcommandArguments = Array(arguments[(index + 1)...])
        guard let subcommand = invocation.subcommand, resolving.contains(subcommand) else { return invocation }

        // pip parses with optparse: short options cluster (-Ur FILE, -qqU), and
        // a short option that takes a value takes the rest of the cluster or the next argument.
        var options: [(name: String, value: String?, shown: String)] = []
        let rest = invocation.subcommandArguments
        var i = 0
        while i < rest.count {
            let argument = rest[i]
            i += 1
            guard argument.hasPrefix("-"), argument != "-" else {
                invocation.requirements.append(argument)  // a requirement specifier or path
                continue
            }
            if argument.hasPrefix("--") {
                var name = argument
                var inline: String? = nil
                if let equals = argument.firstIndex(of: "=") {
                    name = String(argument[..<equals])
                    inline = String(argument[argument.index(after: equals)...])
                }
                name = longName(name, subcommand: subcommand)
                if takesValue(name, subcommand: subcommand), inline == nil, i < rest.count {
                    inline = rest[i]
                    i += 1
                }
                options.append((name, inline, name))
                continue
            }
            var letters = Substring(argument.dropFirst())
            while let letter = letters.first {
                letters = letters.dropFirst()
                let name = "-\(letter)"
                if takesValue(name, subcommand: subcommand) {
                    var value: String? = letters.isEmpty ? nil : String(letters)
                    letters = ""
                    if value == nil, i < rest.count {
                        value = rest[i]
                        i += 1
                    }
                    options.append((name, value, name))
                } else {
                    options.append((name, nil, name))
                }
            }
        }
        for (name, value, shown) in options {
            switch name {
            case "-i", "--index-url": invocation.indexURL = value; continue
            case "--extra-index-url": if let value { invocation.extraIndexURLs.append(value) }; continue
            case "-f", "--find-links": if let value { invocation.findLinks.append(value) }; continue
            case "--no-index": invocation.noIndex = true; continue
            default: invocation.installOptions += value.map { [name, $0] } ?? [name]
            }
            switch name {
            case "-e", "--editable":
                invocation.editable = true
                if let value { invocation.editables.append(value) }
            case "--dry-run": invocation.dryRun = true
            case _ where resolveValued.contains(name):
                if name == "-r" || name == "--requirement", let value { invocation.requirementFiles.append(value) }
                if name == "-c" || name == "--constraint", let value { invocation.constraintFiles.append(value) }
                if name == "--no-binary" { invocation.noBinary = true }
            case _ where resolveFlags.contains(name): break
            case _ where carryValued.contains(name) || globalValued.contains(name) || ownValued[subcommand]?.contains(name) == true:
                if let value { invocation.carried += [name, value] }
            case _ where carryFlags.contains(name) || ownFlags[subcommand]?.contains(name) == true:
                invocation.carried.append(name)
            default:
                if invocation.unknownOption == nil { invocation.unknownOption = shown }
            }
        }
        return invocation
    }
}
