import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools
import BouncerTestSupport

@Suite struct PEP740Tests {
    @Test func distributionFileNamesCompareNormalised() {
        let a = DistributionFilename("Foo_Bar-1.0-py3-none-any.whl"), b = DistributionFilename("foo.bar-1.0-py3-none-any.whl")
        #expect(a != nil && a == b)
        #expect(DistributionFilename("spt3g-1.0-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")
                == DistributionFilename("spt3g-1.0-cp310-cp310-manylinux2014_x86_64.manylinux_2_17_x86_64.whl"))
        #expect(DistributionFilename("rfc8785-0.1.2-py3-none-any.whl") != DistributionFilename("wrong_name-0.1.2-py3-none-any.whl"))
        #expect(DistributionFilename("rfc8785-0.1.2-py3-none-any.whl") != DistributionFilename("rfc8785-0.1.3-py3-none-any.whl"))
        #expect(DistributionFilename("pkg-1.0.tar.gz") == DistributionFilename("PKG-1.0.tar.gz"))
        #expect(DistributionFilename("pkg-1.0.tar.gz") != DistributionFilename("pkg-1.0-py3-none-any.whl"))
        for bad in ["pkg.tar.gz", "../pkg-1.0.tar.gz", "pkg-1.0.exe", "a-b-c.whl", ""] { #expect(DistributionFilename(bad) == nil, "\(bad)") }
    }

    struct Loaded { var c: CorpusCase; var attestations: [PEP740.Attestation] }

    func load(_ name: String) throws -> Loaded? {
        guard let root = Corpus.rootOrNotice("PEP740Tests") else { return nil }
        let c = try CorpusCase.load(root.appendingPathComponent("pep740").appendingPathComponent(name))
        return Loaded(c: c, attestations: try PEP740.parse(try AttestationCorpus.bytes(c, c.signature ?? "")))
    }

    /// The DSSE signature (with the attestation's own certificate key), the PEP 740
    /// statement rules, the file name and the digest, for every corpus case.
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func everyCorpusAttestationStatementAndName() throws {
        guard Corpus.rootOrNotice("PEP740Tests") != nil else { return }
        var checked = 0
        for dir in Corpus.cases(format: "pep740") {
            guard let loaded = try load(dir.lastPathComponent) else { return }
            let c = loaded.c
            #expect(!loaded.attestations.isEmpty)
            for attestation in loaded.attestations {
                guard case .dsse(let envelope) = attestation.bundle.content, case .certificates(let chain) = attestation.bundle.material,
                      let leaf = chain.first else { Issue.record("\(c.name): not a DSSE attestation with a certificate"); continue }
                #expect(envelope.payloadType == InTotoStatement.payloadType)
                let verified = try DSSEVerifier.verify(envelope, keys: [try SigningCertificate(der: leaf).publicKey])
                let digests = try c.artifact.map { ArtifactDigests(bytes: try AttestationCorpus.bytes(c, $0)) }
                    ?? ArtifactDigests(digest: try Digest(algorithm: .sha256, hex: c.artifact_sha256 ?? ""))
                let facts = try AttestationVerifier.check(payload: verified.payload, certificate: try SigningCertificate(der: leaf),
                                                          artifact: digests, requirements: AttestationRequirements())
                #expect(facts.subjectDigest.algorithm == .sha256)
                if let error = Self.statementError(verified.payload, fileName: c.artifact) {
                    #expect(c.name.contains("filename-mismatch") && error.check == .pypiFilename, "\(c.name): \(error)")
                } else {
                    #expect(!c.name.contains("filename-mismatch"), "\(c.name): another distribution's attestation was accepted")
                }
                checked += 1
            }
        }
        print("PEP740Tests: \(checked) corpus attestations checked")
        #expect(checked >= 9)
    }

    /// The index's publisher block of a provenance object is carried to the
    /// report (unsigned, shown, never proof): its string members, as written.
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func provenancePublisherBlockIsCarried() throws {
        guard let loaded = try load("pypi-attestations__pypi_attestations-0.0.19-provenance") else { return }
        let file = try AttestationCorpus.bytes(loaded.c, loaded.c.signature ?? "")
        let object = try JSONSerialization.jsonObject(with: Data(file)) as? [String: Any]
        let bundles = object?["attestation_bundles"] as? [[String: Any]] ?? []
        let written = (bundles.first?["publisher"] as? [String: Any] ?? [:]).compactMapValues { $0 as? String }
        #expect(written["kind"] == "GitHub", "the case's premise: a GitHub publisher block")
        #expect(!loaded.attestations.isEmpty)
        for attestation in loaded.attestations {
            #expect(attestation.publisher == written)
        }
    }

    static func statementError(_ payload: [UInt8], fileName: String?) -> AttestationError? {
        do { try PEP740.checkStatement(payload, fileName: fileName) } catch { return error }
        return nil
    }

