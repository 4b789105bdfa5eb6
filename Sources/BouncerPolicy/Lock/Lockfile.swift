import FoundationEssentials
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore

/// bouncer.lock: one entry per artifact (URL or package coordinates), its
/// sha256 and size, and a short record of the evidence that verified it.
/// Encoded deterministically: entries sorted by key, object keys sorted,
/// pretty-printed, no timestamps. Same inputs give a byte-identical file.
public struct Lockfile: Codable, Sendable, Equatable {
    public var version: Int
    public var artifacts: [LockEntry]

    public init(version: Int = 1, artifacts: [LockEntry] = []) {
        self.version = version
        self.artifacts = artifacts
    }

    public func entry(forKey key: String) -> LockEntry? {
        artifacts.first { $0.key == key }
    }

    /// Inserts or replaces the entry with the same key.
    public mutating func upsert(_ entry: LockEntry) {
        if let index = artifacts.firstIndex(where: { $0.key == entry.key }) {
            artifacts[index] = entry
        } else {
            artifacts.append(entry)
        }
    }

    /// The canonical bytes: sorted entries, sorted keys, two-space pretty
    /// JSON (`"key": value`, `[]` when empty), final newline. Written here
    /// rather than by JSONEncoder, whose pretty layout differs between
    /// Foundation versions and platforms: a team's macOS and Linux machines
    /// must write the same bytes for the same lock.
    public func encoded() -> [UInt8] {
        var unused = EncodedEntries()
        return encoded(reusing: &unused)
    }

    /// The same bytes, taking each entry's text from `memo` when the entry is
    /// unchanged, and leaving there the text of every entry written. A proxy
    /// rewrites the whole lock for each batch it pins: without this, pinning
    /// N artifacts encoded N²/2 entries.
    func encoded(reusing memo: inout EncodedEntries) -> [UInt8] {
        var next = EncodedEntries()
        let texts = artifacts.sorted { $0.key < $1.key }.map { entry -> [UInt8] in
            let text: [UInt8]
            if let known = memo[entry.key], known.entry == entry {
                text = known.text
            } else {
                var own = LockJSONWriter()
                entry.write(to: &own, indent: 2)
                text = own.bytes
            }
            next[entry.key] = (entry, text)
            return text
        }
        memo = next
        var out = LockJSONWriter()
        out.object(indent: 0, [
            ("artifacts", { out in out.array(indent: 1, texts.map { text in { out in out.bytes.append(contentsOf: text) } }) }),
            ("version", { out in out.number(version) }),
        ])
        out.bytes.append(0x0A)
        return out.bytes
    }

    /// A lock as written: strictly (`LockfileReader`), every problem named by its JSON path.
    public static func decode(_ bytes: [UInt8], file: String) throws(BouncerError) -> Lockfile {
        try LockfileReader.read(bytes, file: file)
    }
}

public struct LockEntry: Codable, Sendable, Equatable {
    /// `url:<URL>` for plain downloads, `<ecosystem>:<name>@<version>` for packages,
    /// `oci:REGISTRY/REPO:TAG` for images.
    public var key: String
    /// Where the bytes came from (credentials removed).
    public var url: String
    public var ecosystem: Ecosystem
    public var package: String?
    public var version: String?
    public var sha256: String
    public var size: UInt64
    /// The rule that admitted it ("unmatched" when none did).
    public var rule: String
    public var evidence: [LockEvidence]
    /// The package index it was found on (pip's index or an extra one, npm's
    /// registry or a scope's), so that `bouncer check` matches a rule's
    /// `"index"` as the install did. Absent for plain downloads.
    public var index: LockIndex?

    public init(key: String, url: String, ecosystem: Ecosystem, package: String?, version: String?, sha256: String,
                size: UInt64, rule: String, evidence: [LockEvidence], index: LockIndex? = nil) {
        self.key = key
        self.url = url
        self.ecosystem = ecosystem
        self.package = package
        self.version = version
        self.sha256 = sha256
        self.size = size
        self.rule = rule
        self.evidence = evidence
        self.index = index
    }

    /// The lock key for a request: its package coordinates when known, else its URL.
    /// An image: `oci:REGISTRY/REPO:TAG` (or `oci:REGISTRY/REPO@sha256:…` for
    /// a digest reference), one entry per tag used, its url the pinned
    /// `oci:REGISTRY/REPO@sha256:…` and its sha256 the manifest digest.
    public static func key(for request: ArtifactRequest) -> String {
        if request.ecosystem == .oci, let name = request.package, let version = request.version {
            return "oci:\(name)" + (version.hasPrefix("sha256:") ? "@" : ":") + version
        }
        if let package = request.package, let version = request.version {
            return "\(request.ecosystem.rawValue):\(package)@\(version)"
        }
        return "url:" + Redaction.url(request.url)
    }

