import Foundation
#if canImport(Glibc)
import Glibc
#endif

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
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return Lockfile() }
            throw BouncerError(.configuration, code: "lock-unreadable", "cannot read \(path): \(errnoDescription())")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw BouncerError(.configuration, code: "lock-unreadable", "cannot read \(path): \(errnoDescription())")
            }
            bytes.append(contentsOf: buffer[0..<count])
            guard bytes.count <= 256 << 20 else {
                throw BouncerError(.configuration, code: "lock-invalid", "\(path) is larger than 256 MiB")
            }
        }
        return try Lockfile.decode(bytes, file: path)
    }

    /// Runs `change` on the current lockfile under the exclusive lock and
    /// writes the result if it differs. Returns what `change` returns.
    @discardableResult
    public func update<T>(_ change: (inout Lockfile) throws(BouncerError) -> T) throws(BouncerError) -> T {
        let (dir, name) = Filesystem.split(path)
        try Filesystem.makeDirectories(dir)
        let lockFD = open(flockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard lockFD >= 0 else { throw .io("cannot open \(flockPath): \(errnoDescription())") }
        defer { close(lockFD) }
        while flock(lockFD, LOCK_EX) != 0 {
            if errno != EINTR { throw .io("cannot lock \(flockPath): \(errnoDescription())") }
        }
        defer { flock(lockFD, LOCK_UN) }

        let before = try read()
        var lock = before
        let result = try change(&lock)
        let bytes = lock.encoded()
        // Rewritten only when the canonical bytes change (or the file is new).
        if bytes != before.encoded() || (!lock.artifacts.isEmpty && !FileManager.default.fileExists(atPath: path)) {
            try write(bytes, dir: dir, name: name)
        }
        return result
    }

    private func write(_ bytes: [UInt8], dir: String, name: String) throws(BouncerError) {
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
        fchmod(fd, 0o644)
        guard fsync(fd) == 0 else { throw .io("cannot flush \(temp): \(errnoDescription())") }
        guard rename(temp, path) == 0 else { throw .io("cannot rename \(temp) to \(path): \(errnoDescription())") }
        done = true
        // The rename itself must reach the disk too.
        let dirFD = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            fsync(dirFD)
            close(dirFD)
        }
    }
}
