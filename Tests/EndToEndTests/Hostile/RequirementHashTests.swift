import Foundation
import Testing
import BouncerTestSupport

/// Silent downgrade through the pip shim: a requirement's `--hash` that
/// disagrees with the index's (correct) `#sha256=` must refuse the install —
/// the index's agreement with the bytes does not make the requirement optional.
/// Today the refusal comes from the real pip's resolve step (`--dry-run
/// --report` checks the hash while downloading metadata), before Bouncer
/// fetches; the test holds the shim to the outcome, whoever refuses.
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
}
