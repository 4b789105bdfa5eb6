import Foundation
import Testing
import BouncerTestSupport

/// PEP 740 through the proxy: a rule requiring `attestation` reads the
/// provenance the index offers for the file (its simple API's `provenance`
/// URL); for a file the index offers none for, the rule's template names the
/// Integrity API's location with `{project}`, `{version}` and `{filename}`;
/// with neither, the refusal says so.
@Suite(.blocking) struct ServePEP740Tests {
    static let publisher = #""publisher": { "kind": "GitHub", "repository": "org/app", "workflow": "release.yml" }"#

    @Test func theIndexsProvenanceURLThenTheRulesTemplate() throws {
        let root = try BouncerProcess.temporaryDirectory("bouncer-serve-pep740")
        defer { try? FileManager.default.removeItem(at: root) }
        let index = try JSONIndex(root: root.appendingPathComponent("index"))
        let offered = try ThreatFixtures.wheel("attested", "1.0", marker: "a", into: index.packages)
        let plain = try ThreatFixtures.wheel("attested", "2.0", marker: "b", into: index.packages)
        // A provenance object with no attestation bundle in it: fetched, then refused as empty.
        let empty = Array(#"{"version": 1, "attestation_bundles": []}"#.utf8)
        index.pages.route("/provenance/\(offered)", [.init(headers: ["Content-Type: application/json"], body: empty)])
        index.pages.route("/integrity/attested/2.0/\(plain)/provenance", [.init(headers: ["Content-Type: application/json"], body: empty)])
        try index.page("attested", [(offered, ThreatFixtures.longAgo), (plain, ThreatFixtures.longAgo)],
                       provenance: [offered: index.pages.url("/provenance/\(offered)")])

        func serve(_ attestation: String) throws -> ServeProcess {
            try ServeProcess(root: root.appendingPathComponent(UUID().uuidString), arguments: ["--pypi-upstream", index.url, "--quiet"], policy: """
                { "version": 1, "mode": "enforce", "unmatched": "deny",
                  "rules": [ { "name": "attested", "match": { "ecosystem": "pypi" },
                               "require": [ { "digest": {} }, { "attestation": { \(attestation) } } ] } ] }
                """)
        }
        let withTemplate = try serve(#""url": "\#(index.pages.baseURL)/integrity/{project}/{version}/{filename}/provenance", "# + Self.publisher)
        _ = try CurlGet.run(withTemplate.base + "/pypi/simple/attested/")
        let first = try CurlGet.run(withTemplate.base + "/pypi/files/attested/" + offered)
        #expect(first.status == 403, "\(first.text)")
        #expect(index.pages.requests(to: "/provenance/\(offered)") == 1, "the index's provenance URL was read")
        #expect(index.pages.requests(to: "/integrity/attested/1.0/\(offered)/provenance") == 0, "the index's URL comes first")
        let second = try CurlGet.run(withTemplate.base + "/pypi/files/attested/" + plain)
        #expect(second.status == 403, "\(second.text)")
        #expect(index.pages.requests(to: "/integrity/attested/2.0/\(plain)/provenance") == 1, "the template named the Integrity API's place")
        #expect(index.fetches(of: plain) == 1)
        #expect(try withTemplate.stop().status == 0)

        let withoutTemplate = try serve(Self.publisher)
        let none = try CurlGet.run(withoutTemplate.base + "/pypi/files/attested/" + plain)
        #expect(none.status == 403)
        #expect(none.text.contains("needs a 'url' template") && none.text.contains("the index offers none"), "\(none.text)")
        #expect(try withoutTemplate.stop().status == 0)
    }

    /// `{project}` in a rule that can match plain URLs could never be filled: refused when the policy loads.
    @Test func aPackagePlaceholderOutsideAPackageRuleIsRefusedAtLoad() throws {
        let root = try BouncerProcess.temporaryDirectory("bouncer-pep740-load")
        defer { try? FileManager.default.removeItem(at: root) }
        let policy = root.appendingPathComponent("policy.json")
        try """
            { "version": 1, "rules": [ { "match": { "url": "https://example.org/*" },
              "require": [ { "attestation": { "url": "https://example.org/integrity/{project}/{version}/{filename}/provenance", \(Self.publisher) } } ] } ] }
            """.write(to: policy, atomically: true, encoding: .utf8)
        let result = try BouncerProcess.run(["explain", "https://example.org/x.whl", "--policy", policy.path])
        #expect(result.status == 2, "\(result.out) \(result.err)")
        #expect(result.err.contains("$.rules[0].require[0].attestation.url"), "\(result.err)")
        #expect(result.err.contains("{project}") && result.err.contains("could never be satisfied"), "\(result.err)")
    }
}
