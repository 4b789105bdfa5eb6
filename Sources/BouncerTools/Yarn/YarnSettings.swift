import FoundationEssentials
import BouncerBase
import BouncerIO

/// What the yarn shim needs of yarn 1's settings, read from the places yarn
/// reads them: its variables (`yarn_*`, `npm_config_*`, any case, which
/// outrank every file), its `.yarnrc` files (and `.yarnrc.yml`, for
/// `yarnPath`) and the `.npmrc` files it reads.
struct YarnSettings {
    struct Setting: Equatable {
        let key: String
        /// The file, or the variable, that sets it.
        let place: String
    }

    /// The registry npm's settings name, which yarn takes over its own.
    var npmRegistry: String?
    /// The registry yarn's own settings name.
    var yarnRegistry: String?
    /// Settings that would take yarn round the fence (`roundTheFence` says how).
    var dangerous: [Setting] = []
    /// A `.yarnrc` yarn's own syntax refuses, with where and why: yarn reads it as YAML then.
    var unreadable: [(file: String, failure: YarnSyntax.Failure)] = []

    /// Keys that matter, as yarn spells them once `--`, a command prefix
    /// (`--install.proxy`) and the case are taken off.
    static let dangerousKeys: Set<String> = ["proxy", "https-proxy", "yarn-offline-mirror", "yarn-path", "yarnpath", "cwd", "use-yarnrc",
                                             "global-folder", "link-folder", "prefix"]

    /// Folders yarn takes packages and commands from as they are (`yarn create`
    /// installed a global folder's own package.json and ran a prefix's
    /// bin/create-x; scripts run with the prefix's and the link folder's bin
    /// first on PATH: red team). They matter only when a project's files set
    /// them: the user's own (`prefix=~/.npm-global` in ~/.npmrc, a variable) do not.
    static let folderKeys: Set<String> = ["global-folder", "link-folder", "prefix"]

