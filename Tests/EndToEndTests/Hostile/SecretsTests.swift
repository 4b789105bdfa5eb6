import Foundation
import Testing
import BouncerTestSupport

/// Tokens in URLs, `Authorization` headers and NPM_TOKEN / GITHUB_TOKEN never
/// appear in Bouncer's output (human, --json, GitHub annotations), its errors
/// on every path (refusal, 404, connection refused, redirect) or the lock.
@Suite(.blocking) struct SecretsTests {
    static let secrets = ["hunter2-url-password", "s3cr3t-query-token", "redirect-token-xyz", "npm_TOKENVALUE123", "ghp_GITHUBTOKEN456", "Bearer-header-secret-789", "pr0xy-pa55word-321"]

    func expectClean(_ text: String, _ label: String) {
        for secret in Self.secrets {
            #expect(!text.contains(secret), "\(label) shows '\(secret)': \(text.prefix(600))")
        }
    }

    @Test func noSecretInAnyOutputOrTheLock() throws {
        let server = try MisbehavingServer()
        let project = try HostileProject("secrets")
        let body = try HostileProject.random(5000)
        let sha = try HostileProject.sha256(body)
        try project.writePolicy(#"""
        {"version": 1, "unmatched": "pin", "rules": [{"name": "pinned", "match": {"url": "http://127.0.0.1:*/pinned/**"}, "require": [{"digest": {"sha256": "\#(sha)"}}]}]}
        """#)
        let environment = ["NPM_TOKEN": "npm_TOKENVALUE123", "GITHUB_TOKEN": "ghp_GITHUBTOKEN456", "GITHUB_ACTIONS": "true",
                           "NODE_AUTH_TOKEN": "npm_TOKENVALUE123"]
        let credentialed = server.baseURL.replacingOccurrences(of: "://", with: "://alice:hunter2-url-password@")
        server.route("/files/ok.bin?token=s3cr3t-query-token", [.init(body: body)])
        server.route("/pinned/bad.bin?access_token=s3cr3t-query-token", [.init(body: Array("tampered".utf8))])
        server.route("/files/hop?token=s3cr3t-query-token", [.redirect("/files/missing?token=redirect-token-xyz")])
        let closedPort = try { () throws -> UInt16 in let s = try MisbehavingServer(); let p = s.port; s.stop(); return p }()

        var outputs: [(String, ProcessResult)] = []
        for json in [false, true] {
            let flags = json ? ["--json"] : []
            outputs.append(("ok", try project.bouncer(["fetch", credentialed + "/files/ok.bin?token=s3cr3t-query-token", "-o", project.path("ok.bin")] + flags, environment: environment)))
            outputs.append(("refused", try project.bouncer(["fetch", credentialed + "/pinned/bad.bin?access_token=s3cr3t-query-token", "-o", project.path("bad.bin")] + flags, environment: environment)))
            outputs.append(("404 after redirect", try project.bouncer(["fetch", credentialed + "/files/hop?token=s3cr3t-query-token", "-o", project.path("hop.bin"), "--retries", "0"] + flags, environment: environment)))
            outputs.append(("connection refused", try project.bouncer(["fetch", "http://bob:hunter2-url-password@127.0.0.1:\(closedPort)/x?token=s3cr3t-query-token", "-o", project.path("x.bin"), "--retries", "0"] + flags, environment: environment)))
        }
        outputs.append(("explain", try project.bouncer(["explain", credentialed + "/pinned/bad.bin?access_token=s3cr3t-query-token"], environment: environment)))
        outputs.append(("check", try project.bouncer(["check"], environment: environment)))
        #expect(outputs[0].1.status == 0, "\(outputs[0].1.err)")
        #expect(outputs[1].1.status == 1, "\(outputs[1].1.err)")
        #expect(outputs[2].1.status == 3, "\(outputs[2].1.err)")
        #expect(outputs[3].1.status == 3, "\(outputs[3].1.err)")
        for (label, result) in outputs {
            expectClean(result.out + result.err, label)
        }
        expectClean(project.lockText, "bouncer.lock")
        #expect(project.lockText.contains("ok.bin"))
        // The store and its temporary names are part of the output a CI job may upload.
        let names = (FileManager.default.enumerator(atPath: project.dir.path)?.allObjects as? [String] ?? []).joined(separator: "\n")
        expectClean(names, "file names")
    }

    @Test func authorizationHeaderIsNeverEchoed() throws {
        let server = try MisbehavingServer()
        let project = try HostileProject("secrets-header")
        server.route("/files/a.bin", [.init(body: Array("abc".utf8))])
        let url = server.url("/files/a.bin")
        try project.writePolicy(#"{"version": 1, "mode": "enforce", "unmatched": "pin", "rules": []}"#)
        let enforce = try project.sh("curl -fsSL -H 'Authorization: Bearer-header-secret-789' -o a.bin '\(url)'; wget -q --header='Authorization: Bearer-header-secret-789' '\(url)'")
        expectClean(enforce.out + enforce.err, "enforce")
        #expect(!project.exists("a.bin"))
        #expect(project.realToolRuns.isEmpty, "refused in enforce mode, yet the real tool ran")
        try project.writePolicy(#"{"version": 1, "mode": "audit", "unmatched": "pin", "rules": []}"#)
        let audit = try project.sh("curl -fsSL -H 'Authorization: Bearer-header-secret-789' -o a.bin '\(url)'")
        expectClean(audit.out + audit.err, "audit warning")
        expectClean(project.lockText, "lock")
        // In audit mode the option goes to the real tool (the stand-in recorded it), not to Bouncer's output.
        #expect(project.realToolRuns.contains("curl"), "\(audit.err)")
        #expect(server.receivedRequests.allSatisfy { !$0.contains("Bearer-header-secret-789") }, "Bouncer itself sent the header")
    }

    /// A proxy password in https_proxy / http_proxy: the fetch really goes
    /// through the proxy (a closed port on loopback, so it fails at once and the
    /// server sees nothing), and the password is in no message, annotation or
    /// lock entry; with NO_PROXY covering the host it is fetched and pinned, and
    /// the password is still nowhere.
    @Test func proxyPasswordNeverAppears() throws {
        let server = try MisbehavingServer()
        let project = try HostileProject("secrets-proxy")
        let body = Array("through no proxy".utf8)
        server.route("/files/p.bin", [.init(body: body)])
        try project.writePolicy(#"{"version": 1, "mode": "enforce", "unmatched": "pin", "rules": []}"#)
        let closedPort = try { () throws -> UInt16 in let s = try MisbehavingServer(); let p = s.port; s.stop(); return p }()
        let proxy = "http://proxyuser:pr0xy-pa55word-321@127.0.0.1:\(closedPort)"
        var environment = ["https_proxy": proxy, "http_proxy": proxy, "HTTPS_PROXY": proxy, "ALL_PROXY": proxy,
                           "NO_PROXY": "", "no_proxy": "", "GITHUB_ACTIONS": "true"]
        let url = server.url("/files/p.bin")

        var outputs: [(String, ProcessResult)] = []
        for flags in [[], ["--json"]] {
            outputs.append(("fetch \(flags)", try project.bouncer(["fetch", url, "-o", project.path("p.bin"), "--retries", "0"] + flags, environment: environment)))
        }
        outputs.append(("curl shim", try project.sh("curl -fsSL -o p.bin '\(url)'", environment: environment)))
        outputs.append(("wget shim", try project.sh("wget -q '\(url)'", environment: environment)))
        for (label, result) in outputs {
            expectClean(result.out + result.err, label)
            #expect(result.status != 0, "\(label): fetched although the proxy is closed: \(result.err)")
        }
        #expect(outputs[0].1.status == 3, "\(outputs[0].1.err)")
        #expect(outputs[1].1.status == 3, "\(outputs[1].1.out)")
        #expect(outputs[2].1.status == 7, "curl's 'could not connect': \(outputs[2].1.err)")
        #expect(outputs[3].1.status == 4, "wget's 'network failure': \(outputs[3].1.err)")
        #expect(outputs[0].1.err.contains("port \(closedPort)"), "the connection was not to the proxy: \(outputs[0].1.err)")
        #expect(server.receivedRequests.isEmpty, "the fetch bypassed the proxy")
        #expect(!project.exists("p.bin"))
        #expect(project.realToolRuns.isEmpty)

        // NO_PROXY covers the host: fetched directly and pinned; the proxy password is still nowhere.
        environment["NO_PROXY"] = "127.0.0.1"
        environment["no_proxy"] = "127.0.0.1"
        let direct = try project.bouncer(["fetch", url, "-o", project.path("p.bin")], environment: environment)
        #expect(direct.status == 0, "\(direct.err)")
        expectClean(direct.out + direct.err, "direct fetch")
        #expect(project.bytes("p.bin") == body)
        #expect(project.lockText.contains("p.bin"))
        expectClean(project.lockText, "bouncer.lock")
        let names = (FileManager.default.enumerator(atPath: project.dir.path)?.allObjects as? [String] ?? []).joined(separator: "\n")
        expectClean(names, "file names")
    }
}
