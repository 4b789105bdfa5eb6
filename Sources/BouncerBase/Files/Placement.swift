#if canImport(Glibc)
import Glibc
#endif

/// Putting verified bytes where the person asked: one API for every
/// command and shim, with one guarantee. The destination appears complete
/// or not at all (a temp file beside it, fsync, rename), an existing file is
/// untouched on failure and keeps its permissions when replaced, and the result is the person's own file: it never
/// shares an inode with Bouncer's store, so editing it cannot change the
/// cache, and whoever can write the cache cannot change it.
public enum Placement {
    public enum Mode: Sendable {
        /// Copy the bytes; the source stays as it is (the guard still owns it).
        case copy
        /// The source is the caller's to give away: renamed into place when it
        /// is its only link and on the same file system, else copied.
        case move
    }

    /// `sources` concatenated in order (wget -O FILE URL URL) at `destination`.
    public static func place(_ sources: [String], at given: String, mode: Mode) throws(BouncerError) {
        var destination = given
        var linked = stat(), target = stat()
        if lstat(given, &linked) == 0 {
            let followed = stat(given, &target) == 0
            let kind = target.st_mode & S_IFMT
            if followed && kind != S_IFREG && kind != S_IFDIR {
                // A device, FIFO or socket (`-o /dev/null`, `/dev/stdout`, a named pipe): written into, as the
                // tool writes it, never replaced (as root, a rename made /dev/null a regular file).
                return try writeInto(sources, at: given, flags: O_WRONLY | O_TRUNC)
            }
            if (linked.st_mode & S_IFMT) == S_IFLNK {
                // An open descriptor's name (`/dev/stdout`, `/proc/self/fd/N`): written into, as the tool
                // writes it; a new file renamed over its target would leave the descriptor on the old one.
                var link = [CChar](repeating: 0, count: 4096)
                let length = readlink(given, &link, link.count - 1)
                let leadsTo = length > 0 ? String(decoding: link[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
                if given.hasPrefix("/proc/") || given.hasPrefix("/dev/") || leadsTo.hasPrefix("/proc/") {
                    return try writeInto(sources, at: given, flags: O_WRONLY | O_CREAT | O_TRUNC)
                }
                // Through a symbolic link, as the tool writes: the file it leads to is replaced, the link
                // kept; one leading nowhere yet gets that file made.
                guard followed else { return try writeInto(sources, at: given, flags: O_WRONLY | O_CREAT | O_TRUNC) }
                destination = Filesystem.realPath(given)
            }
        }
        let replaced = existingFile(destination)
        if mode == .move, sources.count == 1, let source = sources.first, try takeOver(source, at: destination, keeping: replaced) { return }
        let (dir, name) = Filesystem.split(destination)
        let (fd, temporary) = try Filesystem.createExclusive(in: dir, prefix: name)
        var done = false
        defer {
            close(fd)
            if !done { unlink(temporary) }
        }
        for source in sources { try Filesystem.copy(from: source, to: fd, destinationName: temporary) }
        keep(replaced, on: fd)
        guard fsync(fd) == 0 else { throw .io("cannot flush \(temporary): \(errnoDescription())") }
        guard rename(temporary, destination) == 0 else { throw .io("cannot write \(destination): \(errnoDescription())") }
        done = true
    }

    public static func place(_ source: String, at destination: String, mode: Mode) throws(BouncerError) {
        try place([source], at: destination, mode: mode)
    }

    /// The bytes written straight into what `path` opens (no temp file: a device or pipe has no directory to put one in).
    private static func writeInto(_ sources: [String], at path: String, flags: Int32) throws(BouncerError) {
        let fd = open(path, flags | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw .io("cannot write \(path): \(errnoDescription())") }
        defer { close(fd) }
        for source in sources { try Filesystem.copy(from: source, to: fd, destinationName: path) }
    }

    /// Verified bytes on standard output (`curl URL | sh` gets nothing before this).
    public static func toStandardOutput(_ sources: [String]) throws(BouncerError) {
        for source in sources { try Filesystem.copy(from: source, to: STDOUT_FILENO, destinationName: "standard output") }
    }

    /// The regular file a placement replaces, if any.
    private static func existingFile(_ path: String) -> stat? {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG ? info : nil
    }

    /// The replaced file's permissions (and, for root, its owner) on the new
    /// one, as the tools keep them when they write into an existing file
    /// (`curl -o script.sh` over an executable stays executable). Not its
    /// set-user/group-ID bits: new bytes under an old privilege. Other
    /// links to the old file keep the old bytes (a rename cannot reach them).
    private static func keep(_ replaced: stat?, on fd: Int32) {
        guard let replaced else { return }
        if geteuid() == 0 { _ = fchown(fd, replaced.st_uid, replaced.st_gid) }
        _ = fchmod(fd, replaced.st_mode & 0o1777)
    }

    /// Renames `source` into place when nothing else links to it; false when it must be copied instead.
    private static func takeOver(_ source: String, at destination: String, keeping replaced: stat?) throws(BouncerError) -> Bool {
        let fd = open(source, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io("cannot open \(source): \(errnoDescription())") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_nlink == 1, (info.st_mode & S_IFMT) == S_IFREG else { return false }
        keep(replaced, on: fd)
        guard fsync(fd) == 0 else { throw .io("cannot flush \(source): \(errnoDescription())") }
        if rename(source, destination) == 0 { return true }
        // Another file system: copy instead; anything else is a real failure.
        guard errno == EXDEV else { throw .io("cannot write \(destination): \(errnoDescription())") }
        return false
    }
}
