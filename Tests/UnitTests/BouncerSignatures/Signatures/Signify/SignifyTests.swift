import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools
import BouncerTestSupport

@Suite struct SignifyTests {
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func corpusCasesGetTheirExpectedVerdict() throws {
        guard Corpus.rootOrNotice("SignifyTests.corpus") != nil else { return }
        let cases = Corpus.cases(format: "signify")
        var ran = Set<String>()
        defer { SigTest.expectAllRan(ran, format: "signify", count: 2) }
        for directory in cases {
            ran.insert(directory.lastPathComponent)
            let corpusCase = try CorpusCase.load(directory)
            let keys = try (corpusCase.trust ?? []).map { try SigTest.key(corpusCase.path($0)) }
            let signature = try SigTest.bytes(corpusCase.path(corpusCase.signature ?? ""))
            #expect(SignifyFormat.recognises(signature: signature))
            #expect(!MinisignFormat.recognises(signature: signature))
            let report = try SignifyFormat.verify(
                message: try SigTest.bytes(corpusCase.path(corpusCase.artifact ?? "")),
                signature: signature, keys: keys, options: SignatureOptions())
            if corpusCase.expect == "pass" {
                #expect(SigTest.fact(report)?.format == "signify", "\(corpusCase.name) should pass: \(report)")
            } else {
                // The one fail case reuses another message's signature.
                #expect(SigTest.reason(report)?.hasPrefix("bad signature: the signature does not match the file") == true,
                        "\(corpusCase.name) should fail: \(corpusCase.why ?? "") \(report)")
            }
        }
    }

    @Test func interopWithSignifyOpenBSD() throws {
        guard let signify = SigTest.tool("signify-openbsd", package: "signify-openbsd") else { return }
        let dir = try BouncerProcess.temporaryDirectory("signify").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try SigTest.run(signify, ["-G", "-n", "-p", "k.pub", "-s", "k.sec"], cwd: dir)
        try SigTest.run(signify, ["-G", "-n", "-p", "other.pub", "-s", "other.sec"], cwd: dir)
        let message = Array("SHA256 (app.tar.gz) = 0123\n".utf8)
        try SigTest.write(message, "\(dir)/SHA256")
        try SigTest.run(signify, ["-S", "-s", "k.sec", "-m", "SHA256", "-x", "SHA256.sig"], cwd: dir)
        let signature = try SigTest.bytes("\(dir)/SHA256.sig")
        let key = try SigTest.key("\(dir)/k.pub")
        let keyNumber = Base64.decode(SigTest.lines(key.bytes)[1]).map { SignatureText.upperHex(Array($0[2..<10])) }

        let good = try SignifyFormat.verify(message: message, signature: signature, keys: [key], options: SignatureOptions())
        let fact = try #require(SigTest.fact(good), "\(good)")
        #expect(fact.signer == keyNumber)
        #expect(SignifyFormat.recognises(signature: signature))

        var flipped = message
        flipped[0] ^= 0x20
        let badFile = try SignifyFormat.verify(message: flipped, signature: signature, keys: [key], options: SignatureOptions())
        #expect(SigTest.reason(badFile)?.hasPrefix("bad signature") == true, "\(badFile)")

        let badSig = SigTest.editBase64Line(signature, line: 1) { $0[40] ^= 0x01 }
        let badSigReport = try SignifyFormat.verify(message: message, signature: badSig, keys: [key], options: SignatureOptions())
        #expect(SigTest.reason(badSigReport)?.hasPrefix("bad signature") == true, "\(badSigReport)")

        let other = try SigTest.key("\(dir)/other.pub")
        let wrongKey = try SignifyFormat.verify(message: message, signature: signature, keys: [other], options: SignatureOptions())
        #expect(SigTest.reason(wrongKey)?.contains("checked against wrong key") == true, "\(wrongKey)")
        #expect(try SignifyFormat.verify(message: message, signature: signature, keys: [other, key],
                                         options: SignatureOptions()).passed)

        // The signer's key number put on another key: the key number matches, the signature cannot.
        let impostor = SigTest.editBase64Line(other.bytes, line: 1) { raw in
            if let real = Base64.decode(SigTest.lines(key.bytes)[1]), real.count == 42 {
                raw.replaceSubrange(2..<10, with: real[2..<10])
            }
        }
        let impostorReport = try SignifyFormat.verify(message: message, signature: signature,
                                                      keys: [KeyMaterial(path: "impostor.pub", bytes: impostor)],
                                                      options: SignatureOptions())
        #expect(SigTest.reason(impostorReport)?.hasPrefix("bad signature") == true, "\(impostorReport)")

        // An embedded (-e) signature carries the message; a detached check refuses it.
        try SigTest.run(signify, ["-S", "-e", "-s", "k.sec", "-m", "SHA256", "-x", "SHA256.embedded"], cwd: dir)
        let embedded = try SignifyFormat.verify(message: message, signature: try SigTest.bytes("\(dir)/SHA256.embedded"),
                                                keys: [key], options: SignatureOptions())
        #expect(SigTest.reason(embedded)?.contains("embedded signatures are not supported") == true, "\(embedded)")
    }

    /// signify and minisign share the key layout and the legacy `Ed` signature.
    @Test func minisignKeysWorkForSignify() throws {
        guard let minisign = SigTest.tool("minisign", package: "minisign"),
              let signify = SigTest.tool("signify-openbsd", package: "signify-openbsd") else { return }
        let dir = try BouncerProcess.temporaryDirectory("signify-minisign").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try SigTest.run(minisign, ["-G", "-W", "-p", "m.pub", "-s", "m.key"], cwd: dir)
        try SigTest.run(signify, ["-G", "-n", "-p", "s.pub", "-s", "s.sec"], cwd: dir)
        let message = Array("hello\n".utf8)
        try SigTest.write(message, "\(dir)/msg")
        try SigTest.run(signify, ["-S", "-s", "s.sec", "-m", "msg", "-x", "msg.sig"], cwd: dir)
        // A signify public key is accepted as a minisign key file too; the
        // signature file itself is not minisign (no trusted comment).
        let report = try MinisignFormat.verify(message: message, signature: try SigTest.bytes("\(dir)/msg.sig"),
                                               keys: [try SigTest.key("\(dir)/s.pub")], options: SignatureOptions())
        #expect(SigTest.reason(report)?.contains("expected 4 lines") == true, "\(report)")
        let viaSignify = try SignifyFormat.verify(message: message, signature: try SigTest.bytes("\(dir)/msg.sig"),
                                                  keys: [try SigTest.key("\(dir)/m.pub"), try SigTest.key("\(dir)/s.pub")],
                                                  options: SignatureOptions())
        #expect(viaSignify.passed)
    }

    @Test func hostileInput() throws {
        let key = KeyMaterial(path: "k", bytes: Array(MinisignTests.sampleKey.utf8))
        let sig = Base64.encode(Array("Ed".utf8) + [UInt8](repeating: 9, count: 72))
        let cases: [(String, String)] = [
            ("", "expected 2 lines"),
            ("untrusted comment: x\n", "expected 2 lines"),
            ("comment: x\n\(sig)\n", "line 1"),
            ("untrusted comment: x\n\(sig.dropLast(4))\n", "decodes to"),
            ("untrusted comment: x\n\(sig) \n", "not valid base64"),
            ("untrusted comment: x\n\(Base64.encode(Array("EC".utf8) + [UInt8](repeating: 9, count: 72)))\n", "unsupported algorithm"),
            ("untrusted comment: x\n\u{ff}\u{fe}\n", "not valid base64"),
            (String(repeating: "A", count: 5000), "larger than"),
        ]
        for (text, expected) in cases {
            let report = try SignifyFormat.verify(message: [], signature: Array(text.utf8), keys: [key], options: SignatureOptions())
            let reason = SigTest.reason(report)
            #expect(reason?.hasPrefix("malformed signify signature") == true && reason?.contains(expected) == true,
                    "\(text.prefix(50)) -> \(report)")
        }
        do {
            _ = try SignifyFormat.verify(message: [], signature: [], keys: [KeyMaterial(path: "allowed_signers",
                bytes: Array("a@b ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIlizSIN3DQV78VPNjVvvwjgf+P5HqbPYCYu3BOMdjAE\n".utf8))],
                options: SignatureOptions())
            Issue.record("an allowed_signers file was accepted as a signify key")
        } catch let error as BouncerError {
            #expect(error.family == .configuration && error.code == "signify-key-invalid")
            #expect(error.message.contains("allowed_signers"))
        }
    }
}
