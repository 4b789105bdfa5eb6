/// npm's reading of its command line (its `nopt` parser), so that the shim
/// sees each option as npm does: any number of leading dashes
/// (`-registry=URL` is `--registry=URL`), the shorthands (`--reg`, `-C`,
/// `-gf`, `-s` for `--loglevel silent`), any prefix that names one setting
/// only (`--regis`), `--no-NAME`, and which word a setting takes as its
/// value (`--before 2024-01-01` takes the date; `--ignore-scripts false`
/// takes `false`; `--global yes` does not take `yes`, nor does an unknown
/// `--@scope:registry` take the URL after it: that URL is a package spec).
/// Read any other way, an option's value was once taken for npm's command
/// and the real npm ran unguarded, and `-registry=URL` sent it past the proxy.
enum NpmOptions {
    /// npm 10's settings (`@npmcli/config`'s definitions) and their types, as
    /// nopt weighs them: `b` Boolean, `n` null, `s` String, `d` Number, `o`
    /// another kind of value (a path, a URL, a date, an array), then `:` and
    /// the literal values the type lists; `[` marks a list of several types.
    static let types: [String: String] = [
        "_auth": "[ns", "access": "[n:restricted,public", "all": "b", "allow-same-version": "b",
        "also": "[n:dev,development", "audit": "b", "audit-level": "[n:info,low,moderate,high,critical,none",
        "auth-type": "[:legacy,web", "before": "[no", "bin-links": "b", "browser": "[nbs", "ca": "[nso", "cache": "o",
        "cache-max": "d", "cache-min": "d", "cafile": "o", "call": "s", "cert": "[ns", "cidr": "[nso",
        "color": "[b:always", "commit-hooks": "b", "cpu": "[ns", "depth": "[nd", "description": "b", "dev": "b",
        "diff": "[so", "diff-dst-prefix": "s", "diff-ignore-all-space": "b", "diff-name-only": "b", "diff-no-prefix": "b",
        "diff-src-prefix": "s", "diff-text": "b", "diff-unified": "d", "dry-run": "b", "editor": "s", "engine-strict": "b",
        "expect-result-count": "[nd", "expect-results": "[nb", "fetch-retries": "d", "fetch-retry-factor": "d",
        "fetch-retry-maxtimeout": "d", "fetch-retry-mintimeout": "d", "fetch-timeout": "d", "force": "b",
        "foreground-scripts": "b", "format-package-lock": "b", "fund": "b", "git": "s", "git-tag-version": "b",
        "global": "b", "global-style": "b", "globalconfig": "o", "heading": "s", "https-proxy": "[no", "if-present": "b",
        "ignore-scripts": "b", "include": "[o:prod,dev,optional,peer", "include-staged": "b",
        "include-workspace-root": "b", "init-author-email": "s", "init-author-name": "s", "init-author-url": "[o:",
        "init-license": "s", "init-module": "o", "init-version": "o", "init.author.email": "s", "init.author.name": "s",
        "init.author.url": "[o:", "init.license": "s", "init.module": "o", "init.version": "o", "install-links": "b",
        "install-strategy": "[:hoisted,nested,shallow,linked", "json": "b", "key": "[ns", "legacy-bundling": "b",
        "legacy-peer-deps": "b", "libc": "[ns", "link": "b",
        "local-address": "[n:127.0.0.1,::1,192.0.2.2,fd00::2,fe80::fc:ff:fe00:1", "location": "[:global,user,project",
        "lockfile-version": "[n:1,2,3,1,2,3", "loglevel": "[:silent,error,warn,notice,http,info,verbose,silly",
        "logs-dir": "[no", "logs-max": "d", "long": "b", "maxsockets": "d", "message": "s", "node-options": "[ns",
        "noproxy": "[so", "offline": "b", "omit": "[o:dev,optional,peer", "omit-lockfile-registry-resolved": "b",
        "only": "[n:prod,production", "optional": "[nb", "os": "[ns", "otp": "[ns", "pack-destination": "s",
        "package": "[so", "package-lock": "b", "package-lock-only": "b", "parseable": "b", "prefer-dedupe": "b",
        "prefer-offline": "b", "prefer-online": "b", "prefix": "o", "preid": "s", "production": "[nb", "progress": "b",
        "provenance": "b", "provenance-file": "o", "proxy": "[no:false", "read-only": "b", "rebuild-bundle": "b",
        "registry": "o", "replace-registry-host": "[s:npmjs,never,always", "save": "b", "save-bundle": "b",
        "save-dev": "b", "save-exact": "b", "save-optional": "b", "save-peer": "b", "save-prefix": "s", "save-prod": "b",
        "sbom-format": "[:cyclonedx,spdx", "sbom-type": "[:library,application,framework", "scope": "s",
        "script-shell": "[ns", "searchexclude": "s", "searchlimit": "d", "searchopts": "s", "searchstaleness": "d",
        "shell": "s", "shrinkwrap": "b", "sign-git-commit": "b", "sign-git-tag": "b", "strict-peer-deps": "b",
        "strict-ssl": "b", "tag": "s", "tag-version-prefix": "s", "timing": "b", "umask": "o", "unicode": "b",
        "update-notifier": "b", "usage": "b", "user-agent": "s", "userconfig": "o", "version": "b", "versions": "b",
        "viewer": "s", "which": "[nd", "workspace": "[so", "workspaces": "[nb", "workspaces-update": "b", "yes": "[nb"
    ]
    /// npm's shorthands and the words each stands for.
    static let shorthands: [String: [String]] = [
        "enjoy-by": ["--before"], "d": ["--loglevel", "info"], "dd": ["--loglevel", "verbose"],
        "ddd": ["--loglevel", "silly"], "quiet": ["--loglevel", "warn"], "q": ["--loglevel", "warn"],
        "s": ["--loglevel", "silent"], "silent": ["--loglevel", "silent"], "verbose": ["--loglevel", "verbose"],
        "desc": ["--description"], "help": ["--usage"], "local": ["--no-global"], "n": ["--no-yes"], "no": ["--no-yes"],
        "porcelain": ["--parseable"], "readonly": ["--read-only"], "reg": ["--registry"],
        "iwr": ["--include-workspace-root"], "a": ["--all"], "c": ["--call"], "f": ["--force"], "g": ["--global"],
        "L": ["--location"], "l": ["--long"], "m": ["--message"], "p": ["--parseable"], "C": ["--prefix"], "S": ["--save"],
        "B": ["--save-bundle"], "D": ["--save-dev"], "E": ["--save-exact"], "O": ["--save-optional"], "P": ["--save-prod"],
        "?": ["--usage"], "H": ["--usage"], "h": ["--usage"], "v": ["--version"], "w": ["--workspace"],
        "ws": ["--workspaces"], "y": ["--yes"]
    ]

