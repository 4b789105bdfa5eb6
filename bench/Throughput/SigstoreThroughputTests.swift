import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import BouncerBase
import BouncerSigstore
import BouncerTestSupport

/// Benchmark, not a check of speed: 1,000 offline verifications in one
/// process, cycling through every passing keyless bundle of the corpus
/// (each with its own artifact, identity and trusted root), and print the
/// rate: first on one thread, then spread over every core as the guard
/// spreads a batch. Runs only with BOUNCER_BENCH=1 (bench/verify-bundle.sh
/// runs it in a release build); the only assertions are that every verification passes
/// and that several different bundles took part.
@Suite struct SigstoreThroughputTests {
    struct Prepared {
        let name: String
        let bundle: [UInt8]
        let artifact: [UInt8]
        let root: SigstoreTrustedRoot
        let policy: IdentityPolicy
    }

    /// One offline verification, from the bundle's bytes.
    static func verify(_ c: Prepared) throws {
        _ = try BundleVerifier.verify(bundle: try SigstoreBundle.parse(c.bundle), artifact: .bytes(c.artifact),
                                      trustedRoot: c.root, policy: .keyless(c.policy))
    }

    /// The passing cases with a file artifact, a SAN and issuer, and one trusted root.
    static func prepared() throws -> [Prepared] {
        try Corpus.cases(format: "sigstore-bundle").compactMap { dir -> Prepared? in
            let c = try CorpusCase.load(dir)
            guard c.expect == "pass", let artifact = c.artifact, let signature = c.signature,
                  let san = c.identity?.san, let issuer = c.identity?.issuer,
                  let trust = c.trust, trust.count == 1 else { return nil }
            let read = { (name: String) in [UInt8](try Data(contentsOf: dir.appendingPathComponent(name))) }
            return Prepared(name: c.name, bundle: try read(signature), artifact: try read(artifact),
                            root: try SigstoreTrustedRoot.parse(try read(trust[0]), source: trust[0]),
                            policy: IdentityPolicy(identity: .exact(san), issuer: .exact(issuer)))
        }
    }

    @Test(.enabled(if: Corpus.isPresent && ProcessInfo.processInfo.environment["BOUNCER_BENCH"] == "1",
                 "a benchmark: bench/verify-bundle.sh runs it with BOUNCER_BENCH=1 and the corpus"))
    func thousandBundlesInProcess() throws {
        guard Corpus.rootOrNotice("SigstoreThroughputTests") != nil else { return }
        let cases = try Self.prepared()
        #expect(cases.count >= 5, "only \(cases.map(\.name))")
        guard !cases.isEmpty else { return }
        // Every case must pass once before timing means anything.
        for c in cases { try Self.verify(c) }
        // BOUNCER_BENCH_ITERATIONS lengthens the run for a profiler.
        let iterations = ProcessInfo.processInfo.environment["BOUNCER_BENCH_ITERATIONS"].flatMap { Int($0) } ?? 1000
        var perCase = [UInt64](repeating: 0, count: cases.count)
        let start = DispatchTime.now().uptimeNanoseconds
        var passed = 0
        for i in 0..<iterations {
            let c = cases[i % cases.count]
            let began = DispatchTime.now().uptimeNanoseconds
            try Self.verify(c)
            perCase[i % cases.count] += DispatchTime.now().uptimeNanoseconds - began
            passed += 1
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print("sigstore throughput: \(passed) verifications of \(cases.count) different bundles in \(String(format: "%.3f", seconds)) s = \(String(format: "%.0f", Double(passed) / seconds)) bundles/s")
        // Where the time goes, one line per bundle: the mean per verification.
        for (k, c) in cases.enumerated() {
            let runs = iterations / cases.count + (k < iterations % cases.count ? 1 : 0)
            guard runs > 0 else { continue }
            print("sigstore throughput:   \(String(format: "%7.0f", Double(perCase[k]) / Double(runs) / 1000)) µs  \(c.name)")
        }
        #expect(passed == iterations)

        // The same verifications spread over every core, as the guard
        // verifies a batch's candidates (`Parallel`: `bouncer check`,
        // `bouncer lock`, `bouncer fetch` of several URLs).
        let threads = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        let failures = Locked(0)
        let parallelStart = DispatchTime.now().uptimeNanoseconds
        Parallel.forEach(Array(0..<iterations)) { i in
            do { try Self.verify(cases[i % cases.count]) } catch { failures.withLock { $0 += 1 } }
        }
        let parallelSeconds = Double(DispatchTime.now().uptimeNanoseconds - parallelStart) / 1e9
        print("sigstore throughput: \(iterations) verifications on \(threads) cores in \(String(format: "%.3f", parallelSeconds)) s = \(String(format: "%.0f", Double(iterations) / parallelSeconds)) bundles/s")
        #expect(failures.value == 0)
    }
}
