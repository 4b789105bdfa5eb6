import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Bouncer's own state files (freshness, TUF) are trusted only when nobody
/// but their owner could have written them, as ssh treats authorized_keys:
/// state anyone can edit protects nothing.
public enum PrivateState {
    /// Where Bouncer keeps its state (freshness of signed lists, TUF metadata):
    /// `$BOUNCER_STATE`, else `$XDG_STATE_HOME/bouncer`, else `~/.local/state/bouncer`.
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit = environment["BOUNCER_STATE"], !explicit.isEmpty { return explicit }
        if let xdg = environment["XDG_STATE_HOME"], xdg.hasPrefix("/") { return xdg + "/bouncer" }
        return Filesystem.homeDirectory(environment: environment) + "/.local/state/bouncer"
    }

    /// Owned by this user (or root), writable by nobody else, and (unless
    /// `followLink`) not a symbolic link. A missing path passes.
    public static func checkOwnership(_ path: String, followLink: Bool, what: String) throws(BouncerError) {
        var info = stat()
        guard (followLink ? stat(path, &info) : lstat(path, &info)) == 0 else {
            if errno == ENOENT { return }
            throw BouncerError(.configuration, code: "state-unreadable", "cannot read \(path): \(errnoDescription())")
        }
        let problem: String?
        if (info.st_mode & S_IFMT) == S_IFLNK {
            problem = "is a symbolic link"
        } else if info.st_uid != geteuid() && info.st_uid != 0 {
            problem = "is owned by another user (uid \(info.st_uid))"
        } else if info.st_mode & 0o022 != 0 {
            problem = "is writable by group or others (mode \(String(info.st_mode & 0o777, radix: 8)))"
        } else {
            problem = nil
        }
        if let problem {
            throw BouncerError(.configuration, code: "state-insecure", "Bouncer's \(what) \(path) \(problem): refusing to trust it",
                               hint: "chmod go-w \(path), or point BOUNCER_STATE at a directory only you can write")
        }
    }
}

/// One of Bouncer's private state files (the freshness of signed lists, a
/// TUF trust anchor's versions): the one way they are read and updated.
/// Every directory from the state root down and the file itself must be
/// private (see `PrivateState.checkOwnership`); an update holds an
/// exclusive lock beside the file, reads it again under the lock, and
/// rewrites it atomically only when it changed.
public struct StateFile: Sendable {
    /// The state root, then each directory below it that leads to the file.
    public let directories: [String]
    public let path: String
    /// "freshness state", "TUF state": for messages.
    public let what: String
    public let limit: Int

    public init(directories: [String], name: String, what: String, limit: Int) {
        self.directories = directories
        self.path = (directories.last ?? ".") + "/" + name
        self.what = what
        self.limit = limit
    }

    var lockPath: String { (directories.last ?? ".") + "/." + Filesystem.split(path).name + ".flock" }

    /// The file's bytes, or nil when there is none yet.
    public func read() throws(BouncerError) -> [UInt8]? {
        for (index, directory) in directories.enumerated() {
            // The root may be a symbolic link the person set up; below it, nothing may be.
            try PrivateState.checkOwnership(directory, followLink: index == 0, what: what)
        }
        try PrivateState.checkOwnership(path, followLink: false, what: what)
        return try AtomicFile.read(path, limit: limit, code: "state-unreadable")
    }

    /// Runs `change` on the current bytes under the lock; writes what it
    /// returns as `replacement` (nil: leave the file as it is).
    public func update<T>(_ change: ([UInt8]?) throws(BouncerError) -> (result: T, replacement: [UInt8]?)) throws(BouncerError) -> T {
        for (index, directory) in directories.enumerated() { try makePrivateDirectory(directory, parents: index == 0) }
        return try AtomicFile.withExclusiveLock(lockPath, mode: 0o600) { () throws(BouncerError) -> T in
            let (result, replacement) = try change(try read())
            if let replacement { try AtomicFile.replace(path, with: replacement, mode: 0o600) }
            return result
        }
    }

    private func makePrivateDirectory(_ directory: String, parents: Bool) throws(BouncerError) {
        var info = stat()
        if stat(directory, &info) == 0 { return }
        if parents { try Filesystem.makeDirectories(Filesystem.split(directory).directory) }
        if mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw .io("cannot create the state directory \(directory): \(errnoDescription())")
        }
    }
}
