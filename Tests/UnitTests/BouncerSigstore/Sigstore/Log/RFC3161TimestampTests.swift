import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools
import BouncerTestSupport

/// RFC 3161 timestamps from real corpus bundles (Sigstore staging TSA,
/// conformance suite's local TSA, FreeTSA), with each case's trusted root.
@Suite struct RFC3161TimestampTests {
    static func item(_ name: String) -> LogFixture.Case? {
        guard Corpus.rootOrNotice("RFC3161TimestampTests") != nil else { return nil }
        let found = LogFixture.named(name)
        #expect(found != nil, "corpus case \(name) is missing")
        return found
    }

    static func verify(_ item: LogFixture.Case, token: [UInt8]? = nil, signature: [UInt8]? = nil, authorities: [TimestampAuthority]? = nil) throws -> Date {
        try RFC3161Timestamp.verify(tokenDER: token ?? item.timestamps.first ?? [], signature: signature ?? item.signature ?? [],
                                    authorities: authorities ?? LogFixture.authorities(item.root))
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func everyPassingBundleTimestampVerifiesWithinTheCertificateLifetime() throws {
        guard Corpus.rootOrNotice("RFC3161TimestampTests") != nil else { return }
        let formatter = ISO8601DateFormatter()
        var checked = 0
        for item in LogFixture.cases() where item.corpusCase.expect == "pass" {
            for token in item.timestamps {
                let date = try Self.verify(item, token: token)
                checked += 1
                // Independent check of the time: the case metadata's certificate window.
                let extra = (try LogFixture.json(item.corpusCase.path("case.json")))["extra"] as? [String: Any] ?? [:]
                if let from = (extra["cert_not_before"] as? String).flatMap(formatter.date),
                   let until = (extra["cert_not_after"] as? String).flatMap(formatter.date) {
                    #expect(date >= from && date <= until, "\(item.name): genTime \(date) outside \(from)...\(until)")
                }
            }
        }
        print("RFC3161TimestampTests: \(checked) real timestamps verified")
        #expect(checked >= 10)
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func conformanceFailuresAreRefused() {
        let expected: [(String, String)] = [
            ("conformance__rekor2-timestamp-payload-mismatch_fail", "tsa-imprint-mismatch"),
            ("conformance__rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail", "tsa-untrusted"),
            ("conformance__rekor2-timestamp-outside-tsa-cert-validity_fail", "tsa-untrusted"),
            // Signed by the staging TSA, while this case's root trusts only a test TSA.
            ("sigstore-python__tsa-txt-late_timestamp", "tsa-untrusted"),
            // Dummy timestamps over another message (SHA-512 of "hello").
            ("sigstore-python__tsa-duplicate", "tsa-imprint-mismatch"),
        ]
        for (name, code) in expected {
            guard let item = Self.item(name) else { continue }
            do {
                let date = try Self.verify(item)
                Issue.record("\(name) verified at \(date)")
            } catch let error as TransparencyError {
                print("RFC3161TimestampTests: \(name): \(error)")
                #expect(error.code == code, "\(name): \(error)")
            } catch {
                Issue.record("\(name): \(error)")
            }
        }
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func imprintMustBeTheHashOfThisSignature() throws {
        guard let item = Self.item("conformance__rekor2-happy-path"), var signature = item.signature else { return }
        _ = try Self.verify(item)
        signature[signature.count - 1] ^= 1
        #expect(throws: TransparencyError.timestampImprintMismatch) { try Self.verify(item, signature: signature) }
        // The artifact digest is not what a TSA timestamps in Sigstore.
        let artifact = try Data(contentsOf: URL(fileURLWithPath: item.corpusCase.path(item.corpusCase.artifact ?? "")))
        #expect(throws: TransparencyError.timestampImprintMismatch) { try Self.verify(item, signature: Array(artifact)) }
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func authorityMustBeTrustedAndValidAtGenTime() throws {
        guard let item = Self.item("conformance__rekor2-happy-path"), let other = Self.item("conformance__rekor2-timestamp-with-expired-cert-chain") else { return }
        let authorities = try LogFixture.authorities(item.root)
        let genTime = try Self.verify(item)
        #expect(throws: TransparencyError.self) { try Self.verify(item, authorities: []) }
        // Another TSA's chain.
        let foreign = try LogFixture.authorities(other.root)
        #expect(Set(foreign.map(\.certificateChainDER)) != Set(authorities.map(\.certificateChainDER)))
        #expect(throws: TransparencyError.self) { try Self.verify(item, authorities: foreign) }
        // The authority's validFor window must hold genTime; its end is inclusive.
        let ended = authorities.map { TimestampAuthority(certificateChainDER: $0.certificateChainDER, validFrom: $0.validFrom, validUntil: genTime.addingTimeInterval(-1)) }
        #expect(throws: TransparencyError.self) { try Self.verify(item, authorities: ended) }
        let notYet = authorities.map { TimestampAuthority(certificateChainDER: $0.certificateChainDER, validFrom: genTime.addingTimeInterval(1), validUntil: nil) }
        #expect(throws: TransparencyError.self) { try Self.verify(item, authorities: notYet) }
        let endsNow = authorities.map { TimestampAuthority(certificateChainDER: $0.certificateChainDER, validFrom: $0.validFrom, validUntil: genTime) }
        #expect(try Self.verify(item, authorities: endsNow) == genTime)
        // The TSA's own certificate alone is not an anchor: the chain must reach the root.
        let leafOnly = authorities.map { TimestampAuthority(certificateChainDER: Array($0.certificateChainDER.prefix(1)), validFrom: nil, validUntil: nil) }
        #expect(throws: TransparencyError.self) { try Self.verify(item, authorities: leafOnly) }
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func bareTokenAndResponseGiveTheSameTime() throws {
        guard let item = Self.item("conformance__rekor2-happy-path"), let response = item.timestamps.first else { return }
        let token = try #require(Self.tokenInside(response))
        #expect(token.count < response.count)
        #expect(try Self.verify(item, token: token) == (try Self.verify(item, token: response)))
    }

    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func malformedTokensGetSpecificErrors() throws {
        guard let item = Self.item("conformance__rekor2-happy-path"), let response = item.timestamps.first else { return }
        for (number, bad) in [[], [0x30, 0x00], Array(response.dropLast()), response + [0], Array(response.prefix(40)), [UInt8](repeating: 0x30, count: 100)].enumerated() {
            do {
                _ = try Self.verify(item, token: bad)
                Issue.record("malformed token \(number) verified")
            } catch let error as TransparencyError {
                #expect(error.code == "tsa-malformed-timestamp", "token \(number): \(error)")
            }
        }
    }

    /// A response read in place (its token not copied) still gives a time only
    /// when granted: 0 (granted) and 1 (grantedWithMods) give the same time; a
    /// rejection carrying a token is malformed (RFC 3161 §2.4.2: a token only
    /// with granted), and a rejection alone says its status.
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func onlyAGrantedResponseGivesATime() throws {
        guard let item = Self.item("conformance__rekor2-happy-path"), let response = item.timestamps.first else { return }
        // The status INTEGER is the first thing inside the PKIStatusInfo: 02 01 00.
        let at = try #require((0..<(response.count - 2)).first { response[$0] == 0x02 && response[$0 + 1] == 0x01 && response[$0 + 2] == 0x00 })
        var modified = response
        modified[at + 2] = 1
        #expect(try Self.verify(item, token: modified) == (try Self.verify(item, token: response)))
        var rejected = response
        rejected[at + 2] = 2
        let token = try #require(Self.tokenInside(response))
        let status = Array(rejected[..<(rejected.count - token.count)].drop { $0 != 0x30 }.dropFirst().drop { $0 != 0x30 })
        #expect(status.count == 5, "\(status)")   // 30 03 02 01 02
        for (bad, said) in [(rejected, "not a DER TimeStampResp"), ([0x30, UInt8(status.count)] + status, "status is not 'granted'")] {
            do {
                _ = try Self.verify(item, token: bad)
                Issue.record("a rejection gave a time")
            } catch let error as TransparencyError {
                #expect(error.code == "tsa-malformed-timestamp" && "\(error)".contains(said), "\(error)")
            }
        }
    }

    /// TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken }: the token is what follows the status.
    static func tokenInside(_ response: [UInt8]) -> [UInt8]? {
        func header(_ at: Int) -> (content: Int, length: Int)? {
            guard at + 1 < response.count else { return nil }
            let first = Int(response[at + 1])
            if first < 0x80 { return (at + 2, first) }
            let count = first & 0x7f
            guard count <= 3, at + 2 + count <= response.count else { return nil }
            let length = response[(at + 2)..<(at + 2 + count)].reduce(0) { $0 << 8 | Int($1) }
            return (at + 2 + count, length)
        }
        guard let outer = header(0), let status = header(outer.content) else { return nil }
        let start = status.content + status.length
        guard start < response.count else { return nil }
        return Array(response[start...])
    }
}
