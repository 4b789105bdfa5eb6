import BouncerBase
/// One entry header, copied out of libarchive so it outlives the next read.
public struct ArchiveEntry: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case file, directory, symlink, hardlink
        case characterDevice = "character-device"
        case blockDevice = "block-device"
        case fifo, socket, unknown
    }

    /// The path as stored in the archive (not normalised).
    public var path: String
    public var kind: Kind
    /// The size from the header, when the format gives one. Not trusted for limits.
    public var size: Int64?
    /// Permission bits and setuid/setgid/sticky, as stored.
    public var mode: UInt32
    /// The stored target of a symlink or hardlink.
    public var linkTarget: String?
    public var modificationTime: Int64?
    public var isEncrypted: Bool
    /// False when the stored name is not valid UTF-8 (`path` then holds a lossy rendering).
    public var nameIsUTF8: Bool = true

    public init(path: String, kind: Kind, size: Int64? = nil, mode: UInt32 = 0o644,
                linkTarget: String? = nil, modificationTime: Int64? = nil, isEncrypted: Bool = false) {
        self.path = path
        self.kind = kind
        self.size = size
        self.mode = mode
        self.linkTarget = linkTarget
        self.modificationTime = modificationTime
        self.isEncrypted = isEncrypted
    }

    /// `rwxr-xr-x`-style octal, e.g. "0755".
    public var octalMode: String {
        let text = String(mode & 0o7777, radix: 8)
        return String(repeating: "0", count: max(0, 4 - text.count)) + text
    }
}
