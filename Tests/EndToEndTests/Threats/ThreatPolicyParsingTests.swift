import Foundation
import Testing
import BouncerTestSupport
import BouncerBase
@testable import BouncerPolicy

/// The threat-policy keys as policy.json spells them: the design's example
/// at the top level, overrides per rule, and strict errors naming the JSON
/// path for anything else.
@Suite(.blocking) struct ThreatPolicyParsingTests {
    func parse(_ members: String, rule: String = "") throws(PolicyError) -> Policy {
        let text = """
            { "version": 1, \(members)
              "rules": [ { "name": "npm", "match": { "ecosystem": "npm" }, "require": [ { "integrity": {} } ]\(rule) } ] }
            """
        return try PolicyParser.parse(Array(text.utf8), file: "/tmp/policy.json")
    }

    func error(_ members: String, rule: String = "") -> String {
        do { _ = try parse(members, rule: rule); return "parsed" } catch { return error.description }
    }

    @Test func theDesignsExampleAndPerRuleOverrides() throws {
        let policy = try parse(#""minimumReleaseAge": "48h", "installScripts": { "allow": ["esbuild", "@scope/*"] }, "exoticSources": { "allow": [] }, "identity": "pin","#,
                               rule: #", "minimumReleaseAge": "7d", "identity": "off""#)
        #expect(policy.threats.minimumReleaseAge?.seconds == TimeInterval(48 * 3600))
        let npm = policy.threats(for: ArtifactRequest(url: "https://r.test/esbuild/-/esbuild-1.0.0.tgz", ecosystem: .npm, package: "esbuild"))
        #expect(npm.minimumReleaseAge?.seconds == TimeInterval(7 * 86_400))
        #expect(npm.identity == .off)
        #expect(npm.allowsInstallScripts(of: "esbuild"))
        #expect(npm.allowsInstallScripts(of: "@scope/native"))
        #expect(!npm.allowsInstallScripts(of: "esbuild-evil"))
        let url = policy.threats(for: ArtifactRequest(url: "https://x.test/a.tgz"))
        #expect(url.minimumReleaseAge?.seconds == TimeInterval(48 * 3600))
        #expect(url.identity == .pin)
        #expect(try parse("").threats.minimumReleaseAge?.isOff == true, "off unless set")
        #expect(ReleaseAge(parsing: "30m")?.seconds == TimeInterval(1800))
        #expect(ReleaseAge(parsing: "0")?.isOff == true)
    }

    @Test func malformedThreatKeysNameTheirPath() {
        #expect(error(#""minimumReleaseAge": "2w","#).contains("$.minimumReleaseAge"))
        #expect(error(#""minimumReleaseAge": "48","#).contains("not a duration"))
        #expect(error(#""minimumReleaseAge": 48,"#).contains("$.minimumReleaseAge"))
        #expect(error(#""installScripts": { "allow": ["x"], "deny": [] },"#).contains("$.installScripts"))
        #expect(error(#""installScripts": {},"#).contains("$.installScripts.allow"))
        #expect(error(#""exoticSources": { "allow": [""] },"#).contains("$.exoticSources.allow"))
        #expect(error(#""identity": "strict","#).contains("$.identity"))
        #expect(error("", rule: #", "minimumReleaseAge": "soon""#).contains("$.rules[0].minimumReleaseAge"))
    }

    /// The repository's own policy.json turns all four on, and the schema accepts it (the real validator).
    @Test func theRepositoryPolicyTurnsThemOnAndTheSchemaAcceptsIt() throws {
        let file = Corpus.packageRoot.appendingPathComponent("policy.json").path
        let policy = try PolicyParser.load(file: file)
        #expect(policy.threats.minimumReleaseAge?.text == "48h")
        #expect(policy.threats.installScriptsAllow?.isEmpty == true)
        #expect(policy.threats.exoticSourcesAllow?.isEmpty == true)
        #expect(policy.threats.identity == .pin)
        let schema = Corpus.packageRoot.appendingPathComponent("schema/policy.schema.json").path
        let validated = try BouncerProcess.runProgram("/usr/bin/env", ["python3", "-c", """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1]))
            jsonschema.Draft202012Validator(schema).validate(json.load(open(sys.argv[2])))
            bad = {"version": 1, "rules": [], "minimumReleaseAge": "2w"}
            sys.exit(0 if list(jsonschema.Draft202012Validator(schema).iter_errors(bad)) else 3)
            """, schema, file])
        #expect(validated.status == 0, "\(validated.out)\(validated.err)")
    }
}
