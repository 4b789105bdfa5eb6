import Foundation
import Testing
@testable import BouncerServe

/// The files the proxy keeps to serve again (`ArtifactGate.served`) stay
/// within a count and a size: the oldest go first.
@Suite struct ServedAgainTests {
    let start = Date(timeIntervalSince1970: 1_700_000_000)

    func kept(_ sizes: [UInt64]) -> [(key: String, size: UInt64, at: Date)] {
        // Listed newest first, so that the order of the list is not what decides.
        sizes.enumerated().map { (key: "f\($0.offset)", size: $0.element, at: start.addingTimeInterval(Double(-$0.offset))) }
    }

    @Test func theOldestGoUntilCountAndBytesFit() {
        #expect(ArtifactGate.overflow(kept([10, 10, 10]), count: 5, bytes: 100).isEmpty)
        #expect(ArtifactGate.overflow(kept([10, 10, 10]), count: 2, bytes: 100) == ["f2"])
        #expect(ArtifactGate.overflow(kept([10, 10, 10]), count: 1, bytes: 100) == ["f2", "f1"])
        // Two gigabyte-sized files beside a new one: both older ones go.
        #expect(ArtifactGate.overflow(kept([60, 50, 40]), count: 64, bytes: 100) == ["f2", "f1"])
        #expect(ArtifactGate.overflow(kept([60, 40, 1]), count: 64, bytes: 100) == ["f2"])
        #expect(ArtifactGate.overflow([], count: 0, bytes: 0).isEmpty)
    }
}
