#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerIO
import BouncerPolicy

/// Where a JavaScript project's dependencies come from, read as npm and
/// yarn read them, for the `exoticSources` check before anything runs:
/// package.json (its dependency fields and npm's `overrides`, or yarn's
/// `resolutions`), the package.json of each workspace, and npm's lock
/// (every entry's specs and `resolved`, and each link, which must point at a
/// workspace). A file Bouncer cannot read as JSON is an error, not skipped:
/// npm reads what Bouncer's strict reader refuses (a duplicate key: npm takes
/// the last), so skipping it let a dependency through unchecked.
enum ProjectSources {
    enum Tool { case npm, yarn }

    struct Found: Equatable {
        /// `package.json $.dependencies.evil`, `package-lock.json $.packages["node_modules/x"].resolved`.
        var place: String
        var spec: String
    }

    static let dependencyFields = NpmLockSources.dependencyFields

    /// Every exotic spec of the project at `project`; throws when a file npm or yarn would read cannot be read.
    static func exotic(project: String, tool: Tool) throws(BouncerError) -> [Found] {
        try read(project: project, tool: tool).exotic
    }

    /// The exotic specs, and for npm the lock it reads (npm-shrinkwrap.json
    /// before package-lock.json) with its name, read once for every check of it,
    /// and the commands its workspaces give (`memberCommands`).
    static func read(project: String, tool: Tool) throws(BouncerError)
        -> (exotic: [Found], npmLock: (name: String, json: JSON)?, workspaceCommands: [(command: String, package: String)]) {
        var found: [Found] = []
        var npmLock: (name: String, json: JSON)? = nil
        var commands: [(command: String, package: String)] = []
        let manifest = try readJSON(project, "package.json")
        var workspaces: [String] = []
        if let manifest {
            found += fromManifest(manifest, file: "package.json", root: true, tool: tool)
            if tool == .yarn { found += yarnImplicitFolders(manifest, file: "package.json", project: project) }
            if let pattern = NpmWorkspaces.unreadable(manifest) {
                throw BouncerError(.configuration, code: "npm-project",
                                   "\(project)/package.json: $.workspaces: '\(pattern)' uses glob syntax Bouncer does not read (extglob), so it cannot tell which folders npm takes for workspaces and check their dependencies")
            }
            workspaces = NpmWorkspaces.patterns(manifest)
            // yarn finds its workspaces with its own glob (no `!` exclusion, node_modules included).
            let members = tool == .yarn
                ? NpmWorkspaces.directories(project: project, patterns: NpmWorkspaces.patterns(manifest, yarn: true), yarn: true)
                : NpmWorkspaces.directories(project: project, patterns: workspaces)
            for directory in members {
                let file = directory + "/package.json"
                if let member = try readJSON(project, file) {
                    found += fromManifest(member, file: file, root: false, tool: tool)
                    if tool == .yarn { found += yarnImplicitFolders(member, file: file, project: project) }
                    if tool == .npm { commands += memberCommands(member, folder: project + "/" + directory) }
                }
            }
        }
        if tool == .yarn, let bytes = try AtomicFile.read(project + "/yarn.lock", limit: 256 << 20, code: "yarn-lock") {
            found += YarnLock.exoticSpecs(bytes).map { Found(place: "yarn.lock \($0.place)", spec: $0.spec) }
        }
        if tool == .npm {
            for name in ["npm-shrinkwrap.json", "package-lock.json"] {
                guard let lock = try readJSON(project, name) else { continue }
                found += fromLock(lock, workspaces: workspaces).map { Found(place: "\(name) \($0.place)", spec: $0.spec) }
                npmLock = (name, lock)
                break
            }
        }
        return (found, npmLock, commands)
    }

    /// The commands a workspace member (its package.json `member`, in `folder`) gives, in its
    /// name (`bin`, else the files under `directories.bin`): npm links them into the top
    /// `node_modules/.bin` like a dependency's, so a dependency claiming one of them took
    /// it over, and the project's own scripts ran the dependency's.
    static func memberCommands(_ member: JSON, folder: String) -> [(command: String, package: String)] {
        let name = if case .string(let given)? = member["name"] { given } else { String(folder.split(separator: "/").last ?? "") }
        var shipped: [String] = []
        // Each file under `directories.bin` is a command of its own name (`./scripts` too: red team, round 10).
        if case .string(let binFolder)? = member["directories"]?["bin"] {
            fileNames(under: folder + "/" + binFolder, depth: 8, into: &shipped)
        }
        return NpmBins.names(member["bin"], packageName: name, directoryBins: shipped).map { ($0, name) }
    }

