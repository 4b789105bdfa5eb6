import Foundation
import Testing
import BouncerTestSupport

/// A release tarball swapped on a project's download site right after a
/// maintainer's account is taken over (the xz and PHP-git style of attack,
/// with a fresh signature from a stolen key): for a plain URL there is no
/// index `upload-time`, so `minimumReleaseAge` is judged by a *verified*
/// time — the OpenPGP signature's creation time, checked with the key. A
/// signature made an hour ago is refused as too new (naming when it becomes
/// installable); one made years ago passes; with no evidence carrying a
/// verified time the age is unknown, which enforce mode refuses.
@Suite(.blocking) struct UnsignedFreshDownloadTests {
    @Test func aURLArtifactIsAgedByItsVerifiedSignatureTime() throws {
        guard GnuPG.available else { print("NOTICE: UnsignedFreshDownloadTests skipped: gpg is not installed"); return }
        let gpg = try GnuPG()
        let fixture = try PolicyFixture("bouncer-threat-url-age")
        try gpg.generate("release@example.org", algorithm: "ed25519", fakedTime: "20200101T000000")
        let key = try gpg.export("release@example.org", to: "release.gpg")
        try FileManager.default.copyItem(atPath: key, toPath: fixture.path("release.gpg"))

        let old = try PolicyFixture.randomBytes(4000)
        let fresh = try PolicyFixture.randomBytes(4000)
        for (name, bytes, faked) in [("old.tar.gz", old, "20240101T000000"), ("fresh.tar.gz", fresh, nil as String?)] {
            let input = try gpg.write(name, String(decoding: [], as: UTF8.self))
            try Data(bytes).write(to: URL(fileURLWithPath: input))
            try gpg.sign("release@example.org", input, name + ".sig", ["--detach-sign"], fakedTime: faked)
            fixture.server.register(name, bytes)
            fixture.server.register(name + ".sig", [UInt8](try Data(contentsOf: URL(fileURLWithPath: gpg.file(name + ".sig")))))
        }
        fixture.server.register("bare.tar.gz", old)
        try fixture.writePolicy("""
            { "version": 1, "mode": "enforce", "unmatched": "deny", "minimumReleaseAge": "48h",
              "keys": { "release": { "type": "openpgp", "file": "release.gpg" } },
              "rules": [
                { "name": "bare", "match": { "url": "\(fixture.url("bare.tar.gz"))" }, "require": [ { "digest": {} } ] },
                { "name": "signed releases", "match": { "url": "\(fixture.server.baseURL)/files/*" },
                  "require": [ { "signature": { "url": "{url}.sig", "key": "release" } } ] } ] }
            """)

        let tooNew = try fixture.fetch(fixture.url("fresh.tar.gz"), output: "fresh.tar.gz", ["--json"])
        #expect(tooNew.status == 1, "\(tooNew.out) \(tooNew.err)")
        #expect(tooNew.out.contains("release-too-new"), "\(tooNew.out)")
        #expect((tooNew.out + tooNew.err).contains("installable from"), "\(tooNew.out) \(tooNew.err)")
        #expect(!fixture.exists("fresh.tar.gz"), "nothing written")

        let aged = try fixture.fetch(fixture.url("old.tar.gz"), output: "old.tar.gz")
        #expect(aged.status == 0, "\(aged.out) \(aged.err)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: fixture.path("old.tar.gz"))) == Data(old))

        let unknown = try fixture.fetch(fixture.url("bare.tar.gz"), output: "bare.tar.gz",
                                        ["--sha256", try PolicyFixture.sha256sum(old), "--json"])
        #expect(unknown.status == 1, "\(unknown.out) \(unknown.err)")
        #expect(unknown.out.contains("release-age-unknown"), "\(unknown.out)")
        #expect(!fixture.exists("bare.tar.gz"))
    }
}
