import BouncerBase
import BouncerIO
/// A minisign or signify public key: `"Ed" || key id[8] || Ed25519 key[32]`,
/// base64 under an `untrusted comment:` line. Both tools write the same
/// layout, so each accepts the other's keys. A bare base64 line (minisign
/// `-P`, or a policy's inline `"key"`) is accepted too.
struct EdPublicKeyFile {
    let path: String
    /// The 8 key-id bytes as stored in the file.
    let keyId: [UInt8]
    let publicKey: PublicKey

    static let byteCount = 42

    static func parse(_ key: KeyMaterial, format: String) throws(BouncerError) -> EdPublicKeyFile {
        func invalid(_ why: String) -> BouncerError {
            BouncerError(.configuration, code: "\(format)-key-invalid",
                         "\(key.path): not a \(format) public key: \(why)",
                         hint: "expected an 'untrusted comment:' line and the base64 of a 42-byte Ed25519 key")
        }
        let lines: [[UInt8]]
        do { lines = try SignatureText.lines(key.bytes, limit: 4096) } catch { throw invalid(error.message) }
        let keyLine: [UInt8]
        switch lines.count {
        case 1 where SignatureText.after(SignatureText.untrustedPrefix, in: lines[0]) == nil:
            keyLine = lines[0]
        case 2 where SignatureText.after(SignatureText.untrustedPrefix, in: lines[0]) != nil:
            keyLine = lines[1]
        default:
            throw invalid("expected 2 lines ('untrusted comment: ...' and the key), found \(lines.count)")
        }
        let raw: [UInt8]
        do { raw = try SignatureText.base64(keyLine, count: byteCount, what: "the key line") } catch {
            throw invalid(error.message)
        }
        guard raw[0] == UInt8(ascii: "E"), raw[1] == UInt8(ascii: "d") else {
            throw invalid("key algorithm is not 'Ed' (Ed25519)")
        }
        do {
            return EdPublicKeyFile(path: key.path, keyId: Array(raw[2..<10]),
                                   publicKey: try PublicKey(ed25519: Array(raw[10..<42])))
        } catch {
            throw invalid(error.description)
        }
    }
}
