import Foundation
import Testing
import BouncerTestSupport

/// The design's SSH key form (allowed_signers + namespace, no identity) and
/// a signify key file, with signatures made by the real ssh-keygen and signify.
@Suite(.blocking) struct PolicyKeyTypesTests {
    @discardableResult
    func tool(_ path: String, _ arguments: [String], cwd: String, stdin: Data? = nil) throws -> ProcessResult {
        let result = try BouncerProcess.runProgram(path, arguments, cwd: cwd, stdin: stdin)
        #expect(result.status == 0, "\(path) \(arguments): \(result.err)")
        return result
    }

    @Test func sshSignatureByAnAllowedSignerInTheRightNamespace() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/ssh-keygen") else {
            Issue.record("ssh-keygen is required (apt-get install openssh-client)")
            return
        }
        let f = try PolicyFixture("bouncer-ssh")
        let work = f.path("work")
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let body = try PolicyFixture.randomBytes(4096)
        try f.write("work/tool.tar", body)
        for name in ["ops", "intruder"] {
            try tool("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", name], cwd: work)
        }
        let pub = try String(contentsOfFile: work + "/ops.pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        try Data("ops@example.test namespaces=\"file\" \(pub)\n".utf8).write(to: URL(fileURLWithPath: f.path("allowed_signers")))
        try f.writePolicy(#"""
        {"version": 1, "keys": {"ops": {"type": "ssh", "allowedSigners": "allowed_signers", "namespace": "file"}},
         "rules": [{"match": {"host": "127.0.0.1"}, "require": [{"signature": {"url": "{url}.sig", "key": "ops"}}]}]}
        """#)
        func signature(key: String, namespace: String) throws -> [UInt8] {
            try? FileManager.default.removeItem(atPath: work + "/tool.tar.sig")
            try tool("/usr/bin/ssh-keygen", ["-Y", "sign", "-f", key, "-n", namespace, "tool.tar"], cwd: work)
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: work + "/tool.tar.sig")))
        }
        f.server.register("tool.tar", body)

        f.server.register("tool.tar.sig", try signature(key: "ops", namespace: "file"))
        let good = try f.fetch(f.url("tool.tar"), ["--json"])
        #expect(good.status == 0, "\(good.out)")
        #expect(good.out.contains("signed by ssh key ops@example.test"), "\(good.out)")
        #expect(f.exists("out.bin"))
        try FileManager.default.removeItem(atPath: f.path("out.bin"))
        try FileManager.default.removeItem(atPath: f.path("bouncer.lock"))

        f.server.register("tool.tar.sig", try signature(key: "ops", namespace: "git"))
        let wrongNamespace = try f.fetch(f.url("tool.tar"))
        #expect(wrongNamespace.status == 1)
        #expect(wrongNamespace.err.contains("namespace"), "\(wrongNamespace.err)")
        #expect(!f.exists("out.bin"))

        f.server.register("tool.tar.sig", try signature(key: "intruder", namespace: "file"))
        let intruder = try f.fetch(f.url("tool.tar"))
        #expect(intruder.status == 1)
        #expect(intruder.err.contains("not signed by key 'ops'"), "\(intruder.err)")
        #expect(!f.exists("out.bin"))
    }

    @Test func signifyKeyFile() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/signify-openbsd") else {
            Issue.record("signify-openbsd is required (apt-get install signify-openbsd)")
            return
        }
        let f = try PolicyFixture("bouncer-signify")
        let body = try PolicyFixture.randomBytes(2048)
        try f.write("SHA256", Array("SHA256 (pkg.tgz) = \(try PolicyFixture.sha256sum(body))\n".utf8))
        try tool("/usr/bin/signify-openbsd", ["-G", "-n", "-p", "release.pub", "-s", "release.sec"], cwd: f.dir.path)
        try tool("/usr/bin/signify-openbsd", ["-S", "-s", "release.sec", "-m", "SHA256", "-x", "SHA256.sig"], cwd: f.dir.path)
        try f.writePolicy(#"""
        {"version": 1, "keys": {"rel": {"type": "signify", "file": "release.pub"}},
         "rules": [{"match": {"url": "\#(f.server.baseURL)/files/*.tgz"},
                    "require": [{"checksums": {"url": "{dir}/SHA256", "signature": {"url": "{dir}/SHA256.sig", "key": "rel"}}}]}]}
        """#)
        f.server.register("pkg.tgz", body)
        f.server.register("SHA256", [UInt8](try Data(contentsOf: URL(fileURLWithPath: f.path("SHA256")))))
        f.server.register("SHA256.sig", [UInt8](try Data(contentsOf: URL(fileURLWithPath: f.path("SHA256.sig")))))
        let good = try f.fetch(f.url("pkg.tgz"), ["--json"])
        #expect(good.status == 0, "\(good.out)")
        #expect(good.out.contains("listed in SHA256 signed by signify key"), "\(good.out)")

        try FileManager.default.removeItem(atPath: f.path("out.bin"))
        f.server.register("pkg.tgz", try PolicyFixture.randomBytes(2048))
        try FileManager.default.removeItem(atPath: f.path("bouncer.lock"))
        let tampered = try f.fetch(f.url("pkg.tgz"))
        #expect(tampered.status == 1)
        #expect(tampered.err.contains("SHA256: sha256 of 'pkg.tgz' is"), "\(tampered.err)")
        #expect(!f.exists("out.bin"))
    }
}
