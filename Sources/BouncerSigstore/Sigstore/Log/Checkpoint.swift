import COpenSSL
import BouncerBase
import BouncerIO

/// A transparency-log checkpoint: a C2SP signed note whose body is the
/// origin, the tree size and the root hash (formats.md §5.6).
public struct Checkpoint: Sendable {
    public let origin: String
    public let treeSize: UInt64
    public let rootHash: [UInt8]
    /// Lines after the root hash (Rekor v1 adds e.g. `Timestamp: <n>`).
    public let extensionLines: [String]
    /// logIDs of the trusted logs whose signature on the note verified.
    public let verifiedLogIDs: [[UInt8]]

    /// Limits: a note is a few hundred bytes; these only stop abuse.
    static let maximumEnvelopeBytes = 64 * 1024
    static let maximumSignatureLines = 100

    /// Verifies the signed note against the trusted logs and parses its body.
    /// Signature lines by keys not in `logs` (witness cosignatures, other
    /// logs) are ignored; every line by a trusted key must verify, and at
    /// least one must exist.
    public static func verify(envelope: String, logs: [TransparencyLogKey]) throws(TransparencyError) -> Checkpoint {
        let bytes = Array(envelope.utf8)
        guard bytes.count <= maximumEnvelopeBytes else { throw .malformedCheckpoint("the note is larger than \(maximumEnvelopeBytes) bytes") }
        guard bytes.last == 0x0A else { throw .malformedCheckpoint("the note does not end with a newline") }
        // The text ends at the last blank line; the signature block follows it.
        guard let split = lastBlankLine(bytes) else { throw .malformedCheckpoint("the note has no blank line before its signatures") }
        let text = Array(bytes[..<(split + 1)])
        let signatureBlock = bytes[(split + 2)...]
        let lines = signatureBlock.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast()
        guard !lines.isEmpty else { throw .malformedCheckpoint("the note carries no signature line") }
        guard lines.count <= maximumSignatureLines else { throw .malformedCheckpoint("the note carries more than \(maximumSignatureLines) signature lines") }

        let body = try parseBody(text)
        var verified: [[UInt8]] = []
        for (number, line) in lines.enumerated() {
            let signature = try parseSignatureLine(Array(line), number: number + 1)
            for log in logs where log.signsNote(name: signature.name, hint: signature.hint) {
                guard log.verifyNote(signature: signature.signature, text: text) else {
                    throw .checkpointSignatureInvalid(origin: body.origin)
                }
                verified.append(log.logID)
            }
        }
        guard !verified.isEmpty else { throw .checkpointUnknownKey(origin: body.origin) }
        return Checkpoint(origin: body.origin, treeSize: body.treeSize, rootHash: body.rootHash,
                          extensionLines: body.extensions, verifiedLogIDs: verified)
    }

    /// The check that binds an inclusion proof to what the log signed: the
    /// proof's tree size and root hash must be the checkpoint's.
    public func requireMatch(treeSize: UInt64, rootHash: [UInt8]) throws(TransparencyError) {
        guard treeSize == self.treeSize else {
            throw .checkpointMismatch("the checkpoint's tree size \(self.treeSize) is not the inclusion proof's \(treeSize)")
        }
        guard MerkleInclusion.constantTimeEqual(rootHash, self.rootHash) else {
            throw .checkpointMismatch("the checkpoint's root hash is not the inclusion proof's root hash")
        }
    }

    private static func lastBlankLine(_ bytes: [UInt8]) -> Int? {
        var index = bytes.count - 2
        while index >= 0 {
            if bytes[index] == 0x0A, bytes[index + 1] == 0x0A { return index }
            index -= 1
        }
        return nil
    }

    private static func parseBody(_ text: [UInt8]) throws(TransparencyError) -> (origin: String, treeSize: UInt64, rootHash: [UInt8], extensions: [String]) {
        let lines = text.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
        guard lines.count >= 3 else { throw .malformedCheckpoint("the note body needs an origin, a tree size and a root hash line; it has \(lines.count) lines") }
        let origin = lines[0]
        guard !origin.isEmpty else { throw .malformedCheckpoint("the origin line is empty") }
        let sizeText = lines[1]
        guard !sizeText.isEmpty, sizeText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              sizeText == "0" || !sizeText.hasPrefix("0"), let size = UInt64(sizeText) else {
            throw .malformedCheckpoint("line 2 ('\(sizeText.prefix(40))') is not a decimal tree size (is the origin line missing?)")
        }
        guard let root = Base64.decode(lines[2]), root.count == 32 else {
            throw .malformedCheckpoint("line 3 ('\(lines[2].prefix(60))') is not a base64 32-byte root hash")
        }
        let extensions = Array(lines.dropFirst(3))
        guard !extensions.contains(where: \.isEmpty) else { throw .malformedCheckpoint("the note body has an empty line") }
        return (origin, size, root, extensions)
    }

