import BouncerBase
/// Decides, entry by entry and before anything is written, whether an entry
/// may be unpacked. It remembers what earlier entries created, because the
/// dangerous cases depend on order: `a -> /etc` then `a/passwd`; a hardlink
/// to a file that was never extracted; the same path twice ("verify the first,
/// install the last").
///
/// Paths are Swift Strings, compared by Unicode canonical equivalence: the
/// NFC and NFD spellings of a name are one path here (as on macOS), so an
/// archive holding both is refused as a duplicate.
public struct EntryScreen {
    public enum Created: Equatable {
        case directory(explicit: Bool)
        case file
        case symlink
    }

    /// What an admitted entry becomes on disk.
    public struct Admitted: Equatable {
        public let components: [String]
        public let path: String
        /// For a hardlink: the components of the earlier file it links to.
        public let hardlinkTarget: [String]?
    }

    public let limits: ArchiveLimits
    public let refuseCaseCollisions: Bool
    public private(set) var created: [String: Created] = [:]
    /// Paths that some symlink target passes through; none may become a symlink later.
    private var traversedBySymlinks: Set<String> = []
    /// Case-folded path (Swift String equality also folds NFC/NFD) → first spelling seen.
    private var folded: [String: String] = [:]

    public init(limits: ArchiveLimits = .defaults, refuseCaseCollisions: Bool = false) {
        self.limits = limits
        self.refuseCaseCollisions = refuseCaseCollisions
    }

    /// Returns nil for the archive root entry (`./`), which creates nothing.
    public mutating func admit(_ entry: ArchiveEntry) throws(ArchiveError) -> Admitted? {
        switch entry.kind {
        case .file, .directory, .symlink, .hardlink: break
        default: throw .forbiddenType(entry: entry.path, type: Self.describe(entry.kind))
        }
        if entry.isEncrypted { throw .encrypted(entry: entry.path) }
        guard entry.nameIsUTF8 else { throw .unsafePath(entry: entry.path, reason: "name is not valid UTF-8") }
        let components = try EntryPath.components(entry.path, limits: limits)
        if components.isEmpty {
            guard entry.kind == .directory else { throw .unsafePath(entry: entry.path, reason: "names the destination itself") }
            return nil
        }
        let path = components.joined(separator: "/")
        try checkParents(components, entry: entry.path)
        if let existing = created[path] {
            guard existing == .directory(explicit: false), entry.kind == .directory else {
                throw .duplicate(entry: entry.path)
            }
        }
        if refuseCaseCollisions { try checkCase(components, entry: entry.path) }

        var hardlinkTarget: [String]? = nil
        switch entry.kind {
        case .symlink:
            if traversedBySymlinks.contains(path) {
                throw .throughLink(entry: entry.path, link: path)
            }
            try checkSymlinkTarget(entry, parent: Array(components.dropLast()))
        case .hardlink:
            hardlinkTarget = try checkHardlinkTarget(entry)
        default:
            break
        }
        record(components, as: entry.kind)
        return Admitted(components: components, path: path, hardlinkTarget: hardlinkTarget)
    }

    /// Every parent must be a directory of this archive (or a new one), never
    /// a symlink or a file: writing through an earlier symlink is the classic escape.
    private func checkParents(_ components: [String], entry: String) throws(ArchiveError) {
        var prefix = ""
        for component in components.dropLast() {
            prefix = prefix.isEmpty ? component : prefix + "/" + component
            switch created[prefix] {
            case .symlink, .file: throw .throughLink(entry: entry, link: prefix)
            default: continue
            }
        }
    }

    private mutating func checkCase(_ components: [String], entry: String) throws(ArchiveError) {
        var prefix = ""
        for component in components {
            prefix = prefix.isEmpty ? component : prefix + "/" + component
            let key = prefix.lowercased()
            if let first = folded[key] {
                // Swift compares Strings by canonical equivalence, so compare bytes for "same spelling".
                if !first.utf8.elementsEqual(prefix.utf8) { throw .caseCollision(entry: entry, other: first) }
            } else {
                folded[key] = prefix
            }
        }
    }

    /// Resolves the target lexically from the link's directory. It must stay
    /// inside the destination, and must not pass through a symlink of this
    /// archive (there `..` would not mean what it says lexically).
    private mutating func checkSymlinkTarget(_ entry: ArchiveEntry, parent: [String]) throws(ArchiveError) {
        let target = entry.linkTarget ?? ""
        if target.isEmpty { throw .symlinkEscape(entry: entry.path, target: target) }
        if target.utf8.count > limits.maxPathBytes || target.utf8.contains(0) {
            throw .unsafePath(entry: entry.path, reason: "unusable symlink target")
        }
        if target.utf8.first == UInt8(ascii: "/") || target.utf8.contains(UInt8(ascii: "\\"))
            || EntryPath.hasDriveLetter(target) {
            throw .symlinkEscape(entry: entry.path, target: target)
        }
        var stack = parent
        for part in target.split(separator: "/", omittingEmptySubsequences: true) where part != "." {
            if !stack.isEmpty {
                let through = stack.joined(separator: "/")
                if created[through] == .symlink { throw .throughLink(entry: entry.path, link: through) }
                traversedBySymlinks.insert(through)
            }
            if part == ".." {
                if stack.isEmpty { throw .symlinkEscape(entry: entry.path, target: target) }
                stack.removeLast()
            } else {
                stack.append(String(part))
            }
        }
    }

    /// A hardlink may only point at a regular file this archive already
    /// created; anything else could expose or change a file outside it.
    private func checkHardlinkTarget(_ entry: ArchiveEntry) throws(ArchiveError) -> [String] {
        let target = entry.linkTarget ?? ""
        let components: [String]
        do {
            components = try EntryPath.components(target, limits: limits)
        } catch {
            throw .badHardlink(entry: entry.path, target: target, reason: "has an unsafe target path")
        }
        guard created[components.joined(separator: "/")] == .file else {
            throw .badHardlink(entry: entry.path, target: target,
                               reason: "does not name a regular file unpacked earlier from this archive")
        }
        return components
    }

    private mutating func record(_ components: [String], as kind: ArchiveEntry.Kind) {
        var prefix = ""
        for (index, component) in components.enumerated() {
            prefix = prefix.isEmpty ? component : prefix + "/" + component
            if index < components.count - 1 {
                if created[prefix] == nil { created[prefix] = .directory(explicit: false) }
            } else {
                switch kind {
                case .directory: created[prefix] = .directory(explicit: true)
                case .symlink: created[prefix] = .symlink
                default: created[prefix] = .file
                }
            }
        }
    }

    static func describe(_ kind: ArchiveEntry.Kind) -> String {
        switch kind {
        case .characterDevice: "character device"
        case .blockDevice: "block device"
        case .fifo: "FIFO"
        case .socket: "socket"
        case .unknown: "file of unknown type"
        default: kind.rawValue
        }
    }
}
