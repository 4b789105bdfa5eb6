import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// npm's configuration, read from its files the way npm reads them (project
/// `.npmrc` over the user's over the global one over npm's built-in ones, with
/// `npm_config_*` variables over all of them), so that neither the npm shim nor
/// a standalone `bouncer serve` starts node for it: the registry, each scope's
/// own registry, and the credentials npm would send to each.
public enum NpmConfiguration {
    /// The npmrc files npm reads, most specific first: the project's, the
    /// user's, the global one, npm's built-in ones (`realTool`: the npm
    /// executable, whose installation prefix holds the global and built-in ones).
    public static func files(project: String, environment: [String: String], realTool: String) -> [String] {
        let home = environment["HOME"] ?? ""
        let user = environment["npm_config_userconfig"] ?? environment["NPM_CONFIG_USERCONFIG"] ?? (home.isEmpty ? nil : home + "/.npmrc")
        let prefix = Filesystem.split(Filesystem.split(Filesystem.realPath(realTool)).directory).directory
        let global = environment["npm_config_globalconfig"] ?? environment["NPM_CONFIG_GLOBALCONFIG"] ?? (prefix + "/etc/npmrc")
        return [project + "/.npmrc", user, global, "/usr/share/nodejs/npm/npmrc", prefix + "/lib/node_modules/npm/npmrc"].compactMap { $0 }
    }

    /// The project npm works on, its "local prefix" (whose `.npmrc`, package.json
    /// and lock it reads): the nearest directory up from `cwd` with a
    /// `package.json` or `node_modules`, or the workspace root above that one
    /// when the root's `workspaces` globs name it; `cwd` when there is none.
    /// (`--prefix` on npm's command line replaces all of this; the caller's.)
    /// Run in a subdirectory, npm still reads the project's configuration.
    /// `workspaceRoot` false (`--no-workspaces` on npm's command line): the nearest folder, no root above.
    public static func localPrefix(cwd: String, workspaceRoot: Bool = true) -> String {
        var found: String? = nil
        for directory in Filesystem.selfAndAncestors(cwd) {
            let hasManifest = Filesystem.isFile(Filesystem.absolute("package.json", cwd: directory))
            if found == nil {
                if hasManifest || Filesystem.isDirectory(Filesystem.absolute("node_modules", cwd: directory)) {
                    found = directory
                    if !workspaceRoot { break }
                }
            } else if hasManifest, let member = found, isWorkspaceRoot(directory, of: member) {
                return directory
            }
        }
        return found ?? cwd
    }

    /// Whether `root`'s package.json names `member` among its `workspaces`
    /// (an array of globs, or `{"packages": [...]}`). A glob's `*` is taken to
    /// cross `/` too: reading the root when npm would not costs a stricter check, never a missed one.
    static func isWorkspaceRoot(_ root: String, of member: String) -> Bool {
        guard member.hasPrefix(root == "/" ? "/" : root + "/"),
              let bytes = (try? AtomicFile.read(root + "/package.json", limit: 16 << 20, code: "npm-package")).flatMap({ $0 }) else { return false }
        // One Bouncer cannot read (npm reads a duplicate key as the last) may be the root npm finds:
        // taken for it, so that reading it refuses the call rather than the member's files being judged instead.
        guard let manifest = try? JSON.parse(file: bytes, maxDepth: 128) else { return true }
        let relative = String(member.dropFirst(root == "/" ? 1 : root.count + 1))
        return NpmWorkspaces.contains(relative, patterns: NpmWorkspaces.patterns(manifest))
    }

    /// One `key=value` line of an npmrc file (value unquoted, `${VAR}` expanded), and the file.
    public struct Entry: Sendable, Equatable {
        public var key: String
        public var value: String
        public var file: String
        public init(key: String, value: String, file: String) {
            self.key = key
            self.value = value
            self.file = file
        }
    }

    /// Every setting of npm's configuration files, most specific file first.
    public static func entries(project: String, environment: [String: String], realTool: String) -> [Entry] {
        var entries: [Entry] = []
        for file in files(project: project, environment: environment, realTool: realTool) {
            guard let bytes = (try? AtomicFile.read(file, limit: 1 << 20, code: "npmrc")).flatMap({ $0 }) else { continue }
            entries += parse(bytes, file: file, environment: environment)
        }
        return entries
    }

