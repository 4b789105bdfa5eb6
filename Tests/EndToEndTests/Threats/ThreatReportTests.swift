import Foundation
import Testing
import BouncerTestSupport

/// `bouncer check --format sarif` and `--json` carry the threat policies'
/// reason codes: a locked npm package whose postinstall the policy no
/// longer allows is refused on re-check as `install-script`. The SARIF log
/// is validated by Python's `jsonschema` against a subset of the OASIS
/// SARIF 2.1.0 schema (Fixtures/sarif-2.1.0-subset.schema.json).
@Suite(.blocking, .serialized) struct ThreatReportTests {
    let root: URL
    let registry: TimedRegistry
    let project: URL

    init() throws {
        root = try BouncerProcess.temporaryDirectory("bouncer-threat-report")
        registry = try TimedRegistry(root: root)
        project = root.appendingPathComponent("project")
        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
    }

    static let schema = Corpus.packageRoot.appendingPathComponent("Tests/EndToEndTests/Threats/Fixtures/sarif-2.1.0-subset.schema.json")

    /// A lock pinning `builder` 1.0.0 (sha256 and size by coreutils), written here, and a policy that no longer allows its postinstall.
    func setUp() throws -> String {
        try registry.publish("builder", "1.0.0", time: "2024-01-01T00:00:00.000Z", scripts: ["postinstall": "node -e 1"])
        let url = registry.server.baseURL + "/builder/-/builder-1.0.0.tgz"
        let tarball = registry.directory.appendingPathComponent("builder/-/builder-1.0.0.tgz")
        let size = try FileManager.default.attributesOfItem(atPath: tarball.path)[.size] as? Int ?? 0
        let lock = """
            {
              "artifacts": [
                {
                  "ecosystem": "npm",
                  "evidence": [ { "kind": "integrity" } ],
                  "key": "npm:builder@1.0.0",
                  "package": "builder",
                  "rule": "npm",
                  "sha256": "\(try ThreatFixtures.sha256(tarball))",
                  "size": \(size),
                  "url": "\(url)",
                  "version": "1.0.0"
                }
              ],
              "version": 1
            }

            """
        try lock.write(to: project.appendingPathComponent("bouncer.lock"), atomically: true, encoding: .utf8)
        try ThreatFixtures.policy().write(to: project.appendingPathComponent("policy.json"), atomically: true, encoding: .utf8)
        return url
    }

    func check(_ arguments: [String]) throws -> ProcessResult {
        try BouncerProcess.run(["check", "--no-frozen"] + arguments, cwd: project.path,
                               environment: ["BOUNCER_CACHE": root.appendingPathComponent("cache").path, "CI": ""])
    }

    @Test func checkWritesAValidSARIFLogWithTheReasonCode() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let url = try setUp()
        let result = try check(["--format", "sarif"])
        #expect(result.status == 1, "\(result.out)\n\(result.err)")
        let log = root.appendingPathComponent("check.sarif")
        try Data(result.out.utf8).write(to: log)

        let validate = try BouncerProcess.runProgram("/usr/bin/env", ["python3", "-c", """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1])); log = json.load(open(sys.argv[2]))
            jsonschema.Draft4Validator.check_schema(schema)
            errors = sorted(jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker()).iter_errors(log), key=str)
            for error in errors: print(list(error.path), error.message)
            sys.exit(1 if errors else 0)
            """, Self.schema.path, log.path])
        #expect(validate.status == 0, "SARIF validation: \(validate.out)\(validate.err)")

        let object = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any]
        #expect(object?["version"] as? String == "2.1.0")
        let run = (object?["runs"] as? [[String: Any]])?.first
        let results = run?["results"] as? [[String: Any]] ?? []
        #expect(results.count == 1, "one refusal, one result: \(results)")
        let first = results.first
        #expect(first?["ruleId"] as? String == "install-script")
        #expect(first?["level"] as? String == "error")
        let location = ((first?["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])?["artifactLocation"] as? [String: Any]
        #expect(location?["uri"] as? String == url)
        let properties = first?["properties"] as? [String: Any]
        #expect(properties?["policyRule"] as? String == "rule 'npm'")
        #expect(properties?["decision"] as? String == "refused")
        let rules = ((run?["tool"] as? [String: Any])?["driver"] as? [String: Any])?["rules"] as? [[String: Any]]
        #expect(rules?.map { $0["id"] as? String } == ["install-script"])
    }

    /// The person's report names the install script as the refusal, not as
    /// evidence "missing", and does not list the rule's requirements (all
    /// proven: adding a digest would not help).
    @Test func theHumanReportSaysWhatRefusedNotWhatWasRequired() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let url = try setUp()
        let result = try check([])
        #expect(result.status == 1, "\(result.out)\n\(result.err)")
        let lines = (result.out + result.err).split(separator: "\n").filter { $0.hasPrefix(url) }
        #expect(lines.contains { $0.hasPrefix("\(url): REFUSED by rule 'npm'") && !$0.contains("required") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("\(url): refused: ") && $0.contains("postinstall") }, "\(lines)")
        #expect(!lines.contains { $0.contains("missing:") }, "\(lines)")
    }

    @Test func checkJSONCarriesTheReasonCode() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        _ = try setUp()
        let result = try check(["--json"])
        #expect(result.status == 1, "\(result.out)\n\(result.err)")
        let object = try JSONSerialization.jsonObject(with: Data((result.out.split(separator: "\n").first ?? "").utf8)) as? [String: Any]
        #expect((object?["reasons"] as? [[String: Any]])?.compactMap { $0["code"] as? String } == ["install-script"])

        // Allowed by name, the same check passes.
        try ThreatFixtures.policy(top: [#""installScripts": { "allow": ["builder"] }"#])
            .write(to: project.appendingPathComponent("policy.json"), atomically: true, encoding: .utf8)
        let allowed = try check(["--format", "sarif"])
        #expect(allowed.status == 0, "\(allowed.out)\n\(allowed.err)")
        let log = try JSONSerialization.jsonObject(with: Data(allowed.out.utf8)) as? [String: Any]
        #expect(((log?["runs"] as? [[String: Any]])?.first?["results"] as? [Any])?.isEmpty == true)
    }
}
