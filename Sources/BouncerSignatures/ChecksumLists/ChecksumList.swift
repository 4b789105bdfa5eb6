import BouncerBase
import BouncerIO
/// A checksum list in the GNU coreutils (`sha256sum`) or BSD/`--tag`
/// (`SHA256 (name) = hex`) format (formats.md §1.1–1.3).
///
/// Parsing is strict: every line that is not empty or a `#` comment must be a
/// well-formed entry, or the whole list is refused with the line number. A
/// name listed twice with different digests of the same algorithm makes the
/// list ambiguous and is refused too: an attacker must not get to choose
/// which of two entries a verifier reads.
public struct ChecksumList: Sendable {
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let digest: Digest
        /// 1-based line number in the list.
        public let line: Int
        /// The size in bytes the list gives (Debian lists do), checked as well.
        public var size: UInt64? = nil

        public init(name: String, digest: Digest, line: Int, size: UInt64? = nil) {
            self.name = name
            self.digest = digest
            self.line = line
            self.size = size
        }
    }

    public let entries: [Entry]
    /// Where the list came from (a path or URL), used in messages.
    public let source: String

    public init(entries: [Entry], source: String) {
        self.entries = entries
        self.source = source
    }

    /// Parses a list; `source` names it in errors.
    public static func parse(_ bytes: [UInt8], source: String) throws(ChecksumListError) -> ChecksumList {
        var entries: [Entry] = []
        var lineNumber = 0
        var start = 0
        while start < bytes.count {
            lineNumber += 1
            var end = start
            while end < bytes.count, bytes[end] != 0x0a { end += 1 }
            var line = bytes[start..<end]
            start = end + 1
            if line.last == 0x0d { line = line.dropLast() }
            // Leading blanks before the digest are allowed, as in `sha256sum -c`.
            while let first = line.first, first == 0x20 || first == 0x09 { line = line.dropFirst() }
            if line.isEmpty || line.first == UInt8(ascii: "#") { continue }
            let entry = try ChecksumLineParser.parse(line, lineNumber: lineNumber, source: source)
            entries.append(entry)
        }
        guard !entries.isEmpty else { throw .empty(source: source) }
        try checkUnambiguous(entries, source: source)
        return ChecksumList(entries: entries, source: source)
    }

    /// The entries listed under exactly this name (no basename fallback, no case folding).
    public func entries(named name: String) -> [Entry] {
        entries.filter { $0.name == name }
    }

    /// The entry name to use for a file's base name: the name itself when
    /// listed, else the one path entry (`pool/.../x.deb`) whose last
    /// component it is. Several different paths with that base name are
    /// ambiguous and resolve to nothing (the caller then reports them).
    public func resolve(baseName name: String) -> String {
        guard entries(named: name).isEmpty, !name.contains("/") else { return name }
        let candidates = pathEntries(withBaseName: name)
        return candidates.count == 1 ? candidates[0] : name
    }

    /// Distinct path entries whose last component is `name`.
    public func pathEntries(withBaseName name: String) -> [String] {
        var out: [String] = []
        for entry in entries where entry.name.hasSuffix("/" + name) && !out.contains(entry.name) {
            out.append(entry.name)
        }
        return out
    }

    /// Checks that no name is listed twice with different digests or sizes.
    public static func checkUnambiguousEntries(_ entries: [Entry], source: String) throws(ChecksumListError) {
        try checkUnambiguous(entries, source: source)
    }

    private static func checkUnambiguous(_ entries: [Entry], source: String) throws(ChecksumListError) {
        var seen: [String: Entry] = [:]
        for entry in entries {
            let key = entry.digest.algorithm.rawValue + "\u{0}" + entry.name
            if let first = seen[key] {
                if !first.digest.matches(entry.digest) || (first.size != nil && entry.size != nil && first.size != entry.size) {
                    throw .ambiguous(source: source, name: entry.name, firstLine: first.line, secondLine: entry.line)
                }
            } else {
                seen[key] = entry
            }
        }
    }
}

public enum ChecksumListError: BouncerFailure, Equatable {
    case empty(source: String)
    case malformedLine(source: String, line: Int, why: String)
    case ambiguous(source: String, name: String, firstLine: Int, secondLine: Int)
    case unsafeName(source: String, line: Int, name: String)

    public var family: ErrorFamily { .evidence }

    public var code: String {
        switch self {
        case .empty: "checksums-empty"
        case .malformedLine: "checksums-malformed-line"
        case .ambiguous: "checksums-ambiguous"
        case .unsafeName: "checksums-unsafe-name"
        }
    }

    public var description: String {
        switch self {
        case .empty(let source):
            "\(source): no checksum entries found"
        case .malformedLine(let source, let line, let why):
            "\(source):\(line): malformed checksum line: \(why)"
        case .ambiguous(let source, let name, let first, let second):
            "\(source): '\(name)' is listed twice with different digests (lines \(first) and \(second)); the list is ambiguous"
        case .unsafeName(let source, let line, let name):
            "\(source):\(line): entry '\(name)' is an absolute path or contains '..'; refusing to look it up as a local file"
        }
    }
}
