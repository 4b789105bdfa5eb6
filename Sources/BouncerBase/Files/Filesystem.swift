import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The few file-system operations the invariants depend on: exclusive
/// creation, atomic placement, and never leaving a partial file.
public enum Filesystem {
    /// The directory part and the name of a path, split by hand: this
    /// toolchain's NSString path methods trap on one-letter paths such as "o".
    public static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }

    public static func makeDirectories(_ path: String) throws(BouncerError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw .io("cannot create directory \(path): \(error)")
        }
    }

    /// Whether `path` is a directory (or a symbolic link to one).
    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// `path` as an absolute path: as it is when it is one, else under `cwd`.
    public static func absolute(_ path: String, cwd: String) -> String {
        path.hasPrefix("/") ? path : (cwd.hasSuffix("/") ? cwd : cwd + "/") + path
    }

    /// An absolute directory and each directory above it, nearest first, up to
    /// `/` (a trailing slash ignored): where a tool looks for the nearest
    /// project or configuration file.
    public static func selfAndAncestors(_ directory: String) -> [String] {
        var current = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        var found: [String] = []
        while !current.isEmpty {
            found.append(current)
            // `/` ends an absolute path; a relative one ends at `.` (whose parent is itself).
            let parent = split(current).directory
            guard current != "/", parent != current else { break }
            current = parent
        }
        return found
    }

    /// `path` with every symbolic link resolved (`realpath`), or as it is when it cannot be.
    public static func realPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Whether `path` is a regular file (or a symbolic link to one).
    public static func isFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    /// `$HOME`, else the home directory the password database gives this user.
    public static func homeDirectory(environment: [String: String]) -> String {
        if let home = environment["HOME"], !home.isEmpty { return home }
        if let entry = getpwuid(getuid()), let directory = entry.pointee.pw_dir { return String(cString: directory) }
        return "/"
    }

    /// Where scratch files go: `TMPDIR`, else /tmp.
    public static var temporaryRoot: String {
        // getenv, not ProcessInfo's dictionary of every variable (~0.1 ms to build each time).
        getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    }

    /// A new directory only this user can enter (mkdtemp: 0700, unique), under `temporaryRoot`.
    public static func makePrivateDirectory(prefix: String) throws(BouncerError) -> String {
        let base = temporaryRoot
        var template = Array((base + "/" + prefix + "-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw .io("cannot create a private directory in \(base): \(errnoDescription())") }
        return String(cString: made)
    }

    /// Creates `<dir>/.<prefix>.<random>.bouncer-tmp` with O_EXCL, mode 0666
    /// before the umask (as curl and wget create files, unlike mkstemp's 0600).
    public static func createExclusive(in directory: String, prefix: String) throws(BouncerError) -> (fd: Int32, path: String) {
        for _ in 0..<16 {
            let path = "\(directory)/.\(prefix).\(String(UInt64.random(in: 0...UInt64.max), radix: 36)).bouncer-tmp"
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o666)
            if fd >= 0 { return (fd, path) }
            if errno != EEXIST { throw .io("cannot create a temporary file in \(directory): \(errnoDescription())") }
        }
        throw .io("cannot create a temporary file in \(directory): too many name collisions")
    }

    /// Copies a whole file (only when the store and the destination are on different file systems).
    public static func copy(from source: String, to outFD: Int32, destinationName: String) throws(BouncerError) {
        let inFD = open(source, O_RDONLY | O_CLOEXEC)
        guard inFD >= 0 else { throw .io("cannot open \(source): \(errnoDescription())") }
        defer { close(inFD) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = read(inFD, buffer.baseAddress, buffer.count)
            if count == 0 { return }
            if count < 0 {
                if errno == EINTR { continue }
                throw .io("cannot read \(source): \(errnoDescription())")
            }
            try writeAll(outFD, UnsafeRawBufferPointer(rebasing: buffer[0..<count]), name: destinationName)
        }
    }

    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, name: String) throws(BouncerError) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let written = write(fd, base + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw .io("cannot write \(name): \(errnoDescription())")
            }
            offset += written
        }
    }
}
