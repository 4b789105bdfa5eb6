import BouncerBase
#if canImport(Glibc)
import Glibc
#endif

/// What an npm lock (`package-lock.json`, `npm-shrinkwrap.json`: a project's
/// own, or one a package ships) installs from outside the registry, read as
/// npm's arborist reads the lock: every entry's dependency specs, a
/// `resolved` that is no http(s) tarball, and each link (`"link": true`,
/// how npm installs a folder) unless `linkAllowed` says its target may be
/// linked (a root workspace). A lock without a `packages` object (lockfile
/// version 1, or `"packages": null`) is read from its `dependencies` tree,
/// as arborist then rebuilds the tree from it.
public enum NpmLockSources {
    public struct Found: Equatable, Sendable {
        /// A JSON path in the lock: `$.packages["node_modules/x"].resolved`.
        public var place: String
        public var spec: String
    }

    public static let dependencyFields = ["dependencies", "optionalDependencies", "devDependencies", "peerDependencies"]
    /// The fields of an installed package's manifest npm installs (7 and later install peers too).
    public static let installedFields = ["dependencies", "optionalDependencies", "peerDependencies"]

    public static func exotic(_ lock: JSON, linkAllowed: (String) -> Bool) -> [Found] {
        guard case .object(let packages)? = lock["packages"] else {
            return fromDependencyTree(lock["dependencies"], at: "$.dependencies", depth: 0)
        }
        var found: [Found] = []
        for key in packages.keys.sorted() {
            guard case .object(let entry)? = packages[key] else { continue }
            let at = "$.packages[\"\(key)\"]"
            // arborist fetches `NAME@RESOLVED`, or `NAME@VERSION` with no `resolved`, NAME being the
            // entry's folder (the key) or its `name`: a name holding a spec (`x@file:./evil`) is read
            // as one, and the folder it names copied in and its scripts run (red team, round 4).
            if !key.isEmpty {
                if let name = folderName(key), !ExoticSource.isPackageName(name) { found.append(Found(place: at, spec: name)) }
                if case .string(let name)? = entry["name"], !ExoticSource.isPackageName(name) { found.append(Found(place: at + ".name", spec: name)) }
            }
            // Any value JavaScript takes for true makes a link to arborist (`"link": 1`).
            if let link = entry["link"], NpmPackageCheck.isTruthy(link) {
                let target: String
                if case .string(let resolved)? = entry["resolved"] { target = resolved } else { target = "" }
                if !linkAllowed(target) { found.append(Found(place: at + ".resolved", spec: "file:" + target)) }
                continue
            }
            // `inBundle` counts for nothing here: arborist takes bundling from the parent's own
            // bundleDependencies (the field only in a version 1 lock), and resolves the entry's
            // edges as any other's (a nested inBundle entry's file: dependency was installed).
            if !key.isEmpty, case .string(let resolved)? = entry["resolved"], !ExoticSource.isRegistryTarball(resolved) {
                found.append(Found(place: at + ".resolved", spec: resolved))
            }
            // With no `resolved`, arborist fetches `NAME@VERSION`: a version that is a spec
            // (`file:../evil`) is a folder it copies in and runs the scripts of (red team, round 3).
            if !key.isEmpty, case .string(let version)? = entry["version"], ExoticSource.isExoticNpmSpec(version) {
                found.append(Found(place: at + ".version", spec: version))
            }
            found += fromFields(.object(entry), at: at)
        }
        return found
    }

    /// The exotic specs of an object's dependency fields (name → spec), placed under `path`.
    public static func fromFields(_ object: JSON, _ fields: [String] = dependencyFields, at path: String) -> [Found] {
        var found: [Found] = []
        for field in fields {
            guard case .object(let specs)? = object[field] else { continue }
            for name in specs.keys.sorted() {
                if case .string(let spec)? = specs[name], ExoticSource.isExoticNpmSpec(spec) {
                    found.append(Found(place: member(name, of: "\(path).\(field)"), spec: spec))
                }
            }
        }
        return found
    }

