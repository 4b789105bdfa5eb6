import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools
import BouncerTestSupport

/// Byte mutations of real inputs: no parser may trap, and no mutation of
/// signed bytes may verify.
@Suite struct SigstoreLogMutationTests {

    /// Flips, replaces, inserts or deletes one byte in `range`.
    static func mutate(_ bytes: [UInt8], in range: Range<Int>, _ random: inout SeededGenerator) -> [UInt8] {
        var out = bytes
        let at = range.lowerBound + random.below(range.count)
        switch random.below(4) {
        case 0: out[at] ^= UInt8(1 << random.below(8))
        case 1: out[at] = out[at] &+ UInt8(1 + random.below(255))  // never the same byte
        case 2: out.insert(UInt8(truncatingIfNeeded: random.next()), at: at)
        default: out.remove(at: at)
        }
        return out
    }

    static func item(_ name: String) -> LogFixture.Case? {
        guard Corpus.rootOrNotice("SigstoreLogMutationTests") != nil else { return nil }
        return LogFixture.named(name)
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func mutatedCheckpointTextNeverVerifies() throws {
        for name in ["conformance__happy-path-v0.3", "conformance__rekor2-happy-path"] {
            guard let item = Self.item(name), let envelope = item.checkpoint else { continue }
            let bytes = Array(envelope.utf8)
            let logs = item.tlogs
            _ = try Checkpoint.verify(envelope: envelope, logs: logs)
            let bodyEnd = try #require(envelope.range(of: "\n\n")).lowerBound.utf16Offset(in: envelope)
            var random = TestRandom.generator()
            var refused = 0
            for _ in 0..<1500 {
                let mutated = Self.mutate(bytes, in: 0..<bodyEnd, &random)
                // Mutated bytes that are not UTF-8 are not a String at all; decode leniently.
                let text = String(decoding: mutated, as: UTF8.self)
                if let checkpoint = try? Checkpoint.verify(envelope: text, logs: logs) {
                    Issue.record("\(name): mutated note verified: \(checkpoint.origin) \(checkpoint.treeSize)")
                } else {
                    refused += 1
                }
            }
            #expect(refused == 1500)
            // Anywhere in the envelope: never a trap.
            for _ in 0..<1500 {
                _ = try? Checkpoint.verify(envelope: String(decoding: Self.mutate(bytes, in: 0..<bytes.count, &random), as: UTF8.self), logs: logs)
            }
        }
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func mutatedEntryBodiesAreRefusedOrUnchanged() throws {
        for name in ["conformance__happy-path-v0.3", "conformance__happy-path-intoto-in-dsse-v3", "gh-cli__sigstore-js-2.1.0-npm-provenance", "conformance__rekor2-dsse-happy-path"] {
            guard let item = Self.item(name), let expected = try LogEntryCorpusTests.expectation(item) else { continue }
            try RekorEntryBody.check(canonicalizedBody: item.body, kind: item.kind, version: item.version, expected: expected)
            var random = TestRandom.generator()
            for _ in 0..<800 {
                let mutated = Self.mutate(item.body, in: 0..<item.body.count, &random)
                do {
                    try RekorEntryBody.check(canonicalizedBody: mutated, kind: item.kind, version: item.version, expected: expected)
                    // Accepted only if what the body says did not change: the same JSON value.
                    let before = try JSONSerialization.jsonObject(with: Data(item.body)) as? NSDictionary
                    let after = try JSONSerialization.jsonObject(with: Data(mutated)) as? NSDictionary
                    if before != after {
                        // Fields the check does not compare (envelopeHash, hash, keyDetails) may differ;
                        // the compared ones cannot, or the check would have thrown.
                        #expect(Self.comparedFieldsEqual(before, after),
                                "\(name): a changed body passed: \(Self.firstDifference(item.body, mutated))")
                    }
                } catch let error as TransparencyError {
                    #expect(["tlog-body-malformed", "tlog-body-mismatch", "tlog-body-kind-mismatch", "tlog-body-unsupported-kind"].contains(error.code))
                } catch {
                    Issue.record("\(name): \(error)")
                }
            }
        }
    }

    /// Found by the test above (seed 1775700372): one byte after the PEM
    /// certificate of a hashedrekord body (`…Cg==` → `…Cgg=`, the PEM text
    /// then ending in 0x08) was accepted, the certificate itself unchanged.
    /// Bytes the log signed beside the certificate are refused, as are a
    /// second block and text before the first; blanks are the PEM reader's.
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func aPEMWithAnythingAroundItIsAMalformedBody() throws {
        guard let item = Self.item("conformance__happy-path-v0.3"), let expected = try LogEntryCorpusTests.expectation(item) else { return }
        let body = try #require(try JSONSerialization.jsonObject(with: Data(item.body)) as? [String: Any])
        let spec = try #require(body["spec"] as? [String: Any])
        let signature = try #require(spec["signature"] as? [String: Any])
        let publicKey = try #require(signature["publicKey"] as? [String: Any])
        let encoded = try #require(publicKey["content"] as? String)
        let pem = try #require(Data(base64Encoded: encoded))
        func bodyWith(_ content: Data) throws -> [UInt8] {
            var key = publicKey, sig = signature, sp = spec, all = body
            key["content"] = content.base64EncodedString()
            sig["publicKey"] = key; sp["signature"] = sig; all["spec"] = sp
            return [UInt8](try JSONSerialization.data(withJSONObject: all, options: [.sortedKeys]))
        }
        // The same certificate with blanks around it still matches.
        try RekorEntryBody.check(canonicalizedBody: try bodyWith(Data("\n".utf8) + pem + Data("  \n".utf8)), kind: item.kind, version: item.version, expected: expected)
        // (Seed 3571348378: `…Cg==` → `…Cw==`, a vertical tab for the last line feed, is no blank to the PEM reader.)
        for changed in [pem + Data([0x08]), pem.dropLast() + Data([0x0B]), Data("x".utf8) + pem, pem + pem] {
            #expect(throws: TransparencyError.self) {
                try RekorEntryBody.check(canonicalizedBody: try bodyWith(changed), kind: item.kind, version: item.version, expected: expected)
            }
        }
    }

