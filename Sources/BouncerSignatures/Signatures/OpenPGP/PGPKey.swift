import FoundationEssentials
import BouncerBase
import BouncerIO

/// An OpenPGP public key or subkey packet (RFC 9580 §5.5.2), v4 or v6, with
/// its fingerprint and, when it is a signing algorithm we support, the key
/// as OpenSSL holds it.
final class PGPKey: @unchecked Sendable {
    let version: Int
    let created: UInt32
    let algorithm: UInt8
    /// The packet body exactly as read: fingerprints and key signatures hash
    /// these bytes, never a re-encoding.
    let body: [UInt8]
    let fingerprint: [UInt8]
    let keyID: [UInt8]
    /// The key material, read into `verifier` on first use.
    private let material: PGPReader
    private let verifierLock = Lock()
    private var madeVerifier: Result<PublicKey, KeyProblem>? = nil

    /// The verification key, or why this key cannot verify signatures. Built
    /// on first use: a keyring holds many keys, only those a signature names
    /// are ever used, and building each OpenSSL key cost more than parsing it.
    var verifier: Result<PublicKey, KeyProblem> {
        verifierLock.withLock {
            if let madeVerifier { return madeVerifier }
            var reader = material
            let made = PGPKey.makeVerifier(algorithm: algorithm, version: version, reader: &reader)
            madeVerifier = made
            return made
        }
    }

    struct KeyProblem: Error { let reason: String }

    var fingerprintHex: String { Hex.encode(fingerprint).uppercased() }
    var keyIDHex: String { Hex.encode(keyID).uppercased() }

    static let ed25519OID: [UInt8] = [0x2B, 0x06, 0x01, 0x04, 0x01, 0xDA, 0x47, 0x0F, 0x01]
    static let curveOIDs: [([UInt8], PublicKey.Curve)] = [
        ([0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07], .p256),
        ([0x2B, 0x81, 0x04, 0x00, 0x22], .p384),
        ([0x2B, 0x81, 0x04, 0x00, 0x23], .p521),
    ]

