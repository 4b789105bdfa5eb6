import COpenSSL

/// A digest: an algorithm and its output bytes. Prints as `sha256:<hex>`.
public struct Digest: Hashable, Sendable, CustomStringConvertible {
    public let algorithm: HashAlgorithm
    public let bytes: [UInt8]

    public init(algorithm: HashAlgorithm, bytes: [UInt8]) throws(DigestParseError) {
        guard bytes.count == algorithm.byteCount else {
            throw .wrongLength(algorithm: algorithm, expected: algorithm.byteCount * 2, found: bytes.count * 2)
        }
        self.algorithm = algorithm
        self.bytes = bytes
    }

    /// For bytes produced by our own hasher, whose length is right by construction.
    package init(trusted algorithm: HashAlgorithm, bytes: [UInt8]) {
        self.algorithm = algorithm
        self.bytes = bytes
    }

    /// Parses `sha256:<hex>` (also `sha512:`, `md5:` ...) or bare hex, whose
    /// algorithm is inferred from its length. Hex is accepted in either case.
    public init(parsing text: String) throws(DigestParseError) {
        if let colon = text.firstIndex(of: ":") {
            let name = String(text[..<colon])
            guard let algorithm = HashAlgorithm(name: name) else { throw .unknownAlgorithm(name) }
            try self.init(algorithm: algorithm, hex: String(text[text.index(after: colon)...]))
        } else {
            guard let algorithm = HashAlgorithm.forHexLength(text.utf8.count) else {
                throw .unrecognisedLength(text.utf8.count)
            }
            try self.init(algorithm: algorithm, hex: text)
        }
    }

    /// Parses hex for a known algorithm, rejecting a wrong length or a non-hex character.
    public init(algorithm: HashAlgorithm, hex: String) throws(DigestParseError) {
        guard let bytes = Hex.decode(hex) else { throw .notHex(hex) }
        try self.init(algorithm: algorithm, bytes: bytes)
    }

    public var hex: String { Hex.encode(bytes) }

    /// `sha256:<hex>`
    public var description: String { "\(algorithm.rawValue):\(hex)" }

    /// The Subresource Integrity form: `sha512-<base64>`.
    public var sri: String { "\(algorithm.rawValue)-\(Base64.encode(bytes))" }

    /// Constant-time comparison of two digests of the same algorithm. Digests
    /// of different algorithms never match.
    public func matches(_ other: Digest) -> Bool {
        guard algorithm == other.algorithm, bytes.count == other.bytes.count else { return false }
        return bytes.withUnsafeBytes { a in
            other.bytes.withUnsafeBytes { b in
                CRYPTO_memcmp(a.baseAddress, b.baseAddress, a.count) == 0
            }
        }
    }
}

public enum DigestParseError: BouncerFailure, Equatable {
    case unknownAlgorithm(String)
    case unrecognisedLength(Int)
    case wrongLength(algorithm: HashAlgorithm, expected: Int, found: Int)
    case notHex(String)
    case notBase64(String)

    public var family: ErrorFamily { .configuration }

    public var code: String {
        switch self {
        case .unknownAlgorithm: "digest-unknown-algorithm"
        case .unrecognisedLength: "digest-unrecognised-length"
        case .wrongLength: "digest-wrong-length"
        case .notHex: "digest-not-hex"
        case .notBase64: "digest-not-base64"
        }
    }

    public var description: String {
        switch self {
        case .unknownAlgorithm(let name):
            "unknown digest algorithm '\(name)' (expected sha256, sha384 or sha512)"
        case .unrecognisedLength(let length):
            "a bare hex digest of \(length) characters matches no known algorithm (sha256 has 64, sha384 96, sha512 128)"
        case .wrongLength(let algorithm, let expected, let found):
            "\(algorithm.rawValue) digest has \(found) hex characters, expected \(expected)"
        case .notHex(let text):
            "digest '\(text.prefix(140))' is not hexadecimal"
        case .notBase64(let text):
            "digest '\(text.prefix(140))' is not base64"
        }
    }
}
