import Foundation
import Testing
import BouncerTestSupport
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools

/// Mutated and truncated real signatures and keyrings: every outcome is a
/// refusal or a typed error, never a crash and never a pass.
@Suite struct OpenPGPHostileTests {
    static func corpusCase() -> (inRelease: [UInt8], keyring: KeyMaterial)? {
        guard let root = Corpus.rootOrNotice("OpenPGPHostileTests") else { return nil }
        let dir = root.appendingPathComponent("openpgp/debian__bookworm-updates-inrelease-clearsigned")
        guard let message = try? Data(contentsOf: dir.appendingPathComponent("InRelease")),
              let keyring = try? Data(contentsOf: dir.appendingPathComponent("debian-archive-keyring.gpg")) else { return nil }
        return ([UInt8](message), KeyMaterial(path: "debian-archive-keyring.gpg", bytes: [UInt8](keyring)))
    }

    static let now = Date(timeIntervalSince1970: 1_796_000_000)

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func mutatedSignaturePacketsNeverPass() throws {
        guard let (message, keyring) = Self.corpusCase() else { return }
        let parts = try ClearsignedParts.parse(message, source: "InRelease")
        let detached = parts.signature
        let text = parts.signedText
        // The untouched signature verifies (the baseline for the mutations).
        let baseline = try OpenPGPFormat.verify(message: text, signature: detached, keys: [keyring], options: .init(now: Self.now))
        #expect(baseline.passed)
        // Single-byte mutations of the first signature packet alone. A pass
        // is acceptable only when the byte lies in the unhashed subpacket
        // area, which the signature does not cover (and is only a hint).
        let packets = try PGPPacket.parse(detached, what: "t")
        try #require(packets.count == 2)
        let first = packets[0]
        let packetLength = packets[1].offset
        let single = Array(detached.prefix(packetLength))
        let header = packetLength - first.body.count
        let hashedLength = Int(first.body[4]) << 8 | Int(first.body[5])
        let unhashedLength = Int(first.body[6 + hashedLength]) << 8 | Int(first.body[7 + hashedLength])
        let unhashed = (header + 6 + hashedLength)..<(header + 8 + hashedLength + unhashedLength)
        #expect(try OpenPGPFormat.verify(message: text, signature: single, keys: [keyring], options: .init(now: Self.now)).passed)
        // Where each MPI's 2-octet bit count sits: after the unhashed area and the 2-octet hash prefix.
        var mpiBitCounts: [Int: Int] = [:]  // byte index -> where its bit count starts
        var cursor = unhashed.upperBound + 2
        while cursor + 1 < single.count {
            mpiBitCounts[cursor] = cursor
            mpiBitCounts[cursor + 1] = cursor
            cursor += 2 + Self.mpiByteLength(single, at: cursor)
        }
        var generator = TestRandom.generator()
        for _ in 0..<400 {
            var mutated = single
            let index = Int.random(in: 0..<mutated.count, using: &generator)
            let value = UInt8.random(in: 0...255, using: &generator)
            guard value != mutated[index] else { continue }
            mutated[index] = value
            let report = try OpenPGPFormat.verify(message: text, signature: mutated, keys: [keyring], options: .init(now: Self.now))
            // The bit counts of the signature's MPIs are read leniently (producers get them
            // wrong): a changed count that keeps the same number of bytes leaves the value as it was.
            let sameValue = mpiBitCounts[index].map { Self.mpiByteLength(mutated, at: $0) == Self.mpiByteLength(single, at: $0) } ?? false
            if report.passed { #expect(unhashed.contains(index) || sameValue, "mutation at \(index) passed") }
        }
        for length in 0..<detached.count {
            let report = try OpenPGPFormat.verify(message: text, signature: Array(detached.prefix(length)), keys: [keyring], options: .init(now: Self.now))
            // Cutting inside the second signature can leave the first one whole.
            if length < packetLength { #expect(!report.passed, "prefix \(length) passed") }
        }
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func truncatedAndMutatedKeyrings() throws {
        guard let (message, keyring) = Self.corpusCase() else { return }
        var generator = TestRandom.generator()
        for _ in 0..<200 {
            let length = Int.random(in: 0..<keyring.bytes.count, using: &generator)
            var bytes = Array(keyring.bytes.prefix(length))
            if !bytes.isEmpty { bytes[Int.random(in: 0..<bytes.count, using: &generator)] ^= 0xFF }
            do {
                _ = try OpenPGPFormat.verifyCleartext(message, source: "InRelease",
                                                      keys: [KeyMaterial(path: "k.gpg", bytes: bytes)], options: .init(now: Self.now))
            } catch let error as OpenPGPError {
                if case .keyFile(let path, _) = error { #expect(path == "k.gpg") } else { Issue.record("unexpected \(error)") }
            }
        }
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func mutatedCleartextNeverPassesWithChangedText() throws {
        guard let (message, keyring) = Self.corpusCase() else { return }
        let original = try ClearsignedParts.parse(message, source: "InRelease").text
        var generator = TestRandom.generator()
        for _ in 0..<150 {
            var mutated = message
            let index = Int.random(in: 0..<mutated.count, using: &generator)
            mutated[index] = UInt8.random(in: 0...255, using: &generator)
            guard let result = try? OpenPGPFormat.verifyCleartext(mutated, source: "InRelease", keys: [keyring],
                                                                    options: .init(now: Self.now)) else { continue }
            if result.report.passed {
                // Only changes the signature does not cover (trailing blanks,
                // armor headers, the second signature) may still pass, and then
                // the text handed on must be exactly the signed original.
                #expect(result.text == original)
            }
        }
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func hashHeaderMustAnnounceTheSignatureHash() throws {
        guard let (message, keyring) = Self.corpusCase() else { return }
        let text = String(decoding: message, as: UTF8.self).replacingOccurrences(of: "Hash: SHA256", with: "Hash: SHA512")
        let result = try OpenPGPFormat.verifyCleartext(Array(text.utf8), source: "InRelease", keys: [keyring], options: .init(now: Self.now))
        #expect(!result.report.passed)
        for case .refused(_, let reason) in result.report.outcomes {
            #expect(reason.contains("'Hash:' header does not announce"))
        }
    }

    /// The byte length of the MPI whose 2-octet bit count starts at `start`.
    static func mpiByteLength(_ bytes: [UInt8], at start: Int) -> Int {
        guard start + 1 < bytes.count else { return 0 }
        let bits = Int(bytes[start]) << 8 | Int(bytes[start + 1])
        return (bits + 7) / 8
    }
}
