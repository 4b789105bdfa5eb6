import Foundation
import Testing
import BouncerCore
import BouncerTestSupport

/// Benchmark, not a check of speed: parse and verify one real bundle 1,000
/// times in-process and print the rate. Runs only with BOUNCER_BENCH=1; the
/// only assertion is that every verification passes.
@Suite struct SigstoreThroughputTests {
    @Test func thousandBundlesInProcess() throws {
        guard ProcessInfo.processInfo.environment["BOUNCER_BENCH"] == "1" else { return }
        guard let root = Corpus.rootOrNotice("SigstoreThroughputTests") else { return }
        let dir = root.appendingPathComponent("sigstore-bundle/sigstore-python__bundle_v3_github-whl")
        let bundle = [UInt8](try Data(contentsOf: dir.appendingPathComponent("bundle.sigstore.json")))
        let artifact = [UInt8](try Data(contentsOf: dir.appendingPathComponent("rfc8785-0.1.2-py3-none-any.whl")))
        let trusted = try SigstoreTrustedRoot.production()
        let policy = IdentityPolicy(identity: .exact("https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2"),
                                    issuer: .exact("https://token.actions.githubusercontent.com"))
        let start = DispatchTime.now().uptimeNanoseconds
        var passed = 0
        for _ in 0..<1000 {
            let parsed = try SigstoreBundle.parse(bundle)
            _ = try BundleVerifier.verify(bundle: parsed, artifact: .bytes(artifact), trustedRoot: trusted, policy: .keyless(policy))
            passed += 1
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print("sigstore throughput: \(passed) bundles in \(String(format: "%.3f", seconds)) s = \(String(format: "%.0f", Double(passed) / seconds)) bundles/s")
        #expect(passed == 1000)
    }
}
