#if canImport(Glibc)
import Glibc
#endif
import BouncerBase

/// What `bouncer unpack` may be told, beside the limits.
public struct UnpackOptions: Sendable {
    public var limits: ArchiveLimits
    /// Refuse `Foo` beside `foo` (they are one file on macOS and Windows).
    public var refuseCaseCollisions: Bool

    public init(limits: ArchiveLimits = .defaults, refuseCaseCollisions: Bool = false) {
        self.limits = limits
        self.refuseCaseCollisions = refuseCaseCollisions
    }
}

public struct UnpackSummary: Sendable, Equatable {
    public var files = 0
    public var directories = 0
    public var symlinks = 0
    public var hardlinks = 0
    public var bytes: UInt64 = 0
    public var entries: Int { files + directories + symlinks + hardlinks }
}

/// Unpacks an archive without trusting it. Every entry is screened
/// (`EntryScreen`) before it is written; files are created with openat
/// relative to directories this run created, with O_NOFOLLOW and O_EXCL,
/// so nothing is written outside the destination or over anything. Modes
/// lose setuid, setgid, sticky and group/other write; owners are not restored.
/// On any refusal or error the temporary tree is removed and DIR is untouched.
public enum SafeExtractor {
    public static func unpack(_ reader: ArchiveReader, into destinationPath: String,
                              options: UnpackOptions = UnpackOptions()) throws(ArchiveError) -> UnpackSummary {
        let destination = try Destination.prepare(destinationPath)
        let mask = currentUmask()
        let tree: Tree
        do throws(ArchiveError) {
            tree = try Tree(root: destination.temporary)
        } catch {
            destination.discard()
            throw error
        }
        defer { tree.close() }
        let summary: UnpackSummary
        do throws(ArchiveError) {
            summary = try extract(reader, into: tree, umask: mask, options: options)
            guard fchmod(tree.rootFD, destination.existingMode ?? (0o777 & ~mask)) == 0 else {
                throw .io("cannot set the mode of \(destination.temporary): \(errnoDescription())")
            }
            try destination.commit()
        } catch {
            destination.discard()
            throw error
        }
        // Only now, through the descriptors still open on the moved tree: a
        // read-only directory would have stopped `discard` from removing it.
        try tree.applyDirectoryModes(defaultMode: 0o755 & ~mask)
        return summary
    }

    private static func extract(_ reader: ArchiveReader, into tree: Tree, umask mask: mode_t,
                                options: UnpackOptions) throws(ArchiveError) -> UnpackSummary {
        var screen = EntryScreen(limits: reader.limits, refuseCaseCollisions: options.refuseCaseCollisions)
        var summary = UnpackSummary()
        while let entry = try reader.next() {
            tree.trim()
            guard let admitted = try screen.admit(entry), let name = admitted.components.last else { continue }
            let parent = try tree.directory(admitted.components.dropLast())
            switch entry.kind {
            case .directory:
                _ = try tree.directory(admitted.components[...])
                tree.setFinalMode(admitted.path, entry.mode & 0o755 & ~mask)
                summary.directories += 1
            case .file:
                try writeFile(reader, entry: entry, parent: parent, name: name, mode: entry.mode & 0o755)
                summary.files += 1
            case .symlink:
                guard symlinkat(entry.linkTarget ?? "", parent, name) == 0 else {
                    throw .io("cannot create symlink \(quoted(entry.path)): \(errnoDescription())")
                }
                summary.symlinks += 1
            case .hardlink:
                guard let target = admitted.hardlinkTarget, let targetName = target.last else {
                    throw .badHardlink(entry: entry.path, target: entry.linkTarget ?? "", reason: "has no target")
                }
                let targetParent = try tree.directory(target.dropLast())
                guard linkat(targetParent, targetName, parent, name, 0) == 0 else {
                    throw .io("cannot create hardlink \(quoted(entry.path)): \(errnoDescription())")
                }
                summary.hardlinks += 1
            default:
                throw .forbiddenType(entry: entry.path, type: EntryScreen.describe(entry.kind))
            }
        }
        summary.bytes = reader.totalBytes
        return summary
    }