    /// The URL a lock records for an artifact: as shown (credentials removed),
    /// except that a local file beside the lock (a wheelhouse in the project)
    /// is recorded relative to the lock's directory, `file:wheels/x.whl`, so
    /// every checkout of the project records (and, frozen, expects) the same.
    /// The directory is compared percent-decoded (pip writes `%20` for a
    /// space); the relative part is kept as the URL spells it.
    public static func recordedURL(_ shown: String, lockDirectory: String) -> String {
        let directory = lockDirectory.hasSuffix("/") ? String(lockDirectory.dropLast()) : lockDirectory
        guard shown.hasPrefix("file:///"), !directory.isEmpty else { return shown }
        let path = shown.dropFirst("file://".count)
        // The first "/" after which the decoded path so far is the directory.
        for slash in path.indices where path[slash] == "/" && slash > path.startIndex {
            guard let decoded = URLParts.percentDecodedStrictly(path[..<slash]), decoded.count <= directory.count else { break }
            guard decoded == directory else { continue }
            let relative = path[path.index(after: slash)...]
            // Only a plain path below the directory; anything odd stays absolute.
            let parts = relative.split(separator: "/", omittingEmptySubsequences: false)
            guard !relative.isEmpty, !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." || URLParts.percentDecodedStrictly($0) == ".." }) else {
                return shown
            }
            return "file:" + relative
        }
        return shown
    }

    /// The inverse of `recordedURL`: where to read a recorded file from again.
    public static func fetchURL(_ recorded: String, lockDirectory: String) -> String {
        guard recorded.hasPrefix("file:"), !recorded.hasPrefix("file://") else { return recorded }
        let directory = lockDirectory.hasSuffix("/") ? String(lockDirectory.dropLast()) : lockDirectory
        // Unreserved characters and "/" as they are, the rest percent-encoded (as pip spells paths).
        var encoded = ""
        for byte in directory.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "/"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                encoded += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0x0F, radix: 16, uppercase: true)
            }
        }
        return "file://" + encoded + "/" + recorded.dropFirst("file:".count)
    }

    /// The family a new version replaces: the package name, or the URL with
    /// its version written as `#`: every run of digits, and runs of them
    /// joined by separators and short words (`1.4.0`, `1.4.0-rc1`, `2_x86_64`),
    /// so that app-1.4.tar.gz, app-1.4.1.tar.gz and app-1.5.0-rc1.tar.gz are
    /// one family (app-1.0 then app-1.0.1 had been two, and a new signer of
    /// the second went unnoticed).
    public var family: String { Self.family(ecosystem: ecosystem, package: package, url: url) }

    public static func family(ecosystem: Ecosystem, package: String?, url: String) -> String {
        if let package { return "\(ecosystem.rawValue):\(package)" }
        var digits: [Character] = []
        var inDigits = false
        for character in url {
            if character.isASCII && character.isNumber {
                if !inDigits { digits.append("#") }
                inDigits = true
            } else {
                digits.append(character)
                inDigits = false
            }
        }
        // Then `#` followed by (separator? word of up to 8 letters? separator? `#`)… is one `#`.
        let separators: Set<Character> = [".", "_", "-", "+", "~"]
        var out = ""
        var index = 0
        while index < digits.count {
            out.append(digits[index])
            guard digits[index] == "#" else { index += 1; continue }
            var end = index + 1
            while true {
                var next = end
                if next < digits.count, separators.contains(digits[next]) { next += 1 }
                var letters = 0
                while next < digits.count, letters < 8, digits[next].isASCII, digits[next].isLetter { next += 1; letters += 1 }
                if next < digits.count, separators.contains(digits[next]) { next += 1 }
                guard next > end, next < digits.count, digits[next] == "#" else { break }
                end = next + 1
            }
            index = end
        }
        return "url:" + out
    }

    /// The evidence kinds recorded, for downgrade comparison.
    public var kinds: Set<EvidenceKind> { Set(evidence.map(\.kind)) }

    /// Keys in sorted order; absent optionals are left out, as JSONEncoder does.
    func write(to out: inout LockJSONWriter, indent: Int) {
        var fields: [(String, (inout LockJSONWriter) -> Void)] = [
            ("ecosystem", { $0.string(ecosystem.rawValue) }),
            ("evidence", { out in out.array(indent: indent + 1, evidence.map { item in { out in item.write(to: &out, indent: indent + 2) } }) }),
            ("key", { $0.string(key) }),
            ("rule", { $0.string(rule) }),
            ("sha256", { $0.string(sha256) }),
            ("size", { $0.number(size) }),
            ("url", { $0.string(url) }),
        ]
        if let package { fields.append(("package", { $0.string(package) })) }
        if let version { fields.append(("version", { $0.string(version) })) }
        if let index {
            fields.append(("index", { out in
                out.object(indent: indent + 1, [("primary", { $0.boolean(index.primary) }), ("url", { $0.string(index.url) })])
            }))
        }
        out.object(indent: indent, fields.sorted { $0.0 < $1.0 })
    }
}

