import BouncerBase
/// Why an archive, or one of its entries, was refused. Every case that is
/// about an entry names it, so a person can find it with `bouncer inspect`.
public enum ArchiveError: BouncerFailure, Equatable {
    /// libarchive could not parse the input: corrupt, truncated or not an archive.
    case unreadable(archive: String, entry: String?, reason: String)
    case unsafePath(entry: String, reason: String)
    case forbiddenType(entry: String, type: String)
    case encrypted(entry: String)
    case duplicate(entry: String)
    case caseCollision(entry: String, other: String)
    /// The entry's path goes through a symlink (or a file) created earlier in the archive.
    case throughLink(entry: String, link: String)
    case symlinkEscape(entry: String, target: String)
    case badHardlink(entry: String, target: String, reason: String)
    case tooManyEntries(limit: Int, entry: String)
    /// `unpacked`: the bytes counted when the reader stopped (at most one block past the limit).
    case tooLarge(limit: UInt64, entry: String, unpacked: UInt64)
    /// `unpacked` and `compressed`: the counts when the reader stopped.
    case ratioExceeded(limit: Double, entry: String, unpacked: UInt64, compressed: UInt64)
    /// The destination directory is unusable (exists and is not empty, is a symlink, ...).
    case destination(path: String, reason: String)
    /// Reading the input or writing the output failed at the operating-system level.
    case io(String)

    public var family: ErrorFamily {
        switch self {
        case .destination: .configuration
        case .io: .transport
        default: .evidence
        }
    }

    public var code: String {
        switch self {
        case .unreadable: "archive-unreadable"
        case .unsafePath: "archive-unsafe-path"
        case .forbiddenType: "archive-forbidden-type"
        case .encrypted: "archive-encrypted-entry"
        case .duplicate: "archive-duplicate-entry"
        case .caseCollision: "archive-case-collision"
        case .throughLink: "archive-through-link"
        case .symlinkEscape: "archive-symlink-escape"
        case .badHardlink: "archive-bad-hardlink"
        case .tooManyEntries: "archive-too-many-entries"
        case .tooLarge: "archive-too-large"
        case .ratioExceeded: "archive-ratio-exceeded"
        case .destination: "archive-destination"
        case .io: "io"
        }
    }

    public var description: String {
        switch self {
        case .unreadable(let archive, let entry, let reason):
            if let entry { return "\(archive): cannot read entry '\(quoted(entry))': \(reason)" }
            return "\(archive): not a readable archive (corrupt, truncated or an unsupported format): \(reason)"
        case .unsafePath(let entry, let reason):
            return "entry '\(quoted(entry))' refused: \(reason)"
        case .forbiddenType(let entry, let type):
            return "entry '\(quoted(entry))' refused: it is a \(type); only files, directories and links are unpacked"
        case .encrypted(let entry):
            return "entry '\(quoted(entry))' refused: it is encrypted"
        case .duplicate(let entry):
            return "entry '\(quoted(entry))' refused: the archive holds this path more than once"
        case .caseCollision(let entry, let other):
            return "entry '\(quoted(entry))' refused: its name collides with '\(quoted(other))' when case is ignored"
        case .throughLink(let entry, let link):
            return "entry '\(quoted(entry))' refused: its path goes through '\(quoted(link))', which is not a directory of this archive (a link or a file)"
        case .symlinkEscape(let entry, let target):
            return "entry '\(quoted(entry))' refused: symlink target '\(quoted(target))' leaves the destination"
        case .badHardlink(let entry, let target, let reason):
            return "entry '\(quoted(entry))' refused: hardlink to '\(quoted(target))' \(reason)"
        case .tooManyEntries(let limit, let entry):
            return "entry '\(quoted(entry))' refused: the archive has more than \(limit) entries (--max-entries; policy archive.maxEntries)"
        case .tooLarge(let limit, let entry, let unpacked):
            return "entry '\(quoted(entry))' refused: the archive unpacks to more than \(limit) bytes (--max-size; policy archive.maxUnpackedSize); "
                + "stopped after \(unpacked) unpacked bytes"
        case .ratioExceeded(let limit, let entry, let unpacked, let compressed):
            return "entry '\(quoted(entry))' refused: the archive expands more than \(Self.ratio(limit))x its compressed size (--max-ratio; policy archive.maxRatio); "
                + "stopped after \(unpacked) unpacked bytes from \(compressed) compressed bytes; a decompression bomb?"
        case .destination(let path, let reason):
            return "destination \(path): \(reason)"
        case .io(let message):
            return message
        }
    }

    /// An exceeded limit (entries, size, ratio): the archive was readable, it was stopped.
    public var isLimit: Bool {
        switch self {
        case .tooManyEntries, .tooLarge, .ratioExceeded: true
        default: false
        }
    }

    /// 200 as "200", 2.5 as "2.5".
    static func ratio(_ value: Double) -> String {
        value.rounded() == value && value < 1e15 ? String(Int(value)) : String(value)
    }

    public var hint: String? {
        switch self {
        case .tooManyEntries, .tooLarge, .ratioExceeded:
            "if the archive is trusted and this large, raise the limit with the flag or the policy.json key named above"
        case .destination:
            "unpack into a new or empty directory; bouncer unpack never merges into existing files"
        default:
            nil
        }
    }
}

/// Entry names come from the archive: escape control characters so a name
/// cannot forge extra lines or terminal sequences in our output.
func quoted(_ name: String) -> String {
    var out = ""
    for scalar in name.unicodeScalars {
        if scalar.value < 0x20 || scalar.value == 0x7f || (0x80..<0xa0).contains(scalar.value) {
            out += "\\x" + String(scalar.value, radix: 16, uppercase: false).leftPadded(to: 2)
        } else {
            out.unicodeScalars.append(scalar)
        }
    }
    return out
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
