import Foundation
import Testing
import BouncerTestSupport

/// `attestation` (PyPI PEP 740) requirements end to end: real sdists and their
/// real PEP 740 provenance / attestation objects from the corpus, served over
/// loopback and fetched by the real `bouncer` binary. The publisher required
/// is read from each case's certificate identity (case.json), not from Bouncer.
@Suite(.blocking) struct PolicyAttestationTests {
    struct Case {
        let corpus: CorpusCase
        let artifact: [UInt8]
        let document: [UInt8]

        init?(_ name: String, test: String) throws {
            guard let root = Corpus.rootOrNotice(test) else { return nil }
            let dir = root.appendingPathComponent("pep740/\(name)")
            guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("case.json").path) else {
                print("NOTICE: \(test) skipped: corpus case \(name) is absent")
                return nil
            }
            corpus = try CorpusCase.load(dir)
            let artifactName = try #require(corpus.artifact)
            let documentName = try #require(corpus.signature)
            artifact = [UInt8](try Data(contentsOf: URL(fileURLWithPath: corpus.path(artifactName))))
            document = [UInt8](try Data(contentsOf: URL(fileURLWithPath: corpus.path(documentName))))
        }

        var fileName: String { corpus.artifact ?? "artifact" }

        /// `OWNER/REPO` and the workflow from the SAN
        /// `https://github.com/OWNER/REPO/.github/workflows/FILE@REF` or
        /// `https://gitlab.com/GROUP/PROJECT//PATH@REF`.
        var publisher: (repository: String, workflow: String) {
            let san = corpus.identity?.san ?? ""
            let withoutRef = String(san[..<(san.lastIndex(of: "@") ?? san.endIndex)])
            let path = withoutRef.split(separator: "/", omittingEmptySubsequences: false).dropFirst(3).map(String.init)
            let repository = path.prefix(2).joined(separator: "/")
            if san.hasPrefix("https://gitlab.com/") { return (repository, path.dropFirst(3).joined(separator: "/")) }
            return (repository, path.last ?? "")
        }
    }

    func policy(_ f: PolicyFixture, publisher: [String: String]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: publisher, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return """
        {"version": 1, "rules": [{"name": "pypi", "match": {"url": "\(f.server.baseURL)/files/*"},
          "require": [{"attestation": {"url": "{url}.provenance", "publisher": \(String(decoding: data, as: UTF8.self))}}]}]}
        """
    }

    func serve(_ c: Case, _ f: PolicyFixture, document: [UInt8]? = nil) {
        f.server.register(c.fileName, c.artifact)
        f.server.register(c.fileName + ".provenance", document ?? c.document)
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)"), arguments: ["pypi-attestations__pypi_attestations-0.0.19-provenance", "pypi-attestations__gitlab-sdist"])
    func trustedPublisherPasses(_ name: String) throws {
        guard let c = try Case(name, test: "trustedPublisherPasses") else { return }
        let f = try PolicyFixture("bouncer-pep740")
        serve(c, f)
        let kind = c.corpus.identity?.issuer == "https://gitlab.com" ? "GitLab" : "GitHub"
        try f.writePolicy(policy(f, publisher: ["kind": kind, "repository": c.publisher.repository, "workflow": c.publisher.workflow]))
        let result = try f.fetch(f.url(c.fileName), ["--json"])
        #expect(result.status == 0, "\(name): \(result.out)\(result.err)")
        #expect(result.out.contains("PEP 740: published by \(kind) \(c.publisher.repository) workflow \(c.publisher.workflow) (\(c.corpus.identity?.san ?? "?"))"), "\(result.out)")
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: f.path("out.bin")))) == c.artifact)
        let entries = try f.lockEntries()
        let evidence = try #require((entries.first?["evidence"] as? [[String: Any]])?.first)
        #expect(evidence["kind"] as? String == "attestation")
        #expect(evidence["signer"] as? String == c.corpus.identity?.san)
        #expect(evidence["issuer"] as? String == c.corpus.identity?.issuer)

        // Without a workflow any workflow of the repository counts.
        try FileManager.default.removeItem(atPath: f.path("out.bin"))
        try f.writePolicy(policy(f, publisher: ["kind": kind, "repository": c.publisher.repository]))
        #expect(try f.fetch(f.url(c.fileName)).status == 0)
    }

    enum Refusal: CaseIterable { case wrongWorkflow, wrongRepository, wrongKind, notPEP740, tamperedArtifact, missing }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)"), arguments: Refusal.allCases)
    func refusedWithASpecificReasonAndNoFile(_ refusal: Refusal) throws {
        guard let c = try Case("pypi-attestations__pypi_attestations-0.0.19-provenance", test: "refusedWithASpecificReasonAndNoFile") else { return }
        let f = try PolicyFixture("bouncer-pep740-refused")
        var publisher = ["kind": "GitHub", "repository": c.publisher.repository, "workflow": c.publisher.workflow]
        var code = "attestation-publisher"
        switch refusal {
        case .wrongWorkflow:
            publisher["workflow"] = "nightly.yml"
            serve(c, f)
        case .wrongRepository:
            publisher["repository"] = c.publisher.repository + "-fork"
            serve(c, f)
        case .wrongKind:
            publisher["kind"] = "GitLab"
            code = "sigstore-issuer"
            serve(c, f)
        case .notPEP740:
            guard let root = Corpus.root() else { return }
            // A real Sigstore bundle, but not a PEP 740 object.
            let bundle = try Data(contentsOf: root.appendingPathComponent("dsse/slsa-verifier__gha-generic-v2.1.0/bundle.sigstore.json"))
            serve(c, f, document: [UInt8](bundle))
            code = "attestation-not-pep740"
        case .tamperedArtifact:
            var altered = c.artifact
            altered[altered.count / 2] ^= 0x04
            f.server.register(c.fileName, altered)
            f.server.register(c.fileName + ".provenance", c.document)
            code = "sigstore-dsse-subject"
        case .missing:
            f.server.register(c.fileName, c.artifact)
            code = "attestation-unavailable"
        }
        try f.writePolicy(policy(f, publisher: publisher))
        let result = try f.fetch(f.url(c.fileName), ["--json"])
        #expect(result.status == 1, "\(refusal): \(result.out)\(result.err)")
        #expect(result.out.contains("\"code\":\"\(code)\""), "\(refusal): \(result.out)")
        #expect(!f.exists("out.bin"))
        #expect(f.lockBytes == nil)
    }

    @Test func withoutAURLOrWithAnEnvironmentItFailsClosed() throws {
        let f = try PolicyFixture("bouncer-pep740-config")
        f.server.register("x-1.0.tar.gz", Array("x".utf8))
        try f.writePolicy(#"{"version": 1, "rules": [{"match": {"host": "127.0.0.1"}, "require": [{"attestation": {"publisher": {"kind": "GitHub", "repository": "o/r", "workflow": "release.yml"}}}]}]}"#)
        let noURL = try f.fetch(f.url("x-1.0.tar.gz"))
        #expect(noURL.status == 2, "\(noURL.err)")
        #expect(noURL.err.contains("needs a 'url' template"), "\(noURL.err)")
        #expect(f.server.requests(to: "/files/x-1.0.tar.gz") == 0)

        try f.writePolicy(policy(f, publisher: ["kind": "GitHub", "repository": "o/r", "workflow": "release.yml", "environment": "pypi"]))
        let environment = try f.fetch(f.url("x-1.0.tar.gz"))
        #expect(environment.status == 2, "\(environment.err)")
        #expect(environment.err.contains("publisher.environment cannot be verified"), "\(environment.err)")
        #expect(!f.exists("out.bin"))
    }
}