    /// The `key=value` lines of one npmrc file (comments and other lines skipped).
    public static func parse(_ bytes: [UInt8], file: String, environment: [String: String]) -> [Entry] {
        var entries: [Entry] = []
        for line in String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            let trimmed = line.trimmingSpaces()
            guard !trimmed.hasPrefix("#"), !trimmed.hasPrefix(";"), let equals = trimmed.firstIndex(of: "=") else { continue }
            let key = expand(iniText(String(trimmed[..<equals])), environment: environment)
            let value = expand(iniText(String(trimmed[trimmed.index(after: equals)...])), environment: environment)
            entries.append(Entry(key: key, value: value, file: file))
        }
        return entries
    }

    /// A key or value as npm's ini reader reads it: `"…"` is JSON (quotes and
    /// escapes gone), `'…'` loses its quotes, and an unquoted one ends at an
    /// unescaped `;` or `#` (`\;` and `\#` are the characters). So
    /// `"package"=x` sets `package`, as npm reads it.
    public static func iniText(_ raw: String) -> String {
        let text = raw.trimmingSpaces()
        if text.count >= 2, let first = text.first, first == "\"" || first == "'", text.last == first {
            let inner = first == "'" ? String(text.dropFirst().dropLast()) : text
            if case .string(let decoded)? = try? JSON.parse(Array(inner.utf8)) { return decoded }
            return inner
        }
        var out = ""
        var escaped = false
        for character in text {
            if escaped {
                if character == "\\" || character == ";" || character == "#" { out.append(character) } else { out += "\\" + String(character) }
                escaped = false
            } else if character == ";" || character == "#" {
                break
            } else if character == "\\" {
                escaped = true
            } else {
                out.append(character)
            }
        }
        if escaped { out += "\\" }
        return out.trimmingSpaces()
    }

    /// npm's `${NAME}` in npmrc keys and values: the variable's value;
    /// unset, `${NAME}` stays as written and `${NAME?}` becomes empty. A
    /// backslash before it keeps it literal (two backslashes are one, then the
    /// value), as npm's config loader does.
    public static func expand(_ text: String, environment: [String: String]) -> String {
        guard text.contains("${") else { return text }
        let characters = Array(text)
        var out = ""
        var index = 0
        while index < characters.count {
            // A run of backslashes, then possibly ${NAME} or ${NAME?}.
            var slashes = 0
            while index + slashes < characters.count, characters[index + slashes] == "\\" { slashes += 1 }
            let start = index + slashes
            if start + 1 < characters.count, characters[start] == "$", characters[start + 1] == "{",
               let close = characters[(start + 2)...].firstIndex(of: "}") {
                var name = String(characters[(start + 2)..<close])
                let optional = name.hasSuffix("?")
                if optional { name.removeLast() }
                if !name.isEmpty, !name.contains(where: { "${}?".contains($0) }) {
                    let literal = String(characters[start...close])
                    if slashes % 2 == 1 {
                        out += String(repeating: "\\", count: (slashes - 1) / 2) + literal
                    } else {
                        out += String(repeating: "\\", count: slashes / 2) + (environment[name] ?? (optional ? "" : "${\(name)}"))
                    }
                    index = close + 1
                    continue
                }
            }
            out += String(characters[index..<(start == index ? index + 1 : start)])
            index = start == index ? index + 1 : start
        }
        return out
    }

    /// The settings npm would use, the first place that sets a key winning:
    /// `npm_config_*` variables (`_` read as `-`, lower-cased, except in
    /// `//host/:key` names), then the npmrc entries in order.
    public static func settings(_ entries: [Entry], environment: [String: String]) -> [String: String] {
        var settings: [String: String] = [:]
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) where name.lowercased().hasPrefix("npm_config_") && !value.isEmpty {
            var key = String(name.dropFirst("npm_config_".count))
            if !key.hasPrefix("//") {
                key = String(key.prefix(1)) + key.dropFirst().replacing("_", with: "-")
                key = key.lowercased()
            }
            if settings[key] == nil { settings[key] = value }
        }
        for entry in entries where settings[entry.key] == nil { settings[entry.key] = entry.value }
        return settings
    }

    /// Every `@scope:registry` npm would use: on the command line
    /// (`--@scope:registry=URL`), in the environment (`npm_config_@scope:registry`)
    /// or in an npmrc file, with where it was found; the first for a scope is npm's.
    public static func scopedRegistries(arguments: [String], environment: [String: String], npmrc: [Entry]) -> [(scope: String, url: String, place: String)] {
        var found: [(scope: String, url: String, place: String)] = []
        func note(_ key: String, _ value: String, _ place: String) {
            let value = value.trimming([" ", "\"", "'"])
            guard key.hasPrefix("@"), key.lowercased().hasSuffix(":registry"), !value.isEmpty else { return }
            found.append((String(key.dropLast(":registry".count)), value, place))
        }
        // `--@scope:registry=URL`: npm takes the URL only after `=` (in `--@scope:registry URL`, a
        // setting npm does not know, the URL is a package spec of its own).
        for argument in arguments where argument.hasPrefix("--@") {
            guard let equals = argument.firstIndex(of: "=") else { continue }
            note(String(argument.dropFirst(2)[..<equals]), String(argument[argument.index(after: equals)...]), "the command line")
        }
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) where name.lowercased().hasPrefix("npm_config_@") {
            note(String(name.dropFirst("npm_config_".count)), value, "the environment, \(name)")
        }
        for entry in npmrc { note(entry.key, entry.value, entry.file) }
        return found
    }

    /// Each scope's registry as npm takes it: the first place that names one.
    /// A "scope" no package name can have (`@a b`, `@../x`) is left out: no
    /// package is ever fetched from its registry.
    public static func scopeRegistries(arguments: [String], environment: [String: String], npmrc: [Entry]) -> [String: String] {
        var scopes: [String: String] = [:]
        for (scope, url, _) in scopedRegistries(arguments: arguments, environment: environment, npmrc: npmrc)
        where scopes[scope] == nil && isScope(scope) {
            scopes[scope] = url
        }
        return scopes
    }

    /// `@name` in the characters an npm package name allows (the scope part of `@scope/name`).
    public static func isScope(_ text: String) -> Bool {
        guard text.hasPrefix("@"), let first = text.dropFirst().first, first != ".", first != "_", text.count <= 215 else { return false }
        return text.dropFirst().allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-._~".contains($0)) }
    }

    /// The CA certificates npm's `ca` setting gives inline (PEM, newlines
    /// written `\n`): the command line's `--ca` values, else `npm_config_ca`,
    /// else the `ca` / `ca[]` lines of the first npmrc file that has any.
    /// Empty: none.
    public static func inlineCertificates(commandLine: [String] = [], _ entries: [Entry], environment: [String: String]) -> [String] {
        func pem(_ value: String) -> String { value.replacing("\\n", with: "\n") }
        if !commandLine.isEmpty { return commandLine.map(pem) }
        if let variable = environment.keys.sorted().first(where: { $0.lowercased() == "npm_config_ca" }),
           let value = environment[variable], !value.isEmpty {
            return [pem(value)]
        }
        guard let file = entries.first(where: { $0.key == "ca" || $0.key == "ca[]" })?.file else { return [] }
        return entries.filter { $0.file == file && ($0.key == "ca" || $0.key == "ca[]") && !$0.value.isEmpty }.map { pem($0.value) }
    }

    /// The registry npm would use: `npm_config_registry` (in either case) over the npmrc files'.
    public static func registry(environment: [String: String], npmrc: [Entry]) -> String? {
        ["npm_config_registry", "NPM_CONFIG_REGISTRY"].lazy.compactMap { environment[$0] }.first { !$0.isEmpty } ?? registry(npmrc)
    }

    /// The registry the npmrc files name.
    public static func registry(_ npmrc: [Entry]) -> String? {
        // A ${VAR} left unexpanded (unset) is left to npm, which fails on it in its own words.
        npmrc.first { $0.key == "registry" && !$0.value.isEmpty && !$0.value.contains("${") }?.value
    }

    /// The `Authorization` header value npm would send with a request for
    /// `url`: from the settings of the longest `//host[:port]/path` that has
    /// credentials (`registryKey`): `:_authToken` → Bearer; `:_auth`, or
    /// `:username` with a base64 `:_password` → Basic. A URL with no key of
    /// its own, on the same host as one of `registries`, gets that
    /// registry's (a tarball on the registry's host outside its path).
    /// nil: npm would send none.
    public static func authorization(for url: String, settings: [String: String], registries: [String] = []) -> String? {
        guard let key = credentialsKey(for: url, settings: settings, registries: registries) else { return nil }
        if let token = settings[key + ":_authToken"], !token.isEmpty { return "Bearer " + token }
        if let basic = settings[key + ":_auth"], !basic.isEmpty { return "Basic " + basic }
        if let user = settings[key + ":username"], let encoded = settings[key + ":_password"], !user.isEmpty,
           let password = Base64.decode(encoded) {
            return "Basic " + Base64.encode(Array(user.utf8) + [UInt8(ascii: ":")] + password)
        }
        return nil
    }

    /// The client certificate npm would present for `url` (mutual TLS): the
    /// `:certfile` and `:keyfile` of the same key as `authorization`'s,
    /// both set (npm uses neither alone). nil: npm would present none.
    public static func clientCertificate(for url: String, settings: [String: String], registries: [String] = []) -> (certfile: String, keyfile: String)? {
        guard let key = credentialsKey(for: url, settings: settings, registries: registries),
              let certfile = settings[key + ":certfile"], let keyfile = settings[key + ":keyfile"],
              !certfile.isEmpty, !keyfile.isEmpty else { return nil }
        return (certfile, keyfile)
    }

    /// The key npm takes a request's credentials from: `url`'s own, else,
    /// for a URL on the host of one of `registries`, that registry's.
    private static func credentialsKey(for url: String, settings: [String: String], registries: [String]) -> String? {
        if let own = registryKey(url, settings) { return own }
        let origin = URLParts.origin(url)
        for registry in registries where !origin.isEmpty && URLParts.origin(registry) == origin && registry != url {
            if let inherited = registryKey(registry, settings) { return inherited }
        }
        return nil
    }

    /// The longest `//host[:port]/path` prefix of `url` with any credentials
    /// set, as npm finds it: a token, `_auth`, `username` with `_password`,
    /// or `certfile` with `keyfile`. The first found ends the walk, so a
    /// shorter key's token is not sent where a longer one names a certificate.
    private static func registryKey(_ url: String, _ settings: [String: String]) -> String? {
        let clean = URLParts.withoutCredentials(url)
        guard let scheme = clean.firstRange(of: "://") else { return nil }
        var rest = clean[scheme.upperBound...]
        if let end = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<end] }
        var key = "//" + rest
        if let slash = rest.firstIndex(of: "/") {
            key = "//" + rest[..<slash].lowercased() + rest[slash...]
        } else {
            key = "//" + rest.lowercased() + "/"
        }
        func set(_ name: String) -> Bool { !(settings[key + name] ?? "").isEmpty }
        while key.count > 2 {
            if set(":_authToken") || set(":_auth") || (set(":username") && set(":_password")) || (set(":certfile") && set(":keyfile")) {
                return key
            }
            // Up one step: what follows the last slash, or the slash itself (`//h/p/` → `//h/p` → `//h/`).
            if key.hasSuffix("/") {
                key.removeLast()
            } else if let slash = key.lastIndex(of: "/") {
                key = String(key[...slash])
            } else {
                break
            }
        }
        return nil
    }

    /// Whether any setting holds credentials for a registry.
    public static func hasCredentials(_ settings: [String: String]) -> Bool {
        settings.keys.contains { $0.hasPrefix("//") && ($0.hasSuffix(":_authToken") || $0.hasSuffix(":_auth") || $0.hasSuffix(":_password")
                                                    || $0.hasSuffix(":certfile")) }
    }
}
