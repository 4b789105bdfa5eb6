import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools
import BouncerTestSupport

/// Embedded SCTs of real Fulcio certificates from the corpus, verified with
/// the CT log keys of each case's trusted root.
@Suite struct CertificateTransparencyTests {
    /// Every CA certificate of the trusted root (candidates for the leaf's issuer).
    static func caCertificates(_ item: LogFixture.Case) -> [[UInt8]] {
        (item.root["certificateAuthorities"] as? [[String: Any]] ?? []).flatMap { ca in
            ((ca["certChain"] as? [String: Any])?["certificates"] as? [[String: Any]] ?? []).compactMap { try? LogFixture.b64($0["rawBytes"]) }
        }
    }

    /// The SCT result with each candidate issuer: exactly one should be the real one.
    static func verifyWithSomeIssuer(_ item: LogFixture.Case, leaf: [UInt8], logs: [TransparencyLogKey]? = nil, at: Date = .distantFuture) -> (ids: [[UInt8]]?, errors: [TransparencyError]) {
        var errors: [TransparencyError] = []
        for issuer in caCertificates(item) {
            do {
                return (try CertificateTransparency.verifyEmbeddedSCTs(leafDER: leaf, issuerDER: issuer, ctLogs: logs ?? item.ctlogs, at: at), errors)
            } catch {
                errors.append(error)
            }
        }
        return (nil, errors)
    }

