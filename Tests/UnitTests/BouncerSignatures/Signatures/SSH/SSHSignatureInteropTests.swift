import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools
import BouncerTestSupport

/// Keys and signatures made at test time by the real `ssh-keygen`.
@Suite(.blocking) struct SSHSignatureInteropTests {
    /// A key pair made by ssh-keygen in a temporary directory.
    struct SSHKey {
        let dir: String
        let file: String
        var pub: String { ((try? String(contentsOfFile: "\(dir)/\(file).pub", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines) }
        var keyTypeAndBlob: String { pub.split(separator: " ").prefix(2).joined(separator: " ") }

        static func make(_ keygen: String, in dir: String, name: String, type: String, bits: Int?) throws -> SSHKey {
            try SigTest.run(keygen, ["-q", "-t", type, "-N", "", "-C", "test key", "-f", name] + (bits.map { ["-b", "\($0)"] } ?? []), cwd: dir)
            return SSHKey(dir: dir, file: name)
        }

        /// `ssh-keygen -Y sign`; returns the armored signature.
        func sign(_ keygen: String, message: String, namespace: String, hashAlgorithm: String? = nil) throws -> [UInt8] {
            try? FileManager.default.removeItem(atPath: "\(dir)/\(message).sig")
            try SigTest.run(keygen, ["-Y", "sign", "-f", file, "-n", namespace] + (hashAlgorithm.map { ["-O", "hashalg=\($0)"] } ?? []) + [message], cwd: dir)
            return try SigTest.bytes("\(dir)/\(message).sig")
        }

        func fingerprint(_ keygen: String) throws -> String? {
            try SigTest.run(keygen, ["-l", "-E", "sha256", "-f", "\(file).pub"], cwd: dir).out.split(separator: " ").dropFirst().first.map(String.init)
        }
    }

    static func signers(_ text: String) -> [KeyMaterial] {
        [KeyMaterial(path: "allowed_signers", bytes: Array(text.utf8))]
    }

    static func armor(_ blob: [UInt8]) -> [UInt8] {
        let body = Array(Base64.encode(blob))
        var lines = [SSHSignatureBlob.beginLine]
        var index = 0
        while index < body.count {
            lines.append(String(body[index..<min(index + 70, body.count)]))
            index += 70
        }
        lines.append(SSHSignatureBlob.endLine)
        return Array((lines.joined(separator: "\n") + "\n").utf8)
    }

    static let kinds: [(String, Int?)] = [("ed25519", nil), ("ecdsa", 256), ("ecdsa", 384), ("ecdsa", 521), ("rsa", 3072)]

    /// Each key type and each SSHSIG hash: verifies, then every tampering is refused with its reason.
    @Test(arguments: 0..<kinds.count)
    func signVerifyAndTamper(_ kind: Int) throws {
        guard let keygen = SigTest.tool("ssh-keygen", package: "openssh-client") else { return }
        let dir = try BouncerProcess.temporaryDirectory("sshsig").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (type, bits) = Self.kinds[kind]
        let key = try SSHKey.make(keygen, in: dir, name: "signer", type: type, bits: bits)
        let other = try SSHKey.make(keygen, in: dir, name: "other", type: type, bits: bits)
        let message = Array("sha256  0123456789abcdef  app-\(type).tar.gz\n".utf8)
        try SigTest.write(message, "\(dir)/SHA256SUMS")
        let allowed = Self.signers("alice@example.com \(key.pub)\n")
        let options = SignatureOptions(identity: "alice@example.com", namespace: "file")

        for hash in ["sha256", "sha512"] {
            let signature = try key.sign(keygen, message: "SHA256SUMS", namespace: "file", hashAlgorithm: hash)
            #expect(SSHSignatureFormat.recognises(signature: signature))
            let good = try SSHSignatureFormat.verify(message: message, signature: signature, keys: allowed, options: options)
            let fact = try #require(SigTest.fact(good), "\(type) \(hash): \(good)")
            #expect(fact.signer == "alice@example.com")
            #expect(fact.details["hashAlgorithm"] == hash)
            #expect(fact.details["fingerprint"] == (try key.fingerprint(keygen)))
            #expect(fact.details["signatureAlgorithm"] == (type == "rsa" ? "rsa-sha2-512" : key.keyTypeAndBlob.split(separator: " ").first.map(String.init)))

            var flipped = message
            flipped[flipped.count - 2] ^= 0x01
            let badFile = try SSHSignatureFormat.verify(message: flipped, signature: signature, keys: allowed, options: options)
            #expect(SigTest.reason(badFile)?.hasPrefix("bad signature") == true, "\(badFile)")

            var blob = try SSHSignatureBlob.dearmor(signature)
            blob[blob.count - 3] ^= 0x04 // inside the signature value itself
            let badSig = try SSHSignatureFormat.verify(message: message, signature: Self.armor(blob), keys: allowed, options: options)
            #expect(SigTest.reason(badSig)?.hasPrefix("bad signature") == true, "\(badSig)")

            let wrongKey = try SSHSignatureFormat.verify(message: message, signature: signature,
                                                         keys: Self.signers("alice@example.com \(other.pub)\n"), options: options)
            #expect(SigTest.reason(wrongKey)?.hasPrefix("wrong key") == true, "\(wrongKey)")
            if case .refused(let signer, _)? = wrongKey.outcomes.first {
                #expect(signer == (try key.fingerprint(keygen)), "a refusal names the key that signed")
            }

            let wrongNamespace = try SSHSignatureFormat.verify(message: message, signature: signature, keys: allowed,
                                                               options: SignatureOptions(identity: "alice@example.com", namespace: "git"))
            #expect(SigTest.reason(wrongNamespace)?.hasPrefix("namespace mismatch") == true, "\(wrongNamespace)")

            let wrongPrincipal = try SSHSignatureFormat.verify(message: message, signature: signature, keys: allowed,
                                                               options: SignatureOptions(identity: "mallory@example.com", namespace: "file"))
            #expect(SigTest.reason(wrongPrincipal)?.hasPrefix("principal not allowed") == true, "\(wrongPrincipal)")
        }
    }

    /// ssh-keygen always signs RSA with rsa-sha2-512; an rsa-sha2-256 (and a
    /// SHA-1 `ssh-rsa`) signature is made here with openssl over the exact
    /// SSHSIG data, and ssh-keygen itself confirms the rsa-sha2-256 one.
    @Test func rsaSignatureTypes() throws {
        guard let keygen = SigTest.tool("ssh-keygen", package: "openssh-client"),
              let openssl = SigTest.tool("openssl", package: "openssl") else { return }
        let dir = try BouncerProcess.temporaryDirectory("sshsig-rsa").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let key = try SSHKey.make(keygen, in: dir, name: "rsa", type: "rsa", bits: 2048)
        try SigTest.run(keygen, ["-p", "-P", "", "-N", "", "-m", "PEM", "-f", "rsa"], cwd: dir) // private key to PEM for openssl
        let message = Array("payload\n".utf8)
        try SigTest.write(message, "\(dir)/payload")
        let signed = SSHSignatureBlob.signedData(namespace: "file", hashAlgorithm: "sha512",
                                                 messageDigest: Hasher.digest(message, .sha512).bytes)
        try SigTest.write(signed, "\(dir)/signed")
        let keyBlob = try #require(Base64.decode(String(key.keyTypeAndBlob.split(separator: " ")[1])))
        let allowedText = "alice@example.com \(key.pub)\n"
        try SigTest.write(Array(allowedText.utf8), "\(dir)/allowed_signers")

        func sshsig(_ sigType: String, _ digest: String) throws -> [UInt8] {
            try SigTest.run(openssl, ["dgst", "-\(digest)", "-sign", "rsa", "-out", "raw.sig", "signed"], cwd: dir)
            let raw = try SigTest.bytes("\(dir)/raw.sig")
            let inner = SSHWireReader.encodeString(Array(sigType.utf8)) + SSHWireReader.encodeString(raw)
            return Self.armor(SSHSignatureBlob.magic + [0, 0, 0, 1] + SSHWireReader.encodeString(keyBlob)
                + SSHWireReader.encodeString(Array("file".utf8)) + SSHWireReader.encodeString([])
                + SSHWireReader.encodeString(Array("sha512".utf8)) + SSHWireReader.encodeString(inner))
        }
        let options = SignatureOptions(identity: "alice@example.com", namespace: "file")

        let sha256 = try sshsig("rsa-sha2-256", "sha256")
        try SigTest.write(sha256, "\(dir)/payload.sig")
        let check = try BouncerProcess.runProgram(keygen, ["-Y", "verify", "-f", "allowed_signers", "-I", "alice@example.com",
                                                           "-n", "file", "-s", "payload.sig"], cwd: dir, stdin: Data(message))
        #expect(check.status == 0, "ssh-keygen rejects the crafted rsa-sha2-256 signature: \(check.err)")
        let report = try SSHSignatureFormat.verify(message: message, signature: sha256, keys: Self.signers(allowedText), options: options)
        #expect(SigTest.fact(report)?.details["signatureAlgorithm"] == "rsa-sha2-256", "\(report)")

        // rsa-sha2-256 tampered with: a flipped byte in the file and in the
        // signature value (ssh-keygen refuses both too), and the wrong key.
        // The reason names the signature algorithm, not "ssh-rsa" (the SHA-1 one, refused on its own).
        let bad = "bad signature: the rsa-sha2-256 signature does not verify with ssh-rsa key \(try key.fingerprint(keygen) ?? "?")"
        var flippedMessage = message
        flippedMessage[0] ^= 0x01
        let badFile = try SSHSignatureFormat.verify(message: flippedMessage, signature: sha256, keys: Self.signers(allowedText), options: options)
        #expect(SigTest.reason(badFile) == bad, "\(badFile)")
        let badFileCheck = try BouncerProcess.runProgram(keygen, ["-Y", "verify", "-f", "allowed_signers", "-I", "alice@example.com",
                                                                  "-n", "file", "-s", "payload.sig"], cwd: dir, stdin: Data(flippedMessage))
        #expect(badFileCheck.status != 0, "ssh-keygen accepts the flipped file")
        var blob = try SSHSignatureBlob.dearmor(sha256)
        blob[blob.count - 3] ^= 0x04 // inside the RSA signature value
        let flippedSignature = Self.armor(blob)
        let badSig = try SSHSignatureFormat.verify(message: message, signature: flippedSignature, keys: Self.signers(allowedText), options: options)
        #expect(SigTest.reason(badSig) == bad, "\(badSig)")
        try SigTest.write(flippedSignature, "\(dir)/flipped.sig")
        let badSigCheck = try BouncerProcess.runProgram(keygen, ["-Y", "verify", "-f", "allowed_signers", "-I", "alice@example.com",
                                                                 "-n", "file", "-s", "flipped.sig"], cwd: dir, stdin: Data(message))
        #expect(badSigCheck.status != 0, "ssh-keygen accepts the flipped signature")
        let other = try SSHKey.make(keygen, in: dir, name: "other", type: "rsa", bits: 2048)
        let wrongKey = try SSHSignatureFormat.verify(message: message, signature: sha256,
                                                     keys: Self.signers("alice@example.com \(other.pub)\n"), options: options)
        #expect(SigTest.reason(wrongKey)?.hasPrefix("wrong key: the signature was made by ssh-rsa key \(try key.fingerprint(keygen) ?? "?")") == true, "\(wrongKey)")

        // rsa-sha2-256 label on a SHA-512 signature: bad, not accepted.
        let mislabelled = try SSHSignatureFormat.verify(message: message, signature: try sshsig("rsa-sha2-256", "sha512"),
                                                        keys: Self.signers(allowedText), options: options)
        #expect(SigTest.reason(mislabelled)?.hasPrefix("bad signature") == true, "\(mislabelled)")

        let sha1 = try SSHSignatureFormat.verify(message: message, signature: try sshsig("ssh-rsa", "sha1"),
                                                 keys: Self.signers(allowedText), options: options)
        #expect(SigTest.reason(sha1)?.hasPrefix("unsupported algorithm: ssh-rsa signatures use SHA-1") == true, "\(sha1)")
    }

    @Test func shortRSAKeysAreRefused() throws {
        guard let keygen = SigTest.tool("ssh-keygen", package: "openssh-client") else { return }
        let dir = try BouncerProcess.temporaryDirectory("sshsig-rsa1024").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let key = try SSHKey.make(keygen, in: dir, name: "small", type: "rsa", bits: 1024)
        try SigTest.write(Array("x".utf8), "\(dir)/x")
        let signature = try key.sign(keygen, message: "x", namespace: "file")
        let report = try SSHSignatureFormat.verify(message: Array("x".utf8), signature: signature,
                                                   keys: Self.signers("alice@example.com \(key.pub)\n"),
                                                   options: SignatureOptions(identity: "alice@example.com", namespace: "file"))
        #expect(SigTest.reason(report)?.contains("shorter than 2048 bits") == true, "\(report)")
    }

    /// allowed_signers options and patterns, each verdict cross-checked with `ssh-keygen -Y verify`.
    @Test func allowedSignersOptionsAgreeWithSSHKeygen() throws {
        guard let keygen = SigTest.tool("ssh-keygen", package: "openssh-client") else { return }
        let dir = try BouncerProcess.temporaryDirectory("sshsig-options").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let key = try SSHKey.make(keygen, in: dir, name: "k", type: "ed25519", bits: nil)
        let message = Array("list\n".utf8)
        try SigTest.write(message, "\(dir)/list")
        let signature = try key.sign(keygen, message: "list", namespace: "file")
        let k = key.pub
        // (allowed_signers text, principal, expected reason prefix or nil for a pass)
        let cases: [(String, String, String?)] = [
            ("alice@example.com \(k)", "alice@example.com", nil),
            ("# release keys\n\n   alice@example.com \(k)\n", "alice@example.com", nil),
            ("*@example.com \(k)", "alice@example.com", nil),
            ("al?ce@example.com \(k)", "alice@example.com", nil),
            ("bob@example.com,alice@example.com \(k)", "alice@example.com", nil),
            ("\"bob@example.com,alice@example.com\" \(k)", "alice@example.com", nil),
            ("!alice@example.com,*@example.com \(k)", "alice@example.com", "principal not allowed"),
            ("bob@example.com \(k)", "alice@example.com", "principal not allowed"),
            ("alice@example.com namespaces=\"git,file\" \(k)", "alice@example.com", nil),
            ("alice@example.com NAMESPACES=\"f*\" \(k)", "alice@example.com", nil),
            ("alice@example.com namespaces=\"git\" \(k)", "alice@example.com", "namespace not allowed"),
            ("alice@example.com namespaces=\"git\" \(k)\nalice@example.com \(k)", "alice@example.com", nil),
            ("alice@example.com valid-before=\"20200101\" \(k)", "alice@example.com", "key expired"),
            ("alice@example.com valid-after=\"29990101Z\" \(k)", "alice@example.com", "key not yet valid"),
            ("alice@example.com valid-after=\"20200101\",valid-before=\"299912312359Z\" \(k)", "alice@example.com", nil),
            ("alice@example.com cert-authority \(k)", "alice@example.com", "certificates not supported"),
        ]
        for (text, principal, expected) in cases {
            let report = try SSHSignatureFormat.verify(message: message, signature: signature, keys: Self.signers(text + "\n"),
                                                       options: SignatureOptions(identity: principal, namespace: "file"))
            if let expected {
                #expect(SigTest.reason(report)?.hasPrefix(expected) == true, "\(text): \(report)")
            } else {
                #expect(report.passed, "\(text): \(report)")
            }
            try SigTest.write(Array((text + "\n").utf8), "\(dir)/allowed_signers")
            let openssh = try BouncerProcess.runProgram(keygen, ["-Y", "verify", "-f", "allowed_signers", "-I", principal,
                                                                 "-n", "file", "-s", "list.sig"], cwd: dir, stdin: Data(message))
            #expect((openssh.status == 0) == report.passed, "ssh-keygen disagrees on '\(text)': \(openssh.err)")
        }
    }
}
