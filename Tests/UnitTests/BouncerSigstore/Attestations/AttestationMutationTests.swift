import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools
import BouncerTestSupport

/// Byte-level mutations of real attestation files: parsers never trap, and a
/// mutated signed statement never verifies under the original key.
@Suite(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) struct AttestationMutationTests {

    static func mutate(_ bytes: [UInt8], _ g: inout SeededGenerator) -> [UInt8] {
        var out = bytes
        guard !out.isEmpty else { return out }
        switch g.next() % 4 {
        case 0: out[Int(g.next() % UInt64(out.count))] ^= UInt8(1 << (g.next() % 8))
        case 1: out.removeSubrange(Int(g.next() % UInt64(out.count))..<out.count)
        case 2: out.insert(UInt8(truncatingIfNeeded: g.next()), at: Int(g.next() % UInt64(out.count)))
        default: out[Int(g.next() % UInt64(out.count))] = [0x22, 0x7B, 0x7D, 0x5B, 0x5D, 0x2C, 0x3A, 0x5C][Int(g.next() % 8)]
        }
        return out
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func parsersNeverTrapOnMutatedRealFiles() throws {
        guard let root = Corpus.rootOrNotice("AttestationMutationTests") else { return }
        let files = [
            "pep740/pypi-attestations__pypi_attestations-0.0.19-provenance/pypi_attestations-0.0.19.tar.gz.provenance",
            "pep740/pypi-attestations__gitlab-sdist/gitlab_oidc_project-0.0.3.tar.gz.publish.attestation",
            "npm-attestations/slsa-verifier__npm-gundam-visor-cli-v1-tag/attestations.json",
            "npm-registry-signature/npm-cli__has-package-exports-1.0.0/packument.json",
            "npm-registry-signature/npm-cli__has-package-exports-1.0.0/npm-keys.json",
            "dsse/gh-cli__provenance-demo-whl-missing-verification-material_fail/bundle.jsonl",
        ]
        var g = TestRandom.generator()
        var parsed = 0
        for file in files {
            let original = Array(try Data(contentsOf: root.appendingPathComponent(file)))
            for _ in 0..<150 {
                let bytes = Self.mutate(original, &g)
                if (try? AttestationSet.parse(bytes)) != nil { parsed += 1 }
                _ = try? NpmRegistryKeys.parse(bytes)
                _ = try? NpmRegistrySignature.record(packument: bytes, name: "has-package-exports", version: "1.0.0")
            }
        }
        #expect(parsed > 0, "some mutations (inside base64 or strings) still parse")
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func mutatedSignedStatementsNeverVerify() throws {
        guard let (envelope, certificate, _) = try AttestationCorpus.envelopeAndCertificate("slsa-verifier__gha-generic-v2.1.0") else { return }
        let key = certificate.publicKey
        #expect((try? DSSEVerifier.verify(envelope, keys: [key])) != nil)
        var g = TestRandom.generator()
        for _ in 0..<300 {
            var mutated = envelope
            mutated.payload = Self.mutate(envelope.payload, &g)
            if mutated.payload == envelope.payload { continue }
            #expect((try? DSSEVerifier.verify(mutated, keys: [key])) == nil)
            _ = try? InTotoStatement.parse(mutated.payload)
        }
    }
}
