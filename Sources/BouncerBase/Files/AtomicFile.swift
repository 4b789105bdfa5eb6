import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Serialised read-modify-write of a small state file (the lockfile, the
/// freshness state): an exclusive advisory `flock` on a sibling file for the
/// whole update, and replacement by temp file, fsync and rename, so readers
/// see the old or the new file, never a partial one.
public enum AtomicFile {
    /// Runs `body` while holding an exclusive `flock` on `lockPath` (created with `mode`).
    public static func withExclusiveLock<T>(_ lockPath: String, mode: mode_t = 0o644,
                                            _ body: () throws(BouncerError) -> T) throws(BouncerError) -> T {
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw .io("cannot open \(lockPath): \(errnoDescription())") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR { throw .io("cannot lock \(lockPath): \(errnoDescription())") }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    /// Replaces `path` with `bytes` (mode `mode`): temp file in the same
    /// directory, fsync, rename, then fsync of the directory so the rename
    /// itself reaches the disk. On failure `path` is untouched. `beforeRename`
    /// gets the new file's status just before it takes `path`'s place (a
    /// cache keyed by it is then right the moment readers can see the file).
    public static func replace(_ path: String, with bytes: [UInt8], mode: mode_t,
                               beforeRename: ((stat) -> Void)? = nil) throws(BouncerError) {
        let (dir, name) = Filesystem.split(path)
        let (fd, temp) = try Filesystem.createExclusive(in: dir, prefix: name)
        var done = false
        defer {
            close(fd)
            if !done { unlink(temp) }
        }
        let failure = bytes.withUnsafeBytes { raw -> BouncerError? in
            do throws(BouncerError) { try Filesystem.writeAll(fd, raw, name: temp); return nil } catch { return error }
        }
        if let failure { throw failure }
        fchmod(fd, mode)
        guard fsync(fd) == 0 else { throw .io("cannot flush \(temp): \(errnoDescription())") }
        if let beforeRename {
            var info = stat()
            if fstat(fd, &info) == 0 { beforeRename(info) }
        }
        guard rename(temp, path) == 0 else { throw .io("cannot rename \(temp) to \(path): \(errnoDescription())") }
        done = true
        let dirFD = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            fsync(dirFD)
            close(dirFD)
        }
    }

    /// The whole file, or nil when it does not exist; larger than `limit` is an error.
    public static func read(_ path: String, limit: Int, code: String) throws(BouncerError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw BouncerError(.configuration, code: code, "cannot read \(path): \(errnoDescription())")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count == 0 { return bytes }
            if count < 0 {
                if errno == EINTR { continue }
                throw BouncerError(.configuration, code: code, "cannot read \(path): \(errnoDescription())")
            }
            bytes.append(contentsOf: buffer[0..<count])
            guard bytes.count <= limit else {
                throw BouncerError(.configuration, code: code, "\(path) is larger than \(limit >> 20) MiB")
            }
        }
    }
}
