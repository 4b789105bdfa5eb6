import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools
import BouncerTestSupport

/// Malformed, truncated and hostile SSH signatures and allowed_signers files:
/// a refusal or a configuration error with a clear message, never a crash.
@Suite struct SSHSignatureHostileTests {
    static let edKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIlizSIN3DQV78VPNjVvvwjgf+P5HqbPYCYu3BOMdjAE"
    static let options = SignatureOptions(identity: "alice@example.com", namespace: "file")
    static let signers = [KeyMaterial(path: "allowed_signers", bytes: Array("alice@example.com \(edKey)\n".utf8))]

    static func string(_ text: String) -> [UInt8] { SSHWireReader.encodeString(Array(text.utf8)) }

    /// An SSHSIG blob with the given parts (the signature content is junk).
    static func blob(magic: String = "SSHSIG", version: [UInt8] = [0, 0, 0, 1], key: [UInt8]? = nil,
                     namespace: String = "file", hash: String = "sha512", signature: [UInt8]? = nil,
                     trailing: [UInt8] = []) -> [UInt8] {
        let keyBlob = key ?? Base64.decode(String(edKey.split(separator: " ")[1])) ?? []
        let sig = signature ?? string("ssh-ed25519") + SSHWireReader.encodeString([UInt8](repeating: 1, count: 64))
        return Array(magic.utf8) + version + SSHWireReader.encodeString(keyBlob) + string(namespace)
            + SSHWireReader.encodeString([]) + string(hash) + SSHWireReader.encodeString(sig) + trailing
    }

    static func verify(_ signature: [UInt8], message: [UInt8] = []) throws -> SignatureReport {
        try SSHSignatureFormat.verify(message: message, signature: signature, keys: signers, options: options)
    }