    /// npm's command line with every option written as one word: `--name`
    /// or `--name=value` under the setting's full name (`--no-name` for
    /// npm's negation), the value joined to it whenever npm takes the next
    /// word as the value; other words as they were. Everything from a `--`
    /// on is left as it is. What npm reads from these words is what it read
    /// from the given ones.
    static func normalised(_ given: [String]) -> [String] {
        var words: [String] = []
        var args = given
        var index = 0
        while index < args.count {
            let word = args[index]
            if word.count >= 2 && word.allSatisfy({ $0 == "-" }) {
                words += args[index...]
                break
            }
            guard word.hasPrefix("-"), word.count > 1 else {
                words.append(word)
                index += 1
                continue
            }
            var name = word
            var hadEquals = false
            if let equals = word.firstIndex(of: "=") {
                hadEquals = true
                name = String(word[..<equals])
                args.replaceSubrange(index...index, with: [name, String(word[word.index(after: equals)...])])
            }
            // A shorthand is replaced by its words and read again (`-s` → `--loglevel silent`).
            if let expansion = expanded(name), expansion.first != name {
                args.replaceSubrange(index...index, with: expansion)
                continue
            }
            var bare = String(name.drop { $0 == "-" })
            var negated: Bool? = nil
            while bare.lowercased().hasPrefix("no-") {
                negated = !(negated ?? false)
                bare = String(bare.dropFirst(3))
            }
            let setting = abbreviation(bare, of: types.keys) ?? bare
            let next = index + 1 < args.count ? args[index + 1] : nil
            let spelled = (negated == true ? "--no-" : "--") + setting
            if let next, takesNext(types[setting], negated: negated != nil, hadEquals: hadEquals, next: next) {
                words.append(spelled + "=" + next)
                index += 2
            } else {
                words.append(spelled)
                index += 1
            }
        }
        return words
    }

