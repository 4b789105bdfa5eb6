import BouncerBase
import BouncerIO
#if canImport(Glibc)
import Glibc
#endif

/// Two packages of one `node_modules` folder in package-lock.json that
/// install the same command (`bin`). npm links either into that folder's
/// `.bin` (whichever sorts first), silently, and the project's own scripts
/// run it by name: a package that sorts before the genuine one takes over its
/// command. `npm ci` links the lock's `bin`, so the lock is what is read
/// (the one `ProjectSources` read for its own check).
enum LockedCommands {
    struct Collision: Equatable {
        var command: String
        var packages: [String]
        var folder: String
    }

    struct Shadowing: Equatable {
        var command: String
        var package: String
        /// The lock key, `node_modules/a/node_modules/b`.
        var location: String
    }

    /// The commands the lock's packages install in place of one install scripts
    /// run (`NpmBins.shadowsACommandScriptsRun`): npm links the lock's `bin`, not the
    /// tarball's, so a lock giving a registry package the command `node` made its
    /// file the `node` the project's own `prepare` ran (red team, round 4).
    /// A workspace's own folder (no node_modules key) is the project's code.
    static func shadowing(_ lock: JSON, path: String? = getenv("PATH").map { String(cString: $0) }) -> [Shadowing] {
        NpmLockSources.shadowingCommands(lock, skippingProjectFolders: true, path: path)
            .map { Shadowing(command: $0.command, package: $0.package ?? $0.key, location: $0.key) }
    }

    /// The commands the lock's top-level packages (`node_modules/X`) install, with each one's name:
    /// npm fetches no packument for a package its lock has, so the npm shim's proxy hears of these
    /// from the shim, and offers no other package claiming one (red team, round 7: a later
    /// `npm install` added a second `testrunner` unseen).
    /// A workspace member's commands are claimed in its name too (its link's key).
    static func topLevel(_ lock: JSON) -> [(command: String, package: String)] {
        NpmLockSources.linkedCommands(lock, skippingProjectFolders: true, followingWorkspaceLinks: true)
            .filter { $0.key.hasPrefix("node_modules/") && $0.key.ranges(of: "node_modules/").count == 1 }
            .map { ($0.command, $0.package ?? String($0.key.dropFirst("node_modules/".count))) }
    }

    /// The collisions in `lock` (package-lock.json or npm-shrinkwrap.json), in order of folder and command.
    /// A workspace member, linked at `node_modules/NAME`, collides like any package
    /// (a dependency claiming a member's command took it over in the top `.bin`).
    static func collisions(_ lock: JSON) -> [Collision] {
        // folder → command → packages
        var owners: [String: [String: Set<String>]] = [:]
        for linked in NpmLockSources.linkedCommands(lock, skippingProjectFolders: true, followingWorkspaceLinks: true) {
            guard let cut = linked.key.ranges(of: "node_modules/").last else { continue }
            let folder = String(linked.key[..<cut.lowerBound])
            owners[folder, default: [:]][linked.command.lowercased(), default: []].insert(String(linked.key[cut.upperBound...]))
        }
        var found: [Collision] = []
        for folder in owners.keys.sorted() {
            for (command, packages) in (owners[folder] ?? [:]).sorted(by: { $0.key < $1.key }) where packages.count > 1 {
                found.append(Collision(command: command, packages: packages.sorted(), folder: folder.isEmpty ? "node_modules" : folder + "node_modules"))
            }
        }
        return found
    }
}
