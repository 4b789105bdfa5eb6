import FoundationEssentials
import BouncerBase
import BouncerIO

/// minisign detached signatures (formats.md §3.1): Ed25519 over the file
/// (`Ed`) or over its BLAKE2b-512 (`ED`), plus a global signature that binds
/// the trusted comment. The trusted comment is reported only after both verify.
public enum MinisignFormat: DetachedSignatureFormat {
    public static let name = "minisign"

    /// An `untrusted comment:` line followed two lines later by `trusted comment:`.
    public static func recognises(signature: [UInt8]) -> Bool {
        guard let lines = try? SignatureText.lines(signature, limit: MinisignSignature.fileLimit),
              lines.count >= 3 else { return false }
        return SignatureText.after(SignatureText.untrustedPrefix, in: lines[0]) != nil
            && SignatureText.after(SignatureText.trustedPrefix, in: lines[2]) != nil
    }

    public static func verify(message: [UInt8], signature: [UInt8], keys: [KeyMaterial],
                              options: SignatureOptions) throws -> SignatureReport {
        guard !keys.isEmpty else {
            throw BouncerError(.configuration, code: "minisign-no-key", "no minisign public key was given",
                               hint: "pass the signer's minisign.pub with --key")
        }
        let trusted = try keys.map { key throws(BouncerError) in try EdPublicKeyFile.parse(key, format: name) }
        let parsed: MinisignSignature
        do { parsed = try MinisignSignature.parse(signature) } catch {
            return SignatureReport(outcomes: [.refused(signer: nil, reason: "malformed minisign signature: \(error.message)")])
        }
        return SignatureReport(outcomes: [check(parsed, message: message, trusted: trusted)])
    }

    /// minisign shows a key id as its 8 bytes read little-endian, in upper-case
    /// hex without leading zeros (printf "%" PRIX64), so the id a user sees in
    /// minisign's output is the one Bouncer reports.
    static func displayKeyId(_ keyId: [UInt8]) -> String {
        let hex = SignatureText.upperHex(keyId.reversed())
        let trimmed = hex.drop(while: { $0 == "0" })
        return trimmed.isEmpty ? "0" : String(trimmed)
    }

    /// The steps in minisign's order: key id, file signature, global signature.
    static func check(_ sig: MinisignSignature, message: [UInt8], trusted: [EdPublicKeyFile]) -> SignatureOutcome {
        let signer = displayKeyId(sig.keyId)
        guard let key = trusted.first(where: { $0.keyId == sig.keyId }) else {
            let known = trusted.map { displayKeyId($0.keyId) }.joined(separator: ", ")
            return .refused(signer: signer, reason: "wrong key: signed by minisign key \(signer), trusted keys are \(known)")
        }
        let signed = sig.algorithm == .prehashed ? Hasher.blake2b512(message) : message
        guard key.publicKey.verify(signature: sig.signature, message: signed, scheme: .ed25519) else {
            return .refused(signer: signer, reason: "bad signature: the signature does not match the file for minisign key \(signer)")
        }
        guard key.publicKey.verify(signature: sig.globalSignature, message: sig.signature + sig.trustedComment,
                                   scheme: .ed25519) else {
            return .refused(signer: signer, reason: "bad signature: the global signature over the trusted comment does not verify (the trusted comment was altered)")
        }
        let comment = String(decoding: sig.trustedComment, as: UTF8.self)
        return .verified(SignerFact(format: name, signer: signer, details: [
            "keyId": signer,
            "algorithm": sig.algorithm.label,
            "trustedComment": comment,
            "keyFile": key.path,
        ], signedAt: signedTimestamp(comment)))
    }

    /// minisign's default trusted comment starts `timestamp:<unix seconds>`;
    /// being covered by the global signature, it is the signer's own word.
    static func signedTimestamp(_ comment: String) -> Date? {
        for field in comment.split(separator: "\t") where field.hasPrefix("timestamp:") {
            let digits = field.dropFirst("timestamp:".count)
            guard digits.count <= 12, let seconds = UInt64(digits) else { return nil }
            return Date(timeIntervalSince1970: TimeInterval(seconds))
        }
        return nil
    }
}
