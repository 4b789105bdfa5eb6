import COpenSSL
import COpenSSLShims

/// A public key held by OpenSSL (an `EVP_PKEY`), built from the encodings the
/// evidence formats use. Every constructor validates the key material; none
/// traps on malformed input.
public final class PublicKey: @unchecked Sendable {
    public enum Kind: Sendable, Equatable {
        case ed25519
        case ecdsa(Curve)
        case rsa(bits: Int)
    }

    public enum Curve: String, Sendable, CaseIterable {
        case p256 = "P-256"
        case p384 = "P-384"
        case p521 = "P-521"

        var groupName: String {
            switch self {
            case .p256: "prime256v1"
            case .p384: "secp384r1"
            case .p521: "secp521r1"
            }
        }

        /// Field size in bytes (the size of r and s in a raw signature).
        public var fieldBytes: Int {
            switch self {
            case .p256: 32
            case .p384: 48
            case .p521: 66
            }
        }
    }

    // `EVP_PKEY` is immutable once built; OpenSSL allows concurrent use for verification.
    package let pkey: OpaquePointer
    public let kind: Kind
    /// The SPKI the key was read from, when that is exactly what i2d_PUBKEY
    /// would write (the shapes of bouncer_spki_known_shape): OpenSSL 3's
    /// encoder costs as much as the decoder.
    private let knownSPKI: [UInt8]?

    private init(pkey: OpaquePointer, spki: [UInt8]? = nil) throws(CryptoError) {
        self.pkey = pkey
        knownSPKI = spki
        switch EVP_PKEY_get_base_id(pkey) {
        case EVP_PKEY_ED25519:
            kind = .ed25519
        case EVP_PKEY_EC:
            var name = [CChar](repeating: 0, count: 64)
            var length = 0
            guard EVP_PKEY_get_group_name(pkey, &name, name.count, &length) == 1,
                  let curve = Curve.allCases.first(where: { $0.groupName == String(decoding: name.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self) })
            else {
                EVP_PKEY_free(pkey)
                throw .unsupportedKey("elliptic curve is not P-256, P-384 or P-521")
            }
            kind = .ecdsa(curve)
        case EVP_PKEY_RSA, EVP_PKEY_RSA_PSS:
            kind = .rsa(bits: Int(EVP_PKEY_get_bits(pkey)))
        default:
            EVP_PKEY_free(pkey)
            throw .unsupportedKey("key type \(EVP_PKEY_get_base_id(pkey)) is not Ed25519, ECDSA or RSA")
        }
    }

    deinit { EVP_PKEY_free(pkey) }

    /// A DER SubjectPublicKeyInfo (X.509 / PKIX).
    public convenience init(spkiDER der: [UInt8]) throws(CryptoError) {
        var known: OpaquePointer? = nil
        switch bouncer_spki_known_shape(der, der.count, &known) {
        case 1:
            guard let known else { throw .malformedKey("not a DER SubjectPublicKeyInfo") }
            try self.init(pkey: known, spki: der)
        case 0:
            try self.init(pkey: try Self.decode(der))
        default:
            throw .malformedKey("not a DER SubjectPublicKeyInfo")
        }
    }

