import Foundation
import Testing
import BouncerTestSupport

/// `bouncer explain`, `bouncer lock` and `bouncer check [--frozen]`.
@Suite(.blocking) struct PolicyCommandTests {
    @Test func explainShowsTheRuleAndItsRequirementsWithoutFetching() throws {
        let f = try PolicyFixture("bouncer-explain")
        try FileManager.default.createDirectory(atPath: f.path("keys"), withIntermediateDirectories: true)
        try Data("not read by explain\n".utf8).write(to: URL(fileURLWithPath: f.path("keys/release.asc")))
        try f.writePolicy(#"""
        {"version": 1, "mode": "audit", "keys": {"release": {"type": "openpgp", "file": "keys/release.asc"}},
         "rules": [
          {"name": "app", "match": {"url": "https://downloads.example.test/app/*"}, "maxSize": "100M", "redirectHosts": ["cdn.example.test"],
           "require": [{"checksums": {"url": "{dir}/SHA256SUMS", "signature": {"url": "{dir}/SHA256SUMS.asc", "key": "release"}}},
                       {"sigstore": {"bundle": "{url}.sigstore.json", "identity": "https://github.com/example/app/.github/workflows/release.yml@refs/tags/v1.4.0",
                                     "issuer": "https://token.actions.githubusercontent.com"}}]}],
         "exceptions": [{"match": {"host": "old.example.test"}, "until": "2020-01-01", "reason": "legacy mirror"}]}
        """#)
        let result = try f.bouncer(["explain", "https://user:pw@downloads.example.test/app/app-1.4.0.tar.gz", "--policy", f.path("policy.json")])
        #expect(result.status == 0, "\(result.err)")
        let out = result.out
        #expect(out.contains("rule: rule 'app'"), "\(out)")
        #expect(out.contains("requires: listed in https://downloads.example.test/app/SHA256SUMS, the list signed (https://downloads.example.test/app/SHA256SUMS.asc) by key 'release'"), "\(out)")
        #expect(out.contains("requires: Sigstore bundle https://downloads.example.test/app/app-1.4.0.tar.gz.sigstore.json"), "\(out)")
        #expect(out.contains("sigstore: Sigstore public-good root (embedded)"), "\(out)")
        #expect(!out.contains("would fail"), "\(out)")
        #expect(out.contains("maxSize: 104857600 bytes"))
        #expect(out.contains("redirects may end on: cdn.example.test"))
        #expect(out.contains("not locked in"))
        #expect(!out.contains("pw@"))

        let unmatched = try f.bouncer(["explain", "https://old.example.test/x.tgz", "--policy", f.path("policy.json"), "--json"])
        #expect(unmatched.status == 0)
        let object = try JSONSerialization.jsonObject(with: unmatched.stdout) as? [String: Any]
        #expect(object?["action"] as? String == "deny")
        #expect(object?["rule"] == nil)
        #expect((object?["exceptions"] as? [String])?.first?.contains("expired on 2020-01-01") == true)
    }

    @Test func checkReverifiesFromTheStoreAndFrozenRefusesAnyChange() throws {
        let f = try PolicyFixture("bouncer-check")
        let body = try PolicyFixture.randomBytes(3000)
        f.server.register("tool.bin", body)
        try f.writePolicy(#"{"version": 1, "unmatched": "pin", "rules": []}"#)
        #expect(try f.fetch(f.url("tool.bin")).status == 0)
        let locked = try #require(f.lockBytes)

        let check = try f.bouncer(["check", "--frozen", "--policy", f.path("policy.json")])
        #expect(check.status == 0, "\(check.err)")
        #expect(!check.err.contains("OK:"), "results go to standard output: \(check.err)")
        #expect(check.out.contains("\(f.url("tool.bin")): OK: sha256 matches bouncer.lock"), "\(check.out)")

        // A changed rule would change the entry: frozen (explicitly or by CI=true) refuses and writes nothing.
        try f.writePolicy(#"{"version": 1, "unmatched": "pin", "rules": [{"name": "tools", "match": {"url": "\#(f.url("tool.bin"))"}, "require": [{"digest": {}}]}]}"#)
        for (arguments, environment) in [(["--frozen"], [String: String]()), ([], ["CI": "true"])] {
            let frozen = try f.bouncer(["check", "--policy", f.path("policy.json")] + arguments, environment: environment)
            #expect(frozen.status == 1, "\(frozen.err)")
            #expect(frozen.out.contains("would change (rule 'unmatched' -> 'tools', evidence [] -> [digest]), and the lock is frozen"), "\(frozen.out)")
            #expect(f.lockBytes == locked)
        }
        let thawed = try f.bouncer(["check", "--no-frozen", "--policy", f.path("policy.json")], environment: ["CI": "true"])
        #expect(thawed.status == 0, "\(thawed.err)")
        #expect(try f.lockEntries().first?["rule"] as? String == "tools")

        // Upstream changes; the store still holds the verified bytes, so check passes from the store...
        f.server.register("tool.bin", try PolicyFixture.randomBytes(3000))
        #expect(try f.bouncer(["check", "--policy", f.path("policy.json")]).status == 0)
        #expect(f.server.requests(to: "/files/tool.bin") == 1)
        // ...until the store copy is damaged: then the network copy is checked, and its digest changed.
        let blob = f.path("cache/sha256/\(try PolicyFixture.sha256sum(body).prefix(2))/\(try PolicyFixture.sha256sum(body))")
        #expect(FileManager.default.fileExists(atPath: blob))
        try FileManager.default.removeItem(atPath: blob)
        try Data("damaged".utf8).write(to: URL(fileURLWithPath: blob))
        let changed = try f.bouncer(["check", "--policy", f.path("policy.json")])
        #expect(changed.status == 1, "\(changed.err)")
        #expect(changed.out.contains("refused in every mode"), "\(changed.out)")
    }

    @Test func lockPinsLiteralRuleURLsAndGivenURLs() throws {
        let f = try PolicyFixture("bouncer-lockcmd")
        let a = Array("installer a".utf8), b = Array("installer b".utf8)
        f.server.register("a.sh", a)
        f.server.register("b.sh", b)
        try f.writePolicy(#"""
        {"version": 1, "unmatched": "pin",
         "rules": [{"name": "installer", "match": {"url": "\#(f.url("a.sh"))"}, "require": [{"digest": {"sha256": "\#(try PolicyFixture.sha256sum(a))"}}]}]}
        """#)
        let result = try f.bouncer(["lock", f.url("b.sh"), "--policy", f.path("policy.json")])
        #expect(result.status == 0, "\(result.err)")
        let entries = try f.lockEntries()
        #expect(entries.compactMap { $0["url"] as? String } == [f.url("a.sh"), f.url("b.sh")])
        #expect(entries.first?["rule"] as? String == "installer")
        #expect(!f.exists("a.sh") && !f.exists("b.sh"))

        // A wrong pin in the policy is refused and nothing new is locked.
        try f.writePolicy(#"""
        {"version": 1, "unmatched": "pin",
         "rules": [{"match": {"url": "\#(f.url("a.sh"))"}, "require": [{"digest": {"sha256": "\#(try PolicyFixture.sha256sum(b))"}}]}]}
        """#)
        let refused = try f.bouncer(["lock", "--policy", f.path("policy.json"), "--json"])
        #expect(refused.status == 1)
        #expect(refused.out.contains("\"code\":\"digest-mismatch\""), "\(refused.out)")
    }

    /// `bouncer lock` re-verifies every entry already in the lock: its evidence
    /// again (a checksum list that no longer lists the bytes refuses it, even
    /// with the bytes in the store), and its bytes (fetched again when the
    /// store lacks them: changed upstream bytes are refused). The lock is left
    /// byte for byte as it was.
    @Test func lockReverifiesWhatIsAlreadyLocked() throws {
        let f = try PolicyFixture("bouncer-relock")
        let tarball = try PolicyFixture.randomBytes(4000), script = Array("echo pinned\n".utf8)
        f.server.register("app-1.0.tgz", tarball)
        f.server.register("setup.sh", script)
        let sums = "\(try PolicyFixture.sha256sum(tarball))  app-1.0.tgz\n"
        f.server.register("SHA256SUMS", Array(sums.utf8))
        try f.writePolicy(#"""
        {"version": 1, "unmatched": "pin",
         "rules": [{"name": "tarballs", "match": {"url": "http://127.0.0.1:*/files/*.tgz"}, "require": [{"checksums": {"url": "{dir}/SHA256SUMS"}}]}]}
        """#)
        #expect(try f.fetch(f.url("app-1.0.tgz"), output: "app.tgz").status == 0)
        #expect(try f.fetch(f.url("setup.sh"), output: "setup.sh").status == 0)
        let locked = try #require(f.lockBytes)
        #expect(try f.lockEntries().count == 2)

        // Nothing changed: both re-verified, the lock byte-identical.
        let again = try f.bouncer(["lock", "--policy", f.path("policy.json")])
        #expect(again.status == 0, "\(again.err)")
        #expect(again.out.contains("\(f.url("app-1.0.tgz")): OK: sha256 matches bouncer.lock; listed in SHA256SUMS"), "\(again.out)")
        #expect(again.out.contains("\(f.url("setup.sh")): OK: sha256 matches bouncer.lock"), "\(again.out)")
        #expect(f.lockBytes == locked)

        // The list no longer names these bytes: the locked tarball's evidence fails, although its bytes are in the store.
        let listRequests = f.server.requests(to: "/files/SHA256SUMS")
        f.server.register("SHA256SUMS", Array("\(String(repeating: "0", count: 64))  app-1.0.tgz\n".utf8))
        let unlisted = try f.bouncer(["lock", "--policy", f.path("policy.json")])
        #expect(unlisted.status == 1, "\(unlisted.err)")
        #expect(unlisted.out.contains("\(f.url("app-1.0.tgz")): REFUSED by rule 'tarballs'"), "\(unlisted.out)")
        #expect(f.server.requests(to: "/files/SHA256SUMS") == listRequests + 1)
        #expect(f.lockBytes == locked)

        // The list is right again, but the served script changed and the store is empty: fetched, refused.
        f.server.register("SHA256SUMS", Array(sums.utf8))
        f.server.register("setup.sh", Array("echo swapped\n".utf8))
        let scriptRequests = f.server.requests(to: "/files/setup.sh")
        let changed = try f.bouncer(["lock", "--policy", f.path("policy.json")], environment: ["BOUNCER_CACHE": f.path("fresh-cache")])
        #expect(changed.status == 1, "\(changed.err)")
        #expect(changed.out.contains("\(f.url("setup.sh")): refused: ") && changed.out.contains("bouncer.lock pins sha256"), "\(changed.out)")
        #expect(changed.out.contains("refused in every mode"), "\(changed.out)")
        // Regression: the report once listed "sha256 matches bouncer.lock" as proven for these very bytes.
        #expect(!changed.out.contains("proven nonetheless: sha256 matches bouncer.lock"), "\(changed.out)")
        #expect(changed.out.contains("\(f.url("app-1.0.tgz")): OK"), "\(changed.out)")
        #expect(f.server.requests(to: "/files/setup.sh") == scriptRequests + 1)
        #expect(f.lockBytes == locked)
        #expect(try f.lockEntries().first { $0["url"] as? String == f.url("setup.sh") }?["sha256"] as? String == PolicyFixture.sha256sum(script))
    }
}
