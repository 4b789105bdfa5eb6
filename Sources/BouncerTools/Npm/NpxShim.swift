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
    static let valued: Set<String> = ["package", "p", "cache", "userconfig", "call", "c", "shell", "npm", "node-arg", "n"]
    /// npx options that take none: npm's Boolean settings (a type that lists Boolean) and a few of npx's own.
    static let switches: Set<String> = {
        var names: Set<String> = ["no-install", "quiet", "q", "version", "v", "help", "h"]
        names.formUnion(removedSwitches)
        for (name, type) in NpmOptions.types where NpmOptions.split(type).kinds.contains("b") { names.insert(name) }
        return names
    }()

    /// `npx ARGS` as the `npm exec` arguments npm's npx runs: `-p` is `--package`,
    /// `--shell` is `--script-shell`, `--no-install` is `--yes=false`,
    /// shorthands are spelled out, removed options are dropped, and `--`
    /// goes in front of the first positional argument (the command), so
    /// nothing after it is read as an npm option. Whether an option takes
    /// the next word is npx's rule: a switch never does, one of its own
    /// valued options always does, any other does unless the word starts
    /// with `-` (so `--before 2024-01-01 cowsay` runs cowsay).
    static func translate(_ arguments: [String]) -> (exec: [String], dropped: [String]) {
        var args = arguments
        var dropped: [String] = []
        var index = 0
        while index < args.count {
            let argument = args[index]
            if argument == "--" { break }
            guard argument.hasPrefix("-") else {
                args.insert("--", at: index)
                break
            }
            let parts = argument.drop { $0 == "-" }.split(separator: "=", omittingEmptySubsequences: false).map(String.init)
            let key = parts.first ?? ""
            let values = Array(parts.dropFirst())
            switch key {
            case "p": args[index] = (["--package"] + values).joined(separator: "=")
            case "shell": args[index] = (["--script-shell"] + values).joined(separator: "=")
            case "no-install": args[index] = "--yes=false"
            default:
                if let words = NpmOptions.shorthands[key], !removed.contains(key) {
                    args.replaceSubrange(index...index, with: words + (values.isEmpty ? [] : [values.joined(separator: "=")]))
                    continue
                }
            }
            if removed.contains(key) {
                dropped.append(argument)
                args.remove(at: index)
                index -= 1
            }
            let next = index + 1 < args.count ? args[index + 1] : nil
            if values.isEmpty && !switches.contains(key) && (valued.contains(key) || !(next?.hasPrefix("-") ?? false)) {
                if removed.contains(key) {
                    if let next {
                        dropped.append(next)
                        args.remove(at: index + 1)
                    }
                } else {
                    index += 1
                }
            }
            index += 1
        }
        return (["exec"] + args, dropped)
    }

    static let removed = removedSwitches.union(removedOptions)

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
        if !dropped.isEmpty {
            ShimOutput.error("bouncer: npx: \(dropped.joined(separator: " ")): npx options npm exec no longer has; left out, as npm's npx leaves them out")
        }
        var through = context
        through.realTool = realNpm
        return NpmShim.run(exec, context: through, tool: "npx")
    }
}
