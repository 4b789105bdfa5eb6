import Foundation
import Testing
import BouncerTestSupport

/// Silent downgrade through the pip shim: a requirement's `--hash` that
/// disagrees with the index's (correct) `#sha256=` must refuse the install —
/// the index's agreement with the bytes does not make the requirement optional.
/// The guard reads the requirement's `--hash` as a claimed digest and
/// refuses the file before pip gets a byte of it; pip would refuse it too.
/// (An extension of PipShimTests, to reuse its loopback index and venv.)
extension PipShimTests {
    @Test func requirementHashIsNotIgnoredWhenTheIndexDigestMatches() throws {
        defer { harness.cleanup() }
        let lib = try buildWheel("tinylib", "1.0", body: "VALUE = 41\n")
        try page("tinylib", [(lib.file, lib.sha256)])
        let wrong = String(repeating: "0", count: 64)
        try "tinylib==1.0 --hash=sha256:\(wrong)\n".write(to: harness.file("requirements.txt"), atomically: true, encoding: .utf8)
        let before = try installed()
        let result = try harness.sh("pip install --index-url '\(indexURL)' -r requirements.txt")
        #expect(result.status != 0, "\(result.err)")
        #expect(try installed() == before)
        #expect(result.err.contains(wrong) || result.err.lowercased().contains("hash"), "the refusal names the requirement's hash: \(result.err)")
        // Control: the right hash installs.
        try "tinylib==1.0 --hash=sha256:\(lib.sha256)\n".write(to: harness.file("requirements.txt"), atomically: true, encoding: .utf8)
        let good = try harness.sh("pip install --index-url '\(indexURL)' -r requirements.txt")
        #expect(good.status == 0, "\(good.err)")
        #expect(try installed().contains("tinylib==1.0"))
    }

    /// The same through an include spelled `-rFILE`: the guard reads included
    /// files the way pip does, so the refusal is Bouncer's, before pip's own check.
    @Test func aHashInAFileIncludedAsDashRFILEReachesTheGuard() throws {
        defer { harness.cleanup() }
        let lib = try buildWheel("tinylib", "1.0", body: "VALUE = 41\n")
        try page("tinylib", [(lib.file, lib.sha256)])
        let wrong = String(repeating: "0", count: 64)
        try "-rpinned.txt\n".write(to: harness.file("requirements.txt"), atomically: true, encoding: .utf8)
        try "tinylib==1.0 \\\n    --hash=sha256:\(wrong)\t# pinned by hand\n".write(to: harness.file("pinned.txt"), atomically: true, encoding: .utf8)
        let before = try installed()
        let result = try harness.sh("pip install --index-url '\(indexURL)' -r requirements.txt")
        #expect(result.status == 1, "\(result.err)")
        #expect(try installed() == before)
        #expect(result.err.contains("bouncer: pip: refused tinylib 1.0"), "Bouncer's own refusal, not only pip's hash check: \(result.err)")
        #expect(result.err.contains(wrong), "the refusal names the stated digest: \(result.err)")
    }
}
