import Foundation
import Testing
import BouncerTestSupport

/// `provenance` requirements end to end: a real binary and its real SLSA
/// provenance bundle (slsa-github-generator) from the corpus, served over
/// loopback and fetched by the real `bouncer` binary. The required facts
/// (builder, source, ref) are read from the signed statement by Foundation.
@Suite(.blocking) struct PolicyProvenanceTests {
    struct Case {
        let corpus: CorpusCase
        let artifact: [UInt8]
        let bundle: [UInt8]
        let logIndex: String
        let builderID: String
        /// `https://github.com/OWNER/REPO` and the ref, from the predicate's configSource.
        let sourceRepo: String
        let sourceRef: String
        let predicateType: String

        init?(_ name: String, test: String) throws {
            guard let root = Corpus.rootOrNotice(test) else { return nil }
            let dir = root.appendingPathComponent("dsse/\(name)")
            guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("case.json").path) else {
                print("NOTICE: \(test) skipped: corpus case \(name) is absent")
                return nil
            }
            corpus = try CorpusCase.load(dir)
            let artifactName = try #require(corpus.artifact)
            let bundleName = try #require(corpus.signature)
            artifact = [UInt8](try Data(contentsOf: URL(fileURLWithPath: corpus.path(artifactName))))
            bundle = [UInt8](try Data(contentsOf: URL(fileURLWithPath: corpus.path(bundleName))))
            let parsed = try JSONSerialization.jsonObject(with: Data(bundle))
            let object = try #require(parsed as? [String: Any])
            let material = try #require(object["verificationMaterial"] as? [String: Any])
            let entries = try #require(material["tlogEntries"] as? [[String: Any]])
            logIndex = try #require(entries.first?["logIndex"] as? String)
            let envelope = try #require(object["dsseEnvelope"] as? [String: Any])
            let payloadText = try #require(envelope["payload"] as? String)
            let payload = try #require(Data(base64Encoded: payloadText))
            let statementObject = try JSONSerialization.jsonObject(with: payload)
            let statement = try #require(statementObject as? [String: Any])
            predicateType = try #require(statement["predicateType"] as? String)
            // SLSA v0.2 (slsa-github-generator): builder.id and invocation.configSource.uri; other predicates leave these empty.
            let predicate = statement["predicate"] as? [String: Any]
            builderID = (predicate?["builder"] as? [String: Any])?["id"] as? String ?? ""
            let configSource = (predicate?["invocation"] as? [String: Any])?["configSource"] as? [String: Any]
            let uri = configSource?["uri"] as? String ?? ""  // git+https://github.com/O/R@refs/...
            let at = uri.lastIndex(of: "@") ?? uri.endIndex
            sourceRepo = String(uri[..<at].dropFirst("git+".count))
            sourceRef = at == uri.endIndex ? "" : String(uri[uri.index(after: at)...])
        }