    func publisherCheck(_ name: String, _ publisher: TrustedPublisher) throws -> AttestationError? {
        guard let loaded = try load(name), let attestation = loaded.attestations.first,
              case .certificates(let chain) = attestation.bundle.material, let leaf = chain.first else { return nil }
        let certificate = try SigningCertificate(der: leaf)
        do {
            try publisher.check(certificate, try FulcioExtensions(certificateDER: leaf))
            return nil
        } catch { return error }
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func trustedPublishersBindRepositoryAndWorkflow() throws {
        guard Corpus.rootOrNotice("PEP740Tests") != nil else { return }
        #expect(TrustedPublisher(parsing: "github:trailofbits/pypi-attestations/release.yml") == .gitHub(repository: "trailofbits/pypi-attestations", workflow: "release.yml"))
        #expect(TrustedPublisher(parsing: "gitlab:facutuesca/gitlab-oidc-project//.gitlab-ci.yml") == .gitLab(repository: "facutuesca/gitlab-oidc-project", workflowPath: ".gitlab-ci.yml"))
        #expect(TrustedPublisher(parsing: "github:only-owner/release.yml") == nil)

        let github = "pypi-attestations__pypi_attestations-0.0.19-publish"
        #expect(try publisherCheck(github, .gitHub(repository: "trailofbits/pypi-attestations", workflow: "release.yml")) == nil)
        #expect(try publisherCheck(github, .gitHub(repository: "trailofbits/pypi-attestations", workflow: "wrong.yml"))?.check == .publisher)
        #expect(try publisherCheck(github, .gitHub(repository: "trailofbits/pypi-attestations-evil", workflow: "release.yml"))?.check == .publisher)
        #expect(try publisherCheck(github, .gitLab(repository: "trailofbits/pypi-attestations", workflowPath: "release.yml"))?.check == .publisher)

        let gitlab = "pypi-attestations__gitlab-sdist"
        #expect(try publisherCheck(gitlab, .gitLab(repository: "facutuesca/gitlab-oidc-project", workflowPath: ".gitlab-ci.yml")) == nil)
        #expect(try publisherCheck(gitlab, .gitLab(repository: "facutuesca/gitlab-oidc-project", workflowPath: "wrong.yml"))?.check == .publisher)

        // An email identity issued by GitHub's OAuth is not a Google publisher, whatever the address.
        #expect(try publisherCheck("pypi-attestations__rfc8785-whl-staging", .google(email: "william@yossarian.net"))?.check == .publisher)
    }

    /// The Google publisher on certificates made at test time with openssl (the
    /// corpus has no Google-published attestation): the email SAN and the
    /// Google issuer both bind it.
    @Test func googlePublisherMatchesTheEmailAndIssuer() throws {
        let email = "release-bot@example-project.iam.gserviceaccount.com"
        let google = TrustedPublisher.googleIssuer
        #expect(TrustedPublisher(parsing: "google:\(email)") == .google(email: email))
        func check(_ extensions: [String], _ publisher: TrustedPublisher = .google(email: email)) throws -> AttestationError? {
            let certificate = try IdentityPolicyTests.certificate(extensions)
            do {
                try publisher.check(certificate, try FulcioExtensions(certificateDER: certificate.der))
                return nil
            } catch { return error }
        }
        // The issuer in the v2 extension (.1.8) or the v1 one (.1.1): both pass.
        #expect(try check(["subjectAltName=email:\(email)", IdentityPolicyTests.issuerV2(google)]) == nil)
        #expect(try check(["subjectAltName=email:\(email)", IdentityPolicyTests.issuerV1(google)]) == nil)
        // Another account, the same address under another issuer, the address as a URI SAN, no issuer at all.
        #expect(try check(["subjectAltName=email:other@example-project.iam.gserviceaccount.com", IdentityPolicyTests.issuerV2(google)])?.check == .publisher)
        #expect(try check(["subjectAltName=email:\(email)", IdentityPolicyTests.issuerV2(TrustedPublisher.gitHubIssuer)])?.check == .publisher)
        #expect(try check(["subjectAltName=URI:\(email)", IdentityPolicyTests.issuerV2(google)])?.check == .publisher)
        #expect(try check(["subjectAltName=email:\(email)"])?.check == .publisher)
        // A GitHub publisher is not satisfied by a Google certificate.
        #expect(try check(["subjectAltName=email:\(email)", IdentityPolicyTests.issuerV2(google)],
                          .gitHub(repository: "org/repo", workflow: "release.yml"))?.check == .publisher)
    }

    @Test func malformedObjectsNameTheirPath() throws {
        for (text, check) in [("{\"version\":2,\"envelope\":{},\"verification_material\":{}}", AttestationError.Check.malformed),
                              ("{\"version\":1,\"attestation_bundles\":[]}", .nothing),
                              ("{\"version\":1,\"envelope\":{\"statement\":\"e30=\",\"signature\":\"AA==\"},\"verification_material\":{\"certificate\":\"AA==\",\"transparency_entries\":[]}}", .malformed)] {
            #expect(throws: AttestationError(check, "")) { _ = try PEP740.parse(Array(text.utf8)) }
        }
    }
}
