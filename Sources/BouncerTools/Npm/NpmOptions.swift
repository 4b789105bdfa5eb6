/// npm's reading of an option word (its `nopt` parser): any number of
/// leading dashes (`-registry=URL` is `--registry=URL`), the shorthands
/// (`--reg`, `-C`, `-gf`), and any prefix that names one setting only
/// (`--regis`). The shim watches a few settings (where npm fetches from, its
/// cache, its project, `-g`); written any other way than `--name`, they once
/// reached npm unseen, and `-registry=URL` sent it straight past the proxy.
enum NpmOptions {
    /// npm 10's settings (`@npmcli/config`'s definitions), for prefixes.
    static let settings: [String] = [
        "_auth", "access", "all", "allow-same-version", "also", "audit", "audit-level", "auth-type", "before", "bin-links",
        "browser", "ca", "cache", "cache-max", "cache-min", "cafile", "call", "cert", "cidr", "color", "commit-hooks", "cpu",
        "depth", "description", "dev", "diff", "diff-dst-prefix", "diff-ignore-all-space", "diff-name-only", "diff-no-prefix",
        "diff-src-prefix", "diff-text", "diff-unified", "dry-run", "editor", "engine-strict", "expect-result-count",
        "expect-results", "fetch-retries", "fetch-retry-factor", "fetch-retry-maxtimeout", "fetch-retry-mintimeout",
        "fetch-timeout", "force", "foreground-scripts", "format-package-lock", "fund", "git", "git-tag-version", "global",
        "global-style", "globalconfig", "heading", "https-proxy", "if-present", "ignore-scripts", "include", "include-staged",
        "include-workspace-root", "init-author-email", "init-author-name", "init-author-url", "init-license", "init-module",
        "init-version", "init.author.email", "init.author.name", "init.author.url", "init.license", "init.module",
        "init.version", "install-links", "install-strategy", "json", "key", "legacy-bundling", "legacy-peer-deps", "libc",
        "link", "local-address", "location", "lockfile-version", "loglevel", "logs-dir", "logs-max", "long", "maxsockets",
        "message", "node-options", "noproxy", "offline", "omit", "omit-lockfile-registry-resolved", "only", "optional", "os",
        "otp", "pack-destination", "package", "package-lock", "package-lock-only", "parseable", "prefer-dedupe",
        "prefer-offline", "prefer-online", "prefix", "preid", "production", "progress", "provenance", "provenance-file",
        "proxy", "read-only", "rebuild-bundle", "registry", "replace-registry-host", "save", "save-bundle", "save-dev",
        "save-exact", "save-optional", "save-peer", "save-prefix", "save-prod", "sbom-format", "sbom-type", "scope",
        "script-shell", "searchexclude", "searchlimit", "searchopts", "searchstaleness", "shell", "shrinkwrap",
        "sign-git-commit", "sign-git-tag", "strict-peer-deps", "strict-ssl", "tag", "tag-version-prefix", "timing", "umask",
        "unicode", "update-notifier", "usage", "user-agent", "userconfig", "version", "versions", "viewer", "which",
        "workspace", "workspaces", "workspaces-update", "yes",
    ]
    /// npm's shorthands that stand for one setting (the others set a value, as `-d` for `--loglevel info`).
    static let shorthands: [String: String] = [
        "reg": "registry", "C": "prefix", "g": "global", "w": "workspace", "ws": "workspaces",
        "B": "save-bundle", "D": "save-dev", "E": "save-exact", "O": "save-optional", "P": "save-prod", "S": "save",
        "enjoy-by": "before", "desc": "description", "help": "usage", "readonly": "read-only", "porcelain": "parseable",
        "iwr": "include-workspace-root", "a": "all", "c": "call", "f": "force", "l": "long", "L": "location", "m": "message",
        "p": "parseable", "y": "yes", "n": "yes", "no": "yes", "v": "version", "H": "usage", "h": "usage", "?": "usage",
        "d": "loglevel", "dd": "loglevel", "ddd": "loglevel", "q": "loglevel", "quiet": "loglevel", "s": "loglevel",
        "silent": "loglevel", "verbose": "loglevel",
    ]
    /// The settings the shim reads or takes over when they are on npm's command line.
    static let watched: Set<String> = ["registry", "cache", "replace-registry-host", "proxy", "https-proxy", "noproxy", "cafile", "ca",
                                       "userconfig", "globalconfig", "prefix", "global", "location", "package"]

    /// The setting an option word names, as npm reads it; nil when it names none.
    static func setting(_ word: String) -> String? {
        let bare = String(word.drop { $0 == "-" })
        if settings.contains(bare) { return bare }
        if let expanded = shorthands[bare] { return expanded }
        let shortened = shorthands.keys.filter { $0.hasPrefix(bare) }
        if !bare.isEmpty, shortened.count == 1, let only = shortened.first { return shorthands[only] }
        let named = settings.filter { $0.hasPrefix(bare) }
        return !bare.isEmpty && named.count == 1 ? named.first : nil
    }

    /// npm's command line with every watched setting written `--name` or
    /// `--name=value` (a scope's registry `--@scope:registry…`), and a
    /// cluster of one-letter shorthands (`-gf`) split into its letters; the
    /// other words as they were.
    static func normalised(_ arguments: [String]) -> [String] {
        var words: [String] = []
        for (index, argument) in arguments.enumerated() {
            if argument == "--" {
                words += arguments[index...]
                break
            }
            guard argument.hasPrefix("-"), argument != "-" else { words.append(argument); continue }
            let equals = argument.firstIndex(of: "=")
            let name = equals.map { String(argument[..<$0]) } ?? argument
            let inline = equals.map { String(argument[$0...]) } ?? ""
            let bare = name.drop { $0 == "-" }
            if bare.hasPrefix("@") {
                words.append("--" + bare + inline)
            } else if let setting = setting(name) {
                words.append(watched.contains(setting) ? "--" + setting + inline : argument)
            } else if !argument.hasPrefix("--"), equals == nil, bare.count > 1,
                      bare.allSatisfy({ shorthands[String($0)] != nil }) {
                // `-gf`: one-letter shorthands together, as npm takes them.
                words += bare.map { letter in
                    let setting = shorthands[String(letter)] ?? ""
                    return watched.contains(setting) ? "--" + setting : "-" + String(letter)
                }
            } else {
                words.append(argument)
            }
        }
        return words
    }
}
