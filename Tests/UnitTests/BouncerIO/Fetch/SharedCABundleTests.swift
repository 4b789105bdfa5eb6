import Foundation
import Testing
@testable import BouncerIO
import BouncerTestSupport

/// The CA file is parsed once per process and shared by every new TLS
/// connection (ca_bundle.c), rather than parsed by libcurl for each one. Real
/// TLS through libcurl and OpenSSL against a loopback HTTPS server that closes
/// the connection after every response, so each fetch makes a new one.
@Suite(.blocking) struct SharedCABundleTests {
    /// Immutable once made; the concurrent fetches only read it.
    struct Setup: @unchecked Sendable {
        let server: LoopbackTLSServer
        let dir: URL
        let bundle: String
        let unrelated: String

        init() throws {
            server = try LoopbackTLSServer()
            dir = try BouncerProcess.temporaryDirectory("bouncer-ca-bundle")
            bundle = dir.appendingPathComponent("bundle.pem").path
            // A CA that signed nothing the server sends.
            unrelated = dir.appendingPathComponent("unrelated.pem").path
            let made = try BouncerProcess.runProgram("/usr/bin/openssl", [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                "-subj", "/CN=Unrelated Test CA", "-keyout", dir.appendingPathComponent("unrelated.key").path,
                "-out", unrelated])
            #expect(made.status == 0, "openssl req failed: \(made.err)")
            try server.register("file.txt", Array("served over TLS\n".utf8))
        }

        /// Puts `source`'s bytes at the bundle's path as a new file, the way
        /// update-ca-certificates replaces its output.
        func installBundle(from source: String) throws {
            let staged = bundle + ".new"
            try Data(contentsOf: URL(fileURLWithPath: source)).write(to: URL(fileURLWithPath: staged))
            #expect(rename(staged, bundle) == 0)
        }

        func fetch() -> Result<FetchedArtifact, FetchError> {
            var options = FetchOptions(environment: [:])
            options.progress = false
            options.retries = 0
            options.caBundle = bundle
            let result = Fetcher(store: Store(root: dir.path), options: options)
                .fetch(FetchRequest(url: server.url("/files/file.txt")))
            if case .success(let fetched) = result { unlink(fetched.path) }
            return result
        }

        func stop() {
            server.stop()
            try? FileManager.default.removeItem(at: dir)
        }
    }

    @Test func oneParseServesEveryConnectionIncludingConcurrentOnes() throws {
        let setup = try Setup()
        defer { setup.stop() }
        try setup.installBundle(from: setup.server.certificate)
        for _ in 0..<3 {
            let result = setup.fetch()
            #expect(throws: Never.self) { try result.get() }
        }
        let failures = Locked(0)
        DispatchQueue.concurrentPerform(iterations: 12) { _ in
            if case .failure = setup.fetch() { failures.withLock { $0 += 1 } }
        }
        #expect(failures.withLock { $0 } == 0)
        // Fifteen connections; without the shared copy libcurl parses the file itself and this is 0.
        #expect(Transfer.caBundleParses(of: setup.bundle) == 1)
    }

    /// A proxy parses the file as it starts (`Fetcher.prepare`): its first transfers find it parsed.
    @Test func preparedBeforeTheFirstTransfer() throws {
        let setup = try Setup()
        defer { setup.stop() }
        try setup.installBundle(from: setup.server.certificate)
        var options = FetchOptions(environment: [:])
        options.caBundle = setup.bundle
        #expect(Transfer.caBundleParses(of: setup.bundle) == 0)
        Fetcher(store: Store(root: setup.dir.path), options: options).prepare()
        #expect(Transfer.caBundleParses(of: setup.bundle) == 1)
        #expect(throws: Never.self) { try setup.fetch().get() }
        #expect(Transfer.caBundleParses(of: setup.bundle) == 1)
    }

    @Test func aReplacedBundleIsReadAgainAndWhatItDroppedIsNoLongerTrusted() throws {
        let setup = try Setup()
        defer { setup.stop() }
        try setup.installBundle(from: setup.unrelated)
        let untrusted = setup.fetch()
        #expect(throws: FetchError.self) { try untrusted.get() }
        if case .failure(let error) = untrusted {
            #expect(error.description.lowercased().contains("certificate"), "\(error)")
        }

        try setup.installBundle(from: setup.server.certificate)
        #expect(throws: Never.self) { try setup.fetch().get() }

        // The server's certificate is removed again: the next connection is refused.
        try setup.installBundle(from: setup.unrelated)
        #expect(throws: FetchError.self) { try setup.fetch().get() }
        #expect(Transfer.caBundleParses(of: setup.bundle) == 3)
    }

    @Test func aBundleWithoutCertificatesIsLeftToLibcurlWhichRefusesIt() throws {
        let setup = try Setup()
        defer { setup.stop() }
        for content in ["", "not a certificate\n"] {
            try Data(content.utf8).write(to: URL(fileURLWithPath: setup.bundle))
            expectRefusalOfTheFile(setup.fetch(), setup.bundle)
        }
        // A bundle that was good and became empty: refused as well, not served from the old copy.
        try setup.installBundle(from: setup.server.certificate)
        #expect(throws: Never.self) { try setup.fetch().get() }
        try Data().write(to: URL(fileURLWithPath: setup.bundle))
        expectRefusalOfTheFile(setup.fetch(), setup.bundle)
    }

    func expectRefusalOfTheFile(_ result: Result<FetchedArtifact, FetchError>, _ bundle: String) {
        #expect(throws: FetchError.self) { try result.get() }
        if case .failure(let error) = result {
            // libcurl's own words for an unusable CA file, naming it.
            #expect(error.description.contains("error setting certificate file: \(bundle)"), "\(error)")
        }
    }
}
