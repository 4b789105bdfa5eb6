import FoundationEssentials
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
    /// needed: writers replace the file by rename. Parsed once per version
    /// of the file (a proxy reads it for every request).
    public func read() throws(BouncerError) -> Lockfile {
        if let cached = LockCache.shared.lockfile(at: path) { return cached }
        let before = LockCache.identity(path)
        guard let bytes = try AtomicFile.read(path, limit: 256 << 20, code: "lock-unreadable") else { return Lockfile() }
        let lockfile = try Lockfile.decode(bytes, file: path)
        // Remembered only when the file was not replaced while it was read.
        if let before, before == LockCache.identity(path) { LockCache.shared.remember(lockfile, at: path) }
        return lockfile
    }

    /// Runs `change` on the current lockfile under the exclusive lock and
    /// writes the result if it differs. Returns what `change` returns.
    @discardableResult
    public func update<T>(_ change: (inout Lockfile) throws(BouncerError) -> T) throws(BouncerError) -> T {
        try Filesystem.makeDirectories(Filesystem.split(path).directory)
        return try AtomicFile.withExclusiveLock(flockPath) { () throws(BouncerError) -> T in
            // The file as this process last read or wrote it, unless someone replaced it since
            // (a proxy pins one artifact per request: hundreds of updates, one parse).
            let before = try read()
            var lock = before
            let result = try change(&lock)
            // Rewritten only when the content changes (or the file is new).
            let exists = FileManager.default.fileExists(atPath: path)
            if lock != before || (!lock.artifacts.isEmpty && !exists) {
                // Remembered before the rename, not after it and the directory's fsync: a proxy's
                // requests read the lock meanwhile, and each would parse it again.
                try AtomicFile.replace(path, with: LockCache.shared.encode(lock, at: path), mode: 0o644) { written in
                    LockCache.shared.remember(lock, at: path, identity: LockCache.identity(written))
                }
            } else {
                LockCache.shared.remember(lock, at: path)
            }
            return result
        }
    }
}

/// The lockfile content this process last read or wrote, by path, with the
/// identity of the file then (device, inode, size, modification time): an
/// update that finds the same file skips reading and parsing it again. Any
/// replacement by another process (a rename: a new inode and time) misses.
final class LockCache: @unchecked Sendable {
    static let shared = LockCache()
    private let mutex = Lock()
    private var entries: [String: (identity: [Int], lockfile: Lockfile)] = [:]
    /// Each path's entries as last encoded (only ever read under the lock's flock).
    private var encodedEntries: [String: EncodedEntries] = [:]

    static func identity(_ path: String) -> [Int]? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return identity(info)
    }

    static func identity(_ info: stat) -> [Int] {
        [Int(info.st_dev), Int(info.st_ino), Int(info.st_size), info.st_mtim.tv_sec, info.st_mtim.tv_nsec]
    }

    func lockfile(at path: String) -> Lockfile? {
        guard let identity = Self.identity(path) else { return nil }
        mutex.lock(); defer { mutex.unlock() }
        guard let entry = entries[path], entry.identity == identity else { return nil }
        return entry.lockfile
    }

    /// `lockfile`'s bytes, reusing the text of the entries this process last wrote to `path`.
    func encode(_ lockfile: Lockfile, at path: String) -> [UInt8] {
        mutex.lock()
        var memo = encodedEntries.removeValue(forKey: path) ?? [:]
        mutex.unlock()
        let bytes = lockfile.encoded(reusing: &memo)
        mutex.lock(); defer { mutex.unlock() }
        encodedEntries[path] = memo
        return bytes
    }

    func remember(_ lockfile: Lockfile, at path: String, identity known: [Int]? = nil) {
        guard let identity = known ?? Self.identity(path) else { return }
        mutex.lock(); defer { mutex.unlock() }
        entries[path] = (identity, lockfile)
    }
}
