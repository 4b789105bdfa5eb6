import FoundationEssentials
import BouncerBase

/// The npm tarball checks of formats.md §7.3/§12.2: one top-level directory
/// (npm strips it whatever its name), `package.json` inside it with a name and
/// version (equal to the expected ones when given), and the install scripts
/// shown, because a genuine package can still run code on install.
public enum NpmPackageCheck {
    public static let lifecycle = ["preinstall", "install", "postinstall"]

    /// - Parameters:
    ///   - topLevel: the first path component of every entry, in order of appearance.
    ///   - manifests: captured `package.json` files by normalised path: the
    ///     package's own (`<top>/package.json`) and its bundled dependencies'.
    ///   - gypFolders: the package folders holding a `binding.gyp` (npm then
    ///     runs node-gyp on install unless an install script says otherwise).
    ///   - dotBins: every entry but a folder under a `node_modules/.bin/` of the tarball.
    ///   - files: every regular file's normalised path (for `directories.bin`).
    ///   - shrinkwraps: a captured `<top>/npm-shrinkwrap.json` or `<top>/package-lock.json`, the package's own lock.
    static func check(topLevel: [String], manifests: [String: [UInt8]], shrinkwraps: [String: [UInt8]] = [:], gypFolders: Set<String>, dotBins: [String] = [], files: [String],
                      expectName: String?, expectVersion: String?, report: inout InspectionReport) {
        var npm = InspectionReport.Npm(packageJSON: nil, name: nil, version: nil, installScripts: [], otherScripts: [])
        defer { report.npm = npm }
        var distinct: [String] = []
        for top in topLevel where !distinct.contains(top) { distinct.append(top) }
        guard distinct.count == 1, let top = distinct.first else {
            report.add(code: "npm-top-level", entry: nil, distinct.isEmpty ? "the tarball is empty"
                : "entries sit under several top-level names (\(distinct.prefix(5).map(quoted).joined(separator: ", "))); npm expects one, like package/")
            return
        }
        let path = top + "/package.json"
        guard let bytes = manifests[path] else {
            report.add(code: "npm-no-package-json", entry: path, "the tarball has no \(quoted(path))")
            return
        }
        npm.packageJSON = path
        guard let object = manifest(bytes, at: path, report: &report) else { return }
        if case .string(let name)? = object["name"] { npm.name = name }
        if case .string(let version)? = object["version"] { npm.version = version }
        if npm.name == nil { report.add(code: "npm-no-name", entry: path, "\(quoted(path)) has no name") }
        if npm.version == nil { report.add(code: "npm-no-version", entry: path, "\(quoted(path)) has no version") }
        if let expectName, let name = npm.name, name != expectName {
            report.add(code: "npm-name-mismatch", entry: path, "\(quoted(path)) names '\(quoted(name))', expected '\(quoted(expectName))'")
        }
        if let expectVersion, let version = npm.version, version != expectVersion {
            report.add(code: "npm-version-mismatch", entry: path, "\(quoted(path)) has version '\(quoted(version))', expected '\(quoted(expectVersion))'")
        }
        npm.installScripts = installScripts(object, hasBindingGyp: gypFolders.contains(top))
        // The package's commands: npm links them into node_modules/.bin before any install script
        // runs, first on every script's PATH (an allowed package's or the project's own).
        for bin in shadowingBins(object, folder: top, files: files) {
            npm.installScripts.append(.init(name: "bin \(bin)",
                                            command: "npm puts this command first on every install script's PATH, in place of \(bin)"))
        }
        // A binding.gyp in a node_modules folder with no package.json beside it: npm extracts it into
        // the folder where it later places that dependency, and builds it there (red team, round 4).
        for folder in gypFolders.sorted() where folder != top && manifests[folder + "/package.json"] == nil {
            npm.installScripts.append(.init(name: "install of \(folder.dropFirst(top.count + 1))",
                                            command: "node-gyp rebuild (implicit: binding.gyp present, in the folder npm installs that dependency into)"))
        }
        // A command in a node_modules/.bin folder of the tarball (npm never packs one): npm extracts it
        // as it is, first on the PATH of the install scripts of every package it installs below that
        // folder, so an allowed package npm nests there ran the tarball's `node` (red team, round 4).
        for path in dotBins.sorted() {
            npm.installScripts.append(.init(name: "bin \(quoted(String(path.dropFirst(top.count + 1))))",
                                            command: "npm puts this node_modules/.bin first on the PATH of the install scripts of the packages it installs below it"))
        }
        // Bundled dependencies (`<top>/node_modules/…`): npm runs their install scripts as well.
        for bundled in manifests.keys.sorted() where bundled != path {
            let folder = String(bundled.dropLast("/package.json".count))
            guard let members = manifest(manifests[bundled] ?? [], at: bundled, report: &report) else { continue }
            let shown = String(folder.dropFirst(top.count + 1))
            for script in installScripts(members, hasBindingGyp: gypFolders.contains(folder)) {
                npm.installScripts.append(.init(name: "\(script.name) of the bundled \(shown)", command: script.command))
            }
            // npm links a bundled package's commands too, into the .bin of the node_modules holding it,
            // first on PATH for the install scripts of the packages below (red team: a bundled `node`).
            for bin in shadowingBins(members, folder: folder, files: files) {
                npm.installScripts.append(.init(name: "bin \(bin) of the bundled \(shown)",
                                                command: "npm puts this command first on the PATH of install scripts that run beside it, in place of \(bin)"))
            }
        }
        // The dependencies every package.json of the tarball names: npm reads the installed files'
        // manifests (not the registry's) whenever it builds the tree from disk (no lock, a stale hidden
        // lock), so `file:./x` links a folder of the tarball and runs its scripts, and a URL is fetched
        // past the proxy (red team, round 5: the registry's manifest named no such dependency).
        for manifestPath in manifests.keys.sorted() {
            // (A bundled manifest that does not read was reported above.)
            let parsed = manifestPath == path ? .object(object) : (try? JSON.parse(file: manifests[manifestPath] ?? [], maxDepth: 128))
            guard case .object(let members)? = parsed else { continue }
            let found = NpmLockSources.fromFields(.object(members), NpmLockSources.installedFields, at: "\(manifestPath) $")
            if !found.isEmpty { npm.shippedSources = (npm.shippedSources ?? []) + found.map { .init(spec: $0.spec, place: $0.place) } }
        }
        // npm installs the package's dependencies from its own lock (when the registry says it has
        // one): a link there is a folder of the tarball, linked in and its install scripts run.
        // Both files are read: arborist takes the first of them that it can read.
        for name in ["npm-shrinkwrap.json", "package-lock.json"] {
            let lock = top + "/" + name
            guard let bytes = shrinkwraps[lock] else { continue }
            do {
                let json = try JSON.parse(file: bytes, maxDepth: 128)
                let sources = NpmLockSources.exotic(json, linkAllowed: { _ in false })
                if !sources.isEmpty { npm.shippedSources = (npm.shippedSources ?? []) + sources.map { .init(spec: $0.spec, place: "\(name) \($0.place)") } }
                for key in NpmLockSources.keysOutsidePackage(json) {
                    report.add(code: "npm-shrinkwrap", entry: lock, "\(quoted(lock)) places a package at '\(quoted(key))', not below the package's own node_modules: npm would install it there, outside the package (the project's own node_modules, with the commands the lock gives it)")
                }
                npm.installScripts += shadowingLockBins(json, file: name)
            } catch {
                report.add(code: "npm-shrinkwrap", entry: lock, "\(quoted(lock)): \(error): npm may install the package's dependencies from this lock, and Bouncer cannot read which")
            }
        }
        var scripts: [String: JSON] = [:]
        if case .object(let members)? = object["scripts"] { scripts = members }
        npm.otherScripts = scripts.keys.filter { !lifecycle.contains($0) }.sorted()
    }

