import BouncerBase
import BouncerIO
/// A transferable public key (RFC 9580 §10.1): a primary key with its
/// revocations and direct signatures, user IDs with their certifications,
/// and subkeys with their binding signatures. Nothing here is trusted yet;
/// `PGPCertificateCheck` decides what is valid.
struct PGPCertificate: Sendable {
    /// A signature packet as read. It is parsed only when a certificate
    /// check asks: most of a keyring's signatures certify keys that signed
    /// nothing in this run (Debian's keyring carries 80, a check reads ~15).
    struct SignaturePacket: Sendable {
        let body: [UInt8]
        let offset: Int
    }

    struct UserID: Sendable {
        let packet: [UInt8]
        let isAttribute: Bool
        var signaturePackets: [SignaturePacket]
    }

    struct Subkey: Sendable {
        let key: PGPKey
        var signaturePackets: [SignaturePacket]
    }

    let primary: PGPKey
    var directSignaturePackets: [SignaturePacket] = []
    var userIDs: [UserID] = []
    var subkeys: [Subkey] = []
    /// Where it came from, for messages.
    let source: String

    var directSignatures: [PGPSignature] { parsed(directSignaturePackets) }
    func signatures(of userID: UserID) -> [PGPSignature] { parsed(userID.signaturePackets) }
    func signatures(of subkey: Subkey) -> [PGPSignature] { parsed(subkey.signaturePackets) }

    /// The packets that parse. Third-party or old (v3) signatures we cannot
    /// read do not make the keyring unusable; they are simply not evidence.
    private func parsed(_ packets: [SignaturePacket]) -> [PGPSignature] {
        packets.compactMap { try? PGPSignature.parse($0.body, offset: $0.offset, what: source) }
    }

    /// The first user ID that is valid UTF-8, for display only.
    var displayName: String? {
        userIDs.first { !$0.isAttribute }.flatMap { String(validating: $0.packet, as: UTF8.self) }
    }
}

/// Trusted keys loaded from the files the user gave.
struct PGPKeyring: Sendable {
    var certificates: [PGPCertificate] = []
    /// Keys that were skipped (unsupported version), reported if relevant.
    var skipped: [String] = []

    /// Loads every key file. A file that is not OpenPGP key material, or
    /// holds no public key at all, is a configuration error naming it.
    static func load(_ files: [KeyMaterial]) throws(OpenPGPError) -> PGPKeyring {
        var ring = PGPKeyring()
        for file in files {
            try ring.add(file)
        }
        guard !ring.certificates.isEmpty else {
            let names = files.map(\.path).joined(separator: ", ")
            throw .keyFile(path: names.isEmpty ? "(no key given)" : names, "no usable OpenPGP public key found")
        }
        return ring
    }

    static func looksLikeKeyFile(_ bytes: [UInt8]) -> Bool {
        if Armor.looksArmored(bytes) {
            return bytes.starts(with: Array("-----BEGIN PGP PUBLIC KEY BLOCK-----".utf8))
                || String(decoding: bytes.prefix(200), as: UTF8.self).contains("BEGIN PGP PUBLIC KEY BLOCK")
        }
        guard let first = bytes.first, first & 0x80 != 0 else { return false }
        let tag = first & 0x40 != 0 ? Int(first & 0x3F) : Int(first >> 2) & 0x0F
        return tag == PGPPacket.Tag.publicKey
    }

    mutating func add(_ file: KeyMaterial) throws(OpenPGPError) {
        let bytes = file.bytes
        if bytes.count >= 12, Array(bytes[8..<12]) == Array("KBXf".utf8) {
            throw .keyFile(path: file.path, "this is a GnuPG keybox (.kbx), not a keyring; export it with `gpg --export KEYID > key.gpg`")
        }
        var binaries: [(data: [UInt8], name: String)] = []
        do throws(OpenPGPError) {
            if Armor.looksArmored(bytes) || !(bytes.first.map { $0 & 0x80 != 0 } ?? false) {
                let blocks = try Armor.decode(bytes, source: file.path, strict: false)
                for block in blocks {
                    guard block.label == "PUBLIC KEY BLOCK" else {
                        if block.label == "PRIVATE KEY BLOCK" || block.label == "SECRET KEY BLOCK" {
                            throw OpenPGPError.keyFile(path: file.path, "holds a secret key; give the public key only")
                        }
                        throw OpenPGPError.keyFile(path: file.path, "armor block at line \(block.beginLine) is 'PGP \(block.label)', not a public key block")
                    }
                    binaries.append((block.data, "\(file.path) (armor block at line \(block.beginLine))"))
                }
                guard !binaries.isEmpty else { throw OpenPGPError.keyFile(path: file.path, "no OpenPGP armor block or key packet found") }
            } else {
                binaries.append((bytes, file.path))
            }
            for (data, name) in binaries {
                try addPackets(try PGPPacket.parse(data, what: name), source: name)
            }
        } catch let error {
            if case .keyFile = error { throw error }
            throw .keyFile(path: file.path, error.description)
        }
    }

