import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools
import BouncerTestSupport

/// Statements signed at test time (openssl P-256 over the DSSE PAE), verified
/// with DSSEVerifier, then checked: every check has a passing case and a
/// refusing one on the same signed material.
@Suite struct SignedStatementTests {
    static let artifact = Array("release bytes\n".utf8)
    static var sha256: String { Hasher.digest(artifact, .sha256).hex }
    static var sha512: String { Hasher.digest(artifact, .sha512).hex }

    /// Signs `statement`, verifies the envelope with the signer's key and runs the checks.
    func verify(_ statement: [UInt8], _ signer: TestSigner, artifact: [UInt8] = artifact,
                _ requirements: AttestationRequirements = AttestationRequirements()) throws -> AttestationVerifier.Facts {
        let envelope = try DSSEVerifier.parse(try signer.envelope(statement))
        let verified = try DSSEVerifier.verify(envelope, keys: [try signer.publicKey])
        return try AttestationVerifier.check(payload: verified.payload, certificate: try signer.certificate,
                                             artifact: ArtifactDigests(bytes: artifact), requirements: requirements)
    }

    func refusal(_ check: AttestationError.Check, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected a refusal (\(check.rawValue)), got a pass")
        } catch let error as AttestationError {
            #expect(error.check == check, "\(error)")
        } catch {
            Issue.record("expected AttestationError \(check.rawValue), got \(error)")
        }
    }

    @Test func subjectDigestMustMatchTheArtifact() throws {
        let signer = try TestSigner()
        let facts = try verify(Statements.slsaV1(digests: ["sha256": Self.sha256]), signer)
        #expect(facts.subjectDigest.hex == Self.sha256)
        #expect(facts.subjectName == "app.tar.gz")
        #expect(facts.statementType == InTotoStatement.typeV1)
        // The same signed statement about other bytes: refused, whatever the subject's name says.
        refusal(.subject) { _ = try verify(Statements.slsaV1(digests: ["sha256": Self.sha256]), signer, artifact: Array("other bytes".utf8)) }
        // A digest that differs in one nibble.
        var wrong = Self.sha256
        wrong.replaceSubrange(wrong.startIndex...wrong.startIndex, with: wrong.first == "0" ? "1" : "0")
        refusal(.subject) { _ = try verify(Statements.slsaV1(digests: ["sha256": wrong]), signer) }
    }

    @Test func sha512SubjectsCountAndWeakDigestsDoNot() throws {
        let signer = try TestSigner()
        let facts = try verify(Statements.slsaV1(digests: ["sha512": Self.sha512]), signer)
        #expect(facts.subjectDigest.algorithm == .sha512)
        // sha1 and gitCommit entries never count as evidence.
        let sha1 = Hasher.digest(Self.artifact, .sha1).hex
        refusal(.subject) { _ = try verify(Statements.slsaV1(digests: ["sha1": sha1, "gitCommit": sha1]), signer) }
        // Uppercase hex in the statement is still the same digest.
        _ = try verify(Statements.slsaV1(digests: ["sha256": Self.sha256.uppercased()]), signer)
    }

    @Test func statementTypesV01AndV1OnlyAndNeverMissing() throws {
        let signer = try TestSigner()
        let old = try verify(Statements.slsaV1(digests: ["sha256": Self.sha256], type: InTotoStatement.typeV01), signer)
        #expect(old.statementType == InTotoStatement.typeV01)
        refusal(.statement) { _ = try verify(Statements.slsaV1(digests: ["sha256": Self.sha256], type: "https://in-toto.io/Statement/v2"), signer) }
        var noType = try JSONSerialization.jsonObject(with: Data(Statements.slsaV1(digests: ["sha256": Self.sha256]))) as? [String: Any] ?? [:]
        noType["_type"] = nil
        refusal(.statement) { _ = try verify(Array(try JSONSerialization.data(withJSONObject: noType)), signer) }
        refusal(.statement) { _ = try verify(Array("not json".utf8), signer) }
        refusal(.statement) { _ = try verify(Array("{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[],\"predicateType\":\"x\"}".utf8), signer) }
    }

    @Test func duplicateKeysAreAmbiguousAndRefused() throws {
        let signer = try TestSigner()
        let text = "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"name\":\"a\",\"digest\":{\"sha256\":\"\(Self.sha256)\"}}],"
            + "\"predicateType\":\"https://slsa.dev/provenance/v1\",\"predicateType\":\"https://example.com/other\",\"predicate\":{}}"
        refusal(.statement) { _ = try verify(Array(text.utf8), signer) }
        // Spelled with an escape, still the same key.
        let escaped = text.replacingOccurrences(of: "\"predicateType\":\"https://example.com", with: "\"predicate\\u0054ype\":\"https://example.com")
        refusal(.statement) { _ = try verify(Array(escaped.utf8), signer) }
        // Same key names in different objects are fine.
        #expect((try? JSON.parse(Array("{\"a\":{\"b\":1},\"c\":{\"b\":2},\"d\":[{\"b\":1},{\"b\":2}]}".utf8))) != nil)
        #expect(throws: JSON.ParseError.self) { try JSON.parse(Array("{\"a\":{\"b\":1,\"b\":2}}".utf8)) }
    }

    @Test func hostileStatementsAreRefusedNotTrapped() throws {
        // Deep nesting, a huge subject list, non-string digests, numbers where strings belong.
        let deep = "{\"_type\":\"https://in-toto.io/Statement/v1\",\"predicate\":" + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
        #expect(throws: AttestationError(.statement, "")) { _ = try InTotoStatement.parse(Array(deep.utf8)) }
        let many = "{\"_type\":\"https://in-toto.io/Statement/v1\",\"predicateType\":\"x\",\"subject\":[" + Array(repeating: "{\"digest\":{\"sha256\":\"00\"}}", count: 5000).joined(separator: ",") + "]}"
        #expect(throws: AttestationError(.statement, "")) { _ = try InTotoStatement.parse(Array(many.utf8)) }
        for text in ["{\"_type\":\"https://in-toto.io/Statement/v1\",\"predicateType\":\"x\",\"subject\":[{\"digest\":{\"sha256\":5}}]}",
                     "{\"_type\":1,\"predicateType\":\"x\",\"subject\":[{\"digest\":{\"sha256\":\"00\"}}]}",
                     "{\"_type\":\"https://in-toto.io/Statement/v1\",\"predicateType\":\"x\",\"subject\":[{\"digest\":{}}]}",
                     "[]", "\"\\u0000\"", String(repeating: "{\"a\":", count: 300)] {
            #expect(throws: AttestationError(.statement, "")) { _ = try InTotoStatement.parse(Array(text.utf8)) }
        }
        // A SLSA predicate of the wrong shape is refused by name.
        let signer = try TestSigner()
        let broken = "{\"_type\":\"https://in-toto.io/Statement/v1\",\"predicateType\":\"https://slsa.dev/provenance/v1\",\"subject\":[{\"digest\":{\"sha256\":\"\(Self.sha256)\"}}],\"predicate\":{\"buildDefinition\":[]}}"
        refusal(.predicate) { _ = try verify(Array(broken.utf8), signer) }
    }

    @Test func predicateTypeComesFromTheSignedStatement() throws {
        let signer = try TestSigner()
        var r = AttestationRequirements()
        r.predicateType = "https://slsa.dev/provenance/v1"
        let facts = try verify(Statements.slsaV1(digests: ["sha256": Self.sha256]), signer, r)
        #expect(facts.checked.contains("predicate-type"))
        refusal(.predicateType) {
            _ = try verify(Statements.slsaV1(digests: ["sha256": Self.sha256], predicateType: "https://example.com/not-provenance"), signer, r)
        }
    }

    @Test func payloadTypeMismatchIsRefusedBeforeParsing() throws {
        let signer = try TestSigner()
        let statement = Statements.slsaV1(digests: ["sha256": Self.sha256])
        // Declared and signed as another type: a valid signature, but not an in-toto statement.
        let other = try DSSEVerifier.parse(try signer.envelope(statement, payloadType: "application/json"))
        refusal(.payloadType) { _ = try DSSEVerifier.verify(other, keys: [try signer.publicKey]) }
        // Declared in-toto but signed under another type: the PAE differs, so the signature fails.
        let relabelled = try DSSEVerifier.parse(try signer.envelope(statement, signedType: "application/json"))
        refusal(.signature) { _ = try DSSEVerifier.verify(relabelled, keys: [try signer.publicKey]) }
    }

    @Test func severalSignaturesOneFromTheRequiredKeySuffices() throws {
        let signer = try TestSigner(), stranger = try TestSigner()
        let statement = Statements.slsaV1(digests: ["sha256": Self.sha256])
        let strangerSig = try stranger.sign(DSSEEnvelope.pae(payloadType: InTotoStatement.payloadType, payload: statement))
        let envelope = try DSSEVerifier.parse(try signer.envelope(statement, extraSignatures: [strangerSig, [0x30, 0x00]]))
        #expect(envelope.signatures.count == 3)
        let verified = try DSSEVerifier.verify(envelope, keys: [try signer.publicKey])
        #expect(verified.signatureIndex == 2)
        // Only the stranger's key given: its signature verifies, ours does not count for it.
        #expect(try DSSEVerifier.verify(envelope, keys: [try stranger.publicKey]).signatureIndex == 0)
        // A third key signed nothing.
        refusal(.signature) { _ = try DSSEVerifier.verify(envelope, keys: [try TestSigner().publicKey]) }
        // The payload changed after signing.
        var tampered = envelope
        tampered.payload[tampered.payload.count / 2] ^= 0x01
        refusal(.signature) { _ = try DSSEVerifier.verify(tampered, keys: [try signer.publicKey]) }
    }

    @Test func builderBuildTypeRefAndWorkflowRequirements() throws {
        let signer = try TestSigner()
        let statement = Statements.slsaV1(digests: ["sha256": Self.sha256])
        var r = AttestationRequirements()
        r.builderID = .exact("https://github.com/actions/runner/github-hosted")
        r.buildType = .regex("https://slsa-framework\\.github\\.io/github-actions-buildtypes/workflow/v[0-9]+")
        r.sourceRef = .exact("refs/tags/v1.0.0")
        r.workflowPath = .exact(".github/workflows/release.yml")
        let facts = try verify(statement, signer, r)
        #expect(facts.checked.contains("builder-id") && facts.checked.contains("build-type") && facts.checked.contains("source-ref") && facts.checked.contains("workflow"))

        var wrongBuilder = r; wrongBuilder.builderID = .exact("https://github.com/actions/runner/self-hosted")
        refusal(.builder) { _ = try verify(statement, signer, wrongBuilder) }
        var prefixBuilder = r; prefixBuilder.builderID = .regex("https://github.com/actions/runner")
        refusal(.builder) { _ = try verify(statement, signer, prefixBuilder) }
        var wrongRef = r; wrongRef.sourceRef = .exact("refs/tags/v1.0.1")
        refusal(.sourceRef) { _ = try verify(statement, signer, wrongRef) }
        var branchRef = r; branchRef.sourceRef = .regex("refs/heads/.*")
        refusal(.sourceRef) { _ = try verify(statement, signer, branchRef) }
        var wrongWorkflow = r; wrongWorkflow.workflowPath = .exact(".github/workflows/other.yml")
        refusal(.workflow) { _ = try verify(statement, signer, wrongWorkflow) }
        var wrongType = r; wrongType.buildType = .exact("https://example.com/build")
        refusal(.buildType) { _ = try verify(statement, signer, wrongType) }
    }

    @Test func sourceRepositoryExactLookAlikesAndTraversal() throws {
        let signer = try TestSigner()
        var r = AttestationRequirements()
        for accepted in ["https://github.com/org/repo", "github.com/org/repo", "git+https://github.com/org/repo.git", "https://GitHub.com/org/repo/"] {
            r.sourceRepository = .exact(accepted)
            #expect(try verify(Statements.slsaV1(digests: ["sha256": Self.sha256]), signer, r).checked.contains("source-repo"), "\(accepted)")
        }
        r.sourceRepository = .exact("https://github.com/org/repo")
        for claimed in ["https://github.com/org/repo-evil", "https://github.com/org/repo/../other", "https://github.com/org/repo/./x",
                        "https://github.com/org/rep", "https://github.com/org2/repo", "https://evil.example/org/repo",
                        "https://github.com/org/repo%2F..%2Fother", "https://github.com/org//repo"] {
            refusal(.sourceRepository) { _ = try verify(Statements.slsaV1(digests: ["sha256": Self.sha256], repository: claimed), signer, r) }
        }
        // A required value with traversal is a usage error, never a match.
        r.sourceRepository = .exact("https://github.com/org/repo/../other")
        refusal(.configuration) { _ = try verify(Statements.slsaV1(digests: ["sha256": Self.sha256], repository: "https://github.com/org/other"), signer, r) }
        // Regexp form: anchored on the canonical URI, so a look-alike cannot pass on a prefix.
        r.sourceRepository = .regex("https://github\\.com/org/repo")
        refusal(.sourceRepository) { _ = try verify(Statements.slsaV1(digests: ["sha256": Self.sha256], repository: "https://github.com/org/repo-evil"), signer, r) }
        // No source at all (not SLSA, no certificate): a required repository is not proven.
        let bare = Array("{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"digest\":{\"sha256\":\"\(Self.sha256)\"}}],\"predicateType\":\"https://example.com/p\"}".utf8)
        r.sourceRepository = .exact("github.com/org/repo")
        refusal(.sourceRepository) { _ = try verify(bare, signer, r) }
    }

    /// A statement with the given predicate, about the test artifact.
    static func statement(predicateType: String, predicate: [String: Any]) -> [UInt8] {
        let object: [String: Any] = ["_type": InTotoStatement.typeV1, "subject": [["name": "app.tar.gz", "digest": ["sha256": sha256]]],
                                     "predicateType": predicateType, "predicate": predicate]
        return Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data())
    }

    /// SLSA v1 whose build type has no `externalParameters.workflow`: the source is read from
    /// `resolvedDependencies` alone, and compared exactly.
    static func v1FromDependencies(_ uris: [String]) -> [UInt8] {
        statement(predicateType: SLSAProvenance.v1, predicate: [
            "buildDefinition": [
                "buildType": "https://example.com/buildtypes/make/v1",
                "externalParameters": ["target": "release"],
                "resolvedDependencies": uris.map { ["uri": $0, "digest": ["gitCommit": String(repeating: "cd", count: 20)]] },
            ],
            "runDetails": ["builder": ["id": "https://example.com/builder"]],
        ])
    }

    /// SLSA v0.2 whose source is `invocation.configSource`.
    static func v02(configSource uri: String) -> [UInt8] {
        statement(predicateType: SLSAProvenance.v02, predicate: [
            "builder": ["id": "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v1.9.0"],
            "buildType": "https://github.com/slsa-framework/slsa-github-generator/generic@v1",
            "invocation": ["configSource": ["uri": uri, "digest": ["sha1": String(repeating: "ef", count: 20)], "entryPoint": ".github/workflows/release.yml"]],
        ])
    }

    @Test func sourceRepositoryFromResolvedDependenciesAlone() throws {
        let signer = try TestSigner()
        var r = AttestationRequirements()
        r.sourceRepository = .exact("github.com/org/repo")
        let genuine = try verify(Self.v1FromDependencies(["git+https://github.com/org/repo@refs/tags/v1.0.0"]), signer, r)
        #expect(genuine.provenance?.sourceRepository == "git+https://github.com/org/repo")
        #expect(genuine.provenance?.sourceRef == "refs/tags/v1.0.0")
        #expect(genuine.provenance?.sourceCommit == String(repeating: "cd", count: 20))
        #expect(genuine.provenance?.workflowPath == nil)
        #expect(genuine.checked.contains("source-repo"))
        var withRef = r; withRef.sourceRef = .exact("refs/tags/v1.0.0")
        #expect(try verify(Self.v1FromDependencies(["git+https://github.com/org/repo@refs/tags/v1.0.0"]), signer, withRef).checked.contains("source-ref"))
        withRef.sourceRef = .exact("refs/tags/v1.0.1")
        refusal(.sourceRef) { _ = try verify(Self.v1FromDependencies(["git+https://github.com/org/repo@refs/tags/v1.0.0"]), signer, withRef) }
        for lookAlike in ["git+https://github.com/org/repo-evil@refs/tags/v1.0.0", "git+https://github.com/org/repo/../other@refs/tags/v1.0.0",
                          "git+https://github.com/org/repo-evil@github.com/org/repo", "git+https://github.com/org/repo.evil@refs/tags/v1.0.0"] {
            refusal(.sourceRepository) { _ = try verify(Self.v1FromDependencies([lookAlike]), signer, r) }
        }
        // The first git dependency is the source: a genuine one listed after a look-alike does not rescue it.
        refusal(.sourceRepository) {
            _ = try verify(Self.v1FromDependencies(["git+https://github.com/org/repo-evil@refs/tags/v1.0.0", "git+https://github.com/org/repo@refs/tags/v1.0.0"]), signer, r)
        }
        // Dependencies that are not git checkouts name no source: a required repository is not proven.
        refusal(.sourceRepository) { _ = try verify(Self.v1FromDependencies(["https://github.com/org/repo/archive/v1.0.0.tar.gz"]), signer, r) }
    }

    @Test func sourceRepositoryFromV02ConfigSource() throws {
        let signer = try TestSigner()
        var r = AttestationRequirements()
        r.sourceRepository = .exact("https://github.com/org/repo")
        r.sourceRef = .exact("refs/tags/v1.0.0")
        r.workflowPath = .exact(".github/workflows/release.yml")
        let genuine = try verify(Self.v02(configSource: "git+https://github.com/org/repo@refs/tags/v1.0.0"), signer, r)
        #expect(genuine.provenance?.version == SLSAProvenance.v02)
        #expect(genuine.provenance?.sourceCommit == String(repeating: "ef", count: 20))
        #expect(Set(genuine.checked).isSuperset(of: ["source-repo", "source-ref", "workflow"]))
        for lookAlike in ["git+https://github.com/org/repo-evil@refs/tags/v1.0.0", "git+https://github.com/org/repo/../other@refs/tags/v1.0.0",
                          "git+https://github.com/org-evil/repo@refs/tags/v1.0.0", "git+https://github.com.evil.example/org/repo@refs/tags/v1.0.0"] {
            refusal(.sourceRepository) { _ = try verify(Self.v02(configSource: lookAlike), signer, r) }
        }
    }

    @Test func certificateExtensionsAreCrossCheckedWithThePredicate() throws {
        let fulcio = "1.3.6.1.4.1.57264.1"
        let signer = try TestSigner(extensions: [
            "\(fulcio).8": "https://token.actions.githubusercontent.com",
            "\(fulcio).9": "https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1.0.0",
            "\(fulcio).11": "github-hosted",
            "\(fulcio).12": "https://github.com/org/repo",
            "\(fulcio).14": "refs/tags/v1.0.0",
            "\(fulcio).16": "https://github.com/org",
            "\(fulcio).18": "https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1.0.0",
        ], san: "https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1.0.0")
        var r = AttestationRequirements()
        r.sourceRepository = .exact("github.com/org/repo")
        r.sourceRef = .exact("refs/tags/v1.0.0")
        r.signerWorkflow = "org/repo/.github/workflows/release.yml"
        r.owner = "org"
        r.denySelfHostedRunners = true
        let facts = try verify(Statements.slsaV1(digests: ["sha256": Self.sha256]), signer, r)
        #expect(facts.certificate.sourceRepositoryURI == "https://github.com/org/repo")
        #expect(facts.certificate.runnerEnvironment == "github-hosted")
        #expect(facts.conflicts.isEmpty)
        #expect(Set(facts.checked).isSuperset(of: ["source-repo", "source-ref", "signer-workflow", "owner", "runner"]))

        // The predicate claims another repository than the CA-signed extension: refused when it matters.
        refusal(.crossCheck) { _ = try verify(Statements.slsaV1(digests: ["sha256": Self.sha256], repository: "https://github.com/org/repo-evil"), signer, r) }
        refusal(.crossCheck) { _ = try verify(Statements.slsaV1(digests: ["sha256": Self.sha256], ref: "refs/tags/v9.9.9"), signer, r) }
        // Not required: reported, and the certificate's value is the one shown.
        let loose = try verify(Statements.slsaV1(digests: ["sha256": Self.sha256], repository: "https://github.com/org/repo-evil"), signer)
        #expect(loose.conflicts["source-repo"] != nil)
        #expect(loose.sourceRepository == "https://github.com/org/repo")
        // The builder id names a runner kind the certificate contradicts.
        var builder = AttestationRequirements(); builder.builderID = .exact("https://github.com/actions/runner/self-hosted")
        refusal(.crossCheck) { _ = try verify(Statements.slsaV1(digests: ["sha256": Self.sha256], builder: "https://github.com/actions/runner/self-hosted"), signer, builder) }

        var otherWorkflow = r; otherWorkflow.signerWorkflow = "org/repo/.github/workflows/other.yml"
        refusal(.workflow) { _ = try verify(Statements.slsaV1(digests: ["sha256": Self.sha256]), signer, otherWorkflow) }
        var lookAlike = r; lookAlike.signerWorkflow = "org/repo/.github/workflows/release.yml.evil"
        refusal(.workflow) { _ = try verify(Statements.slsaV1(digests: ["sha256": Self.sha256]), signer, lookAlike) }
        var otherOwner = r; otherOwner.owner = "org-evil"
        refusal(.owner) { _ = try verify(Statements.slsaV1(digests: ["sha256": Self.sha256]), signer, otherOwner) }
    }

    @Test func selfHostedRunnersAreRefusedWhenDenied() throws {
        let signer = try TestSigner(extensions: ["1.3.6.1.4.1.57264.1.11": "self-hosted", "1.3.6.1.4.1.57264.1.12": "https://github.com/org/repo"],
                                    san: "https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1.0.0")
        var r = AttestationRequirements()
        r.denySelfHostedRunners = true
        refusal(.runner) {
            _ = try verify(Statements.slsaV1(digests: ["sha256": Self.sha256], builder: "https://github.com/actions/runner/self-hosted"), signer, r)
        }
        _ = try verify(Statements.slsaV1(digests: ["sha256": Self.sha256], builder: "https://github.com/actions/runner/self-hosted"), signer)
    }
}
