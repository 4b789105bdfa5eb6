import Foundation
import Testing
import BouncerTestSupport

/// Keys and signatures from Sequoia's `sq` (a second implementation): its
/// keys certify with the primary and sign with a subkey, so this exercises
/// subkey bindings and back-signatures made by another code base. (The
/// installed sq makes v4 keys only; v6 is covered by RFC 9580 vectors.)
@Suite(.blocking) struct SequoiaInteropTests {
    static let sq = "/usr/bin/sq"

    @Test(arguments: ["cv25519", "rsa3k", "rsa4k"])
    func signAndVerify(_ suite: String) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.sq) else { print("NOTICE: sq interop skipped: sq is not installed"); return }
        let dir = try BouncerProcess.temporaryDirectory("bouncer-sq")
        defer { try? FileManager.default.removeItem(at: dir) }
        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
        func sq(_ args: [String], to output: String? = nil) throws {
            let result = try BouncerProcess.runProgram(Self.sq, args, cwd: dir.path, environment: ["SEQUOIA_HOME": dir.path])
            guard result.status == 0 else { throw GnuPG.Failed(description: "sq \(args.joined(separator: " ")): \(result.err)") }
            if let output { try result.stdout.write(to: URL(fileURLWithPath: path(output))) }
        }
        try Data("sq interop\n- with a dash\ntrailing  \n".utf8).write(to: URL(fileURLWithPath: path("msg.txt")))
        try sq(["key", "generate", "--userid", "<\(suite)@example.org>", "--cipher-suite", suite, "--export", path("key.pgp")])
        try sq(["key", "extract-cert", path("key.pgp")], to: "key.cert")
        try sq(["key", "generate", "--userid", "<other@example.org>", "--export", path("other.pgp")])
        try sq(["key", "extract-cert", path("other.pgp")], to: "other.cert")
        try sq(["sign", "--detached", "--signer-key", path("key.pgp"), path("msg.txt")], to: "msg.sig")
        try sq(["sign", "--cleartext-signature", "--signer-key", path("key.pgp"), path("msg.txt")], to: "msg.clear")

        let detached = try BouncerProcess.run(["verify-signature", path("msg.txt"), "--signature", path("msg.sig"), "--key", path("key.cert"), "--json"])
        #expect(detached.status == 0, "\(suite): \(detached.err)")
        let clear = try BouncerProcess.run(["verify-signature", path("msg.clear"), "--key", path("key.cert"), "--json"])
        #expect(clear.status == 0, "\(suite): \(clear.err)")
        #expect(verifiedSigners(detached).count == 1 && verifiedSigners(detached) == verifiedSigners(clear))
        let details = ((jsonObject(detached)["signatures"] as? [[String: Any]])?.first?["details"]) as? [String: String]
        #expect(details?["signingKey"] != details?["fingerprint"], "sq signs with a subkey")

        let wrong = try BouncerProcess.run(["verify-signature", path("msg.txt"), "--signature", path("msg.sig"), "--key", path("other.cert")])
        #expect(wrong.status == 1)
        #expect(wrong.err.contains("not in the trusted keyring"), "\(wrong.err)")

        // A flipped byte in the signature value (the last byte of a binary signature).
        try sq(["sign", "--detached", "--binary", "--signer-key", path("key.pgp"), path("msg.txt")], to: "msg.bin.sig")
        // The signing subkey, as sq itself reads it from the signature.
        try sq(["packet", "dump", path("msg.bin.sig")], to: "msg.bin.dump")
        let dump = try String(contentsOfFile: path("msg.bin.dump"), encoding: .utf8)
        let issuer = try #require(dump.range(of: "Issuer Fingerprint: "), "sq packet dump: \(dump)")
        let signingKey = String(dump[issuer.upperBound...].prefix { $0.isHexDigit })
        #expect(details?["signingKey"] == signingKey)
        let binary = try BouncerProcess.run(["verify-signature", path("msg.txt"), "--signature", path("msg.bin.sig"), "--key", path("key.cert")])
        #expect(binary.status == 0, "\(suite): \(binary.err)")
        try flipByte(path("msg.bin.sig"), at: -1)
        let badSig = try BouncerProcess.run(["verify-signature", path("msg.txt"), "--signature", path("msg.bin.sig"), "--key", path("key.cert")])
        #expect(badSig.status == 1)
        #expect(badSig.err.contains("BAD signature from key \(signingKey)"), "\(suite): \(badSig.err)")

        // A signed checksum list, detached and cleartext, then one flipped hex digit in it.
        let hash = String(try BouncerProcess.run(["hash", path("msg.txt")]).out.prefix(64))
        try Data("\(hash)  msg.txt\n".utf8).write(to: URL(fileURLWithPath: path("SHA256SUMS")))
        try sq(["sign", "--detached", "--signer-key", path("key.pgp"), path("SHA256SUMS")], to: "SHA256SUMS.sig")
        try sq(["sign", "--cleartext-signature", "--signer-key", path("key.pgp"), path("SHA256SUMS")], to: "SHA256SUMS.asc")
        let listForms = [["--checksums", path("SHA256SUMS"), "--signature", path("SHA256SUMS.sig")], ["--checksums", path("SHA256SUMS.asc")]]
        for form in listForms {
            let listed = try BouncerProcess.run(["verify", path("msg.txt")] + form + ["--key", path("key.cert"), "--json"])
            #expect(listed.status == 0, "\(suite) \(form): \(listed.out) \(listed.err)")
            #expect(verifiedSigners(listed) == verifiedSigners(detached))
        }
        let flipped = (hash.first == "0" ? "1" : "0") + hash.dropFirst()
        try replaceText(path("SHA256SUMS"), hash, flipped)
        try replaceText(path("SHA256SUMS.asc"), hash, flipped)
        for form in listForms {
            let tamperedList = try BouncerProcess.run(["verify", path("msg.txt")] + form + ["--key", path("key.cert")])
            #expect(tamperedList.status == 1)
            #expect(tamperedList.err.contains("BAD signature from key \(signingKey)"), "\(suite) \(form): \(tamperedList.err)")
        }

        try flipByte(path("msg.txt"), at: 0)
        let tampered = try BouncerProcess.run(["verify-signature", path("msg.txt"), "--signature", path("msg.sig"), "--key", path("key.cert")])
        #expect(tampered.status == 1)
        #expect(tampered.err.contains("BAD signature from key \(signingKey)"), "\(tampered.err)")
    }
}
