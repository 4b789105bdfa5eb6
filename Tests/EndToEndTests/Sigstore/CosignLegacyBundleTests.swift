import Foundation
import Testing
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools
import BouncerTestSupport

/// cosign's older `sign-blob --bundle` JSON (formats.md §5.12), rebuilt from a
/// real v0.1 bundle of the corpus: the same signature, certificate (as base64
/// of PEM) and Rekor entry with its SET. It must verify, and a changed
/// `Payload` field must break the SET.
@Suite(.blocking) struct CosignLegacyBundleTests {
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func legacyBundleFromARealEntryVerifies() throws {
        guard let root = Corpus.rootOrNotice("CosignLegacyBundleTests") else { return }
        let dir = root.appendingPathComponent("sigstore-bundle/sigstore-python__bundle")
        let c = try CorpusCase.load(dir)
        let source = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("bundle.sigstore.json"))) as? [String: Any])
        let vm = source["verificationMaterial"] as? [String: Any]
        let chain = (vm?["x509CertificateChain"] as? [String: Any])?["certificates"] as? [[String: Any]]
        let entry = try #require((vm?["tlogEntries"] as? [[String: Any]])?.first)
        guard let leaf = (chain?.first?["rawBytes"] as? String).flatMap({ Base64.decode($0) }),
              let logID = ((entry["logId"] as? [String: Any])?["keyId"] as? String).flatMap({ Base64.decode($0) }),
              let set = (entry["inclusionPromise"] as? [String: Any])?["signedEntryTimestamp"] as? String,
              let signature = (source["messageSignature"] as? [String: Any])?["signature"] as? String,
              let integratedTime = (entry["integratedTime"] as? String).flatMap({ Int($0) }),
              let logIndex = (entry["logIndex"] as? String).flatMap({ Int($0) })
        else {
            Issue.record("the source bundle lacks a field this test needs")
            return
        }

        func legacy(logIndex: Int) throws -> String {
            let object: [String: Any] = [
                "base64Signature": signature,
                "cert": Base64.encode(Array(PEM.encode(leaf, label: "CERTIFICATE").utf8)),
                "rekorBundle": ["SignedEntryTimestamp": set,
                                "Payload": ["body": entry["canonicalizedBody"] as? String ?? "", "integratedTime": integratedTime,
                                            "logIndex": logIndex, "logID": Hex.encode(logID)]],
            ]
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("cosign-\(UUID().uuidString).json")
            try JSONSerialization.data(withJSONObject: object).write(to: path)
            return path.path
        }
        func verify(_ bundle: String) throws -> ProcessResult {
            defer { try? FileManager.default.removeItem(atPath: bundle) }
            return try BouncerProcess.run(["verify-bundle", "--bundle", bundle,
                                           "--certificate-identity", c.identity?.san ?? "", "--certificate-oidc-issuer", c.identity?.issuer ?? "",
                                           "--trusted-root", c.path("trusted_root.json"), c.path(c.artifact ?? "artifact")])
        }
        let good = try verify(try legacy(logIndex: logIndex))
        #expect(good.status == 0, "\(good.err)")
        let moved = try verify(try legacy(logIndex: logIndex + 1))
        #expect(moved.status == 1)
        #expect(moved.err.contains("signed entry timestamp"), "\(moved.err)")
    }
}
