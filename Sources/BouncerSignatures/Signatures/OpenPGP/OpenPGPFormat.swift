import FoundationEssentials
import BouncerBase
import BouncerIO

/// OpenPGP signatures (RFC 4880 / RFC 9580): detached signatures over a file
/// and cleartext-signed messages (Debian InRelease, signed SHA256SUMS).
public enum OpenPGPFormat: DetachedSignatureFormat {
    public static let name = "openpgp"

    /// An armored `PGP SIGNATURE` block, or binary data starting with a
    /// signature packet (tag 2, old or new framing).
    public static func recognises(signature: [UInt8]) -> Bool {
        if Armor.looksArmored(signature) {
            var index = 0
            while index < signature.count, Armor.isSpace(signature[index]) { index += 1 }
            return signature[index...].starts(with: ClearsignedParts.signatureBegin)
        }
        guard let first = signature.first, first & 0x80 != 0 else { return false }
        let tag = first & 0x40 != 0 ? Int(first & 0x3F) : Int(first >> 2) & 0x0F
        return tag == PGPPacket.Tag.signature
    }

    /// Whether a file is an OpenPGP key or keyring (armored or binary).
    public static func recognises(key: [UInt8]) -> Bool { PGPKeyring.looksLikeKeyFile(key) }

    public static func verify(message: [UInt8], signature: [UInt8], keys: [KeyMaterial],
                              options: SignatureOptions) throws -> SignatureReport {
        try verify(data: .bytes(message), signature: signature, keys: keys, options: options)
    }

    /// A detached signature over a file, read in chunks (bounded memory,
    /// whatever the file's size). An unreadable file throws an I/O error.
    public static func verify(fileAt path: String, signature: [UInt8], keys: [KeyMaterial],
                              options: SignatureOptions) throws -> SignatureReport {
        try verifyFile(at: path, signature: signature, keys: keys, options: options).report
    }

    /// As `verify(fileAt:)`, also hashing the file with `observing` in the
    /// same single read, so the reported digest is of the verified bytes.
    public static func verifyFile(at path: String, signature: [UInt8], keys: [KeyMaterial], options: SignatureOptions,
                                  observing: [HashAlgorithm] = []) throws -> (report: SignatureReport, digests: [HashAlgorithm: Digest], size: UInt64) {
        let observers = observing.map(Hasher.init)
        var size: UInt64 = 0
        let report = try verify(data: .file(path: path), signature: signature, keys: keys, options: options,
                                observers: observers, size: &size)
        if size == 0 && !observers.isEmpty {
            // No signature needed the data (all refused up front): still hash it for the report.
            size = try PGPSignedData.file(path: path).feed(binary: observers, text: [])
        }
        var digests: [HashAlgorithm: Digest] = [:]
        for hasher in observers { digests[hasher.algorithm] = hasher.finalize() }
        return (report, digests, size)
    }

    static func verify(data: PGPSignedData, signature: [UInt8], keys: [KeyMaterial],
                       options: SignatureOptions) throws -> SignatureReport {
        var size: UInt64 = 0
        return try verify(data: data, signature: signature, keys: keys, options: options, observers: [], size: &size)
    }

    static func verify(data: PGPSignedData, signature: [UInt8], keys: [KeyMaterial], options: SignatureOptions,
                       observers: [Hasher], size: inout UInt64) throws -> SignatureReport {
        let keyring = try PGPKeyring.load(keys)
        let parsed: [Result<PGPSignature, OpenPGPError>]
        do {
            parsed = try signaturePackets(signature, source: "signature")
        } catch {
            return SignatureReport(outcomes: [.refused(signer: nil, reason: error.description)])
        }
        let verifier = PGPDataVerifier(keyring: keyring, now: timestamp(options.now), keyFiles: keys.map(\.path).joined(separator: ", "))
        return SignatureReport(outcomes: try verifier.verify(signatures: parsed, data: data, mode: .detached,
                                                             observers: observers, size: &size))
    }

    /// A cleartext-signed message: its own signatures and the text they cover.
    public struct ClearsignedMessage: Sendable {
        public let report: SignatureReport
        let parts: ClearsignedParts
        /// Exactly the signed text (dash-escapes removed, trailing blanks
        /// stripped), lines ending in LF. Parse this, never the raw file.
        /// Built when asked for: checking the signature alone needs no copy.
        public var text: [UInt8] { parts.text }
    }

    public static func isClearsigned(_ bytes: [UInt8]) -> Bool { ClearsignedParts.looksClearsigned(bytes) }

    /// The signed text of a cleartext message, without verifying it (for a
    /// list used as integrity-only evidence when no key was given).
    public static func clearsignedText(_ bytes: [UInt8], source: String) throws(OpenPGPError) -> [UInt8] {
        try ClearsignedParts.parse(bytes, source: source).text
    }

    /// Verifies a cleartext-signed message. Key files that cannot be used
    /// throw (configuration); a malformed message throws `.cleartext`
    /// (evidence); bad signatures are refused outcomes in the report.
    public static func verifyCleartext(_ bytes: [UInt8], source: String, keys: [KeyMaterial],
                                       options: SignatureOptions) throws -> ClearsignedMessage {
        let keyring = try PGPKeyring.load(keys)
        let parts = try ClearsignedParts.parse(bytes, source: source)
        let parsed: [Result<PGPSignature, OpenPGPError>]
        do {
            parsed = try packets(parts.signature, source: "\(source) (signature block)")
        } catch {
            return ClearsignedMessage(report: SignatureReport(outcomes: [.refused(signer: nil, reason: error.description)]), parts: parts)
        }
        let verifier = PGPDataVerifier(keyring: keyring, now: timestamp(options.now), keyFiles: keys.map(\.path).joined(separator: ", "))
        let outcomes = try verifier.verify(signatures: parsed, data: .cleartext(parts), mode: .cleartext(announced: parts.announced))
        return ClearsignedMessage(report: SignatureReport(outcomes: outcomes), parts: parts)
    }

    static func timestamp(_ date: Date) -> UInt32 {
        UInt32(clamping: Int64(date.timeIntervalSince1970.rounded(.down)))
    }

    /// A detached signature file: armored (one `PGP SIGNATURE` block and
    /// nothing else) or binary.
    static func signaturePackets(_ bytes: [UInt8], source: String) throws(OpenPGPError) -> [Result<PGPSignature, OpenPGPError>] {
        var data = bytes
        if Armor.looksArmored(bytes) {
            let blocks = try Armor.decode(bytes, source: source, strict: true)
            guard blocks.count == 1, blocks[0].label == "SIGNATURE" else {
                throw .malformed("\(source): expected one 'PGP SIGNATURE' armor block, found \(blocks.map { "'\($0.label)'" }.joined(separator: ", "))")
            }
            data = blocks[0].data
        }
        return try packets(data, source: source)
    }

    /// Signature packets only: anything else in a signature is refused.
    static func packets(_ data: [UInt8], source: String) throws(OpenPGPError) -> [Result<PGPSignature, OpenPGPError>] {
        let packets = try PGPPacket.parse(data, what: source)
        guard !packets.isEmpty else { throw .malformed("\(source): no signature packet") }
        var out: [Result<PGPSignature, OpenPGPError>] = []
        for packet in packets {
            guard packet.tag == PGPPacket.Tag.signature else {
                throw .malformed("\(source): packet tag \(packet.tag) at offset \(packet.offset) is not a signature; a detached signature holds signature packets only")
            }
            do {
                out.append(.success(try PGPSignature.parse(packet.body, offset: packet.offset, what: source)))
            } catch {
                out.append(.failure(error))
            }
        }
        return out
    }
}
