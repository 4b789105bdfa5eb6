import BouncerBase
import BouncerIO

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

    /// The collisions in `lock` (package-lock.json or npm-shrinkwrap.json), in order of folder and command.
    static func collisions(_ lock: JSON) -> [Collision] {
        guard case .object(let packages)? = lock["packages"] else { return [] }
        // folder → command → packages
        var owners: [String: [String: Set<String>]] = [:]
        for (path, entry) in packages {
            // (A workspace's own entry, `packages/a`, is no folder of node_modules.)
            guard let cut = path.ranges(of: "node_modules/").last else { continue }
            let folder = String(path[..<cut.lowerBound])
            let folderName = String(path[cut.upperBound...])
            let name: String = if case .string(let given)? = entry["name"] { given } else { folderName }
            for command in NpmBins.names(entry["bin"], packageName: name, directoryBins: []) {
                owners[folder, default: [:]][command.lowercased(), default: []].insert(folderName)
            }
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
