import Foundation
import Testing
import BouncerTestSupport

/// Every minisign, signify and sshsig case of ../shared/corpus, once through
/// the real `bouncer verify-signature`: pass cases exit 0 naming the signer,
/// fail cases exit 1 for the reason their manifest describes.
@Suite(.blocking) struct SignatureCorpusCLITests {
    /// Each fail case's reason, from what its manifest's `why` says was done.
    static let failureReasons = [
        "dnscrypt__tampered-file_fail": "bad signature: the signature does not match the file",       // a newline appended
        "dnscrypt__wrong-file_fail": "bad signature: the signature does not match the file",          // another file's signature
        "dnscrypt__tampered-trusted-comment_fail": "bad signature: the global signature over the trusted comment does not verify",
        "openbsd__forgery_fail": "bad signature: the signature does not match the file",              // a signature reused for another message
        "openssh__ed25519-sig-rsa-key_fail": "wrong key: the signature was made by ssh-ed25519 key",  // signer not in the trust set
        "openssh__ed25519-tampered-data_fail": "bad signature: the ssh-ed25519 signature does not verify",
        "openssh__ed25519-wrong-namespace_fail": "namespace mismatch: the signature is for namespace 'unittest', expected 'file'",
        "openssh__mldsa44-ed25519": "unsupported algorithm",                                           // not in OpenSSL 3.0
    ]

    /// The case.json `extra` fields used here.
    struct Extra: Decodable {
        struct Wrapper: Decodable { let extra: Extra? }
        let trusted_comment: String?
        let namespace: String?
        let principal: String?
    }

    /// A minisign or signify public key's 8-byte id (bytes 2..<10), as the
    /// tools print it: minisign little-endian, signify as stored.
    static func keyID(_ path: String, reversed: Bool) throws -> String {
        let line = try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: "\n")[1]
        let raw = try #require(Data(base64Encoded: line).map([UInt8].init))
        let id = Array(raw[2..<10])
        return (reversed ? id.reversed() : id).map { String(format: "%02X", $0) }.joined()
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)"), arguments: [("minisign", 7), ("signify", 2), ("sshsig", 10)])
    func corpusCasesThroughTheCLI(_ format: String, _ count: Int) throws {
        guard Corpus.rootOrNotice("SignatureCorpusCLITests.\(format)") != nil else { return }
        var ran = Set<String>()
        for directory in Corpus.cases(format: format) {
            let c = try CorpusCase.load(directory)
            let extra = try JSONDecoder().decode(Extra.Wrapper.self, from: Data(contentsOf: directory.appendingPathComponent("case.json"))).extra
            let trust = (c.trust ?? []).filter { format != "sshsig" || $0 == "allowed_signers" }
            #expect(trust.count == 1, "\(c.name): trust \(c.trust ?? [])")
            var args = ["verify-signature", c.path(c.artifact ?? ""), "--signature", c.path(c.signature ?? "")]
                + trust.flatMap { ["--key", c.path($0)] }
            if format == "sshsig" {
                args += ["--identity", try #require(extra?.principal), "--namespace", try #require(extra?.namespace)]
            }
            let result = try BouncerProcess.run(args + ["--json"])
            let json = jsonObject(result)
            let entries = json["signatures"] as? [[String: Any]] ?? []
            #expect(entries.count == 1, "\(c.name): \(result.out)")
            if c.expect == "pass" {
                #expect(result.status == 0, "\(c.name): \(result.out) \(result.err)")
                #expect(json["verdict"] as? String == "pass", "\(c.name)")
                let entry = entries.first ?? [:]
                let details = entry["details"] as? [String: String] ?? [:]
                #expect((json["artifact"] as? [String: Any])?["sha256"] as? String == c.artifact_sha256, "\(c.name)")
                switch format {
                case "minisign":
                    #expect(entry["signer"] as? String == (try Self.keyID(c.path(trust[0]), reversed: true)), "\(c.name): \(result.out)")
                    #expect("trusted comment: " + (details["trustedComment"] ?? "") == extra?.trusted_comment, "\(c.name): \(details)")
                case "signify":
                    #expect(entry["signer"] as? String == (try Self.keyID(c.path(trust[0]), reversed: false)), "\(c.name): \(result.out)")
                default:
                    #expect(entry["signer"] as? String == extra?.principal, "\(c.name): \(result.out)")
                    #expect(details["namespace"] == extra?.namespace, "\(c.name): \(details)")
                    // The fingerprint ssh-keygen gives the case's trusted .pub.
                    if let pub = (c.trust ?? []).first(where: { $0.hasSuffix(".pub") }),
                       FileManager.default.isExecutableFile(atPath: "/usr/bin/ssh-keygen") {
                        let listed = try BouncerProcess.runProgram("/usr/bin/ssh-keygen", ["-l", "-E", "sha256", "-f", c.path(pub)])
                        let fingerprint = listed.out.split(separator: " ").dropFirst().first.map(String.init)
                        #expect(details["fingerprint"] == fingerprint, "\(c.name): \(details) \(listed.out)")
                    }
                }
            } else {
                #expect(result.status == 1, "\(c.name): \(result.out) \(result.err)")
                #expect(json["verdict"] as? String == "fail", "\(c.name)")
                let expected = Self.failureReasons[c.name]
                #expect(expected != nil, "\(c.name): no expected reason written down for this fail case (\(c.why ?? ""))")
                let reasons = json["reasons"] as? [[String: Any]] ?? []
                #expect(!reasons.isEmpty, "\(c.name): a refusal must say why")
                for reason in reasons {
                    #expect(reason["code"] as? String == "signature-refused", "\(c.name): \(reason)")
                    #expect((reason["message"] as? String)?.contains(expected ?? "\u{0}") == true, "\(c.name): expected '\(expected ?? "")' in \(reason)")
                }
            }
            ran.insert(c.name)
        }
        #expect(ran == Corpus.folderNames(format: format), "\(format): ran \(ran.sorted())")
        #expect(ran.count == count, "\(format): \(ran.count) cases ran, the corpus has \(count)")
    }
}
