import Foundation

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

    /// The canonical bytes: sorted entries, sorted keys, two-space pretty JSON, final newline.
    public func encoded() -> [UInt8] {
        var sorted = self
        sorted.artifacts.sort { $0.key < $1.key }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(sorted) else { return Array("{\"artifacts\":[],\"version\":1}\n".utf8) }
        return Array(data) + [0x0A]
    }

    public static func decode(_ bytes: [UInt8], file: String) throws(BouncerError) -> Lockfile {
        let lock: Lockfile
        do { lock = try JSONDecoder().decode(Lockfile.self, from: Data(bytes)) } catch {
            throw BouncerError(.configuration, code: "lock-invalid", "\(file): not a valid bouncer.lock: \(PolicyParser.jsonProblem(error))",
                               hint: "restore it from version control, or remove it to start over")
        }
        guard lock.version == 1 else {
            throw BouncerError(.configuration, code: "lock-invalid", "\(file): unsupported lockfile version \(lock.version)")
        }
        var seen = Set<String>()
        for entry in lock.artifacts {
            guard seen.insert(entry.key).inserted else {
                throw BouncerError(.configuration, code: "lock-invalid", "\(file): duplicate entry '\(entry.key)'")
            }
            guard (try? Digest(algorithm: .sha256, hex: entry.sha256)) != nil else {
                throw BouncerError(.configuration, code: "lock-invalid", "\(file): entry '\(entry.key)': sha256 is not a sha256 digest")
            }
        }
        return lock
    }
}

public struct LockEntry: Codable, Sendable, Equatable {
    /// `url:<URL>` for plain downloads, `<ecosystem>:<name>@<version>` for packages.
    public var key: String
    /// Where the bytes came from (credentials removed).
    public var url: String
    public var ecosystem: String
    public var package: String?
    public var version: String?
    public var sha256: String
    public var size: UInt64
    /// The rule that admitted it ("unmatched" when none did).
    public var rule: String
    public var evidence: [LockEvidence]

    public init(key: String, url: String, ecosystem: String, package: String?, version: String?, sha256: String,
                size: UInt64, rule: String, evidence: [LockEvidence]) {
        self.key = key
        self.url = url
        self.ecosystem = ecosystem
        self.package = package
        self.version = version
        self.sha256 = sha256
        self.size = size
        self.rule = rule
        self.evidence = evidence
    }

    /// The lock key for a request: its package coordinates when known, else its URL.
    public static func key(for request: ArtifactRequest) -> String {
        if let package = request.package, let version = request.version {
            return "\(request.ecosystem):\(package)@\(version)"
        }
        return "url:" + Redaction.url(request.url)
    }

    /// The family a new version replaces: the package name, or the URL with
    /// every run of digits replaced by `#` (app-1.4.0.tar.gz and
    /// app-1.5.0.tar.gz are one family).
    public var family: String { Self.family(ecosystem: ecosystem, package: package, url: url) }

    public static func family(ecosystem: String, package: String?, url: String) -> String {
        if let package { return "\(ecosystem):\(package)" }
        var out = ""
        var inDigits = false
        for character in url {
            if character.isASCII && character.isNumber {
                if !inDigits { out.append("#") }
                inDigits = true
            } else {
                out.append(character)
                inDigits = false
            }
        }
        return "url:" + out
    }

    /// The evidence kinds recorded, for downgrade comparison.
    public var kinds: Set<String> { Set(evidence.map(\.kind)) }
}

/// What verified a locked artifact, briefly.
public struct LockEvidence: Codable, Sendable, Equatable {
    public var kind: String
    /// A key fingerprint / key id / SSH principal, or a keyless identity.
    public var signer: String?
    public var issuer: String?
    /// Where the evidence came from (checksum list URL, signature URL).
    public var source: String?
    public var logIndex: String?

    public init(kind: String, signer: String? = nil, issuer: String? = nil, source: String? = nil, logIndex: String? = nil) {
        self.kind = kind
        self.signer = signer
        self.issuer = issuer
        self.source = source
        self.logIndex = logIndex
    }
}