    /// Parses a key packet body. Versions other than 4 and 6 throw (the
    /// caller skips such keys); malformed material for a known algorithm
    /// leaves the key unusable with a reason.
    init(body: [UInt8], context: String) throws(OpenPGPError) {
        var reader = PGPReader(body, context: context)
        version = Int(try reader.u8("key version"))
        guard version == 4 || version == 6 else {
            throw .malformed("\(context): key version \(version) is not supported (only v4 and v6)")
        }
        created = try reader.u32("key creation time")
        algorithm = try reader.u8("key algorithm")
        if version == 6 {
            let length = Int(try reader.u32("key material length"))
            guard length == reader.remaining else {
                throw .malformed("\(context): v6 key material length \(length) does not match the \(reader.remaining) bytes present")
            }
        }
        self.body = body
        if version == 4 {
            guard body.count <= 0xFFFF else { throw .malformed("\(context): key packet too long for a v4 key") }
            let framed = [0x99, UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + body
            fingerprint = Hasher.digest(framed, .sha1).bytes
            keyID = Array(fingerprint.suffix(8))
        } else {
            guard let n = UInt32(exactly: body.count) else { throw .malformed("\(context): key packet too long") }
            let framed = [0x9B, UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + body
            fingerprint = Hasher.digest(framed, .sha256).bytes
            keyID = Array(fingerprint.prefix(8))
        }
        material = reader
    }

    private static func makeVerifier(algorithm: UInt8, version: Int, reader: inout PGPReader) -> Result<PublicKey, KeyProblem> {
        do {
            switch algorithm {
            case 1, 3:
                let n = try reader.mpi("RSA modulus")
                let e = try reader.mpi("RSA exponent")
                return .success(try PublicKey(rsaModulus: stripZeros(n), exponent: stripZeros(e)))
            case 19:
                let oid = try reader.take(Int(try reader.u8("curve OID length")), "curve OID")
                guard let curve = curveOIDs.first(where: { $0.0 == oid })?.1 else {
                    return .failure(KeyProblem(reason: "ECDSA curve \(Hex.encode(oid)) is not supported (only P-256, P-384, P-521)"))
                }
                return .success(try PublicKey(ecPoint: try reader.mpi("EC point"), curve: curve))
            case 22:
                guard version == 4 else { return .failure(KeyProblem(reason: "legacy EdDSA is not allowed in a v6 key")) }
                let oid = try reader.take(Int(try reader.u8("curve OID length")), "curve OID")
                guard oid == ed25519OID else {
                    return .failure(KeyProblem(reason: "legacy EdDSA curve \(Hex.encode(oid)) is not supported (only Ed25519)"))
                }
                let point = try reader.mpi("EdDSA point")
                guard point.count == 33, point[0] == 0x40 else {
                    return .failure(KeyProblem(reason: "legacy EdDSA point is not 0x40 || 32 bytes"))
                }
                return .success(try PublicKey(ed25519: Array(point.dropFirst())))
            case 27:
                return .success(try PublicKey(ed25519: try reader.take(32, "Ed25519 key")))
            case 2, 16, 18, 25, 26:
                return .failure(KeyProblem(reason: "\(PGPAlgorithms.publicKeyName(algorithm)) is an encryption algorithm, not a signing one"))
            default:
                return .failure(KeyProblem(reason: "\(PGPAlgorithms.publicKeyName(algorithm)) keys are not supported"))
            }
        } catch let error as OpenPGPError {
            return .failure(KeyProblem(reason: error.description))
        } catch {
            return .failure(KeyProblem(reason: "\(error)"))
        }
    }

    private static func stripZeros(_ bytes: [UInt8]) -> [UInt8] {
        let trimmed = Array(bytes.drop { $0 == 0 })
        return trimmed.isEmpty ? [0] : trimmed
    }

    /// How this key is framed when a key signature hashes it (RFC 9580 §5.2.4).
    var hashFraming: [UInt8] {
        if version == 4 {
            return [0x99, UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + body
        }
        let n = UInt32(clamping: body.count)
        return [0x9B, UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + body
    }

    /// Whether `signature` (already hashed to `digest`) is a valid signature
    /// by this key. Any mismatch of algorithm or encoding is simply false.
    func verify(_ signature: PGPSignature, digest: [UInt8]) -> Bool {
        guard case .success(let key) = verifier, signature.publicKeyAlgorithm == algorithm
                || (signature.publicKeyAlgorithm == 1 && algorithm == 3) || (signature.publicKeyAlgorithm == 3 && algorithm == 1),
              let hash = signature.hash else { return false }
        switch (algorithm, signature.material) {
        case (1, .mpis(let values)), (3, .mpis(let values)):
            guard values.count == 1 else { return false }
            // The MPI drops leading zeros; OpenSSL wants the modulus length.
            let size = key.byteSize
            let value = Array(values[0].drop { $0 == 0 })
            guard value.count <= size else { return false }
            let padded = [UInt8](repeating: 0, count: size - value.count) + value
            return key.verify(signature: padded, digest: digest, scheme: .rsaPKCS1(hash))
        case (19, .mpis(let values)):
            guard values.count == 2, let der = ECDSASignature.derFromIntegers(r: values[0], s: values[1]) else { return false }
            return key.verify(signature: der, digest: digest, scheme: .ecdsa(hash, .der))
        case (22, .mpis(let values)):
            // Legacy EdDSA: R and S are MPIs, each left-padded back to 32 bytes,
            // and the signature is over the digest, not the message.
            guard values.count == 2 else { return false }
            let r = Array(values[0].drop { $0 == 0 }), s = Array(values[1].drop { $0 == 0 })
            guard r.count <= 32, s.count <= 32 else { return false }
            let raw = [UInt8](repeating: 0, count: 32 - r.count) + r + [UInt8](repeating: 0, count: 32 - s.count) + s
            return key.verify(signature: raw, message: digest, scheme: .ed25519)
        case (27, .raw(let raw)):
            return raw.count == 64 && key.verify(signature: raw, message: digest, scheme: .ed25519)
        default:
            return false
        }
    }
}
