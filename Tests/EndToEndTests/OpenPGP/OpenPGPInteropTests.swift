import Foundation
import Testing
import BouncerTestSupport

/// Keys and signatures made by the real GnuPG at test time, verified by
/// bouncer; then one flipped byte in the file, the list and the signature,
/// and the wrong key, must each be refused (exit 1) with a specific reason.
@Suite(.blocking) struct OpenPGPInteropTests {
    static let algorithms = ["rsa2048", "rsa3072", "nistp256", "nistp384", "nistp521", "ed25519"]

    static let message = """
        bouncer interop message
        trailing blanks here   \t
        - a line starting with a dash
        -----BEGIN PGP SIGNATURE----- lookalike inside the text
        last line without newline
        """

    @Test(arguments: algorithms)
    func signAndVerify(_ algorithm: String) throws {
        guard GnuPG.available else { print("NOTICE: OpenPGP interop skipped: gpg is not installed"); return }
        let gpg = try GnuPG()
        let email = "\(algorithm)@example.org"
        let fpr = try gpg.generate(email, algorithm: algorithm)
        try gpg.generate("other@example.org", algorithm: "ed25519")
        let key = try gpg.export(email, to: "key.gpg")
        let armoredKey = try gpg.export(email, to: "key.asc", armor: true)
        let wrongKey = try gpg.export("other@example.org", to: "other.gpg")
        let file = try gpg.write("artifact.txt", Self.message)

        try gpg.sign(email, file, "binary.sig", ["--detach-sign"])
        try gpg.sign(email, file, "text.asc", ["--detach-sign", "--textmode", "--armor"])
        try gpg.sign(email, file, "clear.asc", ["--clearsign"])

        for (signature, keyFile) in [("binary.sig", key), ("text.asc", armoredKey)] {
            let ok = try BouncerProcess.run(["verify-signature", file, "--signature", gpg.file(signature), "--key", keyFile, "--json"])
            #expect(ok.status == 0, "\(algorithm) \(signature): \(ok.out) \(ok.err)")
            #expect(verifiedSigners(ok) == [fpr])
            #expect(jsonObject(ok)["verdict"] as? String == "pass")
        }
        let clear = try BouncerProcess.run(["verify-signature", gpg.file("clear.asc"), "--key", key, "--json"])
        #expect(clear.status == 0, "\(algorithm) cleartext: \(clear.out) \(clear.err)")
        #expect(verifiedSigners(clear) == [fpr])

        // Several key files, and one armored file holding two key blocks: the signer is found in either.
        let several = try BouncerProcess.run(["verify-signature", file, "--signature", gpg.file("binary.sig"), "--key", wrongKey, "--key", key])
        #expect(several.status == 0, "\(several.err)")
        let otherArmored = try gpg.export("other@example.org", to: "other.asc", armor: true)
        let bundle = try gpg.write("bundle.asc", "comment line before the blocks\n"
            + (try String(contentsOfFile: otherArmored, encoding: .utf8)) + "\n" + (try String(contentsOfFile: armoredKey, encoding: .utf8)))
        let bundled = try BouncerProcess.run(["verify-signature", file, "--signature", gpg.file("binary.sig"), "--key", bundle])
        #expect(bundled.status == 0, "\(bundled.err)")
        // A key file that is not OpenPGP is a configuration error in `verify` too.
        let notAKey = try gpg.write("not-a-key.txt", "hello\n")
        let list = try gpg.write("SUMS", "\(String(repeating: "0", count: 64))  artifact.txt\n")
        try gpg.sign(email, list, "SUMS.sig", ["--detach-sign"])
        let badKey = try BouncerProcess.run(["verify", file, "--checksums", list, "--signature", gpg.file("SUMS.sig"), "--key", notAKey])
        #expect(badKey.status == 2, "\(badKey.err)")
        #expect(badKey.err.contains("not-a-key.txt"), "\(badKey.err)")

        // Wrong key: the signer is not in the keyring, and the refusal names it.
        let wrong = try BouncerProcess.run(["verify-signature", file, "--signature", gpg.file("binary.sig"), "--key", wrongKey])
        #expect(wrong.status == 1)
        #expect(wrong.err.contains("signing key \(fpr) is not in the trusted keyring (\(wrongKey))"), "\(wrong.err)")
        let wrongJSON = try BouncerProcess.run(["verify-signature", file, "--signature", gpg.file("binary.sig"), "--key", wrongKey, "--json"])
        #expect(wrongJSON.status == 1)
        expectNotInKeyring(wrongJSON, signers: [fpr])

        // A flipped byte in the signature value (the last byte of the packet).
        let badSig = gpg.file("binary-flipped.sig")
        try FileManager.default.copyItem(atPath: gpg.file("binary.sig"), toPath: badSig)
        try flipByte(badSig, at: -1)
        let flippedSig = try BouncerProcess.run(["verify-signature", file, "--signature", badSig, "--key", key])
        #expect(flippedSig.status == 1)
        #expect(flippedSig.err.contains("BAD signature from key"), "\(flippedSig.err)")

        // A flipped byte in the signed file: binary and text signatures both fail.
        try flipByte(file, at: 3)
        for signature in ["binary.sig", "text.asc"] {
            let tampered = try BouncerProcess.run(["verify-signature", file, "--signature", gpg.file(signature), "--key", key])
            #expect(tampered.status == 1)
            #expect(tampered.err.contains("BAD signature from key \(fpr)"), "\(tampered.err)")
        }

        // A flipped byte inside the cleartext-signed text.
        try replaceText(gpg.file("clear.asc"), "interop", "interOp")
        let tamperedClear = try BouncerProcess.run(["verify-signature", gpg.file("clear.asc"), "--key", key])
        #expect(tamperedClear.status == 1)
        #expect(tamperedClear.err.contains("BAD signature"), "\(tamperedClear.err)")
    }

