/// The hash functions Bouncer knows. MD5 and SHA-1 are parsed so that lists
/// and lockfiles that carry them can be read and reported, but they never
/// count as evidence (design.md invariant 5).
public enum HashAlgorithm: String, Sendable, CaseIterable, Codable, Comparable {
    case md5
    case sha1
    case sha256
    case sha384
    case sha512

    /// Digest length in bytes.
    public var byteCount: Int {
        switch self {
        case .md5: 16
        case .sha1: 20
        case .sha256: 32
        case .sha384: 48
        case .sha512: 64
        }
    }

    /// Whether a match with this algorithm may count as evidence.
    public var isEvidence: Bool {
        switch self {
        case .md5, .sha1: false
        case .sha256, .sha384, .sha512: true
        }
    }

    /// The algorithms that count as evidence, weakest first.
    public static let evidenceAlgorithms: [HashAlgorithm] = [.sha256, .sha384, .sha512]

    /// Order by strength (digest length), so `max()` picks the strongest.
    public static func < (lhs: HashAlgorithm, rhs: HashAlgorithm) -> Bool {
        lhs.byteCount < rhs.byteCount
    }

    /// The algorithm whose hex digest has this many characters, if any.
    public static func forHexLength(_ length: Int) -> HashAlgorithm? {
        allCases.first { $0.byteCount * 2 == length }
    }

    /// Accepts the spellings found in the wild: `sha256`, `SHA256`, `SHA-256`, `sha-256`.
    /// Only that one dash: `sha25-6` is no name of SHA-256.
    public init?(name: String) {
        var folded = name.lowercased()
        if folded.hasPrefix("sha-") { folded.remove(at: folded.index(folded.startIndex, offsetBy: 3)) }
        guard let algorithm = HashAlgorithm(rawValue: folded) else { return nil }
        self = algorithm
    }
}
