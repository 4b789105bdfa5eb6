import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools

/// policy.json v1: the design's example is accepted as written; every
/// malformed policy is refused with a message naming the JSON path.
@Suite struct PolicyParserTests {
    /// A directory with the key files the design's example names.
    static func fixtureDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bouncer-policy-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/keys", withIntermediateDirectories: true)
        try Data("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n-----END PGP PUBLIC KEY BLOCK-----\n".utf8).write(to: URL(fileURLWithPath: dir + "/keys/release.asc"))
        try Data("ops@example.com namespaces=\"file\" ssh-ed25519 AAAA\n".utf8).write(to: URL(fileURLWithPath: dir + "/keys/allowed_signers"))
        return dir
    }

    /// The example from design.md, "policy.json, version 1", verbatim apart from the elided key.
    static let designExample = """
    {
      "version": 1,
      "mode": "enforce",
      "unmatched": "deny",
      "lockfile": "bouncer.lock",
      "keys": {
        "release": { "type": "openpgp", "file": "keys/release.asc" },
        "zig":     { "type": "minisign", "key": "RWS…" },
        "ops":     { "type": "ssh", "allowedSigners": "keys/allowed_signers", "namespace": "file" }
      },
      "rules": [
        {
          "name": "example releases",
          "match": { "url": "https://downloads.example.com/app/*" },
          "require": [
            { "checksums": { "url": "{dir}/SHA256SUMS",
                             "signature": { "url": "{dir}/SHA256SUMS.asc", "key": "release" } } },
            { "sigstore": { "bundle": "{url}.sigstore.json",
                            "identity": "https://github.com/example/app/.github/workflows/release.yml@refs/tags/v1.4.0",
                            "issuer": "https://token.actions.githubusercontent.com" } }
          ]
        },
        { "match": { "ecosystem": "npm" },  "require": [ { "integrity": {} }, { "registrySignature": {} } ] },
        { "match": { "ecosystem": "pypi" }, "require": [ { "digest": {} } ] }
      ]
    }
    """

    func parse(_ text: String, in dir: String) throws(PolicyError) -> Policy {
        try PolicyParser.parse(Array(text.utf8), file: dir + "/policy.json")
    }

    @Test func designExampleIsAcceptedAsWritten() throws {
        let dir = try Self.fixtureDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let policy = try parse(Self.designExample, in: dir)
        #expect(policy.mode == .enforce)
        #expect(policy.unmatched == .deny)
        #expect(policy.lockfile == dir + "/bouncer.lock")
        #expect(policy.keys.keys.sorted() == ["ops", "release", "zig"])
        #expect(policy.keys["ops"]?.namespace == "file")
        #expect(policy.rules.count == 3)
        #expect(policy.rules[0].require.map(\.kind.rawValue) == ["checksums", "sigstore"])
        #expect(policy.rules[1].require.map(\.kind.rawValue) == ["integrity", "registrySignature"])
        #expect(policy.rules[2].require.map(\.kind.rawValue) == ["digest"])

        let app = ArtifactRequest(url: "https://downloads.example.com/app/app-1.4.0.tar.gz")
        #expect(policy.rule(for: app)?.index == 0)
        #expect(policy.rule(for: ArtifactRequest(url: "https://downloads.example.com/app/v1/app.tgz")) == nil)
        #expect(policy.rule(for: ArtifactRequest(url: "https://x.test/left-pad.tgz", ecosystem: .npm, package: "left-pad"))?.index == 1)
        #expect(policy.rule(for: ArtifactRequest(url: "https://x.test/a.whl", ecosystem: .pypi))?.index == 2)
        #expect(policy.rule(for: ArtifactRequest(url: "https://elsewhere.test/x")) == nil)
        // Credentials take no part in matching.
        #expect(policy.rule(for: ArtifactRequest(url: "https://u:p@downloads.example.com/app/a.tgz"))?.index == 0)

        guard case .checksums(let checksums) = policy.rules[0].require[0] else { Issue.record("not checksums"); return }
        #expect(checksums.url.expand(for: app.url) == "https://downloads.example.com/app/SHA256SUMS")
        #expect(checksums.signature?.key == "release")
        guard case .sigstore(let sigstore) = policy.rules[0].require[1] else { Issue.record("not sigstore"); return }
        #expect(sigstore.bundle?.expand(for: app.url) == "https://downloads.example.com/app/app-1.4.0.tar.gz.sigstore.json")
        #expect(try sigstore.signer.issuer?.matches("https://token.actions.githubusercontent.com") == true)
    }

    @Test func globs() {
        #expect(Glob("https://h/app/*").matches("https://h/app/a.tgz"))
        #expect(!Glob("https://h/app/*").matches("https://h/app/v1/a.tgz"))
        #expect(Glob("https://h/app/**").matches("https://h/app/v1/a.tgz"))
        #expect(Glob("https://h/**/a-*.tgz").matches("https://h/x/y/a-1.2.tgz"))
        #expect(!Glob("https://h/**/a-*.tgz").matches("https://h/x/y/b-1.2.tgz"))
        #expect(Glob("@scope/*").matches("@scope/pkg"))
        #expect(!Glob("@scope/*").matches("@other/pkg"))
        #expect(Glob("exact").matches("exact") && !Glob("exact").matches("exact2"))
        #expect(Glob("*").matches("") && !Glob("*").matches("a/b"))
    }

    @Test func templates() {
        let url = "https://h.test/rel/v1/app.tar.gz?x=1"
        #expect(URLTemplate(text: "{dir}/SHA256SUMS").expand(for: url) == "https://h.test/rel/v1/SHA256SUMS")
        #expect(URLTemplate(text: "{dir}/{file}.minisig").expand(for: url) == "https://h.test/rel/v1/app.tar.gz.minisig")
        #expect(URLTemplate(text: "{url}.asc").expand(for: url) == url + ".asc")
    }

    @Test func identityRegexpsAreAnchored() throws {
        // The policy's regexps are the verifier's own matcher (there is no second, weaker one).
        let dir = try Self.fixtureDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let policy = try parse(#"{"version": 1, "rules": [{"match": {"url": "https://x/*"}, "require": [{"sigstore": {"bundle": "{url}.sigstore.json", "identityRegexp": "https://github\\.com/example/.*", "issuerRegexp": "https://token\\.actions\\.githubusercontent\\.com"}}]}]}"#, in: dir)
        guard case .sigstore(let spec)? = policy.rules.first?.require.first,
              let matcher = spec.signer.identity, let issuer = spec.signer.issuer else {
            Issue.record("no sigstore requirement with identity and issuer")
            return
        }
        #expect(try matcher.matches("https://github.com/example/app/.github/workflows/r.yml@refs/tags/v1"))
        #expect(try !matcher.matches("evil https://github.com/example/app"))
        #expect(try !issuer.matches("https://token.actions.githubusercontent.com.evil.test"))
    }

    /// Each malformed policy → an error naming the JSON path and what is wrong.
    @Test(arguments: [
        (#"{"version": 1, "rules": [], "mood": "x"}"#, "$.mood", "unknown key 'mood'"),
        (#"{"rules": []}"#, "$.version", "missing required field 'version'"),
        (#"{"version": "1", "rules": []}"#, "$.version", "expected a number, found a string"),
        (#"{"version": 2, "rules": []}"#, "$.version", "unsupported version"),
        (#"{"version": 1}"#, "$.rules", "missing required field 'rules'"),
        (#"{"version": 1, "mode": "strict", "rules": []}"#, "$.mode", "'strict' is not one of"),
        (#"{"version": 1, "mode": true, "rules": []}"#, "$.mode", "expected a string, found a boolean"),
        (#"{"version": 1, "unmatched": 0, "rules": []}"#, "$.unmatched", "expected a string, found a number"),
        (#"{"version": 1, "rules": {}}"#, "$.rules", "expected an array, found an object"),
        (#"{"version": 1, "rules": [{"match": {"host": "h"}, "require": []}]}"#, "$.rules[0].require", "must require at least one"),
        (#"{"version": 1, "rules": [{"match": {"host": "h"}}]}"#, "$.rules[0].require", "missing required field 'require'"),
        (#"{"version": 1, "rules": [{"require": [{"digest": {}}]}]}"#, "$.rules[0].match", "missing required field 'match'"),
        (#"{"version": 1, "rules": [{"match": {}, "require": [{"digest": {}}]}]}"#, "$.rules[0].match", "at least one of"),
        (#"{"version": 1, "rules": [{"match": {"urls": "x"}, "require": [{"digest": {}}]}]}"#, "$.rules[0].match.urls", "unknown key 'urls'"),
        (#"{"version": 1, "rules": [{"match": {"ecosystem": "cargo"}, "require": [{"digest": {}}]}]}"#, "$.rules[0].match.ecosystem", "'cargo' is not one of"),
        (#"{"version": 1, "rules": [{"match": {"host": "h"}, "require": [{"checksum": {}}]}]}"#, "$.rules[0].require[0].checksum", "unknown evidence kind 'checksum'"),
        (#"{"version": 1, "rules": [{"match": {"host": "h"}, "require": [{"digest": {}, "integrity": {}}]}]}"#, "$.rules[0].require[0]", "exactly one evidence kind"),
        (#"{"version": 1, "rules": [{"match": {"host": "h"}, "require": [{"digest": {"sha1": "x"}}]}]}"#, "$.rules[0].require[0].digest.sha1", "unknown key 'sha1'"),
        (#"{"version": 1, "rules": [{"match": {"host": "h"}, "require": [{"signature": {"url": "{url}.asc", "key": "nope"}}]}]}"#, "$.rules[0].require[0].signature.key", "key 'nope' is not defined in $.keys"),
        (#"{"version": 1, "rules": [{"match": {"host": "h"}, "require": [{"signature": {"url": "{url}.asc"}}]}]}"#, "$.rules[0].require[0].signature.key", "missing required field 'key'"),
        (#"{"version": 1, "rules": [{"match": {"host": "h"}, "require": [{"checksums": {"url": "{dir}/{name}"}}]}]}"#, "$.rules[0].require[0].checksums.url", "unknown placeholder {name}"),
        (#"{"version": 1, "rules": [{"match": {"host": "h"}, "require": [{"checksums": {"url": "SHA256SUMS"}}]}]}"#, "$.rules[0].require[0].checksums.url", "must start with"),
        (#"{"version": 1, "rules": [{"match": {"host": "h"}, "require": [{"sigstore": {"bundle": "{url}.sigstore.json", "identityRegexp": "(", "issuer": "x"}}]}]}"#, "$.rules[0].require[0].sigstore.identityRegexp", "invalid regular expression"),
        (#"{"version": 1, "rules": [{"match": {"host": "h"}, "require": [{"sigstore": {"bundle": "{url}.sigstore.json", "issuer": "x"}}]}]}"#, "$.rules[0].require[0].sigstore.identity", "keyless evidence needs a named signer"),
        (#"{"version": 1, "rules": [{"match": {"host": "h"}, "require": [{"sigstore": {"bundle": "{url}.sigstore.json", "identity": "a"}}]}]}"#, "$.rules[0].require[0].sigstore.issuer", "missing required field 'issuer'"),
        (#"{"version": 1, "rules": [{"match": {"host": "h"}, "require": [{"provenance": {"attestation": "{url}.intoto.jsonl", "identity": "a", "issuerRegexp": "[", "sourceRepo": "r"}}]}]}"#, "$.rules[0].require[0].provenance.issuerRegexp", "invalid regular expression"),
        (#"{"version": 1, "rules": [{"match": {"host": "h"}, "require": [{"attestation": {"publisher": {"kind": "GitHub"}}}]}]}"#, "$.rules[0].require[0].attestation.publisher.repository", "missing required field 'repository'"),
        (#"{"version": 1, "rules": [{"match": {"host": "h"}, "require": [{"registrySignature": {"key": "k"}}]}]}"#, "$.rules[0].require[0].registrySignature.key", "key 'k' is not defined"),
        (#"{"version": 1, "rules": [{"match": {"host": "h"}, "require": [{"digest": {}}], "maxSize": -5}]}"#, "$.rules[0].maxSize", "positive whole number"),
        (#"{"version": 1, "rules": [{"match": {"host": "h"}, "require": [{"digest": {}}], "redirectHosts": "h"}]}"#, "$.rules[0].redirectHosts", "expected an array"),
        (#"{"version": 1, "keys": {"k": {"type": "gpg", "file": "x"}}, "rules": []}"#, "$.keys.k.type", "'gpg' is not one of"),
        (#"{"version": 1, "keys": {"k": {"type": "openpgp", "file": "missing.asc"}}, "rules": []}"#, "$.keys.k.file", "cannot read key file"),
        (#"{"version": 1, "keys": {"k": {"type": "minisign"}}, "rules": []}"#, "$.keys.k", "missing required field 'key' or 'file'"),
        (#"{"version": 1, "keys": {"k": {"type": "ssh", "allowedSigners": "keys/allowed_signers"}}, "rules": []}"#, "$.keys.k.namespace", "missing required field 'namespace'"),
        (#"{"version": 1, "keys": {"k": {"type": "minisign", "key": "RW", "comment": 1}}, "rules": []}"#, "$.keys.k.comment", "unknown key 'comment'"),
        (#"{"version": 1, "keys": {"k": {"type": "minisign", "key": "RW"}}, "rules": [{"match": {"host": "h"}, "require": [{"sigstore": {"bundle": "{url}.sigstore.json", "key": "k"}}]}]}"#, "$.rules[0].require[0].sigstore.key", "of type 'minisign', which cannot verify this"),
        (#"{"version": 1, "rules": [], "exceptions": [{"match": {"host": "h"}, "until": "2026-13-01", "reason": "r"}]}"#, "$.exceptions[0].until", "is not a date"),
        (#"{"version": 1, "rules": [], "exceptions": [{"match": {"host": "h"}, "until": "2026-12-01"}]}"#, "$.exceptions[0].reason", "missing required field 'reason'"),
        (#"{"version": 1, "rules": [], "#, "line 1, column 29", "not valid JSON: expected a member name"),
        // One strict reader: a duplicate key (jq and Python take the last, a first-wins reader the first) and trailing commas.
        (#"{"version": 1, "mode": "enforce", "rules": [], "mode": "audit"}"#, "line 1, column 48", "duplicate member \"mode\""),
        ("{\"version\": 1,\n  \"rules\": [],\n}", "line 3, column 1", "trailing comma before '}'"),
        (#"{"version": 1, "rules": [{"match": {"ecosystem": "pypi"}, "require": [{"digest": {}},]}]}"#, "line 1, column 86", "trailing comma before ']'"),
        (#"{"version": 1, "rules": [], "archive": []}"#, "$.archive", "expected an object, found an array"),
        (#"{"version": 1, "rules": [], "archive": {"maxSize": "1G"}}"#, "$.archive.maxSize", "unknown key 'maxSize'"),
        (#"{"version": 1, "rules": [], "archive": {"maxUnpackedSize": "lots"}}"#, "$.archive.maxUnpackedSize", "'lots' is not a size"),
        (#"{"version": 1, "rules": [], "archive": {"maxUnpackedSize": "0"}}"#, "$.archive.maxUnpackedSize", "is not a size"),
        (#"{"version": 1, "rules": [], "archive": {"maxUnpackedSize": true}}"#, "$.archive.maxUnpackedSize", "expected a number, found a boolean"),
        (#"{"version": 1, "rules": [], "archive": {"maxEntries": "100"}}"#, "$.archive.maxEntries", "expected a number, found a string"),
        (#"{"version": 1, "rules": [], "archive": {"maxEntries": 0}}"#, "$.archive.maxEntries", "positive whole number"),
        (#"{"version": 1, "rules": [], "archive": {"maxEntries": 2.5}}"#, "$.archive.maxEntries", "positive whole number"),
        (#"{"version": 1, "rules": [], "archive": {"maxRatio": 0.5}}"#, "$.archive.maxRatio", "at least 1"),
        (#"{"version": 1, "rules": [], "archive": {"maxRatio": "200"}}"#, "$.archive.maxRatio", "expected a number, found a string"),
        (#"{"version": 1, "rules": [], "archive": {"refuseCaseCollisions": "yes"}}"#, "$.archive.refuseCaseCollisions", "expected a boolean, found a string"),
    ])
    func malformedPoliciesNameTheJSONPath(policy: String, path: String, message: String) throws {
        let dir = try Self.fixtureDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            _ = try parse(policy, in: dir)
            Issue.record("accepted: \(policy)")
        } catch {
            #expect(error.path == path, "\(error)")
            #expect(error.reason.contains(message), "\(error)")
            #expect(error.description.hasPrefix(dir + "/policy.json: \(path): "))
            #expect(BouncerError(error).family.exitCode == 2)
        }
    }

    /// The `archive` extension: each field replaces its default, the rest keep theirs.
    @Test func archiveLimitsReplaceTheDefaults() throws {
        let dir = try Self.fixtureDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let absent = try parse(#"{"version": 1, "rules": []}"#, in: dir)
        #expect(absent.archive == ArchivePolicy.defaults)

        let full = try parse(#"{"version": 1, "rules": [], "archive": {"maxUnpackedSize": "512M", "maxEntries": 7, "maxRatio": 12.5, "refuseCaseCollisions": true}}"#, in: dir)
        #expect(full.archive.limits.maxTotalBytes == 512 * 1024 * 1024)
        #expect(full.archive.limits.maxEntries == 7)
        #expect(full.archive.limits.maxRatio == 12.5)
        #expect(full.archive.refuseCaseCollisions)
        // Limits the policy cannot set stay as they are.
        #expect(full.archive.limits.ratioGraceBytes == ArchiveLimits.defaults.ratioGraceBytes)
        #expect(full.archive.limits.maxPathBytes == ArchiveLimits.defaults.maxPathBytes)

        let partial = try parse(#"{"version": 1, "rules": [], "archive": {"maxUnpackedSize": 1048576}}"#, in: dir)
        #expect(partial.archive.limits.maxTotalBytes == 1_048_576)
        #expect(partial.archive.limits.maxEntries == ArchiveLimits.defaults.maxEntries)
        #expect(partial.archive.limits.maxRatio == ArchiveLimits.defaults.maxRatio)
        #expect(!partial.archive.refuseCaseCollisions)
    }

    @Test func exceptionsExpireAtTheEndOfTheirDay() throws {
        let dir = try Self.fixtureDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let policy = try parse(#"{"version": 1, "rules": [], "exceptions": [{"match": {"host": "h.test"}, "until": "2026-06-30", "reason": "r"}]}"#, in: dir)
        let exception = try #require(policy.exceptions.first)
        #expect(exception.isActive(at: Date(timeIntervalSince1970: 1_782_863_999)))  // 2026-06-30T23:59:59Z
        #expect(!exception.isActive(at: Date(timeIntervalSince1970: 1_782_864_000))) // 2026-07-01T00:00:00Z
    }
}