    /// The names of the files (anything but a folder) under `path`, folders
    /// not followed through a symbolic link; at most 4,096.
    static func fileNames(under path: String, depth: Int, into found: inout [String]) {
        guard depth > 0 else { return }
        for name in NpmWorkspaces.entries(path) where found.count < 4096 {
            var info = stat()
            guard lstat(path + "/" + name, &info) == 0 else { continue }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                fileNames(under: path + "/" + name, depth: depth - 1, into: &found)
            } else {
                found.append(name)
            }
        }
    }

    /// A project file as JSON (a UTF-8 byte order mark dropped, as npm drops
    /// it), nil when it does not exist.
    static func readJSON(_ project: String, _ file: String) throws(BouncerError) -> JSON? {
        let path = project + "/" + file
        guard let bytes = try AtomicFile.read(path, limit: 256 << 20, code: "npm-project") else { return nil }
        let json: JSON
        do { json = try JSON.parse(file: bytes, maxDepth: 128) } catch {
            throw BouncerError(.configuration, code: "npm-project",
                               "\(path): \(error): Bouncer cannot check the dependencies it names, and will not guess which ones the installer reads")
        }
        guard case .object = json else {
            throw BouncerError(.configuration, code: "npm-project", "\(path): $: not a JSON object")
        }
        return json
    }

    /// The exotic specs of one package.json: its dependency fields, and at
    /// the root npm's `overrides` (nested objects too) or yarn's `resolutions`.
    static func fromManifest(_ manifest: JSON, file: String, root: Bool, tool: Tool) -> [Found] {
        var found = fromFields(manifest, dependencyFields + (root && tool == .yarn ? ["resolutions"] : []), at: "$")
            .map { Found(place: "\(file) \($0.place)", spec: $0.spec) }
        if root, tool == .npm, let overrides = manifest["overrides"] {
            found += fromOverrides(overrides, at: "$.overrides", file: file, depth: 0)
        }
        return found
    }

    /// yarn 1 reads a range that is no `x:` or `x@` spec as `file:RANGE` when a folder of that name
    /// with a package.json is there (`"evil": "evil"`): a red-team pass installed such a folder and
    /// ran its postinstall. Any such word that names one counts, semver or not (a folder named `1.0.0`
    /// is the only price).
    static func yarnImplicitFolders(_ manifest: JSON, file: String, project: String) -> [Found] {
        var found: [Found] = []
        for field in dependencyFields + ["resolutions"] {
            guard case .object(let specs)? = manifest[field] else { continue }
            for name in specs.keys.sorted() {
                guard case .string(let spec)? = specs[name], isYarnImplicitFolder(spec, in: project) else { continue }
                found.append(Found(place: "\(file) \(JSONPath.member(name, of: "$.\(field)"))", spec: "file:" + spec))
            }
        }
        return found
    }

    /// Whether yarn reads `range` as `file:RANGE` in `folder`: no `x:` or `x@` spec (nor one npm
    /// already takes for a path), and a folder of that name with a package.json is there.
    static func isYarnImplicitFolder(_ range: String, in folder: String) -> Bool {
        !range.isEmpty && !range.contains(":") && !range.contains("@") && !ExoticSource.isExoticNpmSpec(range)
            && Filesystem.isFile(folder + "/" + range + "/package.json")
    }

    /// npm's `overrides`: a spec per name, or an object whose `.` is the spec
    /// and whose other members override that package's own dependencies.
    static func fromOverrides(_ value: JSON, at path: String, file: String, depth: Int) -> [Found] {
        switch value {
        case .string(let spec):
            // `$NAME` takes the spec of the root's own dependency, checked there.
            return !spec.hasPrefix("$") && ExoticSource.isExoticNpmSpec(spec) ? [Found(place: "\(file) \(path)", spec: spec)] : []
        case .object(let members) where depth < 32:
            return members.keys.sorted().flatMap { fromOverrides(members[$0] ?? .null, at: JSONPath.member($0, of: path), file: file, depth: depth + 1) }
        default:
            return []
        }
    }

    /// The exotic specs and sources of npm's lock, read as arborist reads it
    /// (`NpmLockSources`); a link may point only at one of the root's
    /// workspaces: a link is how npm installs a `file:` folder, and a
    /// hand-written lock can name one where package.json names a registry range.
    static func fromLock(_ lock: JSON, workspaces: [String]) -> [Found] {
        NpmLockSources.exotic(lock, linkAllowed: { NpmWorkspaces.contains($0, patterns: workspaces) })
            .map { Found(place: $0.place, spec: $0.spec) }
    }

    /// The exotic specs of a package's dependency `fields` (name → spec objects), placed under `path`.
    static func fromFields(_ package: JSON, _ fields: [String], at path: String) -> [Found] {
        NpmLockSources.fromFields(package, fields, at: path).map { Found(place: $0.place, spec: $0.spec) }
    }
}

/// A JSON path member, quoted when the name is no plain word (`$.dependencies["@scope/a"]`).
enum JSONPath {
    static func member(_ name: String, of path: String) -> String { NpmLockSources.member(name, of: path) }
}
