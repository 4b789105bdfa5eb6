import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools
import BouncerTestSupport

@Suite struct MinisignTests {
    // MARK: - Corpus: every minisign case gets its expected verdict.

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func corpusCasesGetTheirExpectedVerdict() throws {
        guard Corpus.rootOrNotice("MinisignTests.corpus") != nil else { return }
        let cases = Corpus.cases(format: "minisign")
        var ran = Set<String>()
        defer { SigTest.expectAllRan(ran, format: "minisign", count: 7) }
        for directory in cases {
            ran.insert(directory.lastPathComponent)
            let corpusCase = try CorpusCase.load(directory)
            let extra = try SigCaseExtra.load(directory)
            let keys = try (corpusCase.trust ?? []).map { try SigTest.key(corpusCase.path($0)) }
            let report = try MinisignFormat.verify(
                message: try SigTest.bytes(corpusCase.path(corpusCase.artifact ?? "")),
                signature: try SigTest.bytes(corpusCase.path(corpusCase.signature ?? "")),
                keys: keys, options: SignatureOptions())
            if corpusCase.expect == "pass" {
                let fact = SigTest.fact(report)
                #expect(fact != nil, "\(corpusCase.name) should pass: \(report)")
                if let expected = extra?.trusted_comment {
                    #expect("trusted comment: " + (fact?.details["trustedComment"] ?? "") == expected, "\(corpusCase.name)")
                }
            } else {
                #expect(!report.passed, "\(corpusCase.name) should fail: \(corpusCase.why ?? "")")
                let expected = Self.failureReasons.first { corpusCase.name.hasSuffix($0.key) }?.value
                #expect(expected != nil, "\(corpusCase.name): no expected reason written down for this fail case")
                #expect(SigTest.reason(report)?.hasPrefix(expected ?? "bad signature") == true, "\(corpusCase.name): \(report)")
            }
        }
    }

    /// Each failing corpus case's reason, from what its manifest says was changed.
    static let failureReasons = [
        "tampered-file_fail": "bad signature: the signature does not match the file",            // a newline appended
        "wrong-file_fail": "bad signature: the signature does not match the file",               // another file's signature
        "tampered-trusted-comment_fail": "bad signature: the global signature over the trusted comment does not verify",
    ]

    // MARK: - Interop with the real minisign

    /// Signs with minisign (prehashed by default, legacy with -l) and checks
    /// the signature, then each kind of tampering.
    @Test(arguments: [false, true])
    func interop(legacy: Bool) throws {
        guard let minisign = SigTest.tool("minisign", package: "minisign") else { return }
        let dir = try BouncerProcess.temporaryDirectory("minisign").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try SigTest.run(minisign, ["-G", "-W", "-p", "k.pub", "-s", "k.key"], cwd: dir)
        try SigTest.run(minisign, ["-G", "-W", "-p", "other.pub", "-s", "other.key"], cwd: dir)
        let message = Array("release v1.2.3\nsha256 abc\n".utf8)
        try SigTest.write(message, "\(dir)/list")
        try SigTest.run(minisign, ["-S", "-s", "k.key", "-m", "list", "-t", "file:list\tversion:1.2.3"]
                        + (legacy ? ["-l"] : []), cwd: dir)
        let signature = try SigTest.bytes("\(dir)/list.minisig")
        let key = try SigTest.key("\(dir)/k.pub")
        // minisign names its key in the public key's comment: "minisign public key <ID>".
        let keyId = SigTest.lines(key.bytes)[0].split(separator: " ").last.map(String.init)

        let good = try MinisignFormat.verify(message: message, signature: signature, keys: [key], options: SignatureOptions())
        let fact = try #require(SigTest.fact(good), "\(good)")
        #expect(fact.format == "minisign")
        #expect(fact.signer == keyId)
        #expect(fact.details["trustedComment"] == "file:list\tversion:1.2.3")
        #expect(fact.details["algorithm"]?.hasPrefix(legacy ? "Ed " : "ED ") == true)
        #expect(MinisignFormat.recognises(signature: signature))
        #expect(!SignifyFormat.recognises(signature: signature))

        // One flipped byte in the file.
        var flipped = message
        flipped[3] ^= 0x01
        let badFile = try MinisignFormat.verify(message: flipped, signature: signature, keys: [key], options: SignatureOptions())
        #expect(SigTest.reason(badFile)?.hasPrefix("bad signature: the signature does not match the file") == true, "\(badFile)")

        // One flipped byte in the signature itself (inside the 64 signature bytes).
        let badSig = SigTest.editBase64Line(signature, line: 1) { $0[20] ^= 0x80 }
        let badSigReport = try MinisignFormat.verify(message: message, signature: badSig, keys: [key], options: SignatureOptions())
        #expect(SigTest.reason(badSigReport)?.hasPrefix("bad signature") == true, "\(badSigReport)")

        // The trusted comment edited: the file signature still holds, the global one does not.
        var lines = SigTest.lines(signature)
        lines[2] = "trusted comment: file:list\tversion:9.9.9"
        let badComment = try MinisignFormat.verify(message: message, signature: Array(lines.joined(separator: "\n").utf8),
                                                   keys: [key], options: SignatureOptions())
        #expect(SigTest.reason(badComment)?.contains("trusted comment was altered") == true, "\(badComment)")

        // The wrong key.
        let other = try SigTest.key("\(dir)/other.pub")
        let wrongKey = try MinisignFormat.verify(message: message, signature: signature, keys: [other], options: SignatureOptions())
        #expect(SigTest.reason(wrongKey)?.hasPrefix("wrong key") == true, "\(wrongKey)")
        // ...but the right one among several trusted keys is found.
        let both = try MinisignFormat.verify(message: message, signature: signature, keys: [other, key], options: SignatureOptions())
        #expect(both.passed)

        // A key file that claims the signer's key id but holds another key.
        let impostor = SigTest.editBase64Line(other.bytes, line: 1) { raw in
            let real = Base64.decode(SigTest.lines(key.bytes)[1]) ?? []
            if real.count == 42 { raw.replaceSubrange(2..<10, with: real[2..<10]) }
        }
        let impostorReport = try MinisignFormat.verify(message: message, signature: signature,
                                                       keys: [KeyMaterial(path: "impostor.pub", bytes: impostor)],
                                                       options: SignatureOptions())
        #expect(SigTest.reason(impostorReport)?.hasPrefix("bad signature") == true, "\(impostorReport)")

        // The signature swapped between algorithms (legacy <-> prehashed) no longer verifies.
        let swapped = SigTest.editBase64Line(signature, line: 1) { $0[1] = legacy ? UInt8(ascii: "D") : UInt8(ascii: "d") }
        let swappedReport = try MinisignFormat.verify(message: message, signature: swapped, keys: [key], options: SignatureOptions())
        #expect(SigTest.reason(swappedReport)?.hasPrefix("bad signature") == true, "\(swappedReport)")
    }

