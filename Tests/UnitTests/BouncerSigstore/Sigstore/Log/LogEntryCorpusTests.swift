import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools
import BouncerTestSupport

/// The SET, inclusion proof and body checks on every tlog entry of every
/// real corpus bundle (sigstore-bundle and dsse formats).
@Suite struct LogEntryCorpusTests {
    struct Outcome { var set: String?; var inclusion: String?; var body: String? }

    static func expectation(_ item: LogFixture.Case) throws -> RekorEntryExpectation? {
        guard let signature = item.signature else { return nil }
        var material = item.leafDER
        if material == nil, let keyFile = item.corpusCase.trust?.first(where: { $0.hasSuffix(".pub") }) {
            let pem = try String(contentsOfFile: item.corpusCase.path(keyFile), encoding: .utf8)
            material = try PublicKey(pem: pem).spkiDER
        }
        guard let material else { return nil }
        let digest = try item.corpusCase.artifact_sha256.map { try Digest(algorithm: .sha256, hex: $0) }
        return RekorEntryExpectation(signature: signature, verificationMaterialDER: material,
                                     artifactDigest: item.bundle["messageSignature"] != nil ? digest : nil,
                                     dsseEnvelopeJSON: item.dsseEnvelopeJSON)
    }

    static func outcome(_ item: LogFixture.Case, _ entry: [String: Any]) -> Outcome {
        var outcome = Outcome()
        func code(_ body: () throws -> Void) -> String? {
            do { try body(); return nil } catch let error as TransparencyError { return error.code } catch { return "fixture: \(error)" }
        }
        let body = (try? LogFixture.b64(entry["canonicalizedBody"])) ?? []
        let kindVersion = entry["kindVersion"] as? [String: Any] ?? [:]
        if let promise = entry["inclusionPromise"] as? [String: Any] {
            outcome.set = code {
                try SignedEntryTimestamp.verify(
                    signedEntryTimestamp: try LogFixture.b64(promise["signedEntryTimestamp"]), canonicalizedBody: body,
                    integratedTime: try LogFixture.int(entry["integratedTime"]), logIndex: try LogFixture.int(entry["logIndex"]),
                    logID: try LogFixture.b64((entry["logId"] as? [String: Any])?["keyId"]), logs: item.tlogs)
            }
        }
        if let proof = entry["inclusionProof"] as? [String: Any] {
            outcome.inclusion = code {
                try MerkleInclusion.verify(
                    index: UInt64(try LogFixture.int(proof["logIndex"])), treeSize: UInt64(try LogFixture.int(proof["treeSize"])),
                    leafHash: MerkleInclusion.leafHash(body), proof: try (proof["hashes"] as? [Any] ?? []).map(LogFixture.b64),
                    rootHash: try LogFixture.b64(proof["rootHash"]))
            }
        }
        outcome.body = code {
            guard let expected = try expectation(item) else { throw LogFixture.Failure(description: "no expectation") }
            try RekorEntryBody.check(canonicalizedBody: body, kind: kindVersion["kind"] as? String ?? "",
                                     version: kindVersion["version"] as? String ?? "", expected: expected)
        }
        return outcome
    }

