import BouncerBase
import BouncerIO
/// A parsed signature packet (RFC 9580 §5.2), v4 or v6. Only facts from the
/// hashed area are used for decisions; the unhashed area only supplies
/// lookup hints (issuer) and self-authenticating data (embedded signatures).
struct PGPSignature: Sendable {
    struct Subpacket: Sendable {
        let type: Int
        let critical: Bool
        let data: [UInt8]
    }

    enum Material: Sendable {
        case mpis([[UInt8]])
        case raw([UInt8])
    }

    let version: Int
    let type: UInt8
    let publicKeyAlgorithm: UInt8
    let hashAlgorithm: UInt8
    let hashed: [Subpacket]
    let unhashed: [Subpacket]
    let hashPrefix: [UInt8]
    let salt: [UInt8]
    let material: Material
    /// The bytes hashed after the data: version through the hashed area,
    /// then `version || 0xFF || u32(length)`.
    let trailer: [UInt8]
    /// Offset of the packet in its input, for messages.
    let offset: Int

    /// Subpacket types this verifier understands; a critical one outside
    /// this set makes the signature invalid (RFC 9580 §5.2.3.7).
    static let knownSubpackets: Set<Int> = [2, 3, 4, 5, 6, 7, 9, 11, 12, 16, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 37, 39]

    static func parse(_ body: [UInt8], offset: Int, what: String) throws(OpenPGPError) -> PGPSignature {
        let context = "\(what): signature packet at offset \(offset)"
        var reader = PGPReader(body, context: context)
        let version = Int(try reader.u8("version"))
        guard version == 4 || version == 6 else {
            throw .malformed("\(context): signature version \(version) is not supported (only v4 and v6)")
        }
        let type = try reader.u8("signature type")
        let pkAlgo = try reader.u8("public-key algorithm")
        let hashAlgo = try reader.u8("hash algorithm")
        let hashedLength = version == 4 ? try reader.u16("hashed area length") : Int(try reader.u32("hashed area length"))
        let hashedArea = try reader.take(hashedLength, "hashed subpacket area")
        let trailerEnd = reader.position
        let unhashedLength = version == 4 ? try reader.u16("unhashed area length") : Int(try reader.u32("unhashed area length"))
        let unhashedArea = try reader.take(unhashedLength, "unhashed subpacket area")
        let prefix = try reader.take(2, "hash prefix")
        var salt: [UInt8] = []
        if version == 6 {
            let saltLength = Int(try reader.u8("salt length"))
            salt = try reader.take(saltLength, "salt")
        }
        let material: Material
        switch pkAlgo {
        case 1, 3:
            material = .mpis([try reader.mpi("RSA signature value")])
        case 17, 19, 22:
            material = .mpis([try reader.mpi("signature r"), try reader.mpi("signature s")])
        case 27:
            material = .raw(try reader.take(64, "Ed25519 signature"))
        case 28:
            material = .raw(try reader.take(114, "Ed448 signature"))
        default:
            // Unknown algorithm: keep the bytes; the verifier refuses it by name.
            material = .raw(reader.rest())
        }
        guard reader.isAtEnd else {
            throw .malformed("\(context): \(reader.remaining) unexpected bytes after the signature value")
        }
        // A body comes from one packet whose length field is at most 32 bits.
        guard let count = UInt32(exactly: trailerEnd) else { throw .malformed("\(context): hashed area too long") }
        var trailer = Array(body[0..<trailerEnd])
        trailer += [UInt8(version), 0xFF, UInt8(count >> 24), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)]
        return PGPSignature(
            version: version, type: type, publicKeyAlgorithm: pkAlgo, hashAlgorithm: hashAlgo,
            hashed: try subpackets(hashedArea, context: context + " (hashed area)"),
            unhashed: try subpackets(unhashedArea, context: context + " (unhashed area)"),
            hashPrefix: prefix, salt: salt, material: material, trailer: trailer, offset: offset)
    }

    private static func subpackets(_ area: [UInt8], context: String) throws(OpenPGPError) -> [Subpacket] {
        var reader = PGPReader(area, context: context)
        var out: [Subpacket] = []
        while !reader.isAtEnd {
            let o1 = Int(try reader.u8("subpacket length"))
            let length: Int
            if o1 < 192 {
                length = o1
            } else if o1 < 255 {
                length = ((o1 - 192) << 8) + Int(try reader.u8("subpacket length")) + 192
            } else {
                length = Int(try reader.u32("subpacket length"))
            }
            guard length >= 1 else { throw .malformed("\(context): subpacket of length 0") }
            let content = try reader.take(length, "subpacket")
            out.append(Subpacket(type: Int(content[0] & 0x7F), critical: content[0] & 0x80 != 0,
                                 data: Array(content.dropFirst())))
        }
        return out
    }

    // MARK: - Facts from the hashed area

    private func hashedValue(_ type: Int) -> [UInt8]? {
        // RFC 9580 §5.2.4.1: with duplicates, the last one wins.
        hashed.last { $0.type == type }?.data
    }

    private static func u32(_ bytes: [UInt8]?) -> UInt32? {
        guard let bytes, bytes.count == 4 else { return nil }
        return UInt32(bytes[0]) << 24 | UInt32(bytes[1]) << 16 | UInt32(bytes[2]) << 8 | UInt32(bytes[3])
    }

    var creationTime: UInt32? { Self.u32(hashedValue(2)) }
    /// Seconds after creation; nil or 0 means never.
    var expirationSeconds: UInt32? { Self.u32(hashedValue(3)) }
    /// Key expiration, seconds after the key's creation; nil or 0 means never.
    var keyExpirationSeconds: UInt32? { Self.u32(hashedValue(9)) }
    var keyFlags: UInt8? { hashedValue(27)?.first }
    var revocationReason: UInt8? { hashedValue(29)?.first }

    /// Issuer fingerprint (subpacket 33) from either area: only a lookup hint,
    /// the signature itself decides.
    var issuerFingerprint: [UInt8]? {
        let data = hashedValue(33) ?? unhashed.last { $0.type == 33 }?.data
        guard let data, data.count == 21 || data.count == 33 else { return nil }
        return Array(data.dropFirst())
    }

    var issuerKeyID: [UInt8]? {
        let data = hashedValue(16) ?? unhashed.last { $0.type == 16 }?.data
        guard let data, data.count == 8 else { return nil }
        return data
    }

    /// The 0x19 back-signature embedded in a subkey binding (subpacket 32);
    /// it is self-authenticating, so the unhashed area counts too.
    var embeddedSignatures: [[UInt8]] {
        (hashed + unhashed).filter { $0.type == 32 }.map(\.data)
    }

    /// A critical subpacket this verifier does not understand, if any.
    var unknownCritical: Int? {
        hashed.first { $0.critical && !Self.knownSubpackets.contains($0.type) }?.type
    }

    /// The issuer as a person can look it up: fingerprint or key id, in hex.
    var issuerDescription: String? {
        if let fpr = issuerFingerprint { return Hex.encode(fpr).uppercased() }
        if let id = issuerKeyID { return Hex.encode(id).uppercased() }
        return nil
    }

    var hash: HashAlgorithm? { PGPAlgorithms.hash(hashAlgorithm) }
}