/// Where a locked package was found: the index's URL (credentials removed)
/// and whether it was the tool's own primary index.
public struct LockIndex: Codable, Sendable, Equatable {
    public var url: String
    public var primary: Bool

    public init(_ index: PackageIndex) {
        url = URLParts.withoutCredentials(index.url)
        primary = index.isPrimary
    }

    /// As the policy matches it (`match.index`).
    public var packageIndex: PackageIndex { PackageIndex(url: url, isPrimary: primary) }
}

/// What verified a locked artifact, briefly.
public struct LockEvidence: Codable, Sendable, Equatable {
    public var kind: EvidenceKind
    /// A key fingerprint / key id / SSH principal, or a keyless identity.
    public var signer: String?
    public var issuer: String?
    /// Where the evidence came from (checksum list URL, signature URL).
    public var source: String?
    public var logIndex: String?

    public init(kind: EvidenceKind, signer: String? = nil, issuer: String? = nil, source: String? = nil, logIndex: String? = nil) {
        self.kind = kind
        self.signer = signer
        self.issuer = issuer
        self.source = source
        self.logIndex = logIndex
    }

    /// The lock's short record of a proven requirement.
    init(_ proof: EvidenceProof) {
        self.init(kind: proof.kind, signer: proof.signer, issuer: proof.issuer, source: proof.source, logIndex: proof.logIndex)
    }

    func write(to out: inout LockJSONWriter, indent: Int) {
        let optional: [(String, String?)] = [("issuer", issuer), ("logIndex", logIndex), ("signer", signer), ("source", source)]
        let fields: [(String, (inout LockJSONWriter) -> Void)] = [("kind", { $0.string(kind.rawValue) })]
            + optional.compactMap { name, value in value.map { value in (name, { $0.string(value) }) } }
        out.object(indent: indent, fields.sorted { $0.0 < $1.0 })
    }
}

/// Each entry's encoded text, by key, with the entry it was written from.
typealias EncodedEntries = [String: (entry: LockEntry, text: [UInt8])]

/// The few JSON shapes a lock has (objects, arrays, strings, integers),
/// pretty-printed with two spaces per level. Strings are escaped as RFC 8259
/// requires (quote, backslash, control characters) and nothing more: `/` and
/// non-ASCII text stay as they are.
struct LockJSONWriter {
    var bytes: [UInt8] = []

    mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }

    mutating func newline(_ indent: Int) {
        bytes.append(0x0A)
        bytes.append(contentsOf: repeatElement(0x20, count: indent * 2))
    }

    mutating func object(indent: Int, _ fields: [(String, (inout LockJSONWriter) -> Void)]) {
        guard !fields.isEmpty else { return raw("{}") }
        raw("{")
        for (index, field) in fields.enumerated() {
            newline(indent + 1)
            string(field.0)
            raw(": ")
            field.1(&self)
            if index < fields.count - 1 { raw(",") }
        }
        newline(indent)
        raw("}")
    }

    /// `indent`: the level of the elements' lines minus one (the bracket's own level).
    mutating func array(indent: Int, _ elements: [(inout LockJSONWriter) -> Void]) {
        guard !elements.isEmpty else { return raw("[]") }
        raw("[")
        for (index, element) in elements.enumerated() {
            newline(indent + 1)
            element(&self)
            if index < elements.count - 1 { raw(",") }
        }
        newline(indent)
        raw("]")
    }

    mutating func number<N: BinaryInteger>(_ value: N) { raw(String(value)) }
    mutating func boolean(_ value: Bool) { raw(value ? "true" : "false") }

    mutating func string(_ value: String) {
        bytes.append(0x22)
        // Most values (keys, URLs, digests) need no escape: appended in one go. A proxy
        // rewrites the whole lock for every batch it pins, so this is on its hot path.
        if !value.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            bytes.append(contentsOf: value.utf8)
            bytes.append(0x22)
            return
        }
        for byte in value.utf8 {
            switch byte {
            case 0x22: raw("\\\"")
            case 0x5C: raw("\\\\")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            case 0x08: raw("\\b")
            case 0x0C: raw("\\f")
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                raw("\\u00")
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0x0F)])
            default: bytes.append(byte)
            }
        }
        bytes.append(0x22)
    }
}
