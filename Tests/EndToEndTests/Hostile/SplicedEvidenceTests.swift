import Foundation
import Testing
import BouncerTestSupport

/// Evidence spliced in from another artifact (cosign CVE-2022-36056) and a
/// predicate type claimed outside the signed payload (CVE-2022-35929),
/// through the CLI on real corpus bundles modified at test time (DERIVED; the
/// corpus itself is read in place, never copied). Each case has a control:
/// the unmodified bundle verifies with the same arguments.
@Suite(.blocking) struct SplicedEvidenceTests {
    static let beacon = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
    static let actions = "https://token.actions.githubusercontent.com"

    static func load(_ path: URL) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as? [String: Any] ?? [:]
    }

    static func material(_ bundle: [String: Any]) -> [String: Any] { bundle["verificationMaterial"] as? [String: Any] ?? [:] }

    func run(_ project: HostileProject, _ command: String, bundle: [String: Any], name: String, case dir: URL, extra: [String] = []) throws -> ProcessResult {
        try project.write(name, [UInt8](try JSONSerialization.data(withJSONObject: bundle)))
        return try project.bouncer([command, "--bundle", project.path(name), "--trusted-root", dir.appendingPathComponent("trusted_root.json").path,
                                    "--certificate-identity", Self.beacon, "--certificate-oidc-issuer", Self.actions] + extra
                                   + [dir.appendingPathComponent("artifact").path])
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func logEntryFromAnotherSignatureIsRefused() throws {
        guard let root = Corpus.rootOrNotice("SplicedEvidenceTests") else { return }
        let v3 = root.appendingPathComponent("sigstore-bundle/conformance__happy-path-v0.3")
        let v2 = root.appendingPathComponent("sigstore-bundle/conformance__happy-path-v0.2")
        let project = try HostileProject("splice-tlog")
        var bundle = try Self.load(v3.appendingPathComponent("bundle.sigstore.json"))
        let control = try run(project, "verify-bundle", bundle: bundle, name: "control.json", case: v3)
        #expect(control.status == 0, "\(control.err)")
        // The same artifact, signed by another certificate: its (genuine, logged) entry replaces ours.
        let other = Self.material(try Self.load(v2.appendingPathComponent("bundle.sigstore.json")))
        var material = Self.material(bundle)
        #expect(material["tlogEntries"] as? [[String: Any]] != nil && other["tlogEntries"] as? [[String: Any]] != nil)
        material["tlogEntries"] = other["tlogEntries"]
        bundle["verificationMaterial"] = material
        let spliced = try run(project, "verify-bundle", bundle: bundle, name: "spliced.json", case: v3)
        #expect(spliced.status == 1, "\(spliced.err)")
        // Added beside ours, the foreign entry still does not pass.
        material["tlogEntries"] = (Self.material(try Self.load(v3.appendingPathComponent("bundle.sigstore.json")))["tlogEntries"] as? [Any] ?? [])
            + (other["tlogEntries"] as? [Any] ?? [])
        bundle["verificationMaterial"] = material
        let added = try run(project, "verify-bundle", bundle: bundle, name: "added.json", case: v3)
        #expect(added.status == 1, "\(added.err)")
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func dsseEnvelopeFromAnotherBundleIsRefused() throws {
        guard let root = Corpus.rootOrNotice("SplicedEvidenceTests") else { return }
        let dsse = root.appendingPathComponent("dsse/conformance__happy-path-intoto-in-dsse-v3")
        let foreign = root.appendingPathComponent("dsse/sigstore-go__example-bundle-provenance")
        let message = root.appendingPathComponent("sigstore-bundle/conformance__happy-path-v0.3")
        let project = try HostileProject("splice-dsse")
        let genuine = try Self.load(dsse.appendingPathComponent("bundle.sigstore.json"))
        let control = try run(project, "verify-bundle", bundle: genuine, name: "control.json", case: dsse)
        #expect(control.status == 0, "\(control.err)")
        let controlAttestation = try run(project, "verify-attestation", bundle: genuine, name: "control.json", case: dsse)
        #expect(controlAttestation.status == 0, "\(controlAttestation.out) \(controlAttestation.err)")

        // Another project's envelope (signed, logged) in our bundle.
        var bundle = genuine
        bundle["dsseEnvelope"] = try Self.load(foreign.appendingPathComponent("bundle.sigstore.json"))["dsseEnvelope"]
        #expect(bundle["dsseEnvelope"] != nil)
        for command in ["verify-bundle", "verify-attestation"] {
            let result = try run(project, command, bundle: bundle, name: "foreign-envelope.json", case: dsse)
            #expect(result.status == 1, "\(command): \(result.out) \(result.err)")
        }
        // Our envelope moved into a message-signature bundle by the same identity.
        var moved = try Self.load(message.appendingPathComponent("bundle.sigstore.json"))
        moved["messageSignature"] = nil
        moved["dsseEnvelope"] = genuine["dsseEnvelope"]
        for command in ["verify-bundle", "verify-attestation"] {
            let result = try run(project, command, bundle: moved, name: "moved-envelope.json", case: dsse)
            #expect(result.status == 1, "\(command): \(result.out) \(result.err)")
        }
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func predicateTypeClaimedOutsideTheSignedPayloadIsIgnored() throws {
        guard let root = Corpus.rootOrNotice("SplicedEvidenceTests") else { return }
        let dsse = root.appendingPathComponent("dsse/conformance__happy-path-intoto-in-dsse-v3")
        let project = try HostileProject("predicate")
        var bundle = try Self.load(dsse.appendingPathComponent("bundle.sigstore.json"))
        // The signed statement says SLSA provenance v1; asking for another type refuses.
        let asked = try run(project, "verify-attestation", bundle: bundle, name: "b.json", case: dsse, extra: ["--predicate-type", "https://spdx.dev/Document"])
        #expect(asked.status == 1, "\(asked.out)")
        // A predicateType written beside the envelope is not part of what was signed.
        bundle["predicateType"] = "https://spdx.dev/Document"
        let claimed = try run(project, "verify-attestation", bundle: bundle, name: "claimed.json", case: dsse, extra: ["--predicate-type", "https://spdx.dev/Document"])
        #expect(claimed.status != 0, "\(claimed.out)")

        // npm's attestations response labels each bundle with a predicateType outside it: relabel the
        // publish attestation as SLSA provenance and drop the real provenance.
        let npm = root.appendingPathComponent("npm-attestations/slsa-verifier__npm-gundam-visor-cli-v1-tag")
        let c = try CorpusCase.load(npm)
        let raw = try VerifyAttestationCorpusTests.raw(c)
        let args = VerifyAttestationCorpusTests.identityArguments(c, raw) + VerifyAttestationCorpusTests.trustArguments(c)
        let response = try Self.load(npm.appendingPathComponent("attestations.json"))
        let attestations = response["attestations"] as? [[String: Any]] ?? []
        #expect(attestations.count == 2)
        let artifact = c.path(c.artifact ?? "")
        let control = try project.bouncer(["verify-attestation", "--bundle", npm.appendingPathComponent("attestations.json").path] + args
                                          + ["--predicate-type", "https://slsa.dev/provenance/v1", artifact])
        #expect(control.status == 0, "\(control.out) \(control.err)")
        guard var publish = attestations.first(where: { ($0["predicateType"] as? String)?.contains("publish") == true }) else {
            Issue.record("no publish attestation in the corpus response"); return
        }
        publish["predicateType"] = "https://slsa.dev/provenance/v1"
        try project.write("relabelled.json", [UInt8](try JSONSerialization.data(withJSONObject: ["attestations": [publish]])))
        let relabelled = try project.bouncer(["verify-attestation", "--bundle", project.path("relabelled.json")] + args
                                             + ["--predicate-type", "https://slsa.dev/provenance/v1", artifact])
        #expect(relabelled.status == 1, "\(relabelled.out) \(relabelled.err)")
    }
}
