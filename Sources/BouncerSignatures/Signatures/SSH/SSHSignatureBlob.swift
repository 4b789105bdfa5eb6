import BouncerBase
import BouncerIO
/// An armored SSHSIG signature (formats.md §4.1, OpenSSH `PROTOCOL.sshsig`):
/// `"SSHSIG" || u32 version || string publickey || string namespace ||
/// string reserved || string hash_algorithm || string signature`.
struct SSHSignatureBlob {
    let publicKeyBlob: [UInt8]
    let namespace: String
    let hashAlgorithm: String
    let signature: [UInt8]

    static let magic = Array("SSHSIG".utf8)
    static let beginLine = "-----BEGIN SSH SIGNATURE-----"
    static let endLine = "-----END SSH SIGNATURE-----"
    static let fileLimit = 64 * 1024

    static func dearmor(_ bytes: [UInt8]) throws(SSHWireReader.Failure) -> [UInt8] {
        guard bytes.count <= fileLimit else { throw .init("larger than \(fileLimit) bytes") }
        guard bytes.starts(with: Array(beginLine.utf8)) else {
            throw .init("does not start with '\(beginLine)'")
        }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        guard let end = lines.firstIndex(of: endLine) else { throw .init("no '\(endLine)' line") }
        guard lines.first == beginLine else { throw .init("unexpected text after '\(beginLine)'") }
        guard lines[(end + 1)...].allSatisfy({ $0.allSatisfy(\.isWhitespace) }) else {
            throw .init("unexpected text after '\(endLine)'")
        }
        guard let blob = Base64.decode(lines[1..<end].joined()) else { throw .init("the armored body is not valid base64") }
        return blob
    }

    static func parse(armored bytes: [UInt8]) throws(SSHWireReader.Failure) -> SSHSignatureBlob {
        var reader = SSHWireReader(try dearmor(bytes))
        guard try reader.raw(magic.count, "magic") == magic else { throw .init("the blob does not start with 'SSHSIG'") }
        let version = try reader.uint32("version")
        guard version == 1 else { throw .init("unsupported SSHSIG version \(version)") }
        let publicKey = try reader.string("public key")
        let namespace = try reader.name("namespace")
        guard !namespace.isEmpty else { throw .init("the namespace is empty") }
        _ = try reader.string("reserved") // ignored, as OpenSSH does; the verifier signs it as empty
        let hashAlgorithm = try reader.name("hash algorithm")
        let signature = try reader.string("signature")
        try reader.expectEnd("the signature")
        return SSHSignatureBlob(publicKeyBlob: publicKey, namespace: namespace, hashAlgorithm: hashAlgorithm,
                                signature: signature)
    }

    /// What the signer signed (formats.md §4.2), built from the namespace the
    /// verifier expects and an empty reserved field, whatever the blob says.
    static func signedData(namespace: String, hashAlgorithm: String, messageDigest: [UInt8]) -> [UInt8] {
        magic + SSHWireReader.encodeString(Array(namespace.utf8)) + SSHWireReader.encodeString([])
            + SSHWireReader.encodeString(Array(hashAlgorithm.utf8)) + SSHWireReader.encodeString(messageDigest)
    }
}