    func item(_ name: String) -> LogFixture.Case? {
        guard Corpus.rootOrNotice("LogEntryCorpusTests") != nil else { return nil }
        let found = LogFixture.named(name)
        #expect(found != nil, "corpus case \(name) is missing")
        return found
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func everyEntryOfEveryPassingBundleVerifies() {
        guard Corpus.rootOrNotice("LogEntryCorpusTests") != nil else { return }
        var counts = (entries: 0, sets: 0, proofs: 0)
        var kinds: Set<String> = []
        for item in LogFixture.cases() where item.corpusCase.expect == "pass" {
            for entry in item.entries {
                let outcome = Self.outcome(item, entry)
                #expect(outcome.set == nil && outcome.inclusion == nil && outcome.body == nil, "\(item.name): \(outcome)")
                counts.entries += 1
                if entry["inclusionPromise"] != nil { counts.sets += 1 }
                if entry["inclusionProof"] != nil { counts.proofs += 1 }
                let kv = entry["kindVersion"] as? [String: Any] ?? [:]
                kinds.insert("\(kv["kind"] ?? "") \(kv["version"] ?? "")")
            }
        }
        print("LogEntryCorpusTests: \(counts.entries) entries, \(counts.sets) SETs, \(counts.proofs) inclusion proofs; kinds \(kinds.sorted())")
        #expect(counts.entries >= 25 && counts.sets >= 15 && counts.proofs >= 25)
        #expect(kinds.isSuperset(of: ["hashedrekord 0.0.1", "hashedrekord 0.0.2", "dsse 0.0.1", "intoto 0.0.2"]))
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func conformanceFailuresAreRefusedAtTheRightStep() {
        let expected: [(String, KeyPath<Outcome, String?>, String)] = [
            ("conformance__set-invalid-signature_fail", \.set, "tlog-set-signature-invalid"),
            ("conformance__invalid-inclusion-proof_fail", \.inclusion, "tlog-inclusion-root-mismatch"),
            ("conformance__wrong-hashedrekord-artifact_fail", \.body, "tlog-body-mismatch"),
            ("conformance__wrong-hashedrekord-cert-and-sig_fail", \.body, "tlog-body-mismatch"),
            ("conformance__wrong-hashedrekord-entry_fail", \.body, "tlog-body-mismatch"),
            ("conformance__signature-mismatch_fail", \.body, "tlog-body-mismatch"),
            ("sigstore-python__bundle_cve_2022_36056", \.body, "tlog-body-mismatch"),
            ("conformance__intoto-log-entry-mismatch_fail", \.body, "tlog-body-mismatch"),
            ("conformance__dsse-mismatch-sig_fail", \.body, "tlog-body-mismatch"),
            ("conformance__rekor2-dsse-mismatch-sig_fail", \.body, "tlog-body-mismatch"),
            ("sigstore-go__dsse-2sigs_fail", \.body, "tlog-body-mismatch"),
        ]
        for (name, step, code) in expected {
            guard let item = self.item(name) else { continue }
            let outcome = Self.outcome(item, item.entry)
            #expect(outcome[keyPath: step] == code, "\(name): \(outcome)")
        }
    }

    /// Every corpus case whose CLI refusal (CorpusRefusals, which the end-to-end
    /// corpus suites hold the CLI to) is a log-step code gets that same code
    /// from the step itself, on the same entry.
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func cliRefusalsAtALogStepAreTheStepsOwn() {
        guard Corpus.rootOrNotice("LogEntryCorpusTests") != nil else { return }
        let steps: [String: KeyPath<Outcome, String?>] = [
            "tlog-set-signature-invalid": \.set, "tlog-inclusion-root-mismatch": \.inclusion, "tlog-body-mismatch": \.body,
        ]
        let cases = Dictionary(LogFixture.cases().map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var checked: [String] = []
        for (key, expected) in CorpusRefusals.table.sorted(by: { $0.key < $1.key }) {
            let codes = Set([expected.verifyBundle, expected.verifyAttestation].compactMap { $0?.code })
            for code in codes {
                guard let step = steps[code] else { continue }
                let name = String(key.split(separator: "/").last ?? "")
                guard let item = cases[name] else { Issue.record("\(key): no bundle with a trusted root"); continue }
                let outcome = Self.outcome(item, item.entry)
                #expect(outcome[keyPath: step] == code, "\(key): the CLI reports \(code), the step says \(outcome)")
                checked.append(name)
            }
        }
        print("LogEntryCorpusTests: CLI log-step refusals confirmed at the step: \(checked.count) cases")
        // Every such table entry is checked above (a missing bundle is an issue); an empty table would check nothing.
        #expect(!checked.isEmpty)
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func entrySwappedFromAnotherBundleIsRefused() throws {
        // CVE-2022-36056: a genuine, logged entry of another signature.
        guard let victim = item("conformance__happy-path-v0.3"), let donor = item("conformance__happy-path-v0.2"),
              let expected = try Self.expectation(victim) else { return }
        #expect(throws: TransparencyError.self) {
            try RekorEntryBody.check(canonicalizedBody: donor.body, kind: "hashedrekord", version: "0.0.1", expected: expected)
        }
        // The donor's own SET stays valid only for the donor's body.
        guard let promise = donor.entry["inclusionPromise"] as? [String: Any] else { Issue.record("no SET"); return }
        let set = try LogFixture.b64(promise["signedEntryTimestamp"])
        let logID = try LogFixture.b64((donor.entry["logId"] as? [String: Any])?["keyId"])
        let time = try LogFixture.int(donor.entry["integratedTime"])
        let index = try LogFixture.int(donor.entry["logIndex"])
        try SignedEntryTimestamp.verify(signedEntryTimestamp: set, canonicalizedBody: donor.body, integratedTime: time, logIndex: index, logID: logID, logs: donor.tlogs)
        for (body, t, i) in [(victim.body, time, index), (donor.body, time + 1, index), (donor.body, time, index + 1)] {
            #expect(throws: TransparencyError.setSignatureInvalid(logIDHex: Hex.encode(logID))) {
                try SignedEntryTimestamp.verify(signedEntryTimestamp: set, canonicalizedBody: body, integratedTime: t, logIndex: i, logID: logID, logs: donor.tlogs)
            }
        }
        // The proof's (shard) index is not the SET's global index.
        if let proofIndex = try (donor.proof?["logIndex"]).map(LogFixture.int), proofIndex != index {
            #expect(throws: TransparencyError.self) {
                try SignedEntryTimestamp.verify(signedEntryTimestamp: set, canonicalizedBody: donor.body, integratedTime: time, logIndex: proofIndex, logID: logID, logs: donor.tlogs)
            }
        }
        // A log the trusted root does not list, and a key outside its validity.
        #expect(throws: TransparencyError.setUnknownLog(logIDHex: Hex.encode([UInt8](repeating: 7, count: 32)))) {
            try SignedEntryTimestamp.verify(signedEntryTimestamp: set, canonicalizedBody: donor.body, integratedTime: time, logIndex: index, logID: [UInt8](repeating: 7, count: 32), logs: donor.tlogs)
        }
        let expired = donor.tlogs.map { TransparencyLogKey(logID: $0.logID, key: $0.key, validFrom: $0.validFrom, validUntil: Date(timeIntervalSince1970: TimeInterval(time - 1)), baseURL: $0.baseURL) }
        #expect(throws: TransparencyError.setLogKeyNotValid(logIDHex: Hex.encode(logID), integratedTime: time)) {
            try SignedEntryTimestamp.verify(signedEntryTimestamp: set, canonicalizedBody: donor.body, integratedTime: time, logIndex: index, logID: logID, logs: expired)
        }
        // The validity end is inclusive (conformance trust-root-tlog-validity-end-inclusive).
        let endsNow = donor.tlogs.map { TransparencyLogKey(logID: $0.logID, key: $0.key, validFrom: $0.validFrom, validUntil: Date(timeIntervalSince1970: TimeInterval(time)), baseURL: $0.baseURL) }
        try SignedEntryTimestamp.verify(signedEntryTimestamp: set, canonicalizedBody: donor.body, integratedTime: time, logIndex: index, logID: logID, logs: endsNow)
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func inclusionProofIsBoundToTheBody() throws {
        guard let item = self.item("conformance__happy-path-v0.3"), let other = self.item("conformance__happy-path-v0.2"),
              let proof = item.proof else { return }
        let hashes = try (proof["hashes"] as? [Any] ?? []).map(LogFixture.b64)
        let index = UInt64(try LogFixture.int(proof["logIndex"]))
        let size = UInt64(try LogFixture.int(proof["treeSize"]))
        let root = try LogFixture.b64(proof["rootHash"])
        try MerkleInclusion.verify(index: index, treeSize: size, leafHash: MerkleInclusion.leafHash(item.body), proof: hashes, rootHash: root)
        #expect(throws: TransparencyError.inclusionRootMismatch) {
            try MerkleInclusion.verify(index: index, treeSize: size, leafHash: MerkleInclusion.leafHash(other.body), proof: hashes, rootHash: root)
        }
        // The outer (global) logIndex is not the tree index for sharded Rekor v1.
        let global = UInt64(try LogFixture.int(item.entry["logIndex"]))
        #expect(global != index)
        #expect(throws: TransparencyError.self) {
            try MerkleInclusion.verify(index: global, treeSize: size, leafHash: MerkleInclusion.leafHash(item.body), proof: hashes, rootHash: root)
        }
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func rekorV2DSSEShapeIsChecked() throws {
        // No corpus entry has kind dsse 0.0.2; build one from a real DSSE bundle.
        guard let item = self.item("conformance__rekor2-dsse-happy-path"), let expected = try Self.expectation(item),
              let envelope = item.bundle["dsseEnvelope"] as? [String: Any] else { return }
        let payload = try LogFixture.b64(envelope["payload"])
        func body(sig: [UInt8], cert: [UInt8], payloadDigest: [UInt8], count: Int = 1) -> [UInt8] {
            let signature: [String: Any] = ["content": Base64.encode(sig),
                                            "verifier": ["keyDetails": "PKIX_ECDSA_P256_SHA_256", "x509Certificate": ["rawBytes": Base64.encode(cert)]]]
            let object: [String: Any] = ["apiVersion": "0.0.2", "kind": "dsse", "spec": ["dsseV002": [
                "payloadHash": ["algorithm": "SHA2_256", "digest": Base64.encode(payloadDigest)],
                "signatures": Array(repeating: signature, count: count)]]]
            return Array((try? JSONSerialization.data(withJSONObject: object)) ?? Data())
        }
        let digest = Hasher.digest(payload, .sha256).bytes
        try RekorEntryBody.check(canonicalizedBody: body(sig: expected.signature, cert: expected.verificationMaterialDER, payloadDigest: digest),
                                 kind: "dsse", version: "0.0.2", expected: expected)
        var otherSig = expected.signature
        otherSig[otherSig.count - 1] ^= 1
        var otherDigest = digest
        otherDigest[0] ^= 1
        for bad in [body(sig: otherSig, cert: expected.verificationMaterialDER, payloadDigest: digest),
                    body(sig: expected.signature, cert: Array(expected.verificationMaterialDER.dropLast()), payloadDigest: digest),
                    body(sig: expected.signature, cert: expected.verificationMaterialDER, payloadDigest: otherDigest),
                    body(sig: expected.signature, cert: expected.verificationMaterialDER, payloadDigest: digest, count: 2)] {
            #expect(throws: TransparencyError.self) {
                try RekorEntryBody.check(canonicalizedBody: bad, kind: "dsse", version: "0.0.2", expected: expected)
            }
        }
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func kindVersionAndShapeErrors() throws {
        guard let item = self.item("conformance__happy-path-v0.3"), let expected = try Self.expectation(item) else { return }
        #expect(throws: TransparencyError.entryKindMismatch(expected: "dsse 0.0.1", found: "hashedrekord 0.0.1")) {
            try RekorEntryBody.check(canonicalizedBody: item.body, kind: "dsse", version: "0.0.1", expected: expected)
        }
        #expect(throws: TransparencyError.entryKindMismatch(expected: "hashedrekord 0.0.2", found: "hashedrekord 0.0.1")) {
            try RekorEntryBody.check(canonicalizedBody: item.body, kind: "hashedrekord", version: "0.0.2", expected: expected)
        }
        let future = Array(#"{"apiVersion":"0.0.9","kind":"hashedrekord","spec":{}}"#.utf8)
        #expect(throws: TransparencyError.unsupportedEntryKind(kind: "hashedrekord", version: "0.0.9")) {
            try RekorEntryBody.check(canonicalizedBody: future, kind: "hashedrekord", version: "0.0.9", expected: expected)
        }
        for broken in ["", "[]", "{", #"{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{}}}"#,
                       #"{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":"md5","value":"00"}}}}"#] {
            do {
                try RekorEntryBody.check(canonicalizedBody: Array(broken.utf8), kind: "hashedrekord", version: "0.0.1", expected: expected)
                Issue.record("accepted \(broken)")
            } catch {
                #expect(error.code == "tlog-body-malformed", "\(broken): \(error)")
            }
        }
        // A hashedrekord cannot be checked without the artifact digest.
        var noDigest = expected
        noDigest.artifactDigest = nil
        #expect(throws: TransparencyError.self) {
            try RekorEntryBody.check(canonicalizedBody: item.body, kind: "hashedrekord", version: "0.0.1", expected: noDigest)
        }
        // A sha512 digest of the artifact is not the logged sha256.
        var otherAlgorithm = expected
        otherAlgorithm.artifactDigest = try Digest(algorithm: .sha512, bytes: [UInt8](repeating: 0, count: 64))
        #expect(throws: TransparencyError.self) {
            try RekorEntryBody.check(canonicalizedBody: item.body, kind: "hashedrekord", version: "0.0.1", expected: otherAlgorithm)
        }
    }
}
