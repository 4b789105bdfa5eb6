import BouncerBase

/// npx behind Bouncer. npx is `npm exec` under another name: npm's own npx
/// rewrites its command line into `npm exec` options and runs npm. The shim
/// does the same rewriting and hands the result to the npm shim, which runs
/// the real npm once through its verifying proxy (and refuses packages from
/// outside the registry before anything is fetched). The real npm is looked
/// up on PATH after the shims, as the npm shim would.
public enum NpxShim {
    /// npx options npm exec no longer has: dropped, as npm's npx drops them.
    static let removedSwitches: Set<String> = ["always-spawn", "ignore-existing", "shell-auto-fallback"]
    static let removedOptions: Set<String> = ["npm", "node-arg", "n"]
    /// npx options that take a value (given as the next argument unless written `--key=value`).
    static let valued: Set<String> = ["package", "p", "cache", "userconfig", "call", "c", "shell", "npm", "node-arg", "n",
                                      "registry", "prefix", "C", "loglevel", "workspace", "w"]

    /// `npx ARGS` as the `npm exec` arguments npm's npx runs: `-p` is `--package`,
    /// `--shell` is `--script-shell`, `--no-install` is `--yes=false`, removed
    /// options are dropped, and `--` goes in front of the first positional
    /// argument (the command), so nothing after it is read as an npm option.
    static func translate(_ arguments: [String]) -> (exec: [String], dropped: [String]) {
        var out = ["exec"]
        var dropped: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" { out += arguments[index...]; return (out, dropped) }
            guard argument.hasPrefix("-"), argument != "-" else {
                out.append("--")
                out += arguments[index...]
                return (out, dropped)
            }
            let body = argument.drop { $0 == "-" }
            let key = String(body.prefix { $0 != "=" })
            let inlineValue = body.contains("=") ? String(body.drop { $0 != "=" }.dropFirst()) : nil
            let takesNext = valued.contains(key) && inlineValue == nil && index + 1 < arguments.count
            let value = takesNext ? arguments[index + 1] : inlineValue
            if removedSwitches.contains(key) || removedOptions.contains(key) {
                dropped.append(argument)
            } else {
                switch key {
                case "p", "package": out += ["--package"] + (value.map { [$0] } ?? [])
                case "shell": out += ["--script-shell"] + (value.map { [$0] } ?? [])
                case "no-install": out.append("--yes=false")
                default: out += [argument] + (takesNext ? [arguments[index + 1]] : [])
                }
            }
            index += takesNext ? 2 : 1
        }
        return (out, dropped)
    }

    public static func run(_ arguments: [String], context: ShimContext, bouncerExecutable: String?) -> Int32 {
        var npm = context.environment
        npm.tool = "npm"
        let realNpm: String
        do {
            realNpm = try RealToolLocator.locate(npm, bouncerExecutable: bouncerExecutable)
        } catch {
            ShimOutput.error("bouncer: npx: npx runs `npm exec`, and \(error)")
            return 127
        }
        let (exec, dropped) = translate(arguments)
        for option in dropped { ShimOutput.error("bouncer: npx: \(option) is an npx option npm exec no longer has; left out, as npm's npx leaves it out") }
        var through = context
        through.realTool = realNpm
        return NpmShim.run(exec, context: through, tool: "npx")
    }
}
