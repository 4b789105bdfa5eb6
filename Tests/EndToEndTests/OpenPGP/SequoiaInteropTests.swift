import Foundation
import Testing
import BouncerTestSupport

/// Keys and signatures from Sequoia's `sq` (a second implementation): its
/// keys certify with the primary and sign with a subkey, so this exercises
/// subkey bindings and back-signatures made by another code base. (The
/// installed sq makes v4 keys only; v6 is covered by RFC 9580 vectors.)
@Suite struct SequoiaInteropTests {
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

        try flipByte(path("msg.txt"), at: 0)
        let tampered = try BouncerProcess.run(["verify-signature", path("msg.txt"), "--signature", path("msg.sig"), "--key", path("key.cert")])
        #expect(tampered.status == 1)
        #expect(tampered.err.contains("BAD signature"), "\(tampered.err)")
    }
}
