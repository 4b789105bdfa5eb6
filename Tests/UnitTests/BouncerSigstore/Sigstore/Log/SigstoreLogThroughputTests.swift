import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools
import BouncerTestSupport

/// In-process cost of the log-side checks of one bundle, repeated 1,000
/// times. Prints the rate; asserts only that every round verifies.
@Suite struct SigstoreLogThroughputTests {
    @Test(.enabled(if: Corpus.isPresent && ProcessInfo.processInfo.environment["BOUNCER_BENCH"] == "1",
                 "a benchmark of the log checks: runs with BOUNCER_BENCH=1 and the corpus"))
    func thousandRoundsOfTheLogChecks() throws {
        guard Corpus.rootOrNotice("SigstoreLogThroughputTests") != nil else { return }
        for name in ["conformance__happy-path-v0.3", "conformance__rekor2-happy-path"] {
            guard let item = LogFixture.named(name), let proof = item.proof, let envelope = item.checkpoint,
                  let expected = try LogEntryCorpusTests.expectation(item), let leaf = item.leafDER else {
                Issue.record("\(name) is missing"); continue
            }
            let tlogs = item.tlogs, ctlogs = item.ctlogs
            let authorities = try LogFixture.authorities(item.root)
            let issuers = CertificateTransparencyTests.caCertificates(item)
            let issuer = try #require(issuers.first { (try? CertificateTransparency.verifyEmbeddedSCTs(leafDER: leaf, issuerDER: $0, ctLogs: ctlogs, at: .distantFuture)) != nil })
            let hashes = try (proof["hashes"] as? [Any] ?? []).map(LogFixture.b64)
            let index = UInt64(try LogFixture.int(proof["logIndex"])), size = UInt64(try LogFixture.int(proof["treeSize"]))
            let root = try LogFixture.b64(proof["rootHash"])
            let promise = item.entry["inclusionPromise"] as? [String: Any]
            let set = try promise.map { try LogFixture.b64($0["signedEntryTimestamp"]) }
            let logID = try LogFixture.b64((item.entry["logId"] as? [String: Any])?["keyId"])
            let time = (try? LogFixture.int(item.entry["integratedTime"])) ?? 0, logIndex = try LogFixture.int(item.entry["logIndex"])
            var lap = Date()
            var laps: [String: TimeInterval] = [:]
            func mark(_ step: String) {
                laps[step, default: 0] += Date().timeIntervalSince(lap)
                lap = Date()
            }
            let start = Date()
            for _ in 0..<1000 {
                lap = Date()
                try RekorEntryBody.check(canonicalizedBody: item.body, kind: item.kind, version: item.version, expected: expected)
                mark("body")
                if let set {
                    try SignedEntryTimestamp.verify(signedEntryTimestamp: set, canonicalizedBody: item.body, integratedTime: time, logIndex: logIndex, logID: logID, logs: tlogs)
                    mark("SET")
                }
                try MerkleInclusion.verify(index: index, treeSize: size, leafHash: MerkleInclusion.leafHash(item.body), proof: hashes, rootHash: root)
                mark("inclusion")
                try Checkpoint.verify(envelope: envelope, logs: tlogs).requireMatch(treeSize: size, rootHash: root)
                mark("checkpoint")
                _ = try CertificateTransparency.verifyEmbeddedSCTs(leafDER: leaf, issuerDER: issuer, ctLogs: ctlogs, at: .distantFuture)
                mark("SCT")
                for token in item.timestamps {
                    _ = try RFC3161Timestamp.verify(tokenDER: token, signature: expected.signature, authorities: authorities)
                    mark("RFC3161")
                }
            }
            let seconds = Date().timeIntervalSince(start)
            print("SigstoreLogThroughputTests: \(name): 1000 rounds of body+\(set == nil ? "" : "SET+")inclusion+checkpoint+SCT\(item.timestamps.isEmpty ? "" : "+RFC3161") in \(String(format: "%.2f", seconds)) s (\(String(format: "%.0f", 1000 / seconds))/s, debug build); seconds per step: \(laps.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.3f", $0.value))" }.joined(separator: ", "))")
        }
    }
}