    /// A minisign key given inline (the base64 line alone) works like the file.
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func inlineKey() throws {
        guard Corpus.rootOrNotice("MinisignTests.inlineKey") != nil else { return }
        let dir = Corpus.cases(format: "minisign").first { $0.lastPathComponent == "dnscrypt__relays" }
        let directory = try #require(dir)
        let keyLine = SigTest.lines(try SigTest.bytes(directory.appendingPathComponent("minisign.pub").path))[1]
        let report = try MinisignFormat.verify(
            message: try SigTest.bytes(directory.appendingPathComponent("relays.md").path),
            signature: try SigTest.bytes(directory.appendingPathComponent("relays.md.minisig").path),
            keys: [KeyMaterial(path: "inline", bytes: Array(keyLine.utf8))], options: SignatureOptions())
        #expect(report.passed)
    }

    // MARK: - Hostile and malformed input

    static let sampleKey = "untrusted comment: minisign public key\nRWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3\n"

    @Test func keyFilesOfAnotherFormatAreConfigurationErrors() throws {
        let notKeys = [
            "",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIlizSIN3DQV78VPNjVvvwjgf+P5HqbPYCYu3BOMdjAE test",
            "untrusted comment: x\nnot base64!!\n",
            "untrusted comment: x\nRWQf6LRCGA9i53ml\n",               // too short
            "untrusted comment: x\r\nRWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3\rX\n",
            "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQ\n-----END PGP PUBLIC KEY BLOCK-----\n",
            String(repeating: "A", count: 100_000),
        ]
        for text in notKeys {
            do {
                _ = try MinisignFormat.verify(message: [], signature: [], keys: [KeyMaterial(path: "k", bytes: Array(text.utf8))],
                                              options: SignatureOptions())
                Issue.record("accepted a non-minisign key: \(text.prefix(40))")
            } catch let error as BouncerError {
                #expect(error.family == .configuration)
                #expect(error.code == "minisign-key-invalid")
            }
        }
        #expect(throws: BouncerError(.configuration, code: "minisign-no-key", "")) {
            try MinisignFormat.verify(message: [], signature: [], keys: [], options: SignatureOptions())
        }
    }

    @Test func malformedSignaturesAreRefusedWithAReason() throws {
        let key = KeyMaterial(path: "k", bytes: Array(Self.sampleKey.utf8))
        let goodLine = Base64.encode(Array("ED".utf8) + [UInt8](repeating: 7, count: 72))
        let global = Base64.encode([UInt8](repeating: 1, count: 64))
        let cases: [(String, String)] = [
            ("", "expected 4 lines"),
            ("untrusted comment: x\n", "expected 4 lines"),
            ("untrusted comment: x\n\(goodLine)\ntrusted comment: t\n", "expected 4 lines"),
            ("x\n\(goodLine)\ntrusted comment: t\n\(global)\n", "line 1"),
            ("untrusted comment: x\n\(goodLine)\nuntrusted comment: t\n\(global)\n", "line 3"),
            ("untrusted comment: x\n!!!!\ntrusted comment: t\n\(global)\n", "not valid base64"),
            ("untrusted comment: x\n\(Base64.encode(Array("Ex".utf8) + [UInt8](repeating: 7, count: 72)))\ntrusted comment: t\n\(global)\n", "unsupported algorithm"),
            ("untrusted comment: x\n\(Base64.encode([UInt8](repeating: 7, count: 73)))\ntrusted comment: t\n\(global)\n", "decodes to 73 bytes"),
            ("untrusted comment: x\n\(goodLine)\ntrusted comment: a\u{1b}[2Jb\n\(global)\n", "control characters"),
            ("untrusted comment: x\n\(goodLine)\ntrusted comment: \(String(repeating: "t", count: 9000))\n\(global)\n", "longer than"),
            ("untrusted comment: x\n\(goodLine)\ntrusted comment: t\r\n\(global)\rjunk\n", "carriage return"),
            ("untrusted comment: \(String(repeating: "u", count: 1025))\n\(goodLine)\ntrusted comment: t\n\(global)\n", "untrusted comment is longer"),
            (String(repeating: "untrusted comment: x\n", count: 2000), "larger than"),
        ]
        for (text, expected) in cases {
            let report = try MinisignFormat.verify(message: [1, 2, 3], signature: Array(text.utf8), keys: [key],
                                                   options: SignatureOptions())
            let reason = SigTest.reason(report)
            #expect(reason?.hasPrefix("malformed minisign signature") == true && reason?.contains(expected) == true,
                    "\(text.prefix(60)) -> \(report)")
        }
    }

    /// Random byte changes and truncations of real minisign and signify
    /// signatures: each is refused (or, when only the untrusted comment
    /// changed, still verifies), and nothing traps.
    @Test func mutationsOfRealSignatures() throws {
        guard let minisign = SigTest.tool("minisign", package: "minisign"),
              let signify = SigTest.tool("signify-openbsd", package: "signify-openbsd") else { return }
        let dir = try BouncerProcess.temporaryDirectory("minisign-fuzz").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try SigTest.run(minisign, ["-G", "-W", "-p", "m.pub", "-s", "m.key"], cwd: dir)
        try SigTest.run(signify, ["-G", "-n", "-p", "s.pub", "-s", "s.sec"], cwd: dir)
        let message = Array("data\n".utf8)
        try SigTest.write(message, "\(dir)/data")
        try SigTest.run(minisign, ["-S", "-s", "m.key", "-m", "data", "-t", "trusted"], cwd: dir)
        try SigTest.run(signify, ["-S", "-s", "s.sec", "-m", "data", "-x", "data.sig"], cwd: dir)
        let samples: [(String, [UInt8], KeyMaterial)] = [
            ("minisign", try SigTest.bytes("\(dir)/data.minisig"), try SigTest.key("\(dir)/m.pub")),
            ("signify", try SigTest.bytes("\(dir)/data.sig"), try SigTest.key("\(dir)/s.pub")),
        ]
        var generator = TestRandom.generator()
        for (format, signature, key) in samples {
            func verify(_ bytes: [UInt8]) throws -> SignatureReport {
                format == "minisign"
                    ? try MinisignFormat.verify(message: message, signature: bytes, keys: [key], options: SignatureOptions())
                    : try SignifyFormat.verify(message: message, signature: bytes, keys: [key], options: SignatureOptions())
            }
            #expect(try verify(signature).passed)
            // The first line is the untrusted comment: changing it may keep the signature valid.
            let commentEnd = (signature.firstIndex(of: 0x0a) ?? 0) + 1
            // Only dropping the final newline leaves the same lines.
            for length in 0..<signature.count - 1 {
                #expect(!(try verify(Array(signature[0..<length])).passed), "\(format) truncated to \(length)")
            }
            for _ in 0..<2000 {
                var mutated = signature
                let index = Int.random(in: commentEnd..<mutated.count - 1, using: &generator)
                mutated[index] ^= UInt8.random(in: 1...255, using: &generator)
                #expect(SigTest.reason(try verify(mutated)) != nil, "\(format): byte \(index) changed but still accepted")
            }
        }
    }

    @Test func blake2b512MatchesRFC7693() {
        // RFC 7693 Appendix A: BLAKE2b-512("abc").
        #expect(Hex.encode(Hasher.blake2b512(Array("abc".utf8))) ==
            "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923")
    }
}
