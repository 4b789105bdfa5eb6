import Foundation
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore

/// Reads and atomically rewrites the lockfile. Every update holds an
/// exclusive advisory `flock` on a sibling file (`.<name>.flock`) for the
/// whole read-modify-write, so concurrent runs never drop each other's
/// entries; the new content goes to a temp file in the same directory,
/// is fsynced, and renamed over the lockfile, so readers see the old or
/// the new file, never a partial one.
public struct LockStore: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    var flockPath: String {
        let (dir, name) = Filesystem.split(path)
        return "\(dir)/.\(name).flock"
    }

    /// The current lockfile (empty when there is none yet). No lock is
    /// needed: writers replace the file by rename.
    public func read() throws(BouncerError) -> Lockfile {
        guard let bytes = try AtomicFile.read(path, limit: 256 << 20, code: "lock-unreadable") else { return Lockfile() }
        return try Lockfile.decode(bytes, file: path)
    }

    /// Runs `change` on the current lockfile under the exclusive lock and
    /// writes the result if it differs. Returns what `change` returns.
    @discardableResult
    public func update<T>(_ change: (inout Lockfile) throws(BouncerError) -> T) throws(BouncerError) -> T {
        try Filesystem.makeDirectories(Filesystem.split(path).directory)
        return try AtomicFile.withExclusiveLock(flockPath) { () throws(BouncerError) -> T in
            let before = try read()
            var lock = before
            let result = try change(&lock)
            let bytes = lock.encoded()
            // Rewritten only when the canonical bytes change (or the file is new).
            if bytes != before.encoded() || (!lock.artifacts.isEmpty && !FileManager.default.fileExists(atPath: path)) {
                try AtomicFile.replace(path, with: bytes, mode: 0o644)
            }
            return result
        }
    }
}
