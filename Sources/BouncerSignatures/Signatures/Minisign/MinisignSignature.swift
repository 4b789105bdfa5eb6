import BouncerBase
import BouncerIO
/// A parsed `.minisig` file (formats.md §3.1):
/// ```
/// untrusted comment: <text>
/// base64(sig_alg[2] || key_id[8] || signature[64])
/// trusted comment: <text>
/// base64(global_signature[64])
/// ```
struct MinisignSignature {
    enum Algorithm: Equatable {
        /// `Ed`: pure Ed25519 over the file bytes.
        case legacy
        /// `ED`: Ed25519 over BLAKE2b-512 of the file (minisign's default).
        case prehashed

        var label: String {
            switch self {
            case .legacy: "Ed (Ed25519 over the file, legacy)"
            case .prehashed: "ED (Ed25519 over BLAKE2b-512 of the file)"
            }
        }
    }

    let algorithm: Algorithm
    let keyId: [UInt8]
    let signature: [UInt8]
    /// The trusted comment bytes, without the `trusted comment: ` prefix.
    /// Not a fact until the global signature has verified.
    let trustedComment: [UInt8]
    let globalSignature: [UInt8]

    // minisign's own limits: comment ≤ 1024, trusted comment ≤ 8192 bytes.
    static let fileLimit = 16 * 1024
    static let trustedCommentLimit = 8192
    static let commentLimit = 1024

    static func parse(_ bytes: [UInt8]) throws(SignatureText.Failure) -> MinisignSignature {
        let lines = try SignatureText.lines(bytes, limit: fileLimit)
        guard lines.count == 4 else {
            throw SignatureText.Failure("expected 4 lines, found \(lines.count)")
        }
        guard let untrusted = SignatureText.after(SignatureText.untrustedPrefix, in: lines[0]) else {
            throw SignatureText.Failure("line 1 does not start with 'untrusted comment: '")
        }
        guard untrusted.count <= commentLimit else {
            throw SignatureText.Failure("untrusted comment is longer than \(commentLimit) bytes")
        }
        let blob = try SignatureText.base64(lines[1], count: 74, what: "line 2 (the signature)")
        let algorithm: Algorithm
        switch (blob[0], blob[1]) {
        case (UInt8(ascii: "E"), UInt8(ascii: "d")): algorithm = .legacy
        case (UInt8(ascii: "E"), UInt8(ascii: "D")): algorithm = .prehashed
        default:
            throw SignatureText.Failure("unsupported algorithm '\(printable(blob[0..<2]))' (expected 'Ed' or 'ED')")
        }
        guard let trusted = SignatureText.after(SignatureText.trustedPrefix, in: lines[2]) else {
            throw SignatureText.Failure("line 3 does not start with 'trusted comment: '")
        }
        guard trusted.count <= trustedCommentLimit else {
            throw SignatureText.Failure("trusted comment is longer than \(trustedCommentLimit) bytes")
        }
        // Control characters other than tab could forge report lines when shown.
        guard trusted.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7f) }) else {
            throw SignatureText.Failure("trusted comment contains control characters")
        }
        let global = try SignatureText.base64(lines[3], count: 64, what: "line 4 (the global signature)")
        return MinisignSignature(algorithm: algorithm, keyId: Array(blob[2..<10]), signature: Array(blob[10..<74]),
                                 trustedComment: trusted, globalSignature: global)
    }

    private static func printable(_ bytes: ArraySlice<UInt8>) -> String {
        bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) ? String(decoding: bytes, as: UTF8.self) : Hex.encode(bytes)
    }
}