    /// Lockfile version 1's tree: `NAME: {version, resolved, requires, dependencies}`,
    /// where a `version` may itself be a spec (`file:vendor/x`, a git URL, `npm:other@1`).
    static func fromDependencyTree(_ tree: JSON?, at path: String, depth: Int) -> [Found] {
        guard case .object(let entries)? = tree, depth < 64 else { return [] }
        var found: [Found] = []
        for name in entries.keys.sorted() {
            guard case .object(let entry)? = entries[name] else { continue }
            let at = member(name, of: path)
            // The name is fetched as `NAME@VERSION` too (see `exotic`).
            if !ExoticSource.isPackageName(name) { found.append(Found(place: at, spec: name)) }
            if case .string(let version)? = entry["version"], ExoticSource.isExoticNpmSpec(version) {
                found.append(Found(place: at + ".version", spec: version))
            }
            if case .string(let resolved)? = entry["resolved"], !ExoticSource.isRegistryTarball(resolved) {
                found.append(Found(place: at + ".resolved", spec: resolved))
            }
            found += fromFields(.object(entry), ["requires"], at: at)
            found += fromDependencyTree(entry["dependencies"], at: at + ".dependencies", depth: depth + 1)
        }
        return found
    }

    /// The package name arborist gives an entry from its key: what follows the last
    /// `node_modules/` (`@scope/name` is one name); nil for a key outside node_modules (a workspace's folder).
    public static func folderName(_ key: String) -> String? {
        key.ranges(of: "node_modules/").last.map { String(key[$0.upperBound...]) }
    }

    /// The commands the lock's entries link (`bin`), by key: npm links the lock's
    /// `bin`, not the one in the tarball it fetches. An entry's name is its
    /// `name`, else its folder's. `skippingProjectFolders`: keys outside
    /// node_modules (a workspace's folder) are the project's own code, in the
    /// project's lock; in a package's own lock every key counts.
    /// `followingWorkspaceLinks`: a `"link": true` entry in node_modules links
    /// the commands of the workspace folder it resolves to, under its own key
    /// (npm links a member's `bin` into the top `.bin` like any package's).
    public static func linkedCommands(_ lock: JSON, skippingProjectFolders: Bool,
                                      followingWorkspaceLinks: Bool = false) -> [(key: String, package: String?, command: String)] {
        guard case .object(let packages)? = lock["packages"] else { return [] }
        var found: [(key: String, package: String?, command: String)] = []
        for key in packages.keys.sorted() where !key.isEmpty {
            guard var entry = packages[key] else { continue }
            var folder = folderName(key)
            if folder == nil && skippingProjectFolders { continue }
            if followingWorkspaceLinks, folder != nil, case .bool(true)? = entry["link"],
               case .string(let resolved)? = entry["resolved"], folderName(resolved) == nil, let target = packages[resolved] {
                entry = target
                folder = resolved.split(separator: "/").last.map(String.init)
            }
            let name: String? = if case .string(let given)? = entry["name"] { given } else { folder }
            found += NpmBins.names(entry["bin"], packageName: name, directoryBins: []).map { (key, name, $0) }
        }
        return found
    }

    /// Those of `linkedCommands` in place of one install scripts run (`NpmBins.shadowsACommandScriptsRun`).
    public static func shadowingCommands(_ lock: JSON, skippingProjectFolders: Bool,
                                         path: String? = getenv("PATH").map { String(cString: $0) }) -> [(key: String, package: String?, command: String)] {
        linkedCommands(lock, skippingProjectFolders: skippingProjectFolders)
            .filter { NpmBins.shadowsACommandScriptsRun($0.command, package: $0.package, path: path) }
    }

    /// Keys of a package's own lock that are no folder strictly below its
    /// `node_modules` (`../x`, `/abs`, `node_modules//x`, a workspace's folder):
    /// arborist places a key against the package's own folder, so `../toolpkg`
    /// installed a package at the top of the project that installed it (red team, round 4).
    public static func keysOutsidePackage(_ lock: JSON) -> [String] {
        guard case .object(let packages)? = lock["packages"] else { return [] }
        return packages.keys.sorted().filter { key in
            guard !key.isEmpty else { return false }
            let segments = key.split(separator: "/", omittingEmptySubsequences: false)
            return segments.first != "node_modules" || segments.count < 2
                || segments.contains { $0.isEmpty || $0 == "." || $0 == ".." || $0.contains("\\") }
        }
    }

    /// A JSON path member, quoted when the name is no plain word (`$.dependencies["@scope/a"]`).
    public static func member(_ name: String, of path: String) -> String {
        let plain = !name.isEmpty && name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-") }
        return plain ? "\(path).\(name)" : "\(path)[\"\(name)\"]"
    }
}
