import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase

/// Where `bouncer unpack` puts its result. The archive is unpacked into a
/// private temporary directory beside DIR (same file system) and renamed onto
/// DIR only when complete, so DIR either holds the whole archive or is
/// untouched. DIR must not exist or be an empty directory: unpacking never
/// merges into existing files, so nothing already there can be overwritten or
/// used as a link target.
struct Destination {
    let path: String
    let parent: String
    /// The mode DIR had when it already existed (empty), to keep it.
    let existingMode: mode_t?
    let temporary: String

    static func prepare(_ requested: String) throws(ArchiveError) -> Destination {
        var path = requested
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        // Split by hand: NSString's path methods trap on some short paths
        // (swift-corelibs-foundation, e.g. "o").
        let slash = path.lastIndex(of: "/")
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard !path.isEmpty, !base.isEmpty, base != ".", base != ".." else {
            throw .destination(path: requested, reason: "name a new or empty directory, not '.', '..' or '/'")
        }
        let parent = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        var info = stat()
        var existingMode: mode_t? = nil
        if lstat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFDIR else {
                throw .destination(path: path, reason: (info.st_mode & S_IFMT) == S_IFLNK
                    ? "is a symbolic link" : "exists and is not a directory")
            }
            guard try isEmptyDirectory(path) else { throw .destination(path: path, reason: "exists and is not empty") }
            existingMode = info.st_mode & 0o7777
        } else if errno != ENOENT {
            throw .io("cannot examine \(path): \(errnoDescription())")
        }
        var parentInfo = stat()
        guard stat(parent, &parentInfo) == 0, (parentInfo.st_mode & S_IFMT) == S_IFDIR else {
            throw .destination(path: path, reason: "its parent directory \(parent) does not exist")
        }
        // mkdtemp: private (0700), unique, and on DIR's file system so rename is atomic.
        var template = Array("\(parent)/.\(String(base.prefix(100))).bouncer-tmp.XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress else { return false }
            return mkdtemp(base) != nil
        }
        guard made else { throw .io("cannot create a temporary directory in \(parent): \(errnoDescription())") }
        let temporary = template.withUnsafeBufferPointer { buffer in
            buffer.baseAddress.map { String(cString: $0) } ?? ""
        }
        return Destination(path: path, parent: parent, existingMode: existingMode, temporary: temporary)
    }

    /// Puts the finished tree in place. Renaming onto an existing empty
    /// directory is atomic and fails if something appeared in it meanwhile.
    func commit() throws(ArchiveError) {
        guard rename(temporary, path) == 0 else {
            let code = errno
            if code == ENOTEMPTY || code == EEXIST {
                throw .destination(path: path, reason: "is no longer empty; nothing was unpacked")
            }
            throw .io("cannot move the unpacked tree to \(path): \(errnoDescription(code))")
        }
    }

    /// Removes the temporary tree (never following its symlinks).
    func discard() {
        try? FileManager.default.removeItem(atPath: temporary)
    }

    private static func isEmptyDirectory(_ path: String) throws(ArchiveError) -> Bool {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else {
            throw .io("cannot list \(path): \(errnoDescription())")
        }
        return names.isEmpty
    }
}

/// The process umask, read without changing it (changing it, even briefly,
/// would race with other threads creating files).
func currentUmask() -> mode_t {
    if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) {
        for line in status.split(separator: "\n") where line.hasPrefix("Umask:") {
            let value = line.dropFirst("Umask:".count).trimmingSpaces()
            if let mask = mode_t(value, radix: 8) { return mask }
        }
    }
    return 0o022
}
