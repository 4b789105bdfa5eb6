import Foundation
import Testing
import BouncerTestSupport

/// Validity windows and rollback, with lists signed by the real ssh-keygen:
/// a key outside its allowed_signers validity, the same log entry twice, and
/// an older, validly signed checksum list replayed after a newer one was seen
/// (by its signed time, or as a list already replaced), in another project.
@Suite(.blocking) struct ValidityAndRollbackTests {
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

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func theSameLogEntryTwiceIsRefused() throws {
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

    /// A SHA256SUMS listing `files`, minisign-signed with a trusted comment dated `timestamp`.
    func minisignedList(_ files: [String: [UInt8]], timestamp: Int) throws -> ([UInt8], [UInt8]) {
        let text = try files.keys.sorted().map { "\(try HostileProject.sha256(files[$0] ?? []))  \($0)\n" }.joined()
        let list = project.dir.appendingPathComponent("SHA256SUMS"), signature = project.dir.appendingPathComponent("SHA256SUMS.minisig")
        try Data(text.utf8).write(to: list)
        try? FileManager.default.removeItem(at: signature)
        let signed = try BouncerProcess.runProgram("/usr/bin/minisign", ["-S", "-s", "rel.key", "-m", "SHA256SUMS",
                                                                         "-t", "timestamp:\(timestamp)\tfile:SHA256SUMS"], cwd: project.dir.path)
        #expect(signed.status == 0, "minisign -S: \(signed.err)")
        return (Array(text.utf8), [UInt8](try Data(contentsOf: signature)))
    }

    /// `fetch NAME` into `target` with the store and the freshness state shared by every project here.
    func fetchShared(_ name: String, in target: HostileProject, policy: String = "policy.json") throws -> ProcessResult {
        try target.bouncer(["fetch", "--quiet", server.url("/rel/\(name)"), "-o", target.path(name), "--policy", target.path(policy)],
                           environment: ["BOUNCER_CACHE": project.dir.appendingPathComponent("cache").path,
                                         "BOUNCER_STATE": project.dir.appendingPathComponent("state").path])
    }

    /// Signed times (minisign's trusted timestamp): a list signed before the newest one seen is
    /// refused even in a project that has never locked anything, and in audit mode.
    @Test func olderSignedListReplayedAfterANewerOne() throws {
        guard HostileProject.has("minisign") else { Issue.record("minisign is required (apt-get install minisign)"); return }
        let generated = try BouncerProcess.runProgram("/usr/bin/minisign", ["-G", "-W", "-p", "rel.pub", "-s", "rel.key"], cwd: project.dir.path)
        #expect(generated.status == 0, "minisign -G: \(generated.err)")
        let pub = try String(contentsOf: project.dir.appendingPathComponent("rel.pub"), encoding: .utf8)
        let key = pub.split(separator: "\n").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        for mode in ["enforce", "audit"] {
            try project.write("\(mode).json", #"""
            {"version": 1, "mode": "\#(mode)", "unmatched": "deny",
             "keys": {"rel": {"type": "minisign", "key": "\#(key)"}},
             "rules": [{"name": "releases", "match": {"url": "http://127.0.0.1:*/rel/*"},
                        "require": [{"checksums": {"url": "{dir}/SHA256SUMS", "signature": {"url": "{dir}/SHA256SUMS.sig", "key": "rel"}}}]}]}
            """#)
        }
        let old = try HostileProject.random(5000), new = try HostileProject.random(5000)
        let now = Int(Date().timeIntervalSince1970)
        let v1 = try minisignedList(["app.tar.gz": old], timestamp: now - 86_400)
        let v2 = try minisignedList(["app.tar.gz": new], timestamp: now - 3_600)
        serve(list: v2, files: ["app.tar.gz": new])
        let current = try fetchShared("app.tar.gz", in: project, policy: "enforce.json")
        #expect(current.status == 0, "\(current.err)")

        // The mirror replays v1, validly signed a day earlier, to another project on this machine.
        serve(list: v1, files: ["app.tar.gz": old])
        for mode in ["enforce", "audit"] {
            let other = try HostileProject("rollback-\(mode)")
            try other.write("\(mode).json", project.bytes("\(mode).json") ?? [])
            let replayed = try fetchShared("app.tar.gz", in: other, policy: "\(mode).json")
            #expect(replayed.status == 1, "\(mode): the older list was accepted after a newer one was seen: \(replayed.err)")
            #expect(replayed.err.contains("before the list issued") && replayed.err.contains("refused in every mode"), "\(replayed.err)")
            #expect(!other.exists("app.tar.gz"))
            #expect(other.lockText.isEmpty)
        }
        // Control: with a state of its own (a machine that never saw v2), v1 is accepted.
        let elsewhere = try HostileProject("rollback-elsewhere")
        try elsewhere.write("enforce.json", project.bytes("enforce.json") ?? [])
        let fresh = try elsewhere.bouncer(["fetch", "--quiet", server.url("/rel/app.tar.gz"), "-o", elsewhere.path("app.tar.gz"),
                                           "--policy", elsewhere.path("enforce.json")])
        #expect(fresh.status == 0, "\(fresh.err)")
    }

    /// No signed time (SSHSIG): a list that was replaced by a newer one is refused when served again.
    @Test func supersededTimelessListIsRefusedWhenServedAgain() throws {
        guard hasSSH else { Issue.record("ssh-keygen is required (apt-get install openssh-client)"); return }
        try setUpKeyAndPolicy(#"namespaces="file""#)
        let one = try HostileProject.random(5000), two = try HostileProject.random(5000)
        let v1 = try signedList(["app-1.0.tar.gz": one])
        let v2 = try signedList(["app-1.0.tar.gz": one, "app-1.1.tar.gz": two])
        serve(list: v1, files: ["app-1.0.tar.gz": one])
        #expect(try fetchShared("app-1.0.tar.gz", in: project).status == 0)
        serve(list: v2, files: ["app-1.0.tar.gz": one, "app-1.1.tar.gz": two])
        let newer = try fetchShared("app-1.1.tar.gz", in: project)
        #expect(newer.status == 0, "\(newer.err)")

        // A frozen mirror serves v1 again: in a fresh project it would still verify, so the state must refuse it.
        serve(list: v1, files: ["app-1.0.tar.gz": one])
        let other = try HostileProject("rollback-timeless")
        for file in ["policy.json", "allowed_signers"] { try other.write(file, project.bytes(file) ?? []) }
        let replayed = try fetchShared("app-1.0.tar.gz", in: other)
        #expect(replayed.status == 1, "a replaced list was accepted again: \(replayed.err)")
        #expect(replayed.err.contains("replaced by a newer one"), "\(replayed.err)")
        #expect(!other.exists("app-1.0.tar.gz"))
        // The newer list is still accepted there.
        serve(list: v2, files: ["app-1.0.tar.gz": one, "app-1.1.tar.gz": two])
        let current = try fetchShared("app-1.0.tar.gz", in: other)
        #expect(current.status == 0, "\(current.err)")
    }

    /// A state directory others can write protects nothing: refused (exit 2), naming it.
    @Test func freshnessStateWritableByOthersIsRefused() throws {
        guard hasSSH else { Issue.record("ssh-keygen is required (apt-get install openssh-client)"); return }
        try setUpKeyAndPolicy(#"namespaces="file""#)
        let body = try HostileProject.random(3000)
        serve(list: try signedList(["app.tar.gz": body]), files: ["app.tar.gz": body])
        let state = project.dir.appendingPathComponent("state")
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: state.path)
        let loose = try fetchShared("app.tar.gz", in: project)
        #expect(loose.status == 2, "\(loose.err)")
        #expect(loose.err.contains(state.path) && loose.err.contains("writable by group or others"), "\(loose.err)")
        #expect(!project.exists("app.tar.gz"))
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: state.path)
        let fixed = try fetchShared("app.tar.gz", in: project)
        #expect(fixed.status == 0, "\(fixed.err)")
        let recorded = try String(contentsOfFile: state.appendingPathComponent("freshness.json").path, encoding: .utf8)
        #expect(recorded.contains(server.url("/rel/SHA256SUMS")), "\(recorded)")
    }
}
