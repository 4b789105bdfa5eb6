import Foundation
import Testing
import BouncerTestSupport

/// Hostile inputs through the CLI: exit 1 (evidence) or 2 (local key file)
/// with a message naming what and where, never a crash.
@Suite(.blocking) struct OpenPGPHostileCLITests {
    static func corpusRelease() -> URL? {
        Corpus.rootOrNotice("OpenPGPHostileCLITests")?.appendingPathComponent("openpgp/debian__release-detached-textmode-from-inrelease")
    }

    func write(_ dir: URL, _ name: String, _ bytes: [UInt8]) throws -> String {
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func malformedSignatures() throws {
        guard let release = Self.corpusRelease() else { return }
        let dir = try BouncerProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let artifact = release.appendingPathComponent("Release").path
        let key = release.appendingPathComponent("debian-archive-keyring.gpg").path
        let armored = try String(contentsOf: release.appendingPathComponent("Release.asc"), encoding: .utf8)
        let base64 = armored.split(separator: "\n").filter { !$0.hasPrefix("-----") && !$0.hasPrefix("=") && !$0.isEmpty }.joined()
        guard let binary = Data(base64Encoded: base64).map([UInt8].init) else { Issue.record("corpus signature is not base64"); return }

        // Only the first of the two signatures, so the other cannot carry the verdict.
        let first = Array(binary.prefix(3 + (Int(binary[1]) << 8 | Int(binary[2]))))
        var unknownAlgorithm = first
        unknownAlgorithm[5] = 99      // public-key algorithm of the first packet (old format, 3-byte header)
        var unknownHash = first
        unknownHash[6] = 99
        // Hash algorithm 1 is MD5 (2 SHA-1): refused by name, naming the signing
        // (sub)key, whose key id 6ED0E7B82643E131 the corpus manifest lists.
        var md5 = first
        md5[6] = 1
        var sha1 = first
        sha1[6] = 2

        let cases: [(String, [UInt8], String)] = [
            ("truncated", Array(binary.prefix(40)), "declares 563 bytes but only 37 remain"),
            ("past-end", [0x89, 0x10, 0x00] + Array(binary[3..<50]), "declares 4096 bytes but only 47 remain"),
            ("huge", [0xC2, 0xFF, 0xFF, 0xFF, 0xFF, 0xF0, 0x04], "declares 4294967280 bytes"),
            ("not-a-signature", [0xCB, 0x03, 0x62, 0x00, 0x00], "not a signature"),
            ("unknown-algorithm", unknownAlgorithm, "public-key algorithm 99 signatures are not supported"),
            ("unknown-hash", unknownHash, "hash algorithm 99 is not supported"),
            ("md5", md5, "6ED0E7B82643E131: uses MD5, which is too weak to count for data signatures"),
            ("sha1", sha1, "uses SHA1, which is too weak to count for data signatures"),
            ("empty-armor", Array("-----BEGIN PGP SIGNATURE-----\n\n-----END PGP SIGNATURE-----\n".utf8), "no signature packet"),
            ("bad-crc", Array(armored.split(separator: "\n").map { $0.hasPrefix("=") ? "=AAAA" : String($0) }.joined(separator: "\n").utf8), "CRC-24"),
        ]
        for (name, bytes, expected) in cases {
            let signature = try write(dir, name + ".sig", bytes)
            let result = try BouncerProcess.run(["verify-signature", artifact, "--signature", signature, "--key", key])
            #expect(result.status == 1, "\(name): status \(result.status) \(result.err)")
            #expect(result.err.contains(expected), "\(name): \(result.err)")
        }
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func badKeyFilesAreConfigurationErrors() throws {
        guard let release = Self.corpusRelease() else { return }
        let dir = try BouncerProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let artifact = release.appendingPathComponent("Release").path
        let signature = release.appendingPathComponent("Release.asc").path
        let keyring = [UInt8](try Data(contentsOf: release.appendingPathComponent("debian-archive-keyring.gpg")))
        var keybox = [UInt8](repeating: 0, count: 32)
        keybox.replaceSubrange(8..<12, with: Array("KBXf".utf8))
        let cases: [(String, [UInt8], String)] = [
            ("garbage.gpg", Array("untrusted comment: minisign public key\nRWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3\n".utf8), "not a usable OpenPGP key file"),
            ("truncated.gpg", Array(keyring.prefix(300)), "declares"),
            ("keybox.kbx", keybox, "keybox"),
            ("empty.gpg", [], "no OpenPGP armor block or key packet"),
        ]
        for (name, bytes, expected) in cases {
            let key = try write(dir, name, bytes)
            let result = try BouncerProcess.run(["verify-signature", artifact, "--signature", signature, "--key", key])
            #expect(result.status == 2, "\(name): status \(result.status) \(result.err)")
            #expect(result.err.contains(name) && result.err.contains(expected), "\(name): \(result.err)")
        }
        let missing = try BouncerProcess.run(["verify-signature", artifact, "--signature", signature, "--key", "/nonexistent/key.gpg"])
        #expect(missing.status == 2)
        let noKey = try BouncerProcess.run(["verify-signature", artifact, "--signature", signature])
        #expect(noKey.status == 2)
        let noArtifact = try BouncerProcess.run(["verify-signature", "/nonexistent/file", "--signature", signature, "--key", "x"])
        #expect(noArtifact.status == 3)
    }

    /// InRelease with unsigned lines appended after the signature: the
    /// message is refused, and the injected entry is never used.
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func cleartextWithInjectedText() throws {
        guard let root = Corpus.rootOrNotice("OpenPGPHostileCLITests.injected") else { return }
        let caseDir = root.appendingPathComponent("checksum-list/debian__inrelease-wrong-packages_fail")
        let dir = try BouncerProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = caseDir.appendingPathComponent("debian-archive-keyring.gpg").path
        let evil = caseDir.appendingPathComponent("Packages.xz").path    // one byte longer than the signed entry
        let evilHash = try BouncerProcess.run(["hash", evil]).out.prefix(64)
        let size = (try FileManager.default.attributesOfItem(atPath: evil)[.size] as? Int) ?? 0
        var text = try String(contentsOf: caseDir.appendingPathComponent("InRelease"), encoding: .utf8)
        text += "SHA256:\n \(evilHash) \(size) main/binary-amd64/Packages.xz\n"
        let injected = try write(dir, "InRelease", Array(text.utf8))
        for args in [["verify-signature", injected, "--key", key],
                     ["verify", evil, "--checksums", injected, "--key", key, "--name", "main/binary-amd64/Packages.xz"]] {
            let result = try BouncerProcess.run(args)
            #expect(result.status == 1, "\(args[0]): \(result.err)")
            #expect(result.err.contains("text outside the armor block"), "\(result.err)")
        }
        // Text before the signed block, likewise.
        let prefixed = try write(dir, "InRelease2", Array(("SHA256:\n \(evilHash) \(size) main/binary-amd64/Packages.xz\n" +
            (try String(contentsOf: caseDir.appendingPathComponent("InRelease"), encoding: .utf8))).utf8))
        let before = try BouncerProcess.run(["verify", evil, "--checksums", prefixed, "--key", key, "--name", "main/binary-amd64/Packages.xz"])
        #expect(before.status == 1)
        #expect(before.err.contains("no text may precede"), "\(before.err)")
    }

    @Test func duplicateEntriesWithDifferentDigests() throws {
        let dir = try BouncerProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = try write(dir, "a.deb", Array("deb".utf8))
        let a = String(repeating: "a", count: 64), b = String(repeating: "b", count: 64)
        let packages = try write(dir, "Packages", Array("Package: a\nFilename: pool/a.deb\nSize: 3\nSHA256: \(a)\n\nPackage: a\nFilename: pool/a.deb\nSize: 3\nSHA256: \(b)\n".utf8))
        let result = try BouncerProcess.run(["verify", file, "--checksums", packages])
        #expect(result.status == 1)
        #expect(result.err.contains("listed twice with different digests"), "\(result.err)")
        let release = try write(dir, "Release", Array("Origin: x\nSHA256:\n \(a) 3 main/a.deb\n \(b) 3 main/a.deb\n".utf8))
        let second = try BouncerProcess.run(["verify", file, "--checksums", release, "--name", "main/a.deb"])
        #expect(second.status == 1)
        #expect(second.err.contains("listed twice"), "\(second.err)")
    }
}
