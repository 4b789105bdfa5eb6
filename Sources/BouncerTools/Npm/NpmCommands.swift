/// npm's reading of its command word (`deref` in npm's cmd-list): a
/// command, an alias (`i`, `add`, `x`, `clean-install`…), a camelCase
/// spelling (`installTest`), or any prefix of exactly one command or alias
/// (`exe` is `exec`, `upd` is `update`). The shim once knew only the full
/// words and the aliases, so `npm exe cowsay` ran the real npm unguarded.
enum NpmCommands {
    /// npm 10's commands.
    static let commands: Set<String> = [
        "access", "adduser", "audit", "bugs", "cache", "ci", "completion", "config", "dedupe", "deprecate", "diff", "dist-tag",
        "docs", "doctor", "edit", "exec", "explain", "explore", "find-dupes", "fund", "get", "help", "help-search", "hook", "init",
        "install", "install-ci-test", "install-test", "link", "ll", "login", "logout", "ls", "org", "outdated", "owner", "pack",
        "ping", "pkg", "prefix", "profile", "prune", "publish", "query", "rebuild", "repo", "restart", "root", "run-script",
        "sbom", "search", "set", "shrinkwrap", "star", "stars", "start", "stop", "team", "test", "token", "uninstall",
        "unpublish", "unstar", "update", "version", "view", "whoami",
    ]
    /// npm 10's aliases, to the command each names.
    static let aliases: [String: String] = [
        "author": "owner", "home": "docs", "issues": "bugs", "info": "view", "show": "view", "find": "search", "add": "install",
        "unlink": "uninstall", "remove": "uninstall", "rm": "uninstall", "r": "uninstall", "un": "uninstall", "rb": "rebuild",
        "list": "ls", "ln": "link", "create": "init", "i": "install", "it": "install-test", "cit": "install-ci-test", "up": "update",
        "c": "config", "s": "search", "se": "search", "tst": "test", "t": "test", "ddp": "dedupe", "v": "view", "run": "run-script",
        "clean-install": "ci", "clean-install-test": "install-ci-test", "x": "exec", "why": "explain", "la": "ll", "verison": "version",
        "ic": "ci", "innit": "init", "in": "install", "ins": "install", "inst": "install", "insta": "install", "instal": "install",
        "isnt": "install", "isnta": "install", "isntal": "install", "isntall": "install", "install-clean": "ci",
        "isntall-clean": "ci", "hlep": "help", "dist-tags": "dist-tag", "upgrade": "update", "udpate": "update", "rum": "run-script",
        "sit": "install-ci-test", "urn": "run-script", "ogr": "org", "add-user": "adduser",
    ]

    /// The command npm runs for `word`; nil when npm knows none.
    static func command(_ word: String) -> String? {
        var word = word
        // camelCase: each capital becomes `-` and the small letter.
        if word.contains(where: { $0.isUppercase }) {
            word = word.map { $0.isUppercase ? "-" + $0.lowercased() : String($0) }.joined()
        }
        if commands.contains(word) { return word }
        if let command = aliases[word] { return command }
        return NpmOptions.abbreviation(word, of: Array(commands) + Array(aliases.keys)).map { aliases[$0] ?? $0 }
    }
}
