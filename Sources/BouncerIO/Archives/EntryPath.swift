import BouncerBase
/// The lexical rules every entry path must pass before anything is written,
/// whatever the archive format: relative, no `..`, no backslash or drive
/// letter (a Windows-written zip may mean them as separators), bounded length.
public enum EntryPath {
    /// The components of a safe path with `.` and empty components removed.
    /// An empty result means the entry is the archive root itself (`./`).
    public static func components(_ raw: String, limits: ArchiveLimits = .defaults) throws(ArchiveError) -> [String] {
        if raw.isEmpty { throw .unsafePath(entry: raw, reason: "empty name") }
        if raw.utf8.count > limits.maxPathBytes {
            throw .unsafePath(entry: raw, reason: "path longer than \(limits.maxPathBytes) bytes")
        }
        if raw.utf8.first == UInt8(ascii: "/") { throw .unsafePath(entry: raw, reason: "absolute path") }
        if raw.utf8.contains(UInt8(ascii: "\\")) { throw .unsafePath(entry: raw, reason: "backslash in path") }
        if raw.utf8.contains(0) { throw .unsafePath(entry: raw, reason: "NUL byte in path") }
        if hasDriveLetter(raw) { throw .unsafePath(entry: raw, reason: "drive letter in path") }
        var out: [String] = []
        for part in raw.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." { throw .unsafePath(entry: raw, reason: "'..' component") }
            if part.utf8.count > 255 { throw .unsafePath(entry: raw, reason: "a component longer than 255 bytes") }
            out.append(String(part))
        }
        if out.count > limits.maxDepth {
            throw .unsafePath(entry: raw, reason: "nested deeper than \(limits.maxDepth) directories")
        }
        return out
    }

    /// `C:` at the start: absolute (or drive-relative) on Windows.
    static func hasDriveLetter(_ raw: String) -> Bool {
        let bytes = Array(raw.utf8.prefix(2))
        guard bytes.count == 2, bytes[1] == UInt8(ascii: ":") else { return false }
        return (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(bytes[0] | 0x20)
    }
}
