import Foundation
import Testing
import BouncerTestSupport

/// `bouncer fetch` driven by policy.json: digest rules, unmatched deny / pin /
/// allow, audit mode, the lockfile's pins, exceptions and trust downgrades.
@Suite(.blocking) struct PolicyFetchTests {
    func policy(mode: String = "enforce", unmatched: String = "deny", rules: String = "[]", exceptions: String = "[]") -> String {
        """
        {"version": 1, "mode": "\(mode)", "unmatched": "\(unmatched)", "rules": \(rules), "exceptions": \(exceptions)}
        """
    }

    func digestRule(_ server: LoopbackHTTPServer) -> String {
        #"[{"name": "loopback", "match": {"url": "\#(server.baseURL)/files/*"}, "require": [{"digest": {}}]}]"#
    }

    @Test func digestRuleNeedsAStatedDigestAndPinsIt() throws {
        let f = try PolicyFixture()
        let body = try PolicyFixture.randomBytes(100_000)
        let sha = try PolicyFixture.sha256sum(body)
        f.server.register("app.bin", body)
        try f.writePolicy(policy(rules: digestRule(f.server)))

        let missing = try f.fetch(f.url("app.bin"))
        #expect(missing.status == 1, "\(missing.err)")
        // What the rule requires is said where it was not proven.
        #expect(missing.err.contains("REFUSED by rule 'loopback'; required: "), "\(missing.err)")
        #expect(missing.err.contains("missing: no sha256/sha384/sha512 digest was stated"), "\(missing.err)")
        #expect(!f.exists("out.bin"))
        #expect(f.lockBytes == nil)

        let wrong = try f.fetch(f.url("app.bin"), ["--sha256", String(repeating: "0", count: 64)])
        #expect(wrong.status == 1)
        #expect(wrong.err.contains("expected 0000"), "\(wrong.err)")
        #expect(!f.exists("out.bin"))

        let good = try f.fetch(f.url("app.bin"), ["--sha256", sha])
        #expect(good.status == 0, "\(good.err)")
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: f.path("out.bin")))) == body)
        let entries = try f.lockEntries()
        #expect(entries.count == 1)
        #expect(entries.first?["sha256"] as? String == sha)
        #expect(entries.first?["url"] as? String == f.url("app.bin"))
        #expect(entries.first?["size"] as? Int == body.count)
        #expect(entries.first?["rule"] as? String == "loopback")
        #expect(f.leftoverTemporaryFiles().isEmpty)
        // The person's file is their own: no hard link shared with Bouncer's store.
        #expect(try FileManager.default.attributesOfItem(atPath: f.path("out.bin"))[.referenceCount] as? Int == 1)
    }

    /// A pin in bouncer.lock means the same to every command: once `fetch
    /// --sha256` (or `lock`) pinned it, the digest requirement is met by the
    /// lock for `fetch URL` and the curl shim too; bytes that differ are
    /// refused as a changed pin, naming the lock (not as a missing digest).
    @Test func aLockedPinSatisfiesTheDigestRuleForEveryCommand() throws {
        let f = try PolicyFixture()
        let body = Array("pinned once, stated once\n".utf8)
        f.server.register("app.bin", body)
        try f.writePolicy(policy(rules: digestRule(f.server)))
        #expect(try f.fetch(f.url("app.bin"), ["--sha256", PolicyFixture.sha256sum(body)]).status == 0)
        let lockBefore = f.lockBytes

        let again = try f.fetch(f.url("app.bin"), output: "again.bin", ["--json"])
        #expect(again.status == 0, "\(again.err)")
        #expect(again.out.contains("\"summary\":\"sha256 matches bouncer.lock\""), "\(again.out)")
        #expect(again.out.contains("\"kind\":\"digest\""), "\(again.out)")
        #expect(f.lockBytes == lockBefore)
        let check = try f.bouncer(["check", "--policy", f.path("policy.json")])
        #expect(check.status == 0, "\(check.out)\(check.err)")

        f.server.register("app.bin", Array("changed upstream\n".utf8))
        let changed = try f.fetch(f.url("app.bin"), output: "changed.bin", ["--json"])
        #expect(changed.status == 1)
        #expect(changed.out.contains("\"lock-digest-changed\""), "\(changed.out)")
        #expect(!changed.out.contains("digest-missing"), "\(changed.out)")
        #expect(!f.exists("changed.bin"))
    }

    /// With a wrong digest written into the lock, `check` names the lock as
    /// what differs; the policy's own pin (which the bytes match) is proven.
    @Test func checkWithAWrongLockNamesTheLock() throws {
        let f = try PolicyFixture()
        let body = Array("checked\n".utf8)
        let sha = try PolicyFixture.sha256sum(body)
        f.server.register("app.bin", body)
        try f.writePolicy(policy(rules: #"[{"name": "pinned", "match": {"url": "\#(f.url("app.bin"))"}, "require": [{"digest": {"sha256": "\#(sha)"}}]}]"#))
        #expect(try f.fetch(f.url("app.bin")).status == 0)
        let wrong = String(repeating: "0", count: 64)
        let text = String(decoding: f.lockBytes ?? [], as: UTF8.self).replacingOccurrences(of: sha, with: wrong)
        try f.write("bouncer.lock", Array(text.utf8))
        let check = try f.bouncer(["check", "--json", "--policy", f.path("policy.json")])
        #expect(check.status == 1, "\(check.out)\(check.err)")
        #expect(check.out.contains("\"lock-digest-changed\""), "\(check.out)")
        #expect(!check.out.contains("\"digest-mismatch\""), "\(check.out)")
        #expect(check.out.contains("matches the policy's pin"), "\(check.out)")
    }

    @Test func unmatchedDenyRefusesWithoutDownloading() throws {
        let f = try PolicyFixture()
        f.server.register("unknown.bin", Array("x".utf8))
        try f.writePolicy(policy(rules: #"[{"match": {"host": "elsewhere.test"}, "require": [{"digest": {}}]}]"#))
        let result = try f.fetch(f.url("unknown.bin"))
        #expect(result.status == 1)
        #expect(result.err.contains("no rule in"), "\(result.err)")
        #expect(result.err.contains("unmatched artifacts are denied"), "\(result.err)")
        #expect(!f.exists("out.bin"))
        #expect(f.server.requests(to: "/files/unknown.bin") == 0)
    }

    @Test func pinRecordsThenRefusesAChangedBodyInEveryMode() throws {
        let f = try PolicyFixture()
        let first = try PolicyFixture.randomBytes(5000)
        f.server.register("tool.sh", first)
        try f.writePolicy(policy(unmatched: "pin"))
        let pinned = try f.fetch(f.url("tool.sh"))
        #expect(pinned.status == 0, "\(pinned.err)")
        #expect(try f.lockEntries().first?["sha256"] as? String == PolicyFixture.sha256sum(first))
        try FileManager.default.removeItem(atPath: f.path("out.bin"))

        // Same bytes again: fine.
        #expect(try f.fetch(f.url("tool.sh")).status == 0)
        try FileManager.default.removeItem(atPath: f.path("out.bin"))

        let changed = try PolicyFixture.randomBytes(5000)
        f.server.register("tool.sh", changed)
        for mode in ["enforce", "audit"] {
            try f.writePolicy(policy(mode: mode, unmatched: "pin"))
            let refused = try f.fetch(f.url("tool.sh"), ["--json"])
            #expect(refused.status == 1, "\(mode): \(refused.out)")
            #expect(refused.out.contains("\"code\":\"lock-digest-changed\""), "\(refused.out)")
            #expect(refused.out.contains("\"verdict\":\"fail\""))
            // The lock proves nothing about bytes that differ from it.
            #expect(!refused.out.contains("\"kind\":\"lock\""), "\(refused.out)")
            #expect(!f.exists("out.bin"))
        }
        // The lock still holds the first digest.
        #expect(try f.lockEntries().first?["sha256"] as? String == PolicyFixture.sha256sum(first))
    }

    @Test func auditModeAllowsButWarnsLoudly() throws {
        let f = try PolicyFixture()
        f.server.register("audit.bin", Array("audited\n".utf8))
        try f.writePolicy(policy(mode: "audit", rules: digestRule(f.server)))
        let result = try f.fetch(f.url("audit.bin"), environment: ["GITHUB_ACTIONS": "true"])
        #expect(result.status == 0, "\(result.err)")
        #expect(f.exists("out.bin"))
        #expect(result.err.contains("ALLOWED WITH WARNINGS"), "\(result.err)")
        #expect(result.err.contains("WARNING: not proven: no sha256/sha384/sha512 digest was stated"), "\(result.err)")
        #expect(result.err.contains("AUDIT MODE"), "\(result.err)")
        #expect(result.out.contains("::warning title=bouncer::"), "\(result.out)")
    }

    @Test func refusalsAreAnnotatedInGitHubActions() throws {
        let f = try PolicyFixture()
        try f.writePolicy(policy())
        let result = try f.fetch(f.url("nothing.bin"), environment: ["GITHUB_ACTIONS": "true"])
        #expect(result.status == 1)
        #expect(result.out.hasPrefix("::error title=bouncer::"), "\(result.out)")
        #expect(result.out.contains("unmatched artifacts are denied"))
    }

    @Test func evidenceKindsNotInThisBuildFailClosed() throws {
        let f = try PolicyFixture()
        f.server.register("signed.tgz", Array("bytes".utf8))
        for mode in ["enforce", "audit"] {
            try f.writePolicy(policy(mode: mode, rules: #"""
            [{"match": {"host": "127.0.0.1"}, "require": [{"digest": {}}, {"attestation": {"publisher": {"kind": "GitHub", "repository": "o/r"}}}]}]
            """#))
            let result = try f.fetch(f.url("signed.tgz"), ["--sha256", PolicyFixture.sha256sum(Array("bytes".utf8))])
            #expect(result.status == 2, "\(mode): \(result.err)")
            #expect(result.err.contains("evidence kind 'attestation' needs a 'url' template"), "\(result.err)")
            #expect(!f.exists("out.bin"))
        }
        #expect(f.server.requests(to: "/files/signed.tgz") == 0)
        #expect(f.lockBytes == nil)
    }

    @Test func malformedPolicyIsAConfigurationError() throws {
        let f = try PolicyFixture()
        try f.writePolicy(#"{"version": 1, "rules": [{"match": {"host": "h"}, "require": [{"digest": {}}], "maxsize": 1}]}"#)
        let result = try f.fetch(f.url("x"))
        #expect(result.status == 2)
        #expect(result.err.contains("$.rules[0].maxsize: unknown key 'maxsize'"), "\(result.err)")
    }

    @Test func policyIsFoundFromTheEnvironmentOrByWalkingUp() throws {
        let f = try PolicyFixture()
        f.server.register("walk.bin", Array("walk".utf8))
        try f.writePolicy(policy(unmatched: "pin"))
        let sub = f.path("a/b")
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
        let walked = try BouncerProcess.run(["fetch", "--quiet", f.url("walk.bin"), "-o", "got.bin"], cwd: sub, environment: f.environment)
        #expect(walked.status == 0, "\(walked.err)")
        #expect(try f.lockEntries().count == 1)

        let elsewhere = try BouncerProcess.temporaryDirectory("bouncer-nopolicy")
        defer { try? FileManager.default.removeItem(at: elsewhere) }
        var env = f.environment
        env["BOUNCER_POLICY"] = f.path("policy.json")
        let viaEnv = try BouncerProcess.run(["fetch", "--quiet", f.url("walk.bin"), "-o", "got.bin"], cwd: elsewhere.path, environment: env)
        #expect(viaEnv.status == 0, "\(viaEnv.err)")
        #expect(FileManager.default.fileExists(atPath: elsewhere.appendingPathComponent("got.bin").path))

        // No policy anywhere and no --sha256: a usage error, nothing fetched.
        let none = try BouncerProcess.run(["fetch", "--quiet", f.url("walk.bin"), "-o", "x.bin"], cwd: elsewhere.path,
                                          environment: ["BOUNCER_CACHE": f.path("cache"), "BOUNCER_POLICY": ""])
        #expect(none.status == 2, "\(none.err)")
        #expect(none.err.contains("no policy.json found"), "\(none.err)")
    }

    @Test func exceptionsApplyUntilTheyExpireAndSaySo() throws {
        let f = try PolicyFixture()
        f.server.register("late.bin", Array("late".utf8))
        let active = #"[{"match": {"url": "\#(f.url("late.bin"))"}, "until": "2999-12-31", "reason": "vendor signs from v2"}]"#
        try f.writePolicy(policy(rules: digestRule(f.server), exceptions: active))
        let allowed = try f.fetch(f.url("late.bin"))
        #expect(allowed.status == 0, "\(allowed.err)")
        #expect(allowed.err.contains("allowed by an exception until 2999-12-31: vendor signs from v2"), "\(allowed.err)")
        try FileManager.default.removeItem(atPath: f.path("out.bin"))

        let expired = #"[{"match": {"url": "\#(f.url("late.bin"))"}, "until": "2020-01-31", "reason": "vendor signs from v2"}]"#
        try f.writePolicy(policy(rules: digestRule(f.server), exceptions: expired))
        let refused = try f.fetch(f.url("late.bin"))
        #expect(refused.status == 1)
        #expect(refused.err.contains("an exception expired on 2020-01-31 and no longer applies"), "\(refused.err)")
        #expect(!f.exists("out.bin"))
    }

    @Test func trustDowngradeInAURLFamilyIsRefusedUnlessExcepted() throws {
        let f = try PolicyFixture()
        let v1 = Array("version one".utf8), v2 = Array("version two".utf8)
        f.server.register("app-1.0.tgz", v1)
        f.server.register("app-2.0.tgz", v2)
        // v1 is verified against a digest; v2 falls through to unmatched: pin.
        let rules = #"[{"match": {"url": "\#(f.url("app-1.0.tgz"))"}, "require": [{"digest": {}}]}]"#
        try f.writePolicy(policy(unmatched: "pin", rules: rules))
        #expect(try f.fetch(f.url("app-1.0.tgz"), ["--sha256", PolicyFixture.sha256sum(v1)]).status == 0)
        let downgraded = try f.fetch(f.url("app-2.0.tgz"), output: "v2.tgz")
        #expect(downgraded.status == 1)
        #expect(downgraded.err.contains("trust downgrade"), "\(downgraded.err)")
        #expect(downgraded.err.contains("lacks digest"), "\(downgraded.err)")
        #expect(!f.exists("v2.tgz"))

        let exception = #"[{"match": {"url": "\#(f.url("app-2.0.tgz"))"}, "until": "2999-01-01", "reason": "v2 ships unsigned"}]"#
        try f.writePolicy(policy(unmatched: "pin", rules: rules, exceptions: exception))
        let excepted = try f.fetch(f.url("app-2.0.tgz"), output: "v2.tgz")
        #expect(excepted.status == 0, "\(excepted.err)")
        #expect(excepted.err.contains("trust downgrade"))
        #expect(f.exists("v2.tgz"))
    }

    @Test func credentialsNeverReachTheOutputOrTheLock() throws {
        let f = try PolicyFixture()
        f.server.register("private.bin?token=s3cr3t", Array("private".utf8))
        try f.writePolicy(policy(unmatched: "pin"))
        let secretURL = f.server.baseURL.replacingOccurrences(of: "://", with: "://alice:hunter2@") + "/files/private.bin?token=s3cr3t"
        let result = try f.bouncer(["fetch", secretURL, "-o", f.path("p.bin"), "--policy", f.path("policy.json")])
        #expect(result.status == 0, "\(result.err)")
        let lock = String(decoding: f.lockBytes ?? [], as: UTF8.self)
        for secret in ["hunter2", "alice", "s3cr3t"] {
            #expect(!lock.contains(secret))
            #expect(!result.err.contains(secret) && !result.out.contains(secret))
        }
        #expect(lock.contains("token=REDACTED"))
    }

    @Test func maxSizeAndRedirectHostsPerRule() throws {
        let f = try PolicyFixture()
        f.server.register("big.bin", [UInt8](repeating: 7, count: 10_000))
        try f.writePolicy(policy(unmatched: "deny", rules: #"""
        [{"match": {"host": "127.0.0.1"}, "require": [{"digest": {}}], "maxSize": "4K"},
         {"match": {"host": "localhost"}, "require": [{"digest": {}}], "redirectHosts": []}]
        """#))
        let sha = try PolicyFixture.sha256sum([UInt8](repeating: 7, count: 10_000))
        let big = try f.fetch(f.url("big.bin"), ["--sha256", sha])
        #expect(big.status == 1, "\(big.err)")
        #expect(big.err.contains("larger than the 4096-byte limit"), "\(big.err)")
        #expect(!f.exists("out.bin"))

        // localhost redirects to 127.0.0.1, a host the second rule does not allow.
        let redirect = "http://localhost:\(f.server.port)/to-absolute?\(f.url("big.bin"))"
        let refused = try f.fetch(redirect, ["--sha256", sha])
        #expect(refused.status == 1, "\(refused.err)")
        #expect(refused.err.contains("redirected to 127.0.0.1"), "\(refused.err)")
        #expect(!f.exists("out.bin"))
    }
}
