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
    /// An option Bouncer does not know, with the reason it matters.
    public var unknownOption: String?
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

    public static func parse(_ arguments: [String]) -> PipInvocation {
        var invocation = PipInvocation()
        var index = 0
        // Global options before the subcommand.
        while index < arguments.count {
            let argument = arguments[index]
            if !argument.hasPrefix("-") { break }
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
        guard invocation.subcommand == "install" else { return invocation }

        let rest = invocation.subcommandArguments
        var i = 0
        while i < rest.count {
            let argument = rest[i]
            defer { i += 1 }
            guard argument.hasPrefix("-"), argument != "-" else { continue }  // a requirement specifier or path
            // --name=value and -rFILE forms.
            var name = argument
            var inline: String? = nil
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                inline = String(argument[argument.index(after: equals)...])
            } else if !argument.hasPrefix("--"), argument.count > 2 {
                name = String(argument.prefix(2))
                inline = String(argument.dropFirst(2))
            }
            func value() -> String? {
                if let inline { return inline }
                guard i + 1 < rest.count else { return nil }
                i += 1
                return rest[i]
            }
            switch name {
            case "-e", "--editable":
                invocation.editable = true
                _ = value()
            case "--dry-run": invocation.dryRun = true
            case _ where resolveValued.contains(name):
                let given = value()
                if name == "-r" || name == "--requirement", let given { invocation.requirementFiles.append(given) }
                if name == "--no-binary" { invocation.noBinary = true }
            case _ where resolveFlags.contains(name): break
            case _ where carryValued.contains(name) || globalValued.contains(name):
                if let given = value() { invocation.carried += [name, given] }
            case _ where carryFlags.contains(name):
                if !argument.hasPrefix("--") && argument.count > 2 {
                    // A cluster like -qU: carry it whole when every letter is a carried flag.
                    if argument.dropFirst().allSatisfy({ carryFlags.contains("-\($0)") }) {
                        invocation.carried.append(argument)
                    } else if invocation.unknownOption == nil {
                        invocation.unknownOption = argument
                    }
                } else {
                    invocation.carried.append(argument)
                }
            default:
                if !argument.hasPrefix("--"), argument.dropFirst().allSatisfy({ carryFlags.contains("-\($0)") }) {
                    invocation.carried.append(argument)
                } else if invocation.unknownOption == nil {
                    invocation.unknownOption = name
                }
            }
        }
        return invocation
    }
}
