import Foundation
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
        return (environment["HOME"] ?? NSHomeDirectory()) + "/.local/state/bouncer"
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
