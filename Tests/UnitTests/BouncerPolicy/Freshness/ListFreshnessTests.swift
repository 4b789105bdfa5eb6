import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools

/// The rollback rule for signed lists, as a pure function of what was seen.
@Suite struct ListFreshnessTests {
    let url = "https://downloads.example.test/app/SHA256SUMS"
    let a = String(repeating: "a", count: 64), b = String(repeating: "b", count: 64), c = String(repeating: "c", count: 64)

    func observed(_ sha: String, issued: Int?, seen: Int = 2_000_000_000) -> ListObservation {
        ListObservation(url: url, sha256: sha, issuedAt: issued.map { Date(timeIntervalSince1970: TimeInterval($0)) },
                        signer: "minisign:ABC", seenAt: Date(timeIntervalSince1970: TimeInterval(seen)))
    }

    @Test func firstSightingAndTheSameListAgainPass() {
        #expect(ListFreshness.judge(observed(a, issued: 100), against: nil) == nil)
        let seen = ListFreshness.advance(nil, with: observed(a, issued: 100))
        #expect(seen.sha256 == a && seen.issuedAt == 100 && seen.superseded.isEmpty)
        #expect(ListFreshness.judge(observed(a, issued: 100), against: seen) == nil)
        #expect(ListFreshness.advance(seen, with: observed(a, issued: 100)) == seen)
    }

    @Test func anOlderSignedTimeIsRefusedAndANewerOneAdvances() {
        let seen = ListFreshness.advance(nil, with: observed(a, issued: 200))
        let older = ListFreshness.judge(observed(b, issued: 199), against: seen)
        #expect(older?.message.contains("before the list issued") == true, "\(String(describing: older))")
        #expect(ListFreshness.judge(observed(b, issued: 200), against: seen) == nil, "the same second cannot be ordered")
        let newer = ListFreshness.advance(seen, with: observed(b, issued: 300))
        #expect(newer.sha256 == b && newer.issuedAt == 300 && newer.superseded == [a])
    }

    @Test func aReplacedListIsRefusedEvenWithoutSignedTimes() {
        var seen = ListFreshness.advance(nil, with: observed(a, issued: nil))
        seen = ListFreshness.advance(seen, with: observed(b, issued: nil))
        let replayed = ListFreshness.judge(observed(a, issued: nil), against: seen)
        #expect(replayed?.message.contains("replaced by a newer one") == true)
        #expect(ListFreshness.judge(observed(c, issued: nil), against: seen) == nil, "an unseen list cannot be ordered without a time")
    }

    @Test func aTimelessListKeepsTheNewestKnownTime() {
        var seen = ListFreshness.advance(nil, with: observed(a, issued: 500))
        seen = ListFreshness.advance(seen, with: observed(b, issued: nil))
        #expect(seen.issuedAt == 500)
        #expect(ListFreshness.judge(observed(c, issued: 400), against: seen) != nil)
    }

    @Test func theReplacedListMemoryIsBounded() {
        var seen: SeenList? = nil
        for index in 0..<(ListFreshness.supersededLimit + 10) {
            let hex = String(format: "%064x", index)
            seen = ListFreshness.advance(seen, with: observed(hex, issued: index))
        }
        #expect(seen?.superseded.count == ListFreshness.supersededLimit)
    }

    @Test func theStateFileRoundTripsAndRefusesGarbage() throws {
        var state = FreshnessState()
        state.lists[url] = ListFreshness.advance(nil, with: observed(a, issued: 7))
        #expect(try FreshnessState.decode(state.encoded(), file: "f.json") == state)
        for bad in ["[]", #"{"version": 2, "lists": {}}"#,
                    #"{"version": 1, "lists": {"u": {"sha256": "zz", "signer": "s", "seenAt": 1, "superseded": []}}}"#] {
            #expect(throws: BouncerError.self) { try FreshnessState.decode(Array(bad.utf8), file: "f.json") }
        }
    }

    @Test func minisignTrustedTimestampIsRead() {
        #expect(MinisignFormat.signedTimestamp("timestamp:1555779966\tfile:minisign-0.8.tar.gz") == Date(timeIntervalSince1970: 1_555_779_966))
        #expect(MinisignFormat.signedTimestamp("timestamp:1555779966\tfile:x\thashed") != nil)
        #expect(MinisignFormat.signedTimestamp("release 1.0") == nil)
        #expect(MinisignFormat.signedTimestamp("timestamp:12x") == nil)
        #expect(MinisignFormat.signedTimestamp("timestamp:99999999999999999999") == nil)
    }
}