    /// Creates the file (never over an existing one, never through a link) and
    /// streams the entry's data into it, leaving holes of sparse files as holes.
    private static func writeFile(_ reader: ArchiveReader, entry: ArchiveEntry, parent: Int32,
                                  name: String, mode: UInt32) throws(ArchiveError) {
        let fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode_t(mode))
        guard fd >= 0 else { throw .io("cannot create \(quoted(entry.path)): \(errnoDescription())") }
        var closed = false
        defer { if !closed { Glibc.close(fd) } }
        var written: Int64 = 0
        var end: Int64 = 0
        try reader.readBlocks { (block, offset) throws(ArchiveError) in
            end = max(end, offset + Int64(block.count))
            guard let base = block.baseAddress, block.count > 0 else { return }
            var done = 0
            while done < block.count {
                let count = pwrite(fd, base + done, block.count - done, off_t(offset) + off_t(done))
                if count < 0 {
                    if errno == EINTR { continue }
                    throw .io("cannot write \(quoted(entry.path)): \(errnoDescription())")
                }
                done += count
            }
            written = max(written, offset + Int64(block.count))
        }
        // A trailing hole: give the file its full length without writing zeros.
        if end > written, ftruncate(fd, off_t(end)) != 0 {
            throw .io("cannot extend \(quoted(entry.path)): \(errnoDescription())")
        }
        if let seconds = entry.modificationTime {
            var times = [timespec(tv_sec: time_t(seconds), tv_nsec: 0), timespec(tv_sec: time_t(seconds), tv_nsec: 0)]
            _ = futimens(fd, &times)
        }
        closed = true
        guard Glibc.close(fd) == 0 else { throw .io("cannot write \(quoted(entry.path)): \(errnoDescription())") }
    }
}

/// Directory descriptors of the tree being unpacked, opened component by
/// component with O_NOFOLLOW from the private root, so that no path is ever
/// resolved through a symlink. Directories stay 0700 until the tree is in place.
private final class Tree {
    let rootFD: Int32
    private var handles: [String: Int32] = [:]
    private var modes: [String: mode_t] = [:]
    private var created: Set<String> = []

    init(root: String) throws(ArchiveError) {
        rootFD = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard rootFD >= 0 else { throw .io("cannot open \(root): \(errnoDescription())") }
    }

    /// The descriptor of the directory at `components`, creating missing ones (mode 0700 until the end).
    func directory(_ components: ArraySlice<String>) throws(ArchiveError) -> Int32 {
        guard let last = components.last else { return rootFD }
        let key = components.joined(separator: "/")
        if let fd = handles[key] { return fd }
        let parent = try directory(components.dropLast())
        var fd = openat(parent, last, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 && errno == ENOENT {
            guard mkdirat(parent, last, 0o700) == 0 else {
                throw .io("cannot create directory \(quoted(key)): \(errnoDescription())")
            }
            created.insert(key)
            fd = openat(parent, last, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        }
        guard fd >= 0 else { throw .io("cannot open directory \(quoted(key)): \(errnoDescription())") }
        handles[key] = fd
        return fd
    }

    /// Bounds the open descriptors on very wide trees. Only called between
    /// entries: a descriptor handed out for the current entry stays valid.
    func trim() {
        if handles.count >= 256 { closeHandles() }
    }

    func setFinalMode(_ path: String, _ mode: UInt32) { modes[path] = mode_t(mode) }

    /// Deepest first, so that a parent made read-only does not block its children.
    func applyDirectoryModes(defaultMode: mode_t) throws(ArchiveError) {
        let paths = created.sorted { $0.split(separator: "/").count > $1.split(separator: "/").count }
        for path in paths {
            trim()
            let fd = try directory(path.split(separator: "/").map(String.init)[...])
            guard fchmod(fd, modes[path] ?? defaultMode) == 0 else {
                throw .io("cannot set the mode of \(quoted(path)): \(errnoDescription())")
            }
        }
    }

    private func closeHandles() {
        for fd in handles.values { Glibc.close(fd) }
        handles.removeAll(keepingCapacity: true)
    }

    func close() {
        closeHandles()
        Glibc.close(rootFD)
    }
}