    private mutating func addPackets(_ packets: [PGPPacket], source: String) throws(OpenPGPError) {
        var current: PGPCertificate? = nil
        var skipping = false
        // Where the next signature belongs.
        enum Slot { case direct, userID, subkey, ignore }
        var slot = Slot.direct
        func finish() {
            if let cert = current { certificates.append(cert) }
            current = nil
        }
        for packet in packets {
            // Built only where a key is read or an error named: most packets are signatures.
            var context: String { "\(source): packet at offset \(packet.offset)" }
            switch packet.tag {
            case PGPPacket.Tag.publicKey:
                finish()
                do {
                    current = PGPCertificate(primary: try PGPKey(body: packet.body, context: context), source: source)
                    skipping = false
                } catch {
                    skipped.append(error.description)
                    skipping = true
                }
                slot = .direct
            case PGPPacket.Tag.publicSubkey:
                guard !skipping else { continue }
                guard current != nil else { throw .malformed("\(context): subkey before any primary key") }
                do {
                    current?.subkeys.append(.init(key: try PGPKey(body: packet.body, context: context), signaturePackets: []))
                    slot = .subkey
                } catch {
                    // An unsupported subkey version: its signatures must not
                    // attach to the previous subkey, so drop them too.
                    skipped.append(error.description)
                    slot = .ignore
                }
            case PGPPacket.Tag.userID, PGPPacket.Tag.userAttribute:
                guard !skipping else { continue }
                guard current != nil else { throw .malformed("\(context): user ID before any primary key") }
                current?.userIDs.append(.init(packet: packet.body, isAttribute: packet.tag == PGPPacket.Tag.userAttribute, signaturePackets: []))
                slot = .userID
            case PGPPacket.Tag.signature:
                guard !skipping else { continue }
                guard current != nil else { throw .malformed("\(context): signature before any primary key") }
                // Kept as read, parsed when a check needs it (PGPCertificate).
                let signature = PGPCertificate.SignaturePacket(body: packet.body, offset: packet.offset)
                switch slot {
                case .direct: current?.directSignaturePackets.append(signature)
                case .userID:
                    if let last = current?.userIDs.indices.last { current?.userIDs[last].signaturePackets.append(signature) }
                case .subkey:
                    if let last = current?.subkeys.indices.last { current?.subkeys[last].signaturePackets.append(signature) }
                case .ignore:
                    continue
                }
            case PGPPacket.Tag.trust, PGPPacket.Tag.marker, PGPPacket.Tag.padding:
                continue
            case PGPPacket.Tag.secretKey, PGPPacket.Tag.secretSubkey:
                throw .keyFile(path: source, "holds secret key material (packet at offset \(packet.offset)); give the public key only")
            default:
                throw .malformed("\(context): packet tag \(packet.tag) does not belong in a keyring")
            }
        }
        finish()
    }

    /// Every (certificate, key) pair whose key matches the signature's issuer
    /// fingerprint, or failing that its key id. Without either, every key.
    func candidates(for signature: PGPSignature) -> [(certificate: PGPCertificate, key: PGPKey)] {
        var out: [(PGPCertificate, PGPKey)] = []
        for cert in certificates {
            for key in [cert.primary] + cert.subkeys.map(\.key) {
                if let fpr = signature.issuerFingerprint {
                    if key.fingerprint == fpr { out.append((cert, key)) }
                } else if let id = signature.issuerKeyID {
                    if key.keyID == id { out.append((cert, key)) }
                } else {
                    out.append((cert, key))
                }
            }
        }
        return out
    }
}
