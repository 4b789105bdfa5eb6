import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase

/// Bouncer's content-addressed store: `<root>/sha256/<2 hex>/<64 hex>` for
/// verified blobs and `<root>/tmp/` for downloads in progress. The root is
/// `BOUNCER_CACHE`, else `$XDG_CACHE_HOME/bouncer`, else `~/.cache/bouncer`.
///
/// Anything under a cache directory can be changed by any program the user
/// runs, so a blob is re-hashed every time it is taken from the store.
public struct Store: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    public static func defaultRoot(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit = environment["BOUNCER_CACHE"], !explicit.isEmpty { return explicit }
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return xdg + "/bouncer" }
        let home = Filesystem.homeDirectory(environment: environment)
        return home + "/.cache/bouncer"
    }

    public static func standard() -> Store { Store(root: defaultRoot()) }

    var temporaryDirectory: String { root + "/tmp" }

    public func blobPath(for sha256: Digest) -> String {
        let hex = sha256.hex
        return "\(root)/sha256/\(hex.prefix(2))/\(hex)"
    }

    /// A new, empty, exclusively created file in the store's temp directory
    /// (removed by a timer's exit too: `ExitCleanup`).
    public func makeTemporaryFile(prefix: String = "download") throws(BouncerError) -> (fd: Int32, path: String) {
        try Filesystem.makeDirectories(temporaryDirectory)
        let file = try Filesystem.createExclusive(in: temporaryDirectory, prefix: prefix)
        ExitCleanup.track(file.path)
        return file
    }

    /// Makes the folder the blob for `sha256` will be filed in. The guard
    /// does this while the bytes are still being verified: filing happens
    /// while a client waits, and a new directory (a new inode) is the
    /// slowest part of it, by far on a file system with many recent deletions.
    public func makeShelf(for sha256: Digest) {
        guard sha256.algorithm == .sha256 else { return }
        try? Filesystem.makeDirectories(Filesystem.split(blobPath(for: sha256)).directory)
    }

    /// Files a verified temp file under its digest (by hard link, so the temp
    /// path stays valid for the caller to rename into place). An existing
    /// blob is replaced atomically.
    @discardableResult
    public func adopt(temporaryPath: String, sha256: Digest) throws(BouncerError) -> String {
        guard sha256.algorithm == .sha256 else { throw .io("store keys are sha256 digests") }
        let blob = blobPath(for: sha256)
        let staging = blob + ".\(UInt32.random(in: 0...UInt32.max)).tmp"
        // Usually the folder exists (`makeShelf`); it is made only when the link says it is missing.
        var linked = link(temporaryPath, staging) == 0
        if !linked && errno == ENOENT {
            try Filesystem.makeDirectories(Filesystem.split(blob).directory)
            linked = link(temporaryPath, staging) == 0
        }
        if !linked {
            throw .io("cannot link \(temporaryPath) into the store: \(errnoDescription())")
        }
        if rename(staging, blob) != 0 {
            let reason = errnoDescription()
            unlink(staging)
            throw .io("cannot file \(blob) in the store: \(reason)")
        }
        return blob
    }

    /// Links the blob for `sha256` at `path` (a new name the caller may move)
    /// and returns its size, if the bytes behind that link still hash to
    /// `sha256`. The link is hashed, not the blob's name, so the bytes checked
    /// are the bytes handed out even if the name is replaced meanwhile; and
    /// they are hashed once. A blob whose bytes are not its name is removed.
    public func linkIntact(_ sha256: Digest, at path: String) -> UInt64? {
        let blob = blobPath(for: sha256)
        guard link(blob, path) == 0 else { return nil }
        guard let hashed = try? FileHasher.hash(path: path, algorithms: [.sha256]),
              let actual = hashed.digests[.sha256], actual.matches(sha256) else {
            unlink(path)
            unlink(blob)
            return nil
        }
        return hashed.size
    }
}