    private static func parseSignatureLine(_ line: [UInt8], number: Int) throws(TransparencyError) -> (name: String, hint: [UInt8], signature: [UInt8]) {
        let dash: [UInt8] = [0xE2, 0x80, 0x94, 0x20]  // "— "
        guard line.count > dash.count, Array(line.prefix(4)) == dash else {
            throw .malformedCheckpoint("signature line \(number) does not start with an em dash and a space")
        }
        let rest = line.dropFirst(4)
        guard let space = rest.lastIndex(of: 0x20) else { throw .malformedCheckpoint("signature line \(number) has no key name") }
        let name = String(decoding: rest[..<space], as: UTF8.self)
        guard !name.isEmpty, !name.contains(" ") else { throw .malformedCheckpoint("signature line \(number) has an empty or spaced key name") }
        guard let decoded = Base64.decode(String(decoding: rest[(space + 1)...], as: UTF8.self)), decoded.count > 4 else {
            throw .malformedCheckpoint("signature line \(number) does not end with base64 of a key hint and a signature")
        }
        return (name, Array(decoded[0..<4]), Array(decoded[4...]))
    }
}

extension TransparencyLogKey {
    /// The 4-byte signed-note key hint of this log's key under `name`:
    /// `checkpointKeyId` when the trusted root gives one; for Ed25519 the
    /// C2SP rule SHA-256(name || 0x0A || 0x01 || key)[0:4]; otherwise (Rekor
    /// v1's ECDSA and RSA logs) SHA-256(DER SPKI)[0:4].
    func noteKeyHint(name: String) -> [UInt8] {
        // Given as 4 bytes, or as the full 32-byte key ID whose first 4 bytes are the hint.
        if let checkpointKeyID, checkpointKeyID.count >= 4 { return Array(checkpointKeyID.prefix(4)) }
        if case .ed25519 = key.kind, let raw = key.rawEd25519 {
            return Array(Hasher.digest(Array(name.utf8) + [0x0A, 0x01] + raw, .sha256).bytes.prefix(4))
        }
        return Array(Hasher.digest(key.spkiDER, .sha256).bytes.prefix(4))
    }

    /// Whether the signature line (key name, hint) claims this log's key. An
    /// Ed25519 note key is named by the log's host (C2SP); Rekor v1 ECDSA
    /// lines are matched on the hint alone, as Rekor's own verifier does.
    func signsNote(name: String, hint: [UInt8]) -> Bool {
        if case .ed25519 = key.kind, name != host { return false }
        return noteKeyHint(name: name) == hint
    }

    func verifyNote(signature: [UInt8], text: [UInt8]) -> Bool {
        switch key.kind {
        case .ed25519: key.verify(signature: signature, message: text, scheme: .ed25519)
        case .ecdsa(let curve):
            key.verify(signature: signature, message: text, scheme: .ecdsa(curve.defaultHash, .der))
        case .rsa:
            key.verify(signature: signature, message: text, scheme: .rsaPKCS1(.sha256))
                || key.verify(signature: signature, message: text, scheme: .rsaPSS(.sha256))
        }
    }
}

extension PublicKey.Curve {
    /// The hash paired with the curve in Sigstore key details (P-256/SHA-256 ...).
    var defaultHash: HashAlgorithm {
        switch self {
        case .p256: .sha256
        case .p384: .sha384
        case .p521: .sha512
        }
    }
}

extension PublicKey {
    /// The raw 32-byte Ed25519 public key, for signed-note key IDs.
    var rawEd25519: [UInt8]? {
        guard case .ed25519 = kind else { return nil }
        var raw = [UInt8](repeating: 0, count: 32)
        var length = 32
        guard EVP_PKEY_get_raw_public_key(pkey, &raw, &length) == 1, length == 32 else { return nil }
        return raw
    }
}