    @Test func requiredInputsAreConfigurationErrors() throws {
        let armored = SSHSignatureInteropTests.armor(Self.blob())
        for (options, code) in [(SignatureOptions(namespace: "file"), "ssh-identity-required"),
                                (SignatureOptions(identity: "", namespace: "file"), "ssh-identity-required"),
                                (SignatureOptions(identity: "alice@example.com"), "ssh-namespace-required")] {
            #expect(throws: BouncerError(.configuration, code: code, "")) {
                try SSHSignatureFormat.verify(message: [], signature: armored, keys: Self.signers, options: options)
            }
        }
        #expect(throws: BouncerError(.configuration, code: "ssh-no-allowed-signers", "")) {
            try SSHSignatureFormat.verify(message: [], signature: armored, keys: [], options: Self.options)
        }
    }

    @Test func malformedBlobsAreRefusedWithAReason() throws {
        let ok = Self.blob()
        let armor = SSHSignatureInteropTests.armor
        var hugeLength = ok
        hugeLength.replaceSubrange(10..<14, with: [0xff, 0xff, 0xff, 0xf0]) // the public key's length
        let cases: [([UInt8], String)] = [
            ([], "does not start with"),
            (Array("hello".utf8), "does not start with"),
            (Array("-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n".utf8), "no '-----END SSH SIGNATURE-----'"),
            (Array("-----BEGIN SSH SIGNATURE-----\n!!!!\n-----END SSH SIGNATURE-----\n".utf8), "not valid base64"),
            (armor(ok) + Array("junk\n".utf8), "unexpected text after"),
            (armor(Self.blob(magic: "SSHSIH")), "does not start with 'SSHSIG'"),
            (armor(Self.blob(version: [0, 0, 0, 2])), "unsupported SSHSIG version 2"),
            (armor(hugeLength), "past the end"),
            (armor(Self.blob(trailing: [0])), "unexpected bytes after the signature"),
            (armor(Self.blob(namespace: "")), "namespace is empty"),
            (armor(Self.blob(namespace: "fi\u{0}le")), "not printable"),
            (armor(Self.blob(hash: "md5")), "unsupported algorithm: hash 'md5'"),
            (armor(Self.blob(key: Self.string("ssh-dss") + Self.string("p"))), "unsupported algorithm: ssh-dss"),
            (armor(Self.blob(key: Self.string("ssh-ed25519-cert-v01@openssh.com"))), "SSH certificates are not supported"),
            (armor(Self.blob(key: Self.string("ssh-ed25519") + SSHWireReader.encodeString([1, 2, 3]))), "malformed SSH signature: public key"),
            (armor(Self.blob(key: Self.string("ecdsa-sha2-nistp256") + Self.string("nistp384") + Self.string("x"))), "names curve"),
            (armor(Self.blob(key: Self.string("ecdsa-sha2-nistp256") + Self.string("nistp256") + SSHWireReader.encodeString([4] + [UInt8](repeating: 9, count: 64)))), "malformed SSH signature: public key"),
            (armor(Self.blob(signature: Self.string("ssh-rsa") + Self.string("x"))), "unsupported algorithm: signature type ssh-rsa does not match"),
            (armor(Self.blob(signature: Self.string("ssh-ed25519"))), "malformed SSH signature"),
            (armor(Self.blob(signature: [0, 0, 0])), "malformed SSH signature"),
            (Array(repeating: UInt8(ascii: "-"), count: 70_000), "larger than"),
        ]
        for (signature, expected) in cases {
            let report = try Self.verify(signature)
            #expect(SigTest.reason(report)?.contains(expected) == true, "\(expected): \(report)")
        }
    }

    /// Every truncation and thousands of random byte changes of a real
    /// signature: each is refused, none verifies, nothing traps.
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func truncationsAndMutationsOfRealSignatures() throws {
        var samples: [(signature: [UInt8], message: [UInt8], signers: [KeyMaterial], options: SignatureOptions)] = []
        if let keygen = SigTest.tool("ssh-keygen", package: "openssh-client") {
            let dir = try BouncerProcess.temporaryDirectory("sshsig-fuzz").path
            defer { try? FileManager.default.removeItem(atPath: dir) }
            for (type, bits) in [("ed25519", nil), ("ecdsa", 384), ("rsa", 2048)] as [(String, Int?)] {
                let key = try SSHSignatureInteropTests.SSHKey.make(keygen, in: dir, name: type, type: type, bits: bits)
                try SigTest.write(Array("m".utf8), "\(dir)/m")
                samples.append((try key.sign(keygen, message: "m", namespace: "file"), Array("m".utf8),
                                SSHSignatureInteropTests.signers("alice@example.com \(key.pub)\n"), Self.options))
            }
        }
        if Corpus.root() != nil {
            for name in ["openssh__ecdsa_sk_webauthn", "openssh__ed25519_sk", "openssh__ecdsa_sk"] {
                let dir = Corpus.cases(format: "sshsig").first { $0.lastPathComponent == name }
                guard let dir else { continue }
                let sig = try SigTest.bytes(dir.appendingPathComponent(name.replacingOccurrences(of: "openssh__", with: "") + ".sig").path)
                samples.append((sig, try SigTest.bytes(dir.appendingPathComponent("signed-data").path),
                                [try SigTest.key(dir.appendingPathComponent("allowed_signers").path)],
                                SignatureOptions(identity: "signer@example.invalid", namespace: "unittest")))
            }
        }
        var generator = TestRandom.generator()
        for sample in samples {
            let original = try SSHSignatureFormat.verify(message: sample.message, signature: sample.signature,
                                                         keys: sample.signers, options: sample.options)
            #expect(original.passed, "the unmodified sample must verify: \(original)")
            let blob = try SSHSignatureBlob.dearmor(sample.signature)
            var variants: [[UInt8]] = (0..<blob.count).map { Array(blob[0..<$0]) }
            for _ in 0..<1500 {
                // Distinct positions: two changes to one byte could cancel out
                // and leave the genuine signature, which rightly verifies.
                var mutated = blob
                var positions = Set<Int>()
                let changes = Int.random(in: 1...3, using: &generator)
                while positions.count < changes { positions.insert(Int.random(in: 0..<mutated.count, using: &generator)) }
                for index in positions.sorted() { mutated[index] ^= UInt8.random(in: 1...255, using: &generator) }
                variants.append(mutated)
            }
            for variant in variants {
                let report = try SSHSignatureFormat.verify(message: sample.message, signature: SSHSignatureInteropTests.armor(variant),
                                                           keys: sample.signers, options: sample.options)
                #expect(SigTest.reason(report) != nil, "a damaged signature was not refused: \(Base64.encode(variant))")
            }
        }
        #expect(samples.count >= 3)
    }

    @Test func invalidAllowedSignersAreConfigurationErrorsNamingTheLine() throws {
        let k = Self.edKey
        let cases: [(String, String)] = [
            ("", "no entries"),
            ("# only a comment\n\n", "no entries"),
            (k, "plain OpenSSH public key"),
            ("\(k) a comment", "plain OpenSSH public key"),
            ("alice@example.com", "expected principals"),
            ("alice@example.com ssh-ed25519 notbase64!", "no '<keytype> <base64 key>'"),
            ("alice@example.com ssh-rsa \(k.split(separator: " ")[1])", "no '<keytype> <base64 key>'"),
            ("alice@example.com no-touch-required \(k)", "unknown or malformed option"),
            ("alice@example.com namespaces=\"file \(k)", "unterminated double quote"),
            ("alice@example.com namespaces=\"\" \(k)", "empty or malformed value"),
            ("alice@example.com namespaces=\"a\",namespaces=\"b\" \(k)", "given twice"),
            ("alice@example.com valid-before=\"2020133\" \(k)", "invalid time"),
            ("alice@example.com valid-before=\"20200230\" \(k)", "invalid time"),
            ("alice@example.com valid-before=\"202001011260\" \(k)", "invalid time"),
            ("alice@example.com cert-authority=yes \(k)", "unknown or malformed option"),
            ("alice@example.com ,, \(k)", "empty option"),
            ("alice@example.com \(k)\nbob@example.com", "allowed_signers:2"),
            ("\u{ff}", "expected principals"),
        ]
        for (text, expected) in cases {
            do {
                _ = try AllowedSigners.parse(KeyMaterial(path: "allowed_signers", bytes: Array(text.utf8)))
                Issue.record("accepted '\(text)'")
            } catch {
                #expect(error.family == .configuration && error.code == "ssh-allowed-signers-invalid")
                #expect(error.message.contains(expected), "'\(text)': \(error.message)")
            }
        }
        let binary = KeyMaterial(path: "k.gpg", bytes: [0x99, 0x01, 0x0d, 0xff, 0xfe])
        do {
            _ = try SSHSignatureFormat.verify(message: [], signature: [], keys: [binary], options: Self.options)
            Issue.record("a binary keyring was accepted as allowed_signers")
        } catch let error as BouncerError {
            #expect(error.code == "ssh-allowed-signers-invalid" && error.message.contains("not UTF-8 text"), "\(error)")
        }
    }

    @Test func allowedSignersFields() throws {
        let text = "# team\n\"alice@example.com,*@ops.example.com\" NAMESPACES=\"file,git\",valid-after=\"20240101\",Valid-Before=\"203001021230Z\" \(Self.edKey) laptop key\n  bob@example.com\tcert-authority \(Self.edKey)\n"
        let parsed = try AllowedSigners.parse(KeyMaterial(path: "as", bytes: Array(text.utf8)))
        #expect(parsed.entries.count == 2)
        let first = try #require(parsed.entries.first)
        #expect(first.line == 2)
        #expect(first.principals == "alice@example.com,*@ops.example.com")
        #expect(first.namespaces == "file,git")
        #expect(first.validAfter == Date(timeIntervalSince1970: 1_704_067_200))
        #expect(first.validBefore == Date(timeIntervalSince1970: 1_893_587_400))
        #expect(!first.certAuthority)
        #expect(parsed.entries.last?.certAuthority == true)
        #expect(parsed.entries.last?.line == 3)
    }

    @Test func patterns() {
        #expect(SSHPatterns.listMatches("alice@example.com", list: "*@example.com"))
        #expect(SSHPatterns.listMatches("alice@example.com", list: "bob@x,a?ice@*"))
        #expect(!SSHPatterns.listMatches("alice@example.com", list: "!alice@*,*"))
        #expect(!SSHPatterns.listMatches("alice@example.com", list: "!bob@*"))
        #expect(!SSHPatterns.listMatches("alice@example.com", list: "alice@example"))
        #expect(!SSHPatterns.listMatches("alice@example.com", list: ""))
        #expect(SSHPatterns.matches([], Array("*".utf8)))
        #expect(!SSHPatterns.matches(Array("ab".utf8), Array("a".utf8)))
        // A pathological pattern finishes (no exponential backtracking).
        let text = [UInt8](repeating: UInt8(ascii: "a"), count: 5000)
        #expect(!SSHPatterns.matches(text, Array(String(repeating: "*a", count: 50).utf8) + [UInt8(ascii: "b")]))
    }
}