    /// Signed checksum lists: clearsigned and detached, then a flipped digit in the list.
    @Test(arguments: algorithms)
    func signedChecksumList(_ algorithm: String) throws {
        guard GnuPG.available else { print("NOTICE: OpenPGP interop skipped: gpg is not installed"); return }
        let gpg = try GnuPG()
        let email = "\(algorithm)@example.org"
        let fpr = try gpg.generate(email, algorithm: algorithm)
        try gpg.generate("other@example.org", algorithm: "ed25519")
        let key = try gpg.export(email, to: "key.gpg")
        let wrongKey = try gpg.export("other@example.org", to: "other.gpg")
        let artifact = try gpg.write("app-1.0.tar.gz", String(repeating: "payload ", count: 5000))
        let sums = try BouncerProcess.runProgram("/usr/bin/sha256sum", ["app-1.0.tar.gz"], cwd: gpg.work.path)
        let list = try gpg.write("SHA256SUMS", sums.out)
        try gpg.sign(email, list, "SHA256SUMS.asc", ["--clearsign"])
        try gpg.sign(email, list, "SHA256SUMS.sig", ["--detach-sign"])

        let clear = try BouncerProcess.run(["verify", artifact, "--checksums", gpg.file("SHA256SUMS.asc"), "--key", key, "--json"])
        #expect(clear.status == 0, "\(clear.out) \(clear.err)")
        let evidence = (jsonObject(clear)["evidence"] as? [[String: Any]])?.first
        #expect(evidence?["kind"] as? String == "checksums")
        #expect(evidence?["proves"] as? [String] == ["integrity", "origin"])
        #expect((evidence?["details"] as? [String: String])?["signer"] == "openpgp key \(fpr)")

        let detached = try BouncerProcess.run(["verify", artifact, "--checksums", list, "--signature", gpg.file("SHA256SUMS.sig"), "--key", key, "--json"])
        #expect(detached.status == 0, "\(detached.out) \(detached.err)")
        #expect(verifiedSigners(detached) == [fpr])

        let wrong = try BouncerProcess.run(["verify", artifact, "--checksums", gpg.file("SHA256SUMS.asc"), "--key", wrongKey])
        #expect(wrong.status == 1)
        #expect(wrong.err.contains("signing key \(fpr) is not in the trusted keyring"), "\(wrong.err)")
        let wrongJSON = try BouncerProcess.run(["verify", artifact, "--checksums", list, "--signature", gpg.file("SHA256SUMS.sig"),
                                                "--key", wrongKey, "--json"])
        #expect(wrongJSON.status == 1)
        expectNotInKeyring(wrongJSON, signers: [fpr])

        // --key with an unsigned list and no --signature is a usage error.
        let unsigned = try BouncerProcess.run(["verify", artifact, "--checksums", list, "--key", key])
        #expect(unsigned.status == 2, "\(unsigned.err)")

        // One flipped hex digit in the list: the detached and clearsigned signatures fail.
        let digit = String(sums.out.prefix(1))
        let other = digit == "0" ? "1" : "0"
        try replaceText(list, String(sums.out.prefix(8)), other + String(sums.out.prefix(8).dropFirst()))
        try replaceText(gpg.file("SHA256SUMS.asc"), String(sums.out.prefix(8)), other + String(sums.out.prefix(8).dropFirst()))
        for args in [["--checksums", list, "--signature", gpg.file("SHA256SUMS.sig")], ["--checksums", gpg.file("SHA256SUMS.asc")]] {
            let tampered = try BouncerProcess.run(["verify", artifact] + args + ["--key", key])
            #expect(tampered.status == 1)
            #expect(tampered.err.contains("BAD signature from key"), "\(tampered.err)")
        }

        // A flipped byte in the artifact: the signed list still verifies, the digest does not.
        let fresh = try gpg.write("SHA256SUMS2", sums.out)
        try gpg.sign(email, fresh, "SHA256SUMS2.asc", ["--clearsign"])
        try flipByte(artifact, at: 100)
        let badFile = try BouncerProcess.run(["verify", artifact, "--checksums", gpg.file("SHA256SUMS2.asc"), "--key", key, "--name", "app-1.0.tar.gz"])
        #expect(badFile.status == 1)
        #expect(badFile.err.contains("sha256 of 'app-1.0.tar.gz' is"), "\(badFile.err)")
    }