    /// Any other SPKI, through OpenSSL's decoder.
    private static func decode(_ der: [UInt8]) throws(CryptoError) -> OpaquePointer {
        let decoded: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            guard let start = cursor else { return nil }
            let key = d2i_PUBKEY_ex(nil, &cursor, buffer.count, bouncer_libctx(), nil)
            // Trailing bytes after the structure are a malformed key, not padding.
            guard let cursor, cursor == start + buffer.count else {
                if let key { EVP_PKEY_free(key) }
                return nil
            }
            return key
        }
        guard let decoded else { throw .malformedKey("not a DER SubjectPublicKeyInfo") }
        return decoded
    }

    /// A PEM `-----BEGIN PUBLIC KEY-----` block.
    public convenience init(pem: String) throws(CryptoError) {
        // The first block is the key: a broken one is reported, not skipped for a later one.
        switch PEM.blocks(pem, label: "PUBLIC KEY").first {
        case .der(let der)?:
            try self.init(spkiDER: der)
        case .invalid(let line, let why)?:
            throw .malformedKey("the PEM 'PUBLIC KEY' block at line \(line) is unreadable: \(why)")
        case nil:
            throw .malformedKey("no PEM 'PUBLIC KEY' block found")
        }
    }

    /// A raw 32-byte Ed25519 public key (RFC 8032).
    public convenience init(ed25519 raw: [UInt8]) throws(CryptoError) {
        guard raw.count == 32 else { throw .malformedKey("Ed25519 public key must be 32 bytes, found \(raw.count)") }
        guard let key = EVP_PKEY_new_raw_public_key_ex(bouncer_libctx(), "ED25519", nil, raw, raw.count) else {
            throw .malformedKey("OpenSSL rejected the Ed25519 public key")
        }
        try self.init(pkey: key)
    }

    /// An uncompressed SEC1 point (0x04 || x || y) on a NIST curve. OpenPGP
    /// (RFC 6637) and OpenSSH keys use only this form; OpenSSL would also take
    /// compressed and hybrid (0x06/0x07) encodings of the same point, which
    /// would let a changed key blob still count as the trusted key.
    public convenience init(ecPoint point: [UInt8], curve: Curve) throws(CryptoError) {
        guard point.first == 0x04, point.count == 1 + 2 * curve.fieldBytes else {
            throw .malformedKey("\(curve.rawValue) point must be uncompressed (0x04 || x || y, \(1 + 2 * curve.fieldBytes) bytes)")
        }
        // Built in C: OSSL_PARAM_BLD keeps the pointers it is given until
        // to_param, longer than Swift's temporary C strings live.
        let key = point.withUnsafeBufferPointer { buffer in
            bouncer_ec_public_key(curve.groupName, buffer.baseAddress, buffer.count)
        }
        guard let key else { throw .malformedKey("invalid \(curve.rawValue) point") }
        // fromdata does not check that the point lies on the curve; do it here.
        guard let check = EVP_PKEY_CTX_new_from_pkey(bouncer_libctx(), key, nil) else {
            EVP_PKEY_free(key)
            throw .malformedKey("invalid \(curve.rawValue) point")
        }
        defer { EVP_PKEY_CTX_free(check) }
        guard EVP_PKEY_public_check(check) == 1 else {
            EVP_PKEY_free(key)
            throw .malformedKey("\(curve.rawValue) point is not on the curve")
        }
        try self.init(pkey: key)
    }

    /// An RSA key from its big-endian modulus and public exponent.
    public convenience init(rsaModulus modulus: [UInt8], exponent: [UInt8]) throws(CryptoError) {
        guard !modulus.isEmpty, !exponent.isEmpty, modulus.count <= 2048, exponent.count <= 16 else {
            throw .malformedKey("RSA modulus or exponent has an invalid size")
        }
        let key = modulus.withUnsafeBufferPointer { n in
            exponent.withUnsafeBufferPointer { e in
                bouncer_rsa_public_key(n.baseAddress, n.count, e.baseAddress, e.count)
            }
        }
        guard let key else { throw .malformedKey("invalid RSA public key") }
        try self.init(pkey: key)
    }

    /// The DER SubjectPublicKeyInfo of this key (for fingerprints and comparison).
    public var spkiDER: [UInt8] {
        if let knownSPKI { return knownSPKI }
        var out: UnsafeMutablePointer<UInt8>? = nil
        let length = i2d_PUBKEY(pkey, &out)
        guard length > 0, let out else { return [] }
        defer { bouncer_openssl_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: Int(length)))
    }

    /// The size in bytes of a signature by this key (the RSA modulus length).
    public var byteSize: Int { Int(EVP_PKEY_get_size(pkey)) }

    /// Whether two keys are the same key (compared on their SPKI encoding).
    public func isSameKey(as other: PublicKey) -> Bool {
        EVP_PKEY_eq(pkey, other.pkey) == 1
    }
}

public enum CryptoError: BouncerFailure, Equatable {
    case malformedKey(String)
    case unsupportedKey(String)
    case malformedSignature(String)

    public var family: ErrorFamily { .evidence }
    public var code: String {
        switch self {
        case .malformedKey: "crypto-malformed-key"
        case .unsupportedKey: "crypto-unsupported-key"
        case .malformedSignature: "crypto-malformed-signature"
        }
    }
    public var description: String {
        switch self {
        case .malformedKey(let why): "malformed public key: \(why)"
        case .unsupportedKey(let why): "unsupported public key: \(why)"
        case .malformedSignature(let why): "malformed signature: \(why)"
        }
    }
}
