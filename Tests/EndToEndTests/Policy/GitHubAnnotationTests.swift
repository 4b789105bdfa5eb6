import Foundation
import Testing
import BouncerTestSupport

/// With GITHUB_ACTIONS=true every refusal is one `::error` workflow command,
/// whatever refused it (no rule, wrong evidence), and its message is escaped
/// so that it stays one command (GitHub's rules: `%` as %25, CR as %0D, LF as %0A).
@Suite(.blocking) struct GitHubAnnotationTests {
    static let actions = ["GITHUB_ACTIONS": "true"]

    /// Lines of `text` that are workflow commands.
    func commands(_ text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init).filter { $0.hasPrefix("::") }
    }

    /// A checksums rule for *.tgz under /files/ (SHA256SUMS beside them); anything else is denied.
    func sumsPolicy(_ f: PolicyFixture) throws {
        try f.writePolicy(#"""
        {"version": 1, "unmatched": "deny", "rules": [
          {"name": "release tarballs", "match": {"url": "http://127.0.0.1:*/files/*.tgz"}, "require": [{"checksums": {"url": "{dir}/SHA256SUMS"}}]}
        ]}
        """#)
    }

    @Test func oneErrorPerRefusalInOneFetch() throws {
        let f = try PolicyFixture("bouncer-gha-many")
        let good = try PolicyFixture.randomBytes(3000)
        let genuine = try PolicyFixture.randomBytes(3000)
        f.server.register("ok.tgz", good)
        f.server.register("tampered.tgz", try PolicyFixture.randomBytes(3000))  // not the bytes SHA256SUMS lists
        f.server.register("unknown1.bin", Array("one".utf8))
        f.server.register("unknown2.bin", Array("two".utf8))
        f.server.register("SHA256SUMS", Array("""
            \(try PolicyFixture.sha256sum(good))  ok.tgz
            \(try PolicyFixture.sha256sum(genuine))  tampered.tgz

            """.utf8))
        try sumsPolicy(f)
        let out = f.path("dl")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let names = ["ok.tgz", "unknown1.bin", "tampered.tgz", "unknown2.bin"]
        let result = try f.bouncer(["fetch", "--quiet", "--output-dir", out, "--policy", f.path("policy.json")] + names.map(f.url),
                                   environment: Self.actions)
        #expect(result.status == 1, "\(result.err)")
        let errors = commands(result.out)
        #expect(errors.count == 3, "\(result.out)")
        #expect(errors.allSatisfy { $0.hasPrefix("::error title=bouncer::") }, "\(errors)")
        for name in ["unknown1.bin", "tampered.tgz", "unknown2.bin"] {
            #expect(errors.filter { $0.contains(f.url(name)) }.count == 1, "\(name): \(errors)")
        }
        #expect(!errors.contains { $0.contains(f.url("ok.tgz")) }, "\(errors)")
        // The evidence refusal says what was wrong: the bytes are not the ones the list names.
        let tampered = try #require(errors.first { $0.contains("tampered.tgz") })
        #expect(tampered.contains("rule 'release tarballs'") && tampered.contains("SHA256SUMS"), "\(tampered)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out) == ["ok.tgz"])
    }

    @Test func anEvidenceRefusalIsAnnotatedAndASuccessIsNot() throws {
        let f = try PolicyFixture("bouncer-gha-evidence")
        let body = try PolicyFixture.randomBytes(2000)
        f.server.register("app.tgz", body)
        f.server.register("SHA256SUMS", Array("\(String(repeating: "ab", count: 32))  app.tgz\n".utf8))
        try sumsPolicy(f)
        let refused = try f.fetch(f.url("app.tgz"), environment: Self.actions)
        #expect(refused.status == 1, "\(refused.err)")
        let errors = commands(refused.out)
        #expect(errors.count == 1, "\(refused.out)")
        #expect(errors.first?.hasPrefix("::error title=bouncer::\(f.url("app.tgz")): refused by rule 'release tarballs'") == true, "\(errors)")
        #expect(!f.exists("out.bin"))

        f.server.register("SHA256SUMS", Array("\(try PolicyFixture.sha256sum(body))  app.tgz\n".utf8))
        let passed = try f.fetch(f.url("app.tgz"), environment: Self.actions)
        #expect(passed.status == 0, "\(passed.err)")
        #expect(commands(passed.out + passed.err) == [])
        // Outside GitHub Actions no workflow command is printed at all.
        f.server.register("SHA256SUMS", Array("\(String(repeating: "cd", count: 32))  app.tgz\n".utf8))
        let plain = try f.fetch(f.url("app.tgz"), output: "other.bin")
        #expect(plain.status == 1)
        #expect(commands(plain.out + plain.err) == [])
    }

    /// A rule name (anything a policy author or a URL brings) holding `%`, CR and
    /// LF: an unescaped line break would end the annotation and let the rest be
    /// read as a workflow command of its own.
    @Test func percentCarriageReturnAndLineFeedAreEscaped() throws {
        let f = try PolicyFixture("bouncer-gha-escape")
        f.server.register("x.bin", Array("x".utf8))
        try f.writePolicy(#"""
        {"version": 1, "rules": [{"name": "50%0A off\r\n::error::injected\rX\nY", "match": {"host": "127.0.0.1"}, "require": [{"digest": {}}]}]}
        """#)
        let result = try f.fetch(f.url("x.bin"), environment: Self.actions)
        #expect(result.status == 1, "\(result.err)")
        #expect(!result.out.contains("\r"), "\(result.out.debugDescription)")
        let lines = result.out.split(separator: "\n", omittingEmptySubsequences: true)
        #expect(lines.count == 1, "\(result.out.debugDescription)")
        #expect(lines.first?.hasPrefix("::error title=bouncer::") == true)
        #expect(result.out.contains("rule '50%250A off%0D%0A::error::injected%0DX%0AY'"), "\(result.out.debugDescription)")
    }
}
