import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools
import BouncerTestSupport

/// Real provenance from the corpus: the DSSE signature is checked with the
/// bundle's own certificate key (the log and chain are the bundle verifier's
/// job, tested end to end), then the statement's claims against requirements
/// taken from what the corpus files say.
@Suite(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) struct CorpusProvenanceTests {
    func check(_ name: String, artifact: ArtifactDigests? = nil, _ requirements: AttestationRequirements) throws -> AttestationVerifier.Facts? {
        guard let (envelope, certificate, c) = try AttestationCorpus.envelopeAndCertificate(name) else { return nil }
        let verified = try DSSEVerifier.verify(envelope, keys: [certificate.publicKey])
        let digests: ArtifactDigests
        if let artifact { digests = artifact } else if let file = c.artifact { digests = ArtifactDigests(bytes: try AttestationCorpus.bytes(c, file)) } else {
            digests = ArtifactDigests(digest: try Digest(algorithm: .sha256, hex: c.artifact_sha256 ?? ""))
        }
        return try AttestationVerifier.check(payload: verified.payload, certificate: certificate, artifact: digests, requirements: requirements)
    }

    func refused(_ expected: AttestationError.Check, _ name: String, artifact: ArtifactDigests? = nil, _ r: AttestationRequirements) {
        do {
            if try check(name, artifact: artifact, r) != nil { Issue.record("\(name): expected \(expected.rawValue), got a pass") }
        } catch let error as AttestationError {
            #expect(error.check == expected, "\(name): \(error)")
        } catch {
            Issue.record("\(name): expected \(expected.rawValue), got \(error)")
        }
    }

    static let generator = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.1.0"

    @Test func slsaGitHubGeneratorV02Provenance() throws {
        var r = AttestationRequirements()
        r.predicateType = SLSAProvenance.v02
        r.builderID = .exact(Self.generator)
        r.sourceRepository = .exact("github.com/slsa-framework/example-package")
        r.sourceRef = .exact("refs/tags/v13.0.30")
        r.workflowPath = .exact(".github/workflows/verifier-e2e.all.workflow_dispatch.main.all.slsa3.yml")
        guard let facts = try check("slsa-verifier__gha-generic-v2.1.0", r) else { return }
        #expect(facts.statementType == InTotoStatement.typeV01)
        #expect(facts.provenance?.builderID == Self.generator)
        #expect(facts.certificate.buildSignerURI == Self.generator)
        #expect(facts.provenance?.sourceCommit == "4d329c75e7ec1725f7c9ce917a8799d408d06be3")
        #expect(facts.conflicts.isEmpty, "\(facts.conflicts)")
        #expect(facts.subjectName == "gha_generic-binary-linux-amd64-v13.0.30")

        let name = "slsa-verifier__gha-generic-v2.1.0"
        var builder = r; builder.builderID = .exact("https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.0.0")
        refused(.builder, name, builder)
        var evil = r; evil.sourceRepository = .exact("github.com/slsa-framework/example-package-evil")
        refused(.sourceRepository, name, evil)
        var traversal = r; traversal.sourceRepository = .exact("github.com/slsa-framework/example-package/../other")
        refused(.configuration, name, traversal)
        var ref = r; ref.sourceRef = .exact("refs/tags/v13.0.31")
        refused(.sourceRef, name, ref)
        var type = r; type.predicateType = SLSAProvenance.v1
        refused(.predicateType, name, type)
        // The same valid envelope, but another artifact: its statement names different bytes.
        refused(.subject, name, artifact: ArtifactDigests(bytes: Array("a different artifact".utf8)), r)
    }

    @Test func gitHubArtifactAttestationFromAReusableWorkflow() throws {
        var r = AttestationRequirements()
        r.predicateType = SLSAProvenance.v1
        r.signerWorkflow = "github/artifact-attestations-workflows/.github/workflows/attest.yml"
        r.sourceRepository = .exact("https://github.com/malancas/attest-demo")
        r.sourceRef = .exact("refs/heads/main")
        r.owner = "malancas"
        r.workflowPath = .exact(".github/workflows/shared.yml")
        guard let facts = try check("gh-cli__reusable-workflow", r) else { return }
        #expect(facts.provenance?.builderID == "https://github.com/actions/runner/github-hosted")
        #expect(facts.certificate.runnerEnvironment == "github-hosted")
        #expect(facts.conflicts.isEmpty, "\(facts.conflicts)")

        let name = "gh-cli__reusable-workflow"
        // The caller workflow did not sign: the reusable workflow did.
        var caller = r; caller.signerWorkflow = "malancas/attest-demo/.github/workflows/shared.yml"
        refused(.workflow, name, caller)
        var owner = r; owner.owner = "malancas-evil"
        refused(.owner, name, owner)
        var repo = r; repo.sourceRepository = .exact("https://github.com/malancas/attest-demo-evil")
        refused(.sourceRepository, name, repo)
        var deny = r; deny.denySelfHostedRunners = true
        #expect(try check(name, deny)?.checked.contains("runner") == true)
    }