        var fileName: String { corpus.artifact ?? "artifact" }
    }

    static let generic = "slsa-verifier__gha-generic-v2.1.0"

    func policy(_ f: PolicyFixture, _ c: Case, checks: [String: String]) -> String {
        var fields = ["attestation": "{url}.intoto.jsonl", "identity": c.corpus.identity?.san ?? "", "issuer": c.corpus.identity?.issuer ?? ""]
        fields.merge(checks) { $1 }
        let data = (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return """
        {"version": 1, "rules": [{"name": "built", "match": {"url": "\(f.server.baseURL)/files/*"},
                                   "require": [{"provenance": \(String(decoding: data, as: UTF8.self))}]}]}
        """
    }

    func allChecks(_ c: Case) -> [String: String] {
        ["predicateType": c.predicateType, "builderId": c.builderID, "sourceRepo": c.sourceRepo, "sourceRef": c.sourceRef]
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func provenanceWithEveryCheckPassesAndIsLocked() throws {
        guard let c = try Case(Self.generic, test: "provenanceWithEveryCheckPassesAndIsLocked") else { return }
        #expect(c.builderID.hasPrefix("https://github.com/") && c.sourceRepo.hasPrefix("https://github.com/") && c.sourceRef.hasPrefix("refs/"))
        let f = try PolicyFixture("bouncer-provenance")
        f.server.register(c.fileName, c.artifact)
        f.server.register(c.fileName + ".intoto.jsonl", c.bundle)
        try f.writePolicy(policy(f, c, checks: allChecks(c)))
        let result = try f.fetch(f.url(c.fileName), ["--json"])
        #expect(result.status == 0, "\(result.out)\(result.err)")
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: f.path("out.bin")))) == c.artifact)
        #expect(result.out.contains("provenance \(c.predicateType) signed by \(c.corpus.identity?.san ?? "?") via"), "\(result.out)")
        #expect(result.out.contains("builder \(c.builderID)"), "\(result.out)")
        let entries = try f.lockEntries()
        let entry = try #require(entries.first)
        #expect(entry["sha256"] as? String == (try PolicyFixture.sha256sum(c.artifact)))
        let evidence = try #require((entry["evidence"] as? [[String: Any]])?.first { $0["kind"] as? String == "provenance" })
        #expect(evidence["signer"] as? String == c.corpus.identity?.san)
        #expect(evidence["issuer"] as? String == c.corpus.identity?.issuer)
        #expect(evidence["logIndex"] as? String == c.logIndex)

        let explain = try f.bouncer(["explain", f.url(c.fileName), "--policy", f.path("policy.json")])
        #expect(explain.out.contains("requires: provenance attestation \(f.url(c.fileName)).intoto.jsonl"), "\(explain.out)")
        #expect(explain.out.contains("source \(c.sourceRepo)"), "\(explain.out)")
        #expect(!explain.out.contains("would fail"), "\(explain.out)")
    }

    enum Refusal: CaseIterable {
        case wrongSourceRepo, wrongRef, wrongBuilder, wrongPredicateType, wrongSignerWorkflow, wrongIdentity,
             emptyFile, noAttestations, missing, artifactTampered
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)"), arguments: Refusal.allCases)
    func refusedWithASpecificReasonAndNoFile(_ refusal: Refusal) throws {
        guard let c = try Case(Self.generic, test: "refusedWithASpecificReasonAndNoFile") else { return }
        let f = try PolicyFixture("bouncer-provenance-refused")
        var checks = allChecks(c)
        var served: [UInt8]? = c.bundle
        var artifact = c.artifact
        let code: String
        switch refusal {
        case .wrongSourceRepo:
            checks["sourceRepo"] = c.sourceRepo + "-fork"
            code = "attestation-source-repo"
        case .wrongRef:
            checks["sourceRef"] = "refs/tags/v0.0.1"
            code = "attestation-source-ref"
        case .wrongBuilder:
            checks["builderId"] = c.builderID.replacingOccurrences(of: "@refs/tags/", with: "@refs/heads/")
            code = "attestation-builder"
        case .wrongPredicateType:
            checks["predicateType"] = "https://slsa.dev/provenance/v1"
            code = "attestation-predicate-type"
        case .wrongSignerWorkflow:
            checks["signerWorkflow"] = "slsa-framework/slsa-github-generator/.github/workflows/builder_go_slsa3.yml"
            code = "attestation-"
        case .wrongIdentity:
            checks["identity"] = (c.corpus.identity?.san ?? "").replacingOccurrences(of: "v2.1.0", with: "v2.0.0")
            code = "sigstore-identity"
        case .emptyFile:
            served = []
            code = "attestation-none"
        case .noAttestations:
            served = Array("\n  \n\n".utf8)
            code = "attestation-none"
        case .missing:
            served = nil
            code = "provenance-unavailable"
        case .artifactTampered:
            artifact[artifact.count / 2] ^= 0x01
            code = "sigstore-dsse-subject"
        }
        f.server.register(c.fileName, artifact)
        if let served { f.server.register(c.fileName + ".intoto.jsonl", served) }
        try f.writePolicy(policy(f, c, checks: checks))
        let result = try f.fetch(f.url(c.fileName), ["--json"])
        #expect(result.status == 1, "\(refusal): \(result.out)\(result.err)")
        #expect(result.out.contains("\"code\":\"\(code)"), "\(refusal): \(result.out)")
        #expect(!f.exists("out.bin"))
        #expect(f.lockBytes == nil)
    }

    /// npm provenance names the tarball by sha512 only: the verifier gets the bytes.
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func sha512SubjectPasses() throws {
        guard let c = try Case("gh-cli__sigstore-js-2.1.0-npm-provenance", test: "sha512SubjectPasses") else { return }
        let f = try PolicyFixture("bouncer-provenance-npm")
        f.server.register(c.fileName, c.artifact)
        f.server.register(c.fileName + ".intoto.jsonl", c.bundle)
        try f.writePolicy(policy(f, c, checks: ["predicateType": c.predicateType, "sourceRepo": "https://github.com/sigstore/sigstore-js"]))
        let result = try f.fetch(f.url(c.fileName), ["--json"])
        #expect(result.status == 0, "\(result.out)\(result.err)")
        #expect(result.out.contains("source https://github.com/sigstore/sigstore-js"), "\(result.out)")
    }
}
