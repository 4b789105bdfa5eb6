import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools
import BouncerTestSupport

/// Signed-note checkpoints from real corpus bundles (Rekor v1 ECDSA and
/// Rekor v2 Ed25519 logs, witness cosignatures), verified with the keys of
/// each case's trusted_root.json, and the conformance suite's broken ones.
@Suite struct CheckpointTests {
    func corpusCase(_ name: String) -> LogFixture.Case? {
        guard Corpus.rootOrNotice("CheckpointTests") != nil else { return nil }
        let found = LogFixture.named(name)
        #expect(found != nil, "corpus case \(name) is missing")
        return found
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func everyPassingCorpusCheckpointVerifiesAndMatchesItsProof() throws {
        guard Corpus.rootOrNotice("CheckpointTests") != nil else { return }
        var checked = 0
        var ed25519 = 0
        for item in LogFixture.cases() where item.corpusCase.expect == "pass" {
            for entry in item.entries {
                guard let proof = entry["inclusionProof"] as? [String: Any],
                      let envelope = (proof["checkpoint"] as? [String: Any])?["envelope"] as? String else { continue }
                let checkpoint = try Checkpoint.verify(envelope: envelope, logs: item.tlogs)
                try checkpoint.requireMatch(treeSize: UInt64(try LogFixture.int(proof["treeSize"])), rootHash: try LogFixture.b64(proof["rootHash"]))
                // The verifying log is the one the entry names.
                #expect(checkpoint.verifiedLogIDs.contains(try LogFixture.b64((entry["logId"] as? [String: Any])?["keyId"])), "\(item.name)")
                if item.tlogs.contains(where: { $0.logID == checkpoint.verifiedLogIDs.first && $0.key.kind == .ed25519 }) { ed25519 += 1 }
                checked += 1
            }
        }
        print("CheckpointTests: \(checked) real checkpoints verified, \(ed25519) of them Rekor v2 Ed25519")
        #expect(checked >= 20)
        #expect(ed25519 >= 5)
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func rekorV1CheckpointParses() throws {
        guard let item = corpusCase("conformance__happy-path-v0.3"), let envelope = item.checkpoint else { return }
        let checkpoint = try Checkpoint.verify(envelope: envelope, logs: item.tlogs)
        #expect(checkpoint.origin == "rekor.sigstore.dev - 2605736670972794746")
        #expect(checkpoint.treeSize == 75408393)
        #expect(Base64.encode(checkpoint.rootHash) == "Fnnj13Uu1jdksPc4HZLapKX329dVlD5+MGNsiqBq1XM=")
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func rekorV2CheckpointWithWitnessCosignaturesVerifies() throws {
        for name in ["conformance__rekor2-checkpoint-cosigned", "conformance__rekor2-checkpoint-multiple-cosigs",
                     "conformance__rekor2-checkpoint-two-sigs-from-origin", "conformance__rekor2-checkpoint-two-sigs-cosigned"] {
            guard let item = corpusCase(name), let envelope = item.checkpoint else { continue }
            let checkpoint = try Checkpoint.verify(envelope: envelope, logs: item.tlogs)
            #expect(checkpoint.origin == "log2025-alpha1.rekor.sigstage.dev", "\(name)")
            #expect(checkpoint.treeSize == 736, "\(name)")
            #expect(checkpoint.verifiedLogIDs.count == 1, "\(name): only the log's own signature is by a trusted key")
        }
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func badKeyHintIsAnUnknownKey() {
        guard let item = corpusCase("conformance__checkpoint-bad-keyhint_fail"), let envelope = item.checkpoint else { return }
        #expect(throws: TransparencyError.checkpointUnknownKey(origin: "rekor.sigstore.dev - 2605736670972794746")) {
            try Checkpoint.verify(envelope: envelope, logs: item.tlogs)
        }
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func invalidSignatureIsRefused() {
        guard let item = corpusCase("conformance__invalid-checkpoint-signature_fail"), let envelope = item.checkpoint else { return }
        #expect(throws: TransparencyError.checkpointSignatureInvalid(origin: "rekor.sigstore.dev - 2605736670972794746")) {
            try Checkpoint.verify(envelope: envelope, logs: item.tlogs)
        }
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func checkpointForAnotherTreeDoesNotMatchTheProof() throws {
        guard let item = corpusCase("conformance__checkpoint-wrong-roothash_fail"), let envelope = item.checkpoint,
              let proof = item.proof else { return }
        // The note itself is genuine: the log signed it.
        let checkpoint = try Checkpoint.verify(envelope: envelope, logs: item.tlogs)
        #expect(throws: TransparencyError.self) {
            try checkpoint.requireMatch(treeSize: UInt64(try LogFixture.int(proof["treeSize"])), rootHash: try LogFixture.b64(proof["rootHash"]))
        }
        #expect(throws: TransparencyError.self) {
            try checkpoint.requireMatch(treeSize: checkpoint.treeSize, rootHash: try LogFixture.b64(proof["rootHash"]))
        }
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func brokenRekorV2NotesAreRefused() {
        let expectations: [(String, String)] = [
            ("conformance__rekor2-checkpoint-missing-log-signature_fail", "tlog-checkpoint-malformed"),
            ("conformance__rekor2-checkpoint-missing-origin_fail", "tlog-checkpoint-malformed"),
            ("conformance__rekor2-checkpoint-missing-root-hash_fail", "tlog-checkpoint-malformed"),
            ("conformance__rekor2-checkpoint-no-matching-signature_fail", "tlog-checkpoint-unknown-key"),
        ]
        for (name, code) in expectations {
            guard let item = corpusCase(name), let envelope = item.checkpoint else { continue }
            do {
                _ = try Checkpoint.verify(envelope: envelope, logs: item.tlogs)
                Issue.record("\(name) verified")
            } catch {
                #expect(error.code == code, "\(name): \(error)")
            }
        }
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func alteredNoteTextIsRefused() throws {
        guard let item = corpusCase("conformance__rekor2-happy-path"), let envelope = item.checkpoint else { return }
        _ = try Checkpoint.verify(envelope: envelope, logs: item.tlogs)
        // A larger tree size under the same signature.
        let altered = envelope.replacingOccurrences(of: "\n736\n", with: "\n737\n")
        #expect(throws: TransparencyError.checkpointSignatureInvalid(origin: "log2025-alpha1.rekor.sigstage.dev")) {
            try Checkpoint.verify(envelope: altered, logs: item.tlogs)
        }
        // An extra body line is signed text too.
        let extended = envelope.replacingOccurrences(of: "=\n\n", with: "=\nTimestamp: 1\n\n")
        #expect(throws: TransparencyError.checkpointSignatureInvalid(origin: "log2025-alpha1.rekor.sigstage.dev")) {
            try Checkpoint.verify(envelope: extended, logs: item.tlogs)
        }
        // No trusted key at all.
        #expect(throws: TransparencyError.checkpointUnknownKey(origin: "log2025-alpha1.rekor.sigstage.dev")) {
            try Checkpoint.verify(envelope: envelope, logs: [])
        }
        // A different trusted root (production) does not know this log.
        if let production = LogFixture.named("conformance__happy-path-v0.3") {
            #expect(throws: TransparencyError.checkpointUnknownKey(origin: "log2025-alpha1.rekor.sigstage.dev")) {
                try Checkpoint.verify(envelope: envelope, logs: production.tlogs)
            }
        }
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func malformedNotesGetSpecificErrors() {
        guard let item = corpusCase("conformance__rekor2-happy-path"), let envelope = item.checkpoint else { return }
        let cases: [String] = [
            "",
            String(envelope.dropLast()),                                   // no final newline
            envelope.replacingOccurrences(of: "\n\n", with: "\n"),         // no blank line
            envelope.replacingOccurrences(of: "\u{2014} ", with: "- "),    // not an em dash
            envelope.replacingOccurrences(of: "\n736\n", with: "\n0736\n"), // leading zero
            envelope.replacingOccurrences(of: "\n736\n", with: "\n-1\n"),
            envelope.replacingOccurrences(of: "\n736\n", with: "\n18446744073709551616\n"),
            envelope.replacingOccurrences(of: "8w1amdbj", with: "8w1am*bj"), // not base64
            "o\n1\n\(Base64.encode([UInt8](repeating: 0, count: 32)))\n\n\u{2014} o AAAA\n", // signature of 0 bytes
            "o\n1\n\(Base64.encode([UInt8](repeating: 0, count: 31)))\n\n\u{2014} o AAAAAAAA\n", // 31-byte root
            String(repeating: "x", count: 70_000) + "\n",
        ]
        for (number, text) in cases.enumerated() {
            do {
                _ = try Checkpoint.verify(envelope: text, logs: item.tlogs)
                Issue.record("malformed note \(number) verified")
            } catch {
                #expect(error.code == "tlog-checkpoint-malformed", "note \(number): \(error)")
            }
        }
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func checkpointKeyIDFromAV02TrustedRootSelectsTheKey() throws {
        guard let item = corpusCase("conformance__rekor2-happy-path"), let envelope = item.checkpoint,
              let log = item.tlogs.first(where: { $0.key.kind == .ed25519 }) else { return }
        func with(_ id: [UInt8]?) -> [TransparencyLogKey] {
            [TransparencyLogKey(logID: log.logID, key: log.key, validFrom: nil, validUntil: nil, baseURL: log.baseURL, checkpointKeyID: id)]
        }
        // The 4-byte hint, or the full key ID it is the prefix of (the v2 log ID here).
        _ = try Checkpoint.verify(envelope: envelope, logs: with(Array(log.logID.prefix(4))))
        _ = try Checkpoint.verify(envelope: envelope, logs: with(log.logID))
        #expect(throws: TransparencyError.checkpointUnknownKey(origin: "log2025-alpha1.rekor.sigstage.dev")) {
            try Checkpoint.verify(envelope: envelope, logs: with([0, 1, 2, 3]))
        }
        // The C2SP Ed25519 key ID binds the name: the same key under another host does not sign this note.
        let renamed = [TransparencyLogKey(logID: log.logID, key: log.key, validFrom: nil, validUntil: nil, baseURL: "https://log2025-alpha1.rekor.example")]
        #expect(throws: TransparencyError.checkpointUnknownKey(origin: "log2025-alpha1.rekor.sigstage.dev")) {
            try Checkpoint.verify(envelope: envelope, logs: renamed)
        }
    }
}