/// Algorithm identifiers (RFC 9580 §9).
enum PGPAlgorithms {
    static func hash(_ id: UInt8) -> HashAlgorithm? {
        switch id {
        case 1: .md5
        case 2: .sha1
        case 8: .sha256
        case 9: .sha384
        case 10: .sha512
        default: nil
        }
    }

    static func hashName(_ id: UInt8) -> String {
        switch id {
        case 1: "MD5"
        case 2: "SHA1"
        case 3: "RIPEMD160"
        case 8: "SHA256"
        case 9: "SHA384"
        case 10: "SHA512"
        case 11: "SHA224"
        case 12: "SHA3-256"
        case 14: "SHA3-512"
        default: "hash algorithm \(id)"
        }
    }

    static func publicKeyName(_ id: UInt8) -> String {
        switch id {
        case 1: "RSA"
        case 2: "RSA (encrypt-only)"
        case 3: "RSA (sign-only)"
        case 16: "ElGamal"
        case 17: "DSA"
        case 18: "ECDH"
        case 19: "ECDSA"
        case 22: "EdDSA (legacy)"
        case 25: "X25519"
        case 26: "X448"
        case 27: "Ed25519"
        case 28: "Ed448"
        default: "public-key algorithm \(id)"
        }
    }

    /// The salt size RFC 9580 §9.5 fixes for v6 signatures with this hash.
    static func v6SaltSize(_ id: UInt8) -> Int? {
        switch id {
        case 8, 11, 12: 16
        case 9: 24
        case 10, 14: 32
        default: nil
        }
    }
}