    /// Only the fields the check compares: unknown keys (a mutated key name),
    /// envelopeHash, keyDetails and intoto's content.hash are left out, and
    /// base64 padding is ignored.
    static func comparedFieldsEqual(_ a: NSDictionary?, _ b: NSDictionary?) -> Bool {
        let compared: Set<String> = ["apiVersion", "kind", "spec", "data", "hash", "algorithm", "value", "digest", "signature",
                                     "content", "publicKey", "signatures", "verifier", "payloadHash", "envelope", "payload",
                                     "payloadType", "sig", "hashedRekordV002", "dsseV002", "x509Certificate", "rawBytes"]
        func strip(_ value: Any, parent: String) -> Any {
            if let dictionary = value as? [String: Any] {
                var out: [String: Any] = [:]
                for (key, item) in dictionary where compared.contains(key) && !(key == "hash" && parent == "content") {
                    out[key] = strip(item, parent: key)
                }
                return out as NSDictionary
            }
            if let array = value as? [Any] { return array.map { strip($0, parent: parent) } as NSArray }
            // Hex digests compare case-insensitively (the same digest either way).
            if parent == "value", let text = value as? String, text.allSatisfy(\.isHexDigit) { return text.lowercased() as NSString }
            // Algorithm names are read as HashAlgorithm(name:) reads them ("sha256", "SHA-256"): the same algorithm either way.
            if parent == "algorithm", let text = value as? String { return (HashAlgorithm(name: text)?.rawValue ?? text) as NSString }
            // A certificate or key in PEM (base64 of it): what it says is its DER, not the blanks around it.
            if let text = value as? String, let der = Self.pemDER(text) { return Data(der).base64EncodedString() as NSString }
            // Base64 padding is optional in protobuf JSON: the same bytes either way.
            if let text = value as? String { return String(text.reversed().drop { $0 == "=" }.reversed()) as NSString }
            return value
        }
        guard let a, let b else { return a == nil && b == nil }
        return (strip(a, parent: "") as? NSDictionary) == (strip(b, parent: "") as? NSDictionary)
    }

    /// The DER of the one PEM certificate or public key a base64 string holds, if it holds one.
    static func pemDER(_ base64: String) -> [UInt8]? {
        guard let bytes = Data(base64Encoded: base64) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        return PEM.decode(text, label: "CERTIFICATE").first ?? PEM.decode(text, label: "PUBLIC KEY").first
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func mutatedLeafCertificatesKeepNoSCTUnlessThePrecertIsUnchanged() throws {
        guard let item = Self.item("conformance__happy-path-v0.3"), let leaf = item.leafDER else { return }
        let issuers = CertificateTransparencyTests.caCertificates(item)
        let original = try PrecertificateTBS.split(leaf)
        let ctlogs = item.ctlogs
        var random = TestRandom.generator()
        var verified = 0
        for _ in 0..<1500 {
            let mutated = Self.mutate(leaf, in: 0..<leaf.count, &random)
            for issuer in issuers {
                if (try? CertificateTransparency.verifyEmbeddedSCTs(leafDER: mutated, issuerDER: issuer, ctLogs: ctlogs, at: .distantFuture)) != nil {
                    // Only a change outside what the log signed (the CA's signature, or an
                    // encoding OpenSSL normalises back) may still verify.
                    let parts = try PrecertificateTBS.split(mutated)
                    #expect(parts.tbs == original.tbs && parts.scts == original.scts)
                    verified += 1
                }
            }
        }
        print("SigstoreLogMutationTests: \(verified) of 1500 leaf mutations left the signed precertificate unchanged")
        // Garbage SCT lists never trap.
        for _ in 0..<3000 {
            _ = try? CertificateTransparency.parseList(Self.mutate(original.scts, in: 0..<original.scts.count, &random))
        }
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func mutatedTimestampTokensNeverTrapAndRarelyVerify() throws {
        guard let item = Self.item("conformance__rekor2-happy-path"), let token = item.timestamps.first, let signature = item.signature else { return }
        let authorities = try LogFixture.authorities(item.root)
        let genuine = try RFC3161Timestamp.verify(tokenDER: token, signature: signature, authorities: authorities)
        var random = TestRandom.generator()
        for _ in 0..<600 {
            let mutated = Self.mutate(token, in: 0..<token.count, &random)
            if let date = try? RFC3161Timestamp.verify(tokenDER: mutated, signature: signature, authorities: authorities) {
                // Only bytes outside the signed TSTInfo and signed attributes (unsigned fields,
                // certificates the chain does not need) may change; the time stays the signed one.
                #expect(date == genuine)
            }
        }
    }

    /// Where two byte strings first differ, with some context, for the failure message.
    static func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> String {
        let at = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
        func around(_ bytes: [UInt8]) -> String { String(decoding: bytes[max(0, at - 20)..<min(bytes.count, at + 20)], as: UTF8.self) }
        return "at \(at): …\(around(a))… became …\(around(b))…"
    }
}