    static func read(cwd: String, environment: [String: String], useYarnrc: [String]) -> YarnSettings {
        var settings = YarnSettings()
        for (variable, value) in environment.sorted(by: { $0.key < $1.key }) where !value.isEmpty {
            let lower = variable.lowercased()
            for prefix in ["yarn_", "npm_config_"] where lower.hasPrefix(prefix) {
                // As yarn maps a variable to a key: `__` is a dot, another `_` a dash.
                let key = normalisedKey(Substring(String(lower.dropFirst(prefix.count)).replacing("__", with: ".").replacing("_", with: "-")))
                if dangerousKeys.contains(key), !folderKeys.contains(key) { settings.dangerous.append(Setting(key: key, place: "$\(variable)")) }
                if key == "registry" {
                    if prefix == "npm_config_" { settings.npmRegistry = settings.npmRegistry ?? value } else { settings.yarnRegistry = settings.yarnRegistry ?? value }
                }
            }
        }
        let home = environment["HOME"] ?? ""
        let named = useYarnrc.map { Filesystem.absolute($0, cwd: cwd) }
        // The files a project may hold: --use-yarnrc's, and each folder's from `cwd` up but the home folder's and /'s.
        var projectFiles = Set(named)
        for folder in Filesystem.selfAndAncestors(cwd) where folder != home && folder != "/" {
            for name in [".yarnrc", ".yarnrc.yml", ".npmrc"] { projectFiles.insert(folder + "/" + name) }
        }
        func counts(_ key: String, in file: String) -> Bool {
            dangerousKeys.contains(key) && (!folderKeys.contains(key) || projectFiles.contains(file))
        }
        // yarnrc files, in yarn's order (a later file's value wins).
        for file in yarnrcFiles(cwd: cwd, home: home, environment: environment) + named {
            // A --use-yarnrc file Bouncer cannot read is one it did not check (red team: it looked for it
            // under --cwd, skipped it, and yarn ran the yarn-path of the one in the working folder).
            let contents: [UInt8]?
            do {
                contents = try AtomicFile.read(file, limit: 8 << 20, code: "yarnrc")
            } catch {
                if named.contains(file) { settings.unreadable.append((file, .init(line: 0, reason: "--use-yarnrc names it and Bouncer cannot read it (\(error))"))) }
                continue
            }
            guard let bytes = contents else {
                if named.contains(file) { settings.unreadable.append((file, .init(line: 0, reason: "--use-yarnrc names it and it does not exist"))) }
                continue
            }
            var found: [(key: String, value: String, line: Int)]
            if file.hasSuffix(".yml") {
                // yarn reads a .yarnrc.yml with YAML alone: only its plain `key: value` lines are certain.
                do {
                    found = try YarnSyntax.plainYAML(bytes).map { (normalisedKey(Substring($0.key)), $0.value, $0.line) }
                } catch {
                    settings.unreadable.append((file, .init(line: error.line, reason: error.reason + ": yarn reads a .yarnrc.yml as YAML, which Bouncer reads only in plain `key: value` lines")))
                    continue
                }
            } else {
                found = entries(bytes)
                // yarn reads a .yarnrc with its lockfile syntax (YarnSyntax), YAML when that fails.
                do {
                    found += try YarnSyntax.scalars(YarnSyntax.parse(bytes)).map { (normalisedKey(Substring($0.key)), $0.value, $0.line) }
                } catch {
                    settings.unreadable.append((file, .init(line: error.line, reason: error.reason + " in yarn's own syntax, so yarn reads the file as YAML, which Bouncer does not")))
                }
            }
            // yarn passes a `--KEY VALUE` entry on as two command-line words: a VALUE that is an option counts too.
            found += found.filter { $0.value.hasPrefix("--") }.map { (normalisedKey(Substring($0.value)), $0.value, $0.line) }
            for (key, value, _) in found {
                if counts(key, in: file) { settings.dangerous.append(Setting(key: key, place: file)) }
                // `"--" VALUE` (or `--CMD.`, or a `--` VALUE): yarn puts a bare `--` on its command line,
                // and every word after it is a package to add (`file:./evil`, the user's own options).
                if key.isEmpty { settings.dangerous.append(Setting(key: "--", place: file)) }
                if key == "registry", environment.keys.allSatisfy({ $0.lowercased() != "yarn_registry" }) { settings.yarnRegistry = value }
            }
        }
        // npmrc files, in yarn's order (the first file's value wins), read as ini reads them
        // (`yarn-offline-mirror#=x` is yarn-offline-mirror, `"yarn-offline-mirro\u0072"=x` too: red team).
        for file in npmrcFiles(cwd: cwd, home: home, environment: environment) {
            guard let bytes = (try? AtomicFile.read(file, limit: 8 << 20, code: "npmrc")).flatMap({ $0 }) else { continue }
            for entry in NpmConfiguration.parse(bytes, file: file, environment: environment) where !entry.value.isEmpty {
                let key = normalisedKey(Substring(entry.key))
                if counts(key, in: file) { settings.dangerous.append(Setting(key: key, place: file)) }
                if key == "registry" { settings.npmRegistry = settings.npmRegistry ?? entry.value }
            }
        }
        // One setting in one place is said once (a file read two ways, a prefix named twice).
        var seen: Set<String> = []
        settings.dangerous = settings.dangerous.filter { seen.insert($0.key + "\n" + $0.place).inserted }
        return settings
    }

    /// The settings of each of the project's workspace folders (yarn's own
    /// glob), as the yarn a `yarn workspace` starts there reads them.
    static func workspaceSettings(project: String, environment: [String: String]) -> [YarnSettings] {
        guard let manifest = try? ProjectSources.readJSON(project, "package.json") else { return [] }
        return NpmWorkspaces.directories(project: project, patterns: NpmWorkspaces.patterns(manifest, yarn: true), yarn: true)
            .map { read(cwd: Filesystem.absolute($0, cwd: project), environment: environment, useYarnrc: []) }
    }

    /// Another folder's dangerous and unreadable settings added to these (each once).
    mutating func include(_ others: [YarnSettings]) {
        for other in others {
            for setting in other.dangerous where !dangerous.contains(setting) { dangerous.append(setting) }
            for file in other.unreadable where !unreadable.contains(where: { $0.file == file.file }) { unreadable.append(file) }
        }
    }

