import BouncerBase
import BouncerIO
/// OpenBSD signify detached signatures (formats.md §3.2): an
/// `untrusted comment:` line and the base64 of `"Ed" || keynum[8] || sig[64]`,
/// pure Ed25519 over the whole message. The key number must match the key's.
public enum SignifyFormat: DetachedSignatureFormat {
    public static let name = "signify"

    struct Signature {
        let keyNumber: [UInt8]
        let signature: [UInt8]
    }

    /// Two lines: `untrusted comment:` and base64, with no minisign trusted
    /// comment after them (minisign files are left to `MinisignFormat`).
    public static func recognises(signature: [UInt8]) -> Bool {
        guard let lines = try? SignatureText.lines(signature, limit: 4096), lines.count >= 2,
              SignatureText.after(SignatureText.untrustedPrefix, in: lines[0]) != nil else { return false }
        return lines.count < 3 || SignatureText.after(SignatureText.trustedPrefix, in: lines[2]) == nil
    }

    public static func verify(message: [UInt8], signature: [UInt8], keys: [KeyMaterial],
                              options: SignatureOptions) throws -> SignatureReport {
        guard !keys.isEmpty else {
            throw BouncerError(.configuration, code: "signify-no-key", "no signify public key was given",
                               hint: "pass the signer's .pub file with --key")
        }
        let trusted = try keys.map { key throws(BouncerError) in try EdPublicKeyFile.parse(key, format: name) }
        let parsed: Signature
        do { parsed = try parse(signature) } catch {
            return SignatureReport(outcomes: [.refused(signer: nil, reason: "malformed signify signature: \(error.message)")])
        }
        return SignatureReport(outcomes: [check(parsed, message: message, trusted: trusted)])
    }

    static func parse(_ bytes: [UInt8]) throws(SignatureText.Failure) -> Signature {
        let lines = try SignatureText.lines(bytes, limit: 4096)
        guard lines.count == 2 else {
            // More lines would be an embedded (-e) signature with the message
            // inside; a detached check must not silently ignore them.
            throw SignatureText.Failure("expected 2 lines, found \(lines.count) (embedded signatures are not supported)")
        }
        guard SignatureText.after(SignatureText.untrustedPrefix, in: lines[0]) != nil else {
            throw SignatureText.Failure("line 1 does not start with 'untrusted comment: '")
        }
        let blob = try SignatureText.base64(lines[1], count: 74, what: "line 2 (the signature)")
        guard blob[0] == UInt8(ascii: "E"), blob[1] == UInt8(ascii: "d") else {
            throw SignatureText.Failure("unsupported algorithm (expected 'Ed', Ed25519)")
        }
        return Signature(keyNumber: Array(blob[2..<10]), signature: Array(blob[10..<74]))
    }

    static func check(_ sig: Signature, message: [UInt8], trusted: [EdPublicKeyFile]) -> SignatureOutcome {
        let signer = SignatureText.upperHex(sig.keyNumber)
        guard let key = trusted.first(where: { $0.keyId == sig.keyNumber }) else {
            let known = trusted.map { SignatureText.upperHex($0.keyId) }.joined(separator: ", ")
            return .refused(signer: signer,
                            reason: "wrong key: checked against wrong key (signed by key number \(signer), trusted keys are \(known))")
        }
        guard key.publicKey.verify(signature: sig.signature, message: message, scheme: .ed25519) else {
            return .refused(signer: signer, reason: "bad signature: the signature does not match the file for signify key \(signer)")
        }
        return .verified(SignerFact(format: name, signer: signer, details: ["keyNumber": signer, "keyFile": key.path]))
    }
}
