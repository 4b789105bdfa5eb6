import Foundation
import Testing
import BouncerTestSupport

/// Loose identity matching: regexps match the whole value (anchored, also
/// across alternations), host and URL globs in policy.json match the parsed
/// host and path, never a substring of the URL.
@Suite(.blocking) struct LooseIdentityTests {
    @Test func policyHostAndURLGlobsMatchTheParsedURLOnly() throws {
        let project = try HostileProject("globs")
        try project.writePolicy(#"""
        {"version": 1, "unmatched": "deny", "rules": [
          {"name": "releases", "match": {"url": "https://dl.trusted.example/releases/*"}, "require": [{"digest": {}}]},
          {"name": "trusted", "match": {"host": "*.trusted.example"}, "require": [{"digest": {}}]}]}
        """#)
        func rule(_ url: String) throws -> String? {
            let result = try project.bouncer(["explain", url, "--json"])
            #expect(result.status == 0, "\(url): \(result.err)")
            let object = try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any]
            return object?["rule"] as? String
        }
        // Controls.
        #expect(try rule("https://a.trusted.example/x") == "rule 'trusted'")
        #expect(try rule("https://dl.trusted.example/releases/a.tgz") == "rule 'releases'")
        // Look-alikes.
        for url in ["https://attacker.example/x.trusted.example", "https://attacker.example/?h=x.trusted.example",
                    "https://x.trusted.example@attacker.example/", "https://x.trusted.example.attacker.example/",
                    "https://attacker.example/#.trusted.example", "https://trusted.example/",
                    "https://attacker.example/https://dl.trusted.example/releases/a.tgz"] {
            #expect(try rule(url) == nil, "\(url) matched a trusted rule")
        }
        for url in ["https://dl.trusted.example.attacker.example/releases/a.tgz", "https://dl.trusted.example@attacker.example/releases/a.tgz",
                    "https://dl.trusted.example/releases/sub/a.tgz", "https://dl.trusted.example/releases/../evil/a.tgz",
                    "https://dl.trusted.example/releases/%2e%2e/evil.tgz"] {
            #expect(try rule(url) != "rule 'releases'", "\(url) matched the releases rule")
        }
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func certificateIdentityRegexpsAreAnchored() throws {
        guard let root = Corpus.rootOrNotice("LooseIdentityTests") else { return }
        let dir = root.appendingPathComponent("sigstore-bundle/conformance__happy-path-v0.3")
        let project = try HostileProject("anchored")
        func verify(_ identity: [String], _ issuer: [String] = ["--certificate-oidc-issuer", "https://token.actions.githubusercontent.com"]) throws -> ProcessResult {
            try project.bouncer(["verify-bundle", "--bundle", dir.appendingPathComponent("bundle.sigstore.json").path,
                                 "--trusted-root", dir.appendingPathComponent("trusted_root.json").path] + identity + issuer
                                + [dir.appendingPathComponent("artifact").path])
        }
        // The SAN is https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/...@refs/heads/main
        let control = try verify(["--certificate-identity-regexp", "https://github\\.com/sigstore-conformance/.*"])
        #expect(control.status == 0, "\(control.err)")
        for loose in ["https://github.com/sigstore-conformance/", "github.com/sigstore-conformance/.*", "sigstore-conformance",
                      "https://github.com/evil/.*|refs/heads/main", "https://github.com/evil/x/.github/workflows/r.yml|extremely-dangerous"] {
            let result = try verify(["--certificate-identity-regexp", loose])
            #expect(result.status == 1, "identity regexp '\(loose)' matched: \(result.err)")
        }
        for loose in ["token.actions.githubusercontent.com", "https://token.actions.githubusercontent", "https://evil.example|githubusercontent\\.com"] {
            let result = try verify(["--certificate-identity-regexp", ".*"], ["--certificate-oidc-issuer-regexp", loose])
            #expect(result.status == 1, "issuer regexp '\(loose)' matched: \(result.err)")
        }
    }

    @Test func sourceRepositoryRegexpOnSignedProvenanceIsAnchored() throws {
        let project = try HostileProject("source-repo")
        let dir = project.project.path
        for args in [["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "key.pem"], ["ec", "-in", "key.pem", "-pubout", "-out", "pub.pem"]] {
            #expect(try BouncerProcess.runProgram("/usr/bin/openssl", args, cwd: dir).status == 0)
        }
        let artifact = Array("artifact bytes\n".utf8)
        try project.write("artifact.tar.gz", artifact)
        let sha = try HostileProject.sha256(artifact)
        let type = "application/vnd.in-toto+json"
        func envelope(repository: String) throws -> String {
            let payload = VerifyAttestationCommandTests.statement(sha, repository: repository)
            let name = "env-\(UUID().uuidString)"
            try project.write(name + ".pae", Array("DSSEv1 \(type.utf8.count) \(type) \(payload.count) ".utf8) + payload)
            #expect(try BouncerProcess.runProgram("/usr/bin/openssl", ["dgst", "-sha256", "-sign", "key.pem", "-out", name + ".sig", name + ".pae"], cwd: dir).status == 0)
            let sig = try Data(contentsOf: URL(fileURLWithPath: project.path(name + ".sig")))
            try project.write(name + ".json", [UInt8](try JSONSerialization.data(withJSONObject: [
                "payload": Data(payload).base64EncodedString(), "payloadType": type, "signatures": [["keyid": "", "sig": sig.base64EncodedString()]]])))
            return project.path(name + ".json")
        }
        func verify(_ repository: String, _ regexp: String) throws -> ProcessResult {
            try project.bouncer(["verify-attestation", "--bundle", try envelope(repository: repository), "--key", project.path("pub.pem"),
                                 "--source-repo-regexp", regexp, project.path("artifact.tar.gz")])
        }
        let control = try verify("https://github.com/org/app", "https://github\\.com/org/.*")
        #expect(control.status == 0, "\(control.out) \(control.err)")
        for repository in ["https://github.com/evil/x", "https://github.com/evil/github.com/org/app", "https://github.com/org-evil/app",
                           "https://evil.example/https://github.com/org/app"] {
            let result = try verify(repository, "https://github\\.com/org/.*")
            #expect(result.status == 1, "\(repository): \(result.out)")
        }
        // Written as a search pattern, it matches nothing: regexps are whole-value matches.
        let unanchored = try verify("https://github.com/org/app", "github.com/org/")
        #expect(unanchored.status == 1, "\(unanchored.out)")
    }
}
