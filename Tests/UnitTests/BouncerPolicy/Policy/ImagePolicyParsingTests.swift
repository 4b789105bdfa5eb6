import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSigstore
@testable import BouncerPolicy

/// Image rules: `match.image` (a glob over REGISTRY/REPO) and ecosystem
/// `oci`; what they may require; `requireLog: false` only with a key; the
/// lock key of an image; and which rules an image request matches.
@Suite struct ImagePolicyParsingTests {
    static let keyPEM = """
        -----BEGIN PUBLIC KEY-----
        MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8nXRh950IZbRj8Ra/N9sbqOPZrfM
        5/KAQN0/KjHcorm/J5yctVd7iEcnessRQjU917hmKO6JWVGHpDguIyakZA==
        -----END PUBLIC KEY-----
        """

    func parse(_ rules: String, keys: Bool = true) throws(PolicyError) -> Policy {
        let keyBlock = keys ? #""keys": {"images": {"type": "publicKey", "pem": \#(LoopbackJSON.string(Self.keyPEM))}},"# : ""
        let text = #"{"version": 1, \#(keyBlock) "rules": [\#(rules)]}"#
        return try PolicyParser.parse(Array(text.utf8), file: "/nonexistent/policy.json")
    }

    func refusal(_ rules: String) -> PolicyError? {
        do { _ = try parse(rules) } catch { return error }
        return nil
    }

    static let imageRequest = ArtifactRequest(url: "oci:registry.example/team/app:v1", ecosystem: .oci,
                                              package: "registry.example/team/app", version: "v1")

    @Test func anImageRuleWithAKeyAndNoLogIsAccepted() throws {
        let policy = try parse(#"{"match": {"image": "registry.example/team/*"}, "require": [{"sigstore": {"key": "images", "requireLog": false}}]}"#)
        guard case .sigstore(let requirement) = try #require(policy.rules.first?.require.first) else {
            Issue.record("not a sigstore requirement")
            return
        }
        #expect(requirement.bundle == nil)
        #expect(requirement.requireLog == false)
        #expect(requirement.signer.key == "images")
        #expect(policy.rule(for: Self.imageRequest)?.index == 0)
        // * stays within one path segment: a nested repository is not covered.
        var nested = Self.imageRequest
        nested.package = "registry.example/team/app/sub"
        #expect(policy.rule(for: nested) == nil)
    }

    @Test func keylessWithoutALogIsRefusedAtLoadNamingTheJSONPath() throws {
        let error = try #require(refusal(#"{"match": {"ecosystem": "oci"}, "require": [{"sigstore": {"identity": "a@example.com", "issuer": "https://issuer.example", "requireLog": false}}]}"#))
        #expect(error.path == "$.rules[0].require[0].sigstore.requireLog")
        #expect(error.reason.contains("only with a 'key'"))
        #expect(error.description.contains("/nonexistent/policy.json"))
        // true is the default and is allowed for keyless.
        #expect(refusal(#"{"match": {"ecosystem": "oci"}, "require": [{"sigstore": {"identity": "a@example.com", "issuer": "https://issuer.example", "requireLog": true}}]}"#) == nil)
    }

    @Test func imageRulesRefuseWhatDoesNotApplyToImages() throws {
        let cases: [(String, String)] = [
            (#"{"match": {"image": "r.example/*"}, "require": [{"sigstore": {"key": "images", "bundle": "{url}.sigstore.json"}}]}"#,
             "$.rules[0].require[0].sigstore.bundle"),
            (#"{"match": {"image": "r.example/*"}, "require": [{"provenance": {"key": "images", "attestation": "{url}.intoto.jsonl"}}]}"#,
             "$.rules[0].require[0].provenance.attestation"),
            (#"{"match": {"image": "r.example/*"}, "require": [{"checksums": {"url": "{dir}/SHA256SUMS"}}]}"#,
             "$.rules[0].require[0].checksums"),
            (#"{"match": {"image": "r.example/*", "url": "https://r.example/*"}, "require": [{"sigstore": {"key": "images"}}]}"#,
             "$.rules[0].match.url"),
            (#"{"match": {"image": "r.example/*", "ecosystem": "npm"}, "require": [{"sigstore": {"key": "images"}}]}"#,
             "$.rules[0].match.ecosystem"),
            // requireLog is an image setting; a file's bundle carries its own log entry.
            (#"{"match": {"url": "https://r.example/*"}, "require": [{"sigstore": {"key": "images", "bundle": "{url}.sigstore.json", "requireLog": false}}]}"#,
             "$.rules[0].require[0].sigstore.requireLog"),
            // A file rule still needs its bundle.
            (#"{"match": {"url": "https://r.example/*"}, "require": [{"sigstore": {"key": "images"}}]}"#,
             "$.rules[0].require[0].sigstore.bundle"),
        ]
        for (rules, path) in cases {
            let error = refusal(rules)
            #expect(error?.path == path, "\(rules): \(String(describing: error))")
        }
    }

    @Test func imagesAndFilesMatchOnlyTheirOwnRules() throws {
        let policy = try parse("""
            {"match": {"url": "**"}, "require": [{"digest": {}}]},
            {"match": {"ecosystem": "oci"}, "require": [{"sigstore": {"key": "images"}}]}
            """)
        // A catch-all URL rule does not cover an image, and the oci rule covers no file.
        #expect(policy.rule(for: Self.imageRequest)?.index == 1)
        #expect(policy.rule(for: ArtifactRequest(url: "https://r.example/app.tar.gz"))?.index == 0)
    }

    @Test func theLockKeysAnImageByTagOrDigest() throws {
        #expect(LockEntry.key(for: Self.imageRequest) == "oci:registry.example/team/app:v1")
        let reference = try ImageReference(parsing: "registry.example/team/app@sha256:" + String(repeating: "ab", count: 32))
        #expect(LockEntry.key(for: ImageGuard.request(for: reference)) == "oci:registry.example/team/app@sha256:" + String(repeating: "ab", count: 32))
        #expect(LockEntry.key(for: ImageGuard.request(for: try ImageReference(parsing: "alpine"))) == "oci:docker.io/library/alpine:latest")
    }
}

/// A JSON string literal for test-built documents.
enum LoopbackJSON {
    static func string(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
