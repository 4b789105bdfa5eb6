import Foundation
import Testing
import BouncerTestSupport
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools

/// schema/policy.schema.json (for editors) agrees with the parser on the
/// design's example, the repository's own policy.json and malformed policies.
/// The schema is checked by Python's `jsonschema` (a real validator).
@Suite(.blocking) struct PolicySchemaTests {
    static let root = Corpus.packageRoot.path

    @Test func repositoryPolicyLoads() throws {
        let policy = try PolicyParser.load(file: Self.root + "/policy.json")
        #expect(!policy.rules.isEmpty)
    }

    func validate(_ documents: [String]) throws -> [Bool]? {
        let script = """
        import json, sys
        try:
            import jsonschema
        except ImportError:
            print("missing"); sys.exit(0)
        schema = json.load(open(sys.argv[1]))
        jsonschema.Draft202012Validator.check_schema(schema)
        validator = jsonschema.Draft202012Validator(schema)
        for doc in json.load(sys.stdin):
            print("valid" if validator.is_valid(json.loads(doc)) else "invalid")
        """
        // python3 from PATH (a pyenv or venv python may be the one with jsonschema).
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/env") else { return nil }
        let input = try JSONSerialization.data(withJSONObject: documents)
        let result = try BouncerProcess.runProgram("/usr/bin/env", ["python3", "-c", script, Self.root + "/schema/policy.schema.json"], stdin: input)
        #expect(result.status == 0, "\(result.err)")
        if result.out.hasPrefix("missing") {
            print("PolicySchemaTests: python3-jsonschema not installed; schema check skipped")
            return nil
        }
        return result.out.split(separator: "\n").map { $0 == "valid" }
    }

    static let archiveValid = [
        #"{"version": 1, "rules": [], "archive": {"maxUnpackedSize": "512M", "maxEntries": 7, "maxRatio": 12.5, "refuseCaseCollisions": true}}"#,
        #"{"version": 1, "rules": [], "archive": {"maxUnpackedSize": 1048576, "maxEntries": 100000.0}}"#,
        #"{"version": 1, "rules": [], "archive": {}}"#,
    ]

    @Test func schemaAcceptsWhatTheParserAcceptsAndRefusesWhatItRefuses() throws {
        let repository = try String(contentsOfFile: Self.root + "/policy.json", encoding: .utf8)
        let valid = [PolicyParserTests.designExample, repository,
                     #"{"version": 1, "mode": "audit", "unmatched": "pin", "rules": [{"match": {"url": "https://h/**"}, "maxSize": "100M", "redirectHosts": ["cdn.h"], "require": [{"signature": {"url": "{url}.minisig", "key": "k"}}]}], "exceptions": [{"match": {"host": "h"}, "until": "2027-01-01", "reason": "r"}]}"#,
                     #"{"version": 1, "sigstore": {"staging": true}, "rules": [{"match": {"host": "h"}, "require": [{"sigstore": {"bundle": "{url}.sigstore.json", "identityRegexp": "https://github\\.com/o/r/.*", "issuer": "https://token.actions.githubusercontent.com"}}]}]}"#,
                     #"{"version": 1, "sigstore": {"staging": false}, "rules": []}"#,
                     #"{"version": 1, "keys": {"k": {"type": "publicKey", "pem": "P"}}, "rules": [{"match": {"image": "r.example/team/*"}, "require": [{"sigstore": {"key": "k", "requireLog": false}}]}]}"#,
                     #"{"version": 1, "rules": [{"match": {"ecosystem": "oci"}, "require": [{"provenance": {"identity": "i", "issuer": "x", "predicateType": "https://slsa.dev/provenance/v1"}}]}]}"#,
                    ] + Self.archiveValid
        let invalid = [
            #"{"version": 1, "rules": [], "mood": "x"}"#,
            #"{"version": "1", "rules": []}"#,
            #"{"version": 1, "rules": [{"match": {"host": "h"}, "require": []}]}"#,
            #"{"version": 1, "rules": [{"match": {"host": "h"}, "require": [{"checksum": {}}]}]}"#,
            #"{"version": 1, "rules": [{"match": {"host": "h"}, "require": [{"sigstore": {"bundle": "{url}.sigstore.json", "issuer": "x"}}]}]}"#,
            #"{"version": 1, "rules": [{"match": {"ecosystem": "cargo"}, "require": [{"digest": {}}]}]}"#,
            #"{"version": 1, "keys": {"k": {"type": "ssh", "allowedSigners": "a"}}, "rules": []}"#,
            #"{"version": 1, "sigstore": {"trustedRoot": "r.json", "extra": 1}, "rules": []}"#,
            #"{"version": 1, "sigstore": {"staging": "yes"}, "rules": []}"#,
            #"{"version": 1, "sigstore": {"trustedRoot": ""}, "rules": []}"#,
            #"{"version": 1, "sigstore": {"trustedRoot": "r.json", "staging": true}, "rules": []}"#,
            #"{"version": 1, "rules": [], "archive": {"maxSize": "1G"}}"#,
            #"{"version": 1, "rules": [], "archive": {"maxUnpackedSize": "lots"}}"#,
            #"{"version": 1, "rules": [], "archive": {"maxUnpackedSize": "0"}}"#,
            #"{"version": 1, "rules": [], "archive": {"maxEntries": "100"}}"#,
            #"{"version": 1, "rules": [], "archive": {"maxEntries": 0}}"#,
            #"{"version": 1, "rules": [], "archive": {"maxEntries": 2.5}}"#,
            #"{"version": 1, "rules": [], "archive": {"maxRatio": 0.5}}"#,
            #"{"version": 1, "rules": [], "archive": {"refuseCaseCollisions": "yes"}}"#,
            #"{"version": 1, "rules": [], "archive": true}"#,
            // requireLog: false only with a key; a boolean.
            #"{"version": 1, "rules": [{"match": {"image": "r.example/*"}, "require": [{"sigstore": {"identity": "i", "issuer": "x", "requireLog": false}}]}]}"#,
            #"{"version": 1, "keys": {"k": {"type": "publicKey", "pem": "P"}}, "rules": [{"match": {"image": "r.example/*"}, "require": [{"sigstore": {"key": "k", "requireLog": "no"}}]}]}"#,
            #"{"version": 1, "rules": [{"match": {"image": ""}, "require": [{"sigstore": {"identity": "i", "issuer": "x"}}]}]}"#,
        ]
        guard let verdicts = try validate(valid + invalid) else { return }
        #expect(verdicts == valid.map { _ in true } + invalid.map { _ in false })
        // The archive extension: what the schema accepts, the parser accepts too.
        for text in Self.archiveValid {
            #expect(throws: Never.self) { try PolicyParser.parse(Array(text.utf8), file: "policy.json") }
        }
        // The parser refuses every one the schema refuses.
        for text in invalid {
            #expect(throws: PolicyError.self) { try PolicyParser.parse(Array(text.utf8), file: "policy.json") }
        }
    }
}