    static func item(_ name: String) -> LogFixture.Case? {
        guard Corpus.rootOrNotice("CertificateTransparencyTests") != nil else { return nil }
        let found = LogFixture.named(name)
        #expect(found != nil, "corpus case \(name) is missing")
        return found
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func everyPassingKeylessBundleHasAVerifiedSCT() throws {
        guard Corpus.rootOrNotice("CertificateTransparencyTests") != nil else { return }
        var checked = 0
        var certificates: Set<[UInt8]> = []
        for item in LogFixture.cases() where item.corpusCase.expect == "pass" {
            guard let leaf = item.leafDER else { continue }
            let result = Self.verifyWithSomeIssuer(item, leaf: leaf)
            #expect(result.ids != nil, "\(item.name): \(result.errors)")
            if let ids = result.ids {
                #expect(ids.allSatisfy { id in item.ctlogs.contains { $0.logID == id } })
                checked += 1
                certificates.insert(leaf)
            }
        }
        print("CertificateTransparencyTests: SCTs verified for \(checked) bundles (\(certificates.count) distinct Fulcio certificates)")
        #expect(certificates.count >= 15)
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func sctWithExtensionsVerifies() throws {
        guard let item = Self.item("conformance__bundle-with-sct-with-extensions"), let leaf = item.leafDER else { return }
        let (tbs, list) = try PrecertificateTBS.split(leaf)
        let scts = try CertificateTransparency.parseList(list)
        #expect(scts.contains { !$0.extensions.isEmpty })
        #expect(!tbs.isEmpty && tbs.count < leaf.count)
        #expect(Self.verifyWithSomeIssuer(item, leaf: leaf).ids != nil)
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func wrongIssuerTamperedLeafAndUnknownLogsAreRefused() throws {
        guard let item = Self.item("conformance__happy-path-v0.3"), let leaf = item.leafDER else { return }
        let good = Self.verifyWithSomeIssuer(item, leaf: leaf)
        #expect(good.ids != nil)
        // The root CA is not the leaf's issuer: its key hash is wrong.
        for issuer in Self.caCertificates(item) {
            if (try? CertificateTransparency.verifyEmbeddedSCTs(leafDER: leaf, issuerDER: issuer, ctLogs: item.ctlogs, at: .distantFuture)) == nil {
                #expect(throws: TransparencyError.self) {
                    try CertificateTransparency.verifyEmbeddedSCTs(leafDER: leaf, issuerDER: issuer, ctLogs: item.ctlogs, at: .distantFuture)
                }
            }
        }
        #expect(Self.caCertificates(item).filter { (try? CertificateTransparency.verifyEmbeddedSCTs(leafDER: leaf, issuerDER: $0, ctLogs: item.ctlogs, at: .distantFuture)) != nil }.count == 1)

        // One letter of the SAN changed: the precert TBS is not what the log signed.
        let needle = Array("extremely-dangerous".utf8)
        var tampered = leaf
        if let start = (0...(leaf.count - needle.count)).first(where: { Array(leaf[$0..<($0 + needle.count)]) == needle }) {
            tampered[start] = UInt8(ascii: "X")
            let result = Self.verifyWithSomeIssuer(item, leaf: tampered)
            #expect(result.ids == nil)
            #expect(result.errors.allSatisfy { $0.code == "sct-not-verified" }, "\(result.errors)")
        } else {
            Issue.record("SAN text not found in the leaf")
        }

        // No trusted CT logs, or the log's key outside its window at the SCT's time.
        #expect(Self.verifyWithSomeIssuer(item, leaf: leaf, logs: []).ids == nil)
        let expired = item.ctlogs.map { TransparencyLogKey(logID: $0.logID, key: $0.key, validFrom: nil, validUntil: Date(timeIntervalSince1970: 0), baseURL: $0.baseURL) }
        #expect(Self.verifyWithSomeIssuer(item, leaf: leaf, logs: expired).ids == nil)
        // A Rekor key is not a CT log key, even under the CT log's ID.
        let swapped = item.ctlogs.compactMap { log in item.tlogs.first.map { TransparencyLogKey(logID: log.logID, key: $0.key, validFrom: nil, validUntil: nil, baseURL: "") } }
        #expect(Self.verifyWithSomeIssuer(item, leaf: leaf, logs: swapped).ids == nil)
        // An SCT dated long after the claimed signing time.
        #expect(Self.verifyWithSomeIssuer(item, leaf: leaf, at: Date(timeIntervalSince1970: 1_000_000_000)).ids == nil)
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func certificatesWithoutSCTsAndGarbage() throws {
        guard let item = Self.item("conformance__happy-path-v0.3"), let leaf = item.leafDER,
              let ca = Self.caCertificates(item).first else { return }
        #expect(throws: TransparencyError.sctMissing) {
            try CertificateTransparency.verifyEmbeddedSCTs(leafDER: ca, issuerDER: ca, ctLogs: item.ctlogs, at: .distantFuture)
        }
        #expect(throws: TransparencyError.malformedCertificate("the leaf is not a DER X.509 certificate")) {
            try CertificateTransparency.verifyEmbeddedSCTs(leafDER: Array(leaf.dropLast()), issuerDER: ca, ctLogs: item.ctlogs, at: .distantFuture)
        }
        #expect(throws: TransparencyError.malformedCertificate("the leaf is not a DER X.509 certificate")) {
            try CertificateTransparency.verifyEmbeddedSCTs(leafDER: leaf + [0], issuerDER: ca, ctLogs: item.ctlogs, at: .distantFuture)
        }
        #expect(throws: TransparencyError.malformedCertificate("the issuer is not a DER X.509 certificate")) {
            try CertificateTransparency.verifyEmbeddedSCTs(leafDER: leaf, issuerDER: [0x30, 0x00], ctLogs: item.ctlogs, at: .distantFuture)
        }
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func malformedSCTListsAreRefused() throws {
        guard let item = Self.item("conformance__happy-path-v0.3"), let leaf = item.leafDER else { return }
        let (_, list) = try PrecertificateTBS.split(leaf)
        _ = try CertificateTransparency.parseList(list)
        var wrongVersion = list
        wrongVersion[4] = 1
        let broken: [[UInt8]] = [[], [0], [0, 5, 0, 3], Array(list.dropLast()), list + [0], wrongVersion,
                                 [0, 2, 0, 0], [0, 4, 0, 2, 0, 0]]
        for (number, bytes) in broken.enumerated() {
            do {
                let parsed = try CertificateTransparency.parseList(bytes)
                Issue.record("list \(number) parsed: \(parsed.count) SCTs")
            } catch {
                #expect(error.code == "sct-malformed", "list \(number): \(error)")
            }
        }
        // The signed data layout (RFC 6962 §3.2) for a known SCT, checked field by field.
        let sct = try #require(try CertificateTransparency.parseList(list).first)
        let data = CertificateTransparency.signedData(sct, issuerKeyHash: [UInt8](repeating: 0xAB, count: 32), tbs: [1, 2, 3])
        #expect(Array(data[0..<2]) == [0, 0])
        #expect(Array(data[2..<10]).reduce(0) { $0 << 8 | UInt64($1) } == sct.timestamp)
        #expect(Array(data[10..<12]) == [0, 1])
        #expect(Array(data[12..<44]) == [UInt8](repeating: 0xAB, count: 32))
        #expect(Array(data[44..<50]) == [0, 0, 3, 1, 2, 3])
        #expect(data.count == 50 + 2 + sct.extensions.count)
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func pkcs1RSALogKeyOfTheStagingRootParses() throws {
        guard let item = Self.item("conformance__rekor2-happy-path") else { return }
        let raw = try #require((item.root["ctlogs"] as? [[String: Any]])?.first { ($0["publicKey"] as? [String: Any])?["keyDetails"] as? String == "PKCS1_RSA_PKCS1V5" })
        let der = try LogFixture.b64((raw["publicKey"] as? [String: Any])?["rawBytes"])
        let key = try PublicKey(pkcs1RSAPublicKeyDER: der)
        #expect(key.kind == .rsa(bits: 4096))
        // The log ID is SHA-256 of the SPKI: the wrapping must be the canonical one.
        #expect(Hasher.digest(key.spkiDER, .sha256).bytes == (try LogFixture.b64((raw["logId"] as? [String: Any])?["keyId"])))
        #expect(throws: CryptoError.self) { try PublicKey(pkcs1RSAPublicKeyDER: Array(der.dropLast())) }
        #expect(throws: CryptoError.self) { try PublicKey(pkcs1RSAPublicKeyDER: []) }
    }
}
