import Foundation
import Testing
import BouncerTestSupport

/// Validity windows and rollback, with lists signed by the real ssh-keygen:
/// a key outside its allowed_signers validity, the same log entry twice, and
/// an older, validly signed checksum list replayed after a newer one was seen.
@Suite struct ValidityAndRollbackTests {
    let server: MisbehavingServer
    let project: HostileProject

    init() throws {
        server = try MisbehavingServer()
        project = try HostileProject("rollback")
    }

    var hasSSH: Bool { HostileProject.has("ssh-keygen") }

    func sshKeygen(_ arguments: [String]) throws {
        let result = try BouncerProcess.runProgram("/usr/bin/ssh-keygen", arguments, cwd: project.dir.path)
        #expect(result.status == 0, "ssh-keygen \(arguments): \(result.err)")
    }

    /// A SHA256SUMS listing `files` (sha256sum's digests) and its SSHSIG by the `rel` key.
    func signedList(_ files: [String: [UInt8]]) throws -> ([UInt8], [UInt8]) {
        let text = try files.keys.sorted().map { "\(try HostileProject.sha256(files[$0] ?? []))  \($0)\n" }.joined()
        let list = project.dir.appendingPathComponent("SHA256SUMS")
        try Data(text.utf8).write(to: list)
        try? FileManager.default.removeItem(at: project.dir.appendingPathComponent("SHA256SUMS.sig"))
        try sshKeygen(["-Y", "sign", "-f", "rel", "-n", "file", "SHA256SUMS"])
        return (Array(text.utf8), [UInt8](try Data(contentsOf: project.dir.appendingPathComponent("SHA256SUMS.sig"))))
    }

    func setUpKeyAndPolicy(_ options: String = "") throws {
        try sshKeygen(["-q", "-t", "ed25519", "-N", "", "-C", "rel", "-f", "rel"])
        let pub = try String(contentsOf: project.dir.appendingPathComponent("rel.pub"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        try project.write("allowed_signers", "release@example.test \(options) \(pub)\n")
        try project.writePolicy(#"""
        {"version": 1, "unmatched": "deny",
         "keys": {"rel": {"type": "ssh", "allowedSigners": "allowed_signers", "namespace": "file"}},
         "rules": [{"name": "releases", "match": {"url": "http://127.0.0.1:*/rel/*"},
                    "require": [{"checksums": {"url": "{dir}/SHA256SUMS", "signature": {"url": "{dir}/SHA256SUMS.sig", "key": "rel"}}}]}]}
        """#)
    }

    func serve(list: ([UInt8], [UInt8]), files: [String: [UInt8]]) {
        server.route("/rel/SHA256SUMS", [.init(body: list.0)])
        server.route("/rel/SHA256SUMS.sig", [.init(body: list.1)])
        for (name, bytes) in files { server.route("/rel/\(name)", [.init(body: bytes)]) }
    }

    func fetch(_ name: String, in target: HostileProject? = nil) throws -> ProcessResult {
        let p = target ?? project
        return try p.bouncer(["fetch", "--quiet", server.url("/rel/\(name)"), "-o", p.path(name), "--policy", p.path("policy.json")],
                             environment: ["BOUNCER_CACHE": project.dir.appendingPathComponent("cache").path])
    }

    @Test func keyOutsideItsValidityWindowIsRefused() throws {
        guard hasSSH else { Issue.record("ssh-keygen is required (apt-get install openssh-client)"); return }
        let body = try HostileProject.random(4000)
        for (options, label) in [(#"namespaces="file",valid-before="20200101""#, "expired"), (#"namespaces="file",valid-after="29990101""#, "not yet valid")] {
            try? FileManager.default.removeItem(at: project.dir.appendingPathComponent("rel"))
            try? FileManager.default.removeItem(at: project.dir.appendingPathComponent("rel.pub"))
            try setUpKeyAndPolicy(options)
            serve(list: try signedList(["app.tar.gz": body]), files: ["app.tar.gz": body])
            let result = try fetch("app.tar.gz")
            #expect(result.status == 1, "\(label): \(result.err)")
            #expect(!project.exists("app.tar.gz"), "\(label)")
        }
        // Control: the same key without a window passes.
        try project.write("allowed_signers", "release@example.test namespaces=\"file\" " +
                          (try String(contentsOf: project.dir.appendingPathComponent("rel.pub"), encoding: .utf8)))
        let control = try fetch("app.tar.gz")
        #expect(control.status == 0, "\(control.err)")
    }

    @Test func theSameLogEntryTwiceIsRefused() throws {
        guard let root = Corpus.rootOrNotice("ValidityAndRollbackTests.theSameLogEntryTwiceIsRefused") else { return }
        let dir = root.appendingPathComponent("sigstore-bundle/conformance__happy-path-v0.3")
        var bundle = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("bundle.sigstore.json"))) as? [String: Any] ?? [:]
        var material = bundle["verificationMaterial"] as? [String: Any] ?? [:]
        let entries = material["tlogEntries"] as? [Any] ?? []
        material["tlogEntries"] = entries + entries
        bundle["verificationMaterial"] = material
        try project.write("twice.json", [UInt8](try JSONSerialization.data(withJSONObject: bundle)))
        let result = try project.bouncer(["verify-bundle", "--bundle", project.path("twice.json"), "--trusted-root", dir.appendingPathComponent("trusted_root.json").path,
                                          "--certificate-identity", SplicedEvidenceTests.beacon, "--certificate-oidc-issuer", SplicedEvidenceTests.actions,
                                          dir.appendingPathComponent("artifact").path])
        #expect(result.status == 1, "\(result.err)")
        #expect(result.err.contains("duplicate"), "\(result.err)")
    }

    @Test func olderSignedListReplayedAfterANewerOne() throws {
        guard hasSSH else { Issue.record("ssh-keygen is required (apt-get install openssh-client)"); return }
        try setUpKeyAndPolicy(#"namespaces="file""#)
        let old = try HostileProject.random(5000), new = try HostileProject.random(5000)
        let v1 = try signedList(["app.tar.gz": old])
        let v2 = try signedList(["app.tar.gz": new])
        serve(list: v2, files: ["app.tar.gz": new])
        let current = try fetch("app.tar.gz")
        #expect(current.status == 0, "\(current.err)")
        try FileManager.default.removeItem(atPath: project.path("app.tar.gz"))

        // The mirror replays v1 (validly signed) with the old bytes: the project's lock refuses the change.
        serve(list: v1, files: ["app.tar.gz": old])
        let replayed = try fetch("app.tar.gz")
        #expect(replayed.status == 1, "\(replayed.err)")
        #expect(replayed.err.contains("refused in every mode"), "\(replayed.err)")
        #expect(!project.exists("app.tar.gz"))

        // Another project on the same machine (same store) has no lock entry yet. Bouncer keeps no record
        // of the newest list it has seen, so the replayed list is accepted: a known gap (issue 9, rollback).
        let other = try HostileProject("rollback-other")
        for file in ["policy.json", "allowed_signers"] { try other.write(file, project.bytes(file) ?? []) }
        let fresh = try fetch("app.tar.gz", in: other)
        withKnownIssue("no persisted newest-list state: an older validly signed list is accepted where no lock entry exists") {
            #expect(fresh.status == 1, "the older list was accepted after a newer one was seen")
            #expect(!other.exists("app.tar.gz"))
        }
    }
}