    /// The commands the manifest `object` of the package in `folder` installs (`bin`, else the
    /// files under `directories.bin`) that would take the place of one install scripts run.
    private static func shadowingBins(_ object: [String: JSON], folder: String, files: [String]) -> [String] {
        let name: String? = if case .string(let name)? = object["name"] { name } else { nil }
        let binFolder: String? = if case .string(let folder)? = object["directories"]?["bin"] { folder } else { nil }
        let shipped = binFolder.map { binFolder in files.compactMap { file -> String? in
            guard file.hasPrefix(folder + "/") else { return nil }
            return NpmBins.inFolder(binFolder, file: String(file.dropFirst(folder.count + 1)))
        } } ?? []
        return NpmBins.names(object["bin"], packageName: name, directoryBins: shipped)
            .filter { NpmBins.shadowsACommandScriptsRun($0, package: name) }
    }

    /// The commands a lock's entries give (`bin`) in place of one install scripts
    /// run: npm links the lock's `bin`, not the one in the tarball it fetches.
    static func shadowingLockBins(_ lock: JSON, file: String) -> [InspectionReport.Script] {
        NpmLockSources.shadowingCommands(lock, skippingProjectFolders: false).map {
            .init(name: "bin \(quoted($0.command)) of \(quoted($0.key)) in \(file)",
                  command: "npm links this command into a .bin folder first on install scripts' PATH, in place of \($0.command)")
        }
    }

