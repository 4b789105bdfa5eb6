/// A Subresource Integrity string as npm writes it in `integrity` fields:
/// whitespace-separated `<alg>-<base64>[?options]` tokens (W3C SRI; npm's
/// ssri). Unknown algorithms are kept aside rather than rejected, because a
/// valid string may carry them; but verification fails closed when no
/// sha256/sha384/sha512 token is left (formats.md §1.4).
public struct SubresourceIntegrity: Sendable, Equatable, CustomStringConvertible {
    /// All parsed digests, including md5/sha1 ones, in input order.
    public let digests: [Digest]
    /// Tokens whose algorithm is unknown (kept for reporting).
    public let ignoredTokens: [String]

    public init(parsing text: String) throws(SRIParseError) {
        var digests: [Digest] = []
        var ignored: [String] = []
        let tokens = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
        guard !tokens.isEmpty else { throw .empty }
        for token in tokens {
            // Options after '?' carry no meaning today and must be ignored.
            let body = token.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
            guard let dash = body.firstIndex(of: "-") else { throw .malformedToken(String(token)) }
            let name = String(body[..<dash])
            let encoded = String(body[body.index(after: dash)...])
            guard !name.isEmpty, name.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) })
            else { throw .malformedToken(String(token)) }
            guard let algorithm = HashAlgorithm(rawValue: name) else {
                ignored.append(String(token))
                continue
            }
            guard let bytes = Base64.decode(encoded) else { throw .malformedToken(String(token)) }
            do {
                digests.append(try Digest(algorithm: algorithm, bytes: bytes))
            } catch {
                throw .wrongLength(String(token))
            }
        }
        self.digests = digests
        self.ignoredTokens = ignored
    }

    public init(_ digests: [Digest]) {
        self.digests = digests
        self.ignoredTokens = []
    }

    /// The digests of the strongest evidence-grade algorithm present; empty
    /// when the string has none (which must be treated as "no pin").
    public var strongest: [Digest] {
        guard let best = digests.map(\.algorithm).filter(\.isEvidence).max() else { return [] }
        return digests.filter { $0.algorithm == best }
    }

    /// Whether `actual` (which must contain the strongest algorithm) matches
    /// any digest of the strongest algorithm. False when there is no pin.
    public func isSatisfied(by actual: [HashAlgorithm: Digest]) -> Bool {
        let pins = strongest
        guard let algorithm = pins.first?.algorithm, let have = actual[algorithm] else { return false }
        return pins.contains { $0.matches(have) }
    }

    public var description: String { digests.map(\.sri).joined(separator: " ") }
}

public enum SRIParseError: BouncerFailure, Equatable {
    case empty
    case malformedToken(String)
    case wrongLength(String)

    public var family: ErrorFamily { .evidence }
    public var code: String {
        switch self {
        case .empty: "sri-empty"
        case .malformedToken: "sri-malformed"
        case .wrongLength: "sri-wrong-length"
        }
    }
    public var description: String {
        switch self {
        case .empty: "integrity string is empty"
        case .malformedToken(let token): "integrity token '\(token.prefix(140))' is not <algorithm>-<base64>"
        case .wrongLength(let token): "integrity token '\(token.prefix(140))' has the wrong digest length for its algorithm"
        }
    }
}