    /// yarn's `.yarnrc` places: /etc, the user's configuration folders and
    /// home, the folder and each one above it (nearest last), `$YARN_CONFIG`;
    /// each `.yarnrc` with its `.yarnrc.yml` beside it.
    static func yarnrcFiles(cwd: String, home: String, environment: [String: String]) -> [String] {
        var files = ["/etc/yarn/config", "/etc/yarnrc", "/usr/local/share/.yarnrc"]
        if !home.isEmpty {
            let configHome = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.config"
            files += [configHome + "/yarn", home + "/.config/yarn/config", home + "/.config/yarn", home + "/.yarn/config", home + "/.yarnrc", home + "/.yarnrc.yml"]
        }
        for directory in Filesystem.selfAndAncestors(cwd).reversed() {
            let base = directory == "/" ? "" : directory
            files += [base + "/.yarnrc.yml", base + "/.yarnrc"]
        }
        if let extra = environment["YARN_CONFIG"], !extra.isEmpty { files.append(extra) }
        // yarn's registry settings read `userconfig` (from `yarn_userconfig`, any case) and its
        // global prefix's etc/yarnrc: `$PREFIX` else /usr, under `$DESTDIR` when set.
        files += environment.filter { $0.key.lowercased() == "yarn_userconfig" && !$0.value.isEmpty }.map(\.value).sorted()
        files += globalPrefixes(environment).map { $0 + "/etc/yarnrc" }
        return files
    }

    /// yarn's global prefixes: `$PREFIX` (else /usr, node's), and each under `$DESTDIR` when it is set.
    static func globalPrefixes(_ environment: [String: String]) -> [String] {
        let prefix = environment["PREFIX"].flatMap { $0.isEmpty ? nil : $0 } ?? "/usr"
        let destination = environment["DESTDIR"].flatMap { $0.isEmpty ? nil : $0 }
        return [prefix, "/usr"] + (destination.map { [$0 + prefix, $0 + "/usr"] } ?? [])
    }

    /// The `.npmrc` files yarn reads: the folder's, the user's
    /// (`npm_config_userconfig`), the global ones, then each folder above.
    static func npmrcFiles(cwd: String, home: String, environment: [String: String]) -> [String] {
        let user = environment.first { $0.key.lowercased() == "npm_config_userconfig" && !$0.value.isEmpty }?.value ?? home + "/.npmrc"
        let prefix = environment["PREFIX"].flatMap { $0.isEmpty ? nil : $0 } ?? "/usr"
        // yarn reads root's home as /usr/local/share (and $HOME too): both are read, whoever runs.
        var files = [Filesystem.absolute(".npmrc", cwd: cwd), user, "/usr/local/share/.npmrc", prefix + "/etc/npmrc", "/etc/npmrc", "/usr/local/etc/npmrc"]
        files += globalPrefixes(environment).map { $0 + "/etc/npmrc" }
        files += Filesystem.selfAndAncestors(cwd).dropFirst().map { ($0 == "/" ? "" : $0) + "/.npmrc" }
        return files
    }

    /// A settings file's keys and values, each key as `dangerousKeys` spells
    /// them: yarn's lockfile-like syntax (`key "value"`, `"--opt" value`),
    /// YAML (`key: value`) and ini (`key=value`) alike. Nested lines count as
    /// well: reading more than yarn does can only refuse more.
    static func entries(_ file: String) -> [(key: String, value: String, line: Int)] {
        guard let bytes = (try? AtomicFile.read(file, limit: 8 << 20, code: "yarnrc")).flatMap({ $0 }) else { return [] }
        return entries(bytes)
    }

    /// A key as `dangerousKeys` spells it: without `--`, a command prefix (`--install.proxy`) and case.
    static func normalisedKey(_ given: Substring) -> String {
        var key = given
        if key.hasPrefix("--") {
            // A `--KEY` of a .yarnrc becomes yarn's command-line word, where `--proxy=URL` is `--proxy URL`.
            key = key.dropFirst(2).prefix { $0 != "=" }
        }
        // `proxy[]` (an ini array) and `proxy.0` (a variable's `__0`) are still the setting yarn reads.
        if key.hasSuffix("[]") { key = key.dropLast(2) }
        while let dot = key.lastIndex(of: "."), !key[key.index(after: dot)...].isEmpty, key[key.index(after: dot)...].allSatisfy(\.isNumber) {
            key = key[..<dot]
        }
        // `--install.proxy`: the command's own, and still the option.
        if let dot = key.lastIndex(of: "."), !key.contains("/") { key = key[key.index(after: dot)...] }
        return key.lowercased()
    }

