import BouncerBase
import BouncerIO
/// Verifies an SSH signature (`string sig_type || string sig_blob`, plus the
/// flags and counter of FIDO keys) made by an `SSHPublicKey` over `data`.
extension SSHPublicKey {
    enum CheckFailure: Error {
        /// The signature algorithm is refused or unknown (exit 1, named).
        case unsupported(String)
        /// The encoding is broken.
        case malformed(String)
        /// Well formed, but the signature does not verify.
        case bad(String)
    }

    /// Returns facts worth reporting (signature algorithm, FIDO flags).
    func verify(signature: [UInt8], over data: [UInt8]) throws(CheckFailure) -> [String: String] {
        var reader = SSHWireReader(signature)
        do {
            let sigType = try reader.name("signature type")
            switch algorithm {
            case .ed25519:
                try expect(sigType, typeName)
                let sig = try reader.string("Ed25519 signature")
                try reader.expectEnd("the signature")
                try check(key.verify(signature: sig, message: data, scheme: .ed25519), sigType)
                return ["signatureAlgorithm": sigType]

            case .ecdsa(let curve):
                try expect(sigType, typeName)
                let der = try Self.ecdsaDER(try reader.string("ECDSA signature"))
                try reader.expectEnd("the signature")
                let hash: HashAlgorithm = switch curve {
                case .p256: .sha256
                case .p384: .sha384
                case .p521: .sha512
                }
                try check(key.verify(signature: der, message: data, scheme: .ecdsa(hash, .der)), sigType)
                return ["signatureAlgorithm": sigType]

            case .rsa:
                let hash: HashAlgorithm
                switch sigType {
                case "rsa-sha2-256": hash = .sha256
                case "rsa-sha2-512": hash = .sha512
                case "ssh-rsa": throw CheckFailure.unsupported("ssh-rsa signatures use SHA-1 and are refused; sign with rsa-sha2-256 or rsa-sha2-512")
                default: throw CheckFailure.unsupported("signature type \(sigType) for an RSA key")
                }
                guard case .rsa(let bits) = key.kind, bits >= 2048 else {
                    throw CheckFailure.unsupported("RSA keys shorter than 2048 bits are refused")
                }
                var sig = try reader.string("RSA signature")
                try reader.expectEnd("the signature")
                // OpenSSH accepts a signature shorter than the modulus and left-pads it.
                let modulusBytes = (bits + 7) / 8
                guard sig.count <= modulusBytes else { throw CheckFailure.malformed("RSA signature is longer than the modulus") }
                sig = [UInt8](repeating: 0, count: modulusBytes - sig.count) + sig
                try check(key.verify(signature: sig, message: data, scheme: .rsaPKCS1(hash)), sigType)
                return ["signatureAlgorithm": sigType]

            case .skEd25519:
                try expect(sigType, typeName)
                let sig = try reader.string("Ed25519 signature")
                let flags = try reader.byte("security key flags")
                let counter = try reader.raw(4, "security key counter")
                try reader.expectEnd("the signature")
                let signed = Hasher.digest(application, .sha256).bytes + [flags] + counter
                    + Hasher.digest(data, .sha256).bytes
                try check(key.verify(signature: sig, message: signed, scheme: .ed25519), sigType)
                return skFacts(sigType, flags, counter)

            case .skECDSA:
                let webauthn = sigType == "webauthn-sk-ecdsa-sha2-nistp256@openssh.com"
                if !webauthn { try expect(sigType, typeName) }
                let der = try Self.ecdsaDER(try reader.string("ECDSA signature"))
                let flags = try reader.byte("security key flags")
                let counter = try reader.raw(4, "security key counter")
                var extensions: [UInt8] = []
                var messageHash = Hasher.digest(data, .sha256).bytes
                if webauthn {
                    let origin = try reader.string("webauthn origin")
                    let clientData = try reader.string("webauthn client data")
                    extensions = try reader.string("webauthn extensions")
                    try Self.checkWebAuthn(data: data, origin: origin, clientData: clientData,
                                           flags: flags, extensions: extensions)
                    // The authenticator signed the client data JSON, which carries `data` as its challenge.
                    messageHash = Hasher.digest(clientData, .sha256).bytes
                }
                try reader.expectEnd("the signature")
                let signed = Hasher.digest(application, .sha256).bytes + [flags] + counter + extensions + messageHash
                try check(key.verify(signature: der, message: signed, scheme: .ecdsa(.sha256, .der)), sigType)
                return skFacts(sigType, flags, counter)
            }
        } catch let failure as CheckFailure {
            throw failure
        } catch let failure as SSHWireReader.Failure {
            throw .malformed(failure.message)
        } catch {
            throw .malformed("\(error)")
        }
    }

    private func expect(_ sigType: String, _ keyType: String) throws(CheckFailure) {
        guard sigType == keyType else {
            throw .unsupported("signature type \(sigType) does not match the \(keyType) key")
        }
    }

    /// Names the signature algorithm where it differs from the key type: an
    /// RSA key's signature is rsa-sha2-256 or rsa-sha2-512, never "ssh-rsa"
    /// (the SHA-1 algorithm, which is refused).
    private func check(_ verified: Bool, _ sigType: String) throws(CheckFailure) {
        guard verified else {
            let key = sigType == typeName ? "key" : "\(typeName) key"
            throw .bad("the \(sigType) signature does not verify with \(key) \(fingerprint)")
        }
    }

    private func skFacts(_ sigType: String, _ flags: UInt8, _ counter: [UInt8]) -> [String: String] {
        [
            "signatureAlgorithm": sigType,
            "securityKeyFlags": "0x" + Hex.encode([flags]),
            "securityKeyCounter": String(counter.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }),
            "userPresence": flags & 0x01 != 0 ? "yes" : "no",
        ]
    }

    /// `string(mpint r || mpint s)` to DER for OpenSSL.
    private static func ecdsaDER(_ inner: [UInt8]) throws(CheckFailure) -> [UInt8] {
        var reader = SSHWireReader(inner)
        do {
            let r = try reader.mpint("ECDSA r")
            let s = try reader.mpint("ECDSA s")
            try reader.expectEnd("ECDSA r and s")
            guard let der = ECDSASignature.derFromIntegers(r: r, s: s) else {
                throw CheckFailure.malformed("ECDSA r or s is too large")
            }
            return der
        } catch let failure as CheckFailure {
            throw failure
        } catch let failure as SSHWireReader.Failure {
            throw .malformed(failure.message)
        } catch {
            throw .malformed("\(error)")
        }
    }

    /// The checks OpenSSH makes on a webauthn signature: the client data must
    /// begin with the canonical JSON naming `webauthn.get`, the signed data as
    /// its base64url challenge and the origin; the flags must agree with the
    /// extensions.
    private static func checkWebAuthn(data: [UInt8], origin: [UInt8], clientData: [UInt8],
                                      flags: UInt8, extensions: [UInt8]) throws(CheckFailure) {
        guard !origin.contains(UInt8(ascii: "\"")), flags & 0x40 == 0,
              (flags & 0x80 == 0) == extensions.isEmpty else {
            throw .malformed("webauthn origin or flags are inconsistent")
        }
        let expected = Array("{\"type\":\"webauthn.get\",\"challenge\":\"".utf8)
            + Array(Base64.encode(data, alphabet: .urlSafe, padding: false).utf8)
            + Array("\",\"origin\":\"".utf8) + origin + [UInt8(ascii: "\"")]
        guard clientData.starts(with: expected) else {
            throw .bad("the webauthn client data does not carry this signed data as its challenge")
        }
    }
}