    /// A clearsigned .dsc: its Checksums-Sha256 lines (hash, size, name)
    /// verify the source tarball, size included.
    @Test func clearsignedDsc() throws {
        guard GnuPG.available else { print("NOTICE: OpenPGP interop skipped: gpg is not installed"); return }
        let gpg = try GnuPG()
        let fpr = try gpg.generate("uploader@example.org", algorithm: "ed25519")
        let key = try gpg.export("uploader@example.org", to: "uploader.gpg")
        let tarball = try gpg.write("pkg_1.0.orig.tar.xz", String(repeating: "source ", count: 3000))
        let hash = String(try BouncerProcess.run(["hash", tarball]).out.prefix(64))
        let dsc = try gpg.write("pkg_1.0-1.dsc", """
            Format: 3.0 (quilt)
            Source: pkg
            Version: 1.0-1
            Checksums-Sha256:
             \(hash) 21000 pkg_1.0.orig.tar.xz
            Files:
             00000000000000000000000000000000 21000 pkg_1.0.orig.tar.xz

            """)
        try gpg.sign("uploader@example.org", dsc, "pkg_1.0-1.dsc.asc", ["--clearsign"])
        let ok = try BouncerProcess.run(["verify", tarball, "--checksums", gpg.file("pkg_1.0-1.dsc.asc"), "--key", key, "--json"])
        #expect(ok.status == 0, "\(ok.out) \(ok.err)")
        #expect(verifiedSigners(ok) == [fpr])
        // One more byte: the size check refuses it before any digest.
        try Data(String(repeating: "source ", count: 3000).utf8 + [0x0a]).write(to: URL(fileURLWithPath: tarball))
        let bad = try BouncerProcess.run(["verify", tarball, "--checksums", gpg.file("pkg_1.0-1.dsc.asc"), "--key", key])
        #expect(bad.status == 1)
        #expect(bad.err.contains("is 21001 bytes, but"), "\(bad.err)")
    }

    /// A file larger than the read chunk, with a CRLF split across the chunk
    /// boundary: binary and text signatures verify in the streaming path,
    /// and the reported sha256 is that of the file.
    @Test func largeFileStreaming() throws {
        guard GnuPG.available else { print("NOTICE: OpenPGP interop skipped: gpg is not installed"); return }
        let gpg = try GnuPG()
        let fpr = try gpg.generate("big@example.org", algorithm: "ed25519")
        let key = try gpg.export("big@example.org", to: "big.gpg")
        var bytes = [UInt8](repeating: UInt8(ascii: "x"), count: (3 << 20) + 17)
        for index in stride(from: 100, to: bytes.count, by: 997) { bytes[index] = 0x0a }
        bytes[(1 << 20) - 1] = 0x0d; bytes[1 << 20] = 0x0a      // CRLF across the first chunk boundary
        bytes[(2 << 20) - 1] = 0x0d                             // a lone CR at the second boundary
        bytes[bytes.count - 1] = 0x0d                           // and a CR at the very end
        let file = gpg.file("big.bin")
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        try gpg.sign("big@example.org", file, "big.sig", ["--detach-sign"])
        try gpg.sign("big@example.org", file, "big.txt.sig", ["--detach-sign", "--textmode"])
        let expected = String(try BouncerProcess.runProgram("/usr/bin/sha256sum", [file]).out.prefix(64))
        // Small line-ending corner cases, signed in text mode by gpg.
        for (index, text) in ["xx\r", "a\r\r\nb", "a\r\rb\n", "\r\n\n\r", "ab \t\r\n"].enumerated() {
            let small = gpg.file("small\(index).txt")
            try Data(text.utf8).write(to: URL(fileURLWithPath: small))
            try gpg.sign("big@example.org", small, "small\(index).sig", ["--detach-sign", "--textmode"])
            let result = try BouncerProcess.run(["verify-signature", small, "--signature", gpg.file("small\(index).sig"), "--key", key])
            #expect(result.status == 0, "\(text.debugDescription): \(result.err)")
        }
        for signature in ["big.sig", "big.txt.sig"] {
            let result = try BouncerProcess.run(["verify-signature", file, "--signature", gpg.file(signature), "--key", key, "--json"])
            #expect(result.status == 0, "\(signature): \(result.err)")
            #expect(verifiedSigners(result) == [fpr])
            let artifact = jsonObject(result)["artifact"] as? [String: Any]
            #expect(artifact?["sha256"] as? String == expected)
            #expect((artifact?["size"] as? Int) == bytes.count)
        }
    }
}
