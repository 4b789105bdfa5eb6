import FoundationEssentials
import BouncerBase
import BouncerIO

/// A transparency log (Rekor) or certificate-transparency log key from the
/// trusted root. Lookup is by `logID` because several instances may overlap
/// in time (formats.md §5.2).
public struct TransparencyLogKey: Sendable {
    /// `logId.keyId` from trusted_root.json: SHA-256 of the log's DER SPKI
    /// for Rekor v1 and CT logs, the checkpoint key ID for Rekor v2.
    public let logID: [UInt8]
    public let key: PublicKey
    /// Validity window `[validFrom, validUntil]`, closed at both ends as the
    /// conformance suite requires (trust-root-tlog-validity-end-inclusive); nil means unbounded.
    public let validFrom: Date?
    public let validUntil: Date?
    /// `baseUrl`; Rekor v2 checkpoints use its host name as the note origin.
    public let baseURL: String
    /// `checkpointKeyId.keyId` (v0.2 trusted roots), when known: the 4-byte
    /// signed-note key hint. Derived from the key when nil.
    public let checkpointKeyID: [UInt8]?

    public init(logID: [UInt8], key: PublicKey, validFrom: Date?, validUntil: Date?, baseURL: String) {
        self.init(logID: logID, key: key, validFrom: validFrom, validUntil: validUntil, baseURL: baseURL, checkpointKeyID: nil)
    }

    public init(logID: [UInt8], key: PublicKey, validFrom: Date?, validUntil: Date?, baseURL: String, checkpointKeyID: [UInt8]?) {
        self.logID = logID
        self.key = key
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.baseURL = baseURL
        self.checkpointKeyID = checkpointKeyID
    }

    /// Whether `date` lies in `[validFrom, validUntil]` (both ends included).
    public func isValid(at date: Date) -> Bool {
        if let validFrom, date < validFrom { return false }
        if let validUntil, date > validUntil { return false }
        return true
    }

    /// The host of `baseURL` (`https://log2025-1.rekor.sigstore.dev` → `log2025-1.rekor.sigstore.dev`).
    public var host: String {
        var rest = Substring(baseURL)
        if let scheme = rest.firstRange(of: "://") { rest = rest[scheme.upperBound...] }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        return String(rest)
    }
}

/// A timestamp authority from the trusted root's `timestampAuthorities`.
public struct TimestampAuthority: Sendable {
    /// DER certificates, leaf (the TSA signing certificate) first, root last.
    public let certificateChainDER: [[UInt8]]
    public let validFrom: Date?
    public let validUntil: Date?

    public init(certificateChainDER: [[UInt8]], validFrom: Date?, validUntil: Date?) {
        self.certificateChainDER = certificateChainDER
        self.validFrom = validFrom
        self.validUntil = validUntil
    }

    /// Whether `date` lies in `[validFrom, validUntil]` (both ends included).
    public func isValid(at date: Date) -> Bool {
        if let validFrom, date < validFrom { return false }
        if let validUntil, date > validUntil { return false }
        return true
    }
}

/// What the bundle says the log entry must describe (formats.md §5.3).
public struct RekorEntryExpectation: Sendable {
    /// `messageSignature.signature`, or the single DSSE signature's `sig`.
    public var signature: [UInt8]
    /// The bundle's leaf certificate DER, or the public key's DER SPKI.
    public var verificationMaterialDER: [UInt8]
    /// hashedrekord: the artifact digest computed by the verifier.
    public var artifactDigest: Digest?
    /// dsse / intoto: the envelope JSON from the bundle (`dsseEnvelope`),
    /// with `payload` and `signatures[].sig` as base64 strings.
    public var dsseEnvelopeJSON: [UInt8]?

    public init(signature: [UInt8], verificationMaterialDER: [UInt8], artifactDigest: Digest? = nil, dsseEnvelopeJSON: [UInt8]? = nil) {
        self.signature = signature
        self.verificationMaterialDER = verificationMaterialDER
        self.artifactDigest = artifactDigest
        self.dsseEnvelopeJSON = dsseEnvelopeJSON
    }
}

extension PublicKey {
    /// A DER PKCS#1 `RSAPublicKey` (trusted roots mark such keys
    /// `PKCS1_RSA_PKCS1V5`; staging's oldest CT log has one), wrapped into a
    /// SubjectPublicKeyInfo with the rsaEncryption algorithm and parsed as one.
    public convenience init(pkcs1RSAPublicKeyDER der: [UInt8]) throws(CryptoError) {
        guard der.first == 0x30, der.count < 1 << 16 else { throw .malformedKey("not a DER PKCS#1 RSAPublicKey") }
        func length(_ n: Int) -> [UInt8] {
            n < 0x80 ? [UInt8(n)] : n < 0x100 ? [0x81, UInt8(n)] : [0x82, UInt8(n >> 8), UInt8(n & 0xff)]
        }
        // AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL }
        let algorithm: [UInt8] = [0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00]
        let bitString = [0x03] + length(der.count + 1) + [0x00] + der
        let content = algorithm + bitString
        try self.init(spkiDER: [0x30] + length(content.count) + content)
        guard case .rsa = kind else { throw .malformedKey("not an RSA key") }
    }
}