    static func entries(_ bytes: [UInt8]) -> [(key: String, value: String, line: Int)] {
        var found: [(key: String, value: String, line: Int)] = []
        for (number, raw) in String(decoding: bytes, as: UTF8.self).split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" }).enumerated() {
            let line = raw.trimmingSpaces()
            guard !line.isEmpty, !line.hasPrefix("#"), !line.hasPrefix(";") else { continue }
            let key: Substring
            var rest: Substring
            if let open = line.first, open == "\"" || open == "'", let close = line.dropFirst().firstIndex(of: open) {
                key = line[line.index(after: line.startIndex)..<close]
                rest = line[line.index(after: close)...]
            } else {
                let end = line.firstIndex { $0 == " " || $0 == "\t" || $0 == "=" || $0 == ":" } ?? line.endIndex
                key = line[..<end]
                rest = line[end...]
            }
            let value = rest.trimming([" ", "\t", "=", ":"]).trimming(["\"", "'"])
            found.append((normalisedKey(key), value, number + 1))
        }
        return found.filter { !$0.value.isEmpty }
    }
}

/// The resolved URLs of a yarn.lock (yarn 1's format): yarn fetches each
/// from there itself, whatever registry it is told to use.
enum YarnLock {
    struct Stray: Equatable {
        let file: String
        let line: Int
        let url: String
    }

    /// The first resolved URL of `folder`'s yarn.lock that is not under
    /// `registry`, or nil (`YarnProject.folders` names the folders whose
    /// lock yarn may take; not any yarn.lock above).
    static func strayResolved(folder: String, registry: String) -> Stray? {
        let file = Filesystem.absolute("yarn.lock", cwd: folder)
        guard Filesystem.isFile(file) else { return nil }
        guard let bytes = (try? AtomicFile.read(file, limit: 256 << 20, code: "yarn-lock")).flatMap({ $0 }) else {
            return Stray(file: file, line: 0, url: "(the file could not be read)")
        }
        return strayResolved(bytes, file: file, registry: registry)
    }

    /// The specs yarn.lock itself names outside the registry: an entry's own
    /// (`"evil@file:./vendor/evil":`) and its `dependencies` and
    /// `optionalDependencies` (yarn takes a locked package's dependencies from
    /// the lock, not its tarball, so `evil "file:./vendor/evil"` there
    /// installs that folder). A file yarn's syntax refuses gives none here
    /// (`strayResolved` refuses it).
    static func exoticSpecs(_ bytes: [UInt8]) -> [(place: String, spec: String)] {
        guard let entries = try? YarnSyntax.parse(bytes) else { return [] }
        var found: [(place: String, spec: String)] = []
        for entry in entries {
            // `NAME@SPEC` (a scope's `@` first is part of the name).
            let key = entry.key
            if let at = key.dropFirst().firstIndex(of: "@") {
                let spec = String(key[key.index(after: at)...])
                if ExoticSource.isExoticNpmSpec(spec) { found.append(("line \(entry.line)", spec)) }
            }
            guard case .object(let fields) = entry.value else { continue }
            for field in fields where ["dependencies", "optionalDependencies"].contains(field.key) {
                guard case .object(let specs) = field.value else { continue }
                for dependency in specs {
                    if case .scalar(let spec) = dependency.value, ExoticSource.isExoticNpmSpec(spec) {
                        found.append(("line \(dependency.line)", spec))
                    }
                }
            }
        }
        return found
    }

    /// Read with yarn's own syntax (YarnSyntax), so every spelling of the key
    /// counts (`resolved:"…"`, `"resol\u0076ed"`); a file that syntax refuses
    /// yarn reads as YAML, which Bouncer does not: that is a stray too.
    static func strayResolved(_ bytes: [UInt8], file: String, registry: String) -> Stray? {
        let entries: [YarnSyntax.Entry]
        do {
            entries = try YarnSyntax.parse(bytes)
        } catch {
            return Stray(file: file, line: error.line, url: "(\(error.reason): yarn would read the file as YAML, which Bouncer does not)")
        }
        for (key, value, line) in YarnSyntax.scalars(entries) where key == "resolved" && !value.hasPrefix(registry) {
            return Stray(file: file, line: line, url: value)
        }
        return nil
    }
}