    /// A package.json as an object, strictly: a duplicated key would let npm
    /// (which reads the last) and Bouncer read different packages.
    private static func manifest(_ bytes: [UInt8], at path: String, report: inout InspectionReport) -> [String: JSON]? {
        do {
            guard case .object(let members) = try JSON.parse(bytes) else {
                report.add(code: "npm-bad-package-json", entry: path, "\(quoted(path)) is not a JSON object")
                return nil
            }
            return members
        } catch {
            report.add(code: "npm-bad-package-json", entry: path, "\(quoted(path)) is not valid JSON: \(error)")
            return nil
        }
    }

    /// preinstall / install / postinstall as npm runs them: any value npm
    /// takes for true is a script. npm adds `node-gyp rebuild` for a
    /// binding.gyp when `install` and `preinstall` are false to it (absent,
    /// `null`, `""`, `0`, `false`), unless `gypfile` is `false`; that is not
    /// taken from the tarball, since npm reads it from the registry's manifest.
    static func installScripts(_ object: [String: JSON], hasBindingGyp: Bool) -> [InspectionReport.Script] {
        var scripts: [String: JSON] = [:]
        if case .object(let members)? = object["scripts"] { scripts = members }
        var found: [InspectionReport.Script] = []
        for name in lifecycle {
            guard let value = scripts[name], isTruthy(value) else { continue }
            if case .string(let command) = value { found.append(.init(name: name, command: command)) } else {
                found.append(.init(name: name, command: String(decoding: value.serialized(), as: UTF8.self)))
            }
        }
        if hasBindingGyp && !(scripts["install"].map(isTruthy) ?? false) && !(scripts["preinstall"].map(isTruthy) ?? false) {
            found.insert(.init(name: "install", command: "node-gyp rebuild (implicit: binding.gyp present)"), at: 0)
        }
        return found
    }

    /// JavaScript's truthiness, which npm's `if (install)` applies to a script.
    public static func isTruthy(_ value: JSON) -> Bool {
        switch value {
        case .null: false
        case .bool(let flag): flag
        case .string(let text): !text.isEmpty
        case .integer(let number): number != 0
        case .nonInteger(let text): (Double(text) ?? 1) != 0
        default: true
        }
    }

    /// Below a `node_modules/.bin` folder, at any depth (`<top>/node_modules/a/node_modules/.bin/node`).
    static func isInDotBin(_ components: [String]) -> Bool {
        components.indices.dropLast().contains { components[$0] == "node_modules" && components[$0 + 1] == ".bin" && $0 + 2 < components.count }
    }

    /// `<top>` alone, or `<top>/node_modules/NAME` (`@scope/NAME`), nested any number of times.
    static func isPackageFolder(_ components: ArraySlice<String>) -> Bool {
        var rest = components.dropFirst()
        guard components.first != nil else { return false }
        while !rest.isEmpty {
            guard rest.first == "node_modules", rest.count >= 2 else { return false }
            rest = rest.dropFirst()
            if rest.first?.hasPrefix("@") == true {
                guard rest.count >= 2 else { return false }
                rest = rest.dropFirst()
            }
            rest = rest.dropFirst()
        }
        return true
    }
}