    /// Whether npm takes `next` as the value of an option of `type` (nil: a
    /// setting npm does not know). nopt's rule: a Boolean (a negated or
    /// unknown option too, unless written with `=`) takes only `true` or
    /// `false`, or, where its type lists more, one of those; any other type
    /// takes the next word, except `--`, and a plain String one that looks
    /// like an option.
    static func takesNext(_ type: String?, negated: Bool, hadEquals: Bool, next: String) -> Bool {
        let code = type ?? ""
        let (kinds, literals) = split(code)
        let isList = code.hasPrefix("[")
        let nullable = kinds.contains("n")
        let boolean = negated || kinds == "b" || (isList && kinds.contains("b")) || (type == nil && !hadEquals)
            || (next == "false" && nullable)
        let dashes = next.prefix { $0 == "-" }.count
        let rest = next.count - dashes
        if boolean {
            if next == "true" || next == "false" { return true }
            guard isList else { return false }
            if literals.contains(next) || (next == "null" && nullable) { return true }
            if kinds.contains("d"), Double(next) != nil { return true }
            // A String among its types: any word but one like `-x`.
            return kinds.contains("s") && !(dashes == 1 && rest > 0)
        }
        // A String alone does not take a word like `-x` or `--x` (the value is then empty).
        if code == "s", dashes == 1 || dashes == 2, rest > 0 { return false }
        // `--` (or more dashes alone) ends the options; it is nobody's value.
        return !(dashes >= 2 && rest == 0)
    }

    static func split(_ code: String) -> (kinds: String, literals: Set<String>) {
        let body = code.hasPrefix("[") ? code.dropFirst() : Substring(code)
        guard let colon = body.firstIndex(of: ":") else { return (String(body), []) }
        return (String(body[..<colon]), Set(body[body.index(after: colon)...].split(separator: ",").map(String.init)))
    }

    /// The words a shorthand stands for, as nopt resolves one: nil for a
    /// setting's own name; a shorthand; a run of one-letter shorthands
    /// (`-gf`); a prefix of a setting before a prefix of a shorthand.
    static func expanded(_ word: String) -> [String]? {
        let bare = String(word.drop { $0 == "-" })
        if types[bare] != nil { return nil }
        if let words = shorthands[bare] { return words }
        let letters = bare.map(String.init)
        if !letters.isEmpty, letters.allSatisfy({ $0.count == 1 && shorthands[$0] != nil }) {
            return letters.flatMap { shorthands[$0] ?? [] }
        }
        if abbreviation(bare, of: types.keys) != nil { return nil }
        return abbreviation(bare, of: shorthands.keys).flatMap { shorthands[$0] }
    }

    /// The one name `text` is, or is the start of (nil: none, or several).
    static func abbreviation<Names: Collection>(_ text: String, of names: Names) -> String? where Names.Element == String {
        guard !text.isEmpty else { return nil }
        if names.contains(text) { return text }
        var found: String? = nil
        for name in names where name.hasPrefix(text) {
            if found != nil { return nil }
            found = name
        }
        return found
    }
}