    @Test func npmProvenanceWithSha512Subject() throws {
        var r = AttestationRequirements()
        r.sourceRepository = .exact("github.com/sigstore/sigstore-js")
        r.workflowPath = .exact(".github/workflows/release.yml")
        guard let facts = try check("gh-cli__sigstore-js-2.1.0-npm-provenance", r) else { return }
        #expect(facts.subjectDigest.algorithm == .sha512)
        #expect(facts.subjectName == NpmAttestations.purl(name: "sigstore", version: "2.1.0"))
    }

    /// gh-cli__invalid-signature_fail is refused end to end for its payload type
    /// (text/plain, not in-toto), which is checked first. What the case is about,
    /// its signature, is bad too: checked here over PAE with its own payload type.
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func invalidSignatureCaseHasABadSignatureNotOnlyAPayloadType() throws {
        guard let (envelope, certificate, _) = try AttestationCorpus.envelopeAndCertificate("gh-cli__invalid-signature_fail") else { return }
        #expect(envelope.payloadType == "text/plain")
        #expect(throws: AttestationError(.payloadType, "")) { _ = try DSSEVerifier.verify(envelope, keys: [certificate.publicKey]) }
        #expect(throws: AttestationError(.signature, "")) {
            _ = try DSSEVerifier.verify(envelope, keys: [certificate.publicKey], payloadType: "text/plain")
        }
        // The same check passes a text/plain envelope that is signed right (made here with openssl).
        let signer = try TestSigner()
        let good = try DSSEVerifier.parse(try signer.envelope(envelope.payload, payloadType: "text/plain"))
        _ = try DSSEVerifier.verify(good, keys: [try signer.publicKey], payloadType: "text/plain")
    }

    /// Every keyless DSSE case of the corpus: the envelope signature verifies
    /// with the bundle's own key exactly when the manifest does not say the
    /// signature is bad, and the statement names the manifest's artifact.
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func everyDSSECaseSignatureAndSubject() throws {
        guard Corpus.rootOrNotice("CorpusProvenanceTests") != nil else { return }
        var verified = 0, refusedSignatures = 0, skipped: [String] = []
        for dir in Corpus.cases(format: "dsse") {
            let c = try CorpusCase.load(dir)
            guard let file = c.signature, file.hasSuffix(".json"),
                  let bundle = try? SigstoreBundle.parse(try AttestationCorpus.bytes(c, file)),
                  case .dsse(let envelope) = bundle.content, case .certificates(let chain) = bundle.material,
                  let leaf = chain.first else { skipped.append(c.name); continue }
            let key = try SigningCertificate(der: leaf).publicKey
            let badSignature = c.name.contains("invalid-sig")
            do {
                let result = try DSSEVerifier.verify(envelope, keys: [key])
                #expect(!badSignature, "\(c.name): a bad signature verified")
                let digests: ArtifactDigests
                if let artifact = c.artifact { digests = ArtifactDigests(bytes: try AttestationCorpus.bytes(c, artifact)) }
                else if let sha = c.artifact_sha256 { digests = ArtifactDigests(digest: try Digest(algorithm: .sha256, hex: sha)) }
                else { skipped.append(c.name); continue }
                let facts = try AttestationVerifier.check(payload: result.payload, certificate: try SigningCertificate(der: leaf),
                                                          artifact: digests, requirements: AttestationRequirements())
                #expect(!facts.predicateType.isEmpty)
                verified += 1
            } catch let error as AttestationError where error.check == .signature || error.check == .payloadType {
                #expect(badSignature || c.expect == "fail", "\(c.name): \(error)")
                refusedSignatures += 1
            }
        }
        print("CorpusProvenanceTests: \(verified) corpus DSSE statements verified and matched their artifact, \(refusedSignatures) signatures refused, skipped (not keyless DSSE with an artifact): \(skipped.joined(separator: ", "))")
        #expect(verified >= 15)
        #expect(refusedSignatures >= 2)
    }
}
