import Foundation
import Testing
import BouncerTestSupport

/// `bouncer fetch` against a real HTTP server on 127.0.0.1, through libcurl.
@Suite(.blocking) struct FetchCommandTests {
    let server: LoopbackHTTPServer
    let dir: URL
    let body: [UInt8]
    let digest: String

    init() throws {
        server = try LoopbackHTTPServer()
        dir = try BouncerProcess.temporaryDirectory("bouncer-fetch")
        body = try Self.randomBytes((3 << 20) + 17)
        digest = try Self.sha256sum(body, in: dir)
        server.register("artifact.bin", body)
    }

    static func randomBytes(_ count: Int, _ caller: String = #function, line: Int = #line, column: Int = #column) throws -> [UInt8] {
        TestRandom.bytes(count, "\(caller):\(line):\(column)")
    }

    /// The digest as the real sha256sum computes it, so the test does not trust Bouncer's own hashing.
    static func sha256sum(_ bytes: [UInt8], in dir: URL) throws -> String {
        let result = try BouncerProcess.runProgram("/usr/bin/sha256sum", ["-"], stdin: Data(bytes))
        return String(result.out.prefix(64))
    }

    func fetch(_ arguments: [String]) throws -> ProcessResult {
        try BouncerProcess.run(["fetch", "--quiet"] + arguments, cwd: dir.path,
                               environment: ["BOUNCER_CACHE": dir.appendingPathComponent("cache").path])
    }

    var destination: URL { dir.appendingPathComponent("out.bin") }

    /// Files other than the cache: nothing partial may be left beside the destination.
    func visibleFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0 != "cache" }.sorted()
    }

    func storeTemporaryFiles() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("cache/tmp").path)) ?? []
    }

    @Test func goodFetchWritesTheVerifiedFile() throws {
        defer { cleanup() }
        let result = try fetch([server.url("/files/artifact.bin"), "--sha256", digest, "-o", destination.path])
        #expect(result.status == 0, "\(result.err)")
        #expect(try [UInt8](Data(contentsOf: destination)) == body)
        #expect(try visibleFiles() == ["out.bin"])
        #expect(storeTemporaryFiles().isEmpty)
    }

    @Test func defaultNameIsTheLastURLSegment() throws {
        defer { cleanup() }
        let result = try fetch([server.url("/files/artifact.bin"), "--sha256", "sha256:" + digest])
        #expect(result.status == 0, "\(result.err)")
        #expect(try [UInt8](Data(contentsOf: dir.appendingPathComponent("artifact.bin"))) == body)
    }

    @Test func oneLetterRelativeDestination() throws {
        defer { cleanup() }
        let result = try fetch([server.url("/files/artifact.bin"), "--sha256", digest, "-o", "o"])
        #expect(result.status == 0, "\(result.err)")
        #expect(try [UInt8](Data(contentsOf: dir.appendingPathComponent("o"))) == body)
    }

    @Test func standardOutputGetsTheVerifiedBody() throws {
        defer { cleanup() }
        let result = try fetch([server.url("/files/artifact.bin"), "--sha256", digest, "-o", "-"])
        #expect(result.status == 0, "\(result.err)")
        #expect([UInt8](result.stdout) == body)
    }

    @Test func jsonReportNamesTheEvidence() throws {
        defer { cleanup() }
        let result = try fetch([server.url("/files/artifact.bin"), "--sha256", digest, "-o", destination.path, "--json"])
        #expect(result.status == 0, "\(result.err)")
        let object = try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any]
        #expect(object?["verdict"] as? String == "pass")
        let artifact = object?["artifact"] as? [String: Any]
        #expect(artifact?["sha256"] as? String == digest)
        #expect(artifact?["size"] as? Int == body.count)
        let evidence = object?["evidence"] as? [[String: Any]]
        #expect(evidence?.first?["kind"] as? String == "digest")
    }

    @Test func mismatchWritesNothingAndKeepsTheExistingFile() throws {
        defer { cleanup() }
        let previous = Data("the file that was here before\n".utf8)
        try previous.write(to: destination)
        let wrong = String(repeating: "0", count: 64)
        let result = try fetch([server.url("/files/artifact.bin"), "--sha256", wrong, "-o", destination.path])
        #expect(result.status == 1)
        #expect(result.err.contains("expected \(wrong)"))
        #expect(result.err.contains(digest), "the message should show the digest that arrived")
        #expect(try Data(contentsOf: destination) == previous)
        #expect(try visibleFiles() == ["out.bin"])
        #expect(storeTemporaryFiles().isEmpty)
    }

    @Test func mismatchWithNoExistingFileLeavesNone() throws {
        defer { cleanup() }
        let result = try fetch([server.url("/files/artifact.bin"), "--sha256", String(repeating: "a", count: 64), "-o", destination.path])
        #expect(result.status == 1)
        #expect(try visibleFiles().isEmpty)
    }

    @Test func truncatedBodyIsATransportErrorAndRetried() throws {
        defer { cleanup() }
        let result = try fetch([server.url("/truncate/artifact.bin"), "--sha256", digest, "-o", destination.path, "--retries", "1"])
        #expect(result.status == 3)
        #expect(result.err.contains("connection closed after"), "\(result.err)")
        #expect(server.requests(to: "/truncate/artifact.bin") == 2, "one retry from byte 0")
        #expect(try visibleFiles().isEmpty)
        #expect(storeTemporaryFiles().isEmpty)
    }

    @Test func lyingContentLengthIsCaughtByTheDigest() throws {
        defer { cleanup() }
        // The server announces one byte less than it sends: the body is cut, so its digest differs.
        let result = try fetch([server.url("/short-length/artifact.bin"), "--sha256", digest, "-o", destination.path])
        #expect(result.status == 1, "\(result.err)")
        #expect(result.err.contains("REFUSED"))
        #expect(try visibleFiles().isEmpty)
    }

    @Test func bodyOverTheMaximumSizeIsAbortedEarly() throws {
        defer { cleanup() }
        // Content-Length is known: refused before the body is read.
        let known = try fetch([server.url("/files/artifact.bin"), "--sha256", digest, "-o", destination.path, "--max-size", "1M"])
        #expect(known.status == 1)
        #expect(known.err.contains("larger than the 1048576-byte limit"), "\(known.err)")
        // No Content-Length and a body that never ends: only an early abort lets this return at all.
        let endless = try fetch([server.url("/endless"), "--sha256", digest, "-o", destination.path, "--max-size", "2M"])
        #expect(endless.status == 1)
        #expect(endless.err.contains("larger than the 2097152-byte limit"), "\(endless.err)")
        #expect(try visibleFiles().isEmpty)
        #expect(storeTemporaryFiles().isEmpty)
    }

    @Test func redirectsAreFollowedUpToTheLimit() throws {
        defer { cleanup() }
        let followed = try fetch([server.url("/redirect/3/artifact.bin"), "--sha256", digest, "-o", destination.path])
        #expect(followed.status == 0, "\(followed.err)")
        #expect(try [UInt8](Data(contentsOf: destination)) == body)
        try FileManager.default.removeItem(at: destination)
        let tooMany = try fetch([server.url("/redirect/3/artifact.bin"), "--sha256", digest, "-o", destination.path, "--max-redirects", "2"])
        #expect(tooMany.status == 3)
        #expect(tooMany.err.contains("more than 2 redirects"), "\(tooMany.err)")
        #expect(try visibleFiles().isEmpty)
    }

    @Test func redirectLoopIsAnError() throws {
        defer { cleanup() }
        let result = try fetch([server.url("/loop"), "--sha256", digest, "-o", destination.path])
        #expect(result.status == 3)
        #expect(result.err.contains("redirect loop"), "\(result.err)")
        #expect(try visibleFiles().isEmpty)
    }

    @Test func notFoundNamesTheURLAndStatus() throws {
        defer { cleanup() }
        let url = server.url("/files/missing.bin")
        let result = try fetch([url, "--sha256", digest, "-o", destination.path])
        #expect(result.status == 3)
        #expect(result.err.contains(url), "\(result.err)")
        #expect(result.err.contains("HTTP 404"), "\(result.err)")
        #expect(try visibleFiles().isEmpty)
    }

    @Test func transientServerErrorIsRetried() throws {
        defer { cleanup() }
        let result = try fetch([server.url("/flaky/artifact.bin"), "--sha256", digest, "-o", destination.path])
        #expect(result.status == 0, "\(result.err)")
        #expect(server.requests(to: "/flaky/artifact.bin") == 2)
        #expect(try [UInt8](Data(contentsOf: destination)) == body)
    }

    @Test func stalledTransferIsAbandoned() throws {
        defer { cleanup() }
        let result = try fetch([server.url("/stall/artifact.bin"), "--sha256", digest, "-o", destination.path,
                                "--stall-timeout", "1", "--retries", "0"])
        #expect(result.status == 3)
        #expect(result.err.contains("no data received for 1 s"), "\(result.err)")
        #expect(try visibleFiles().isEmpty)
    }

    @Test func severalURLsInParallelEachVerified() throws {
        defer { cleanup() }
        var arguments: [String] = []
        var expected: [String: [UInt8]] = [:]
        for index in 0..<4 {
            let bytes = try Self.randomBytes(100_000 * (index + 1))
            let name = "part\(index).bin"
            server.register(name, bytes)
            expected[name] = bytes
            arguments += [server.url("/files/\(name)"), "--sha256", try Self.sha256sum(bytes, in: dir)]
        }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("out"), withIntermediateDirectories: true)
        let result = try fetch(arguments + ["--output-dir", dir.appendingPathComponent("out").path])
        #expect(result.status == 0, "\(result.err)")
        for (name, bytes) in expected {
            #expect(try [UInt8](Data(contentsOf: dir.appendingPathComponent("out/\(name)"))) == bytes)
        }
    }

    @Test func oneBadURLAmongSeveralRefusesOnlyThatOne() throws {
        defer { cleanup() }
        server.register("good.bin", Array("good\n".utf8))
        let goodDigest = try Self.sha256sum(Array("good\n".utf8), in: dir)
        let result = try fetch([server.url("/files/good.bin"), server.url("/files/artifact.bin"),
                                "--sha256", goodDigest, "--sha256", String(repeating: "b", count: 64)])
        #expect(result.status == 1)
        #expect(try visibleFiles() == ["good.bin"])
    }

    @Test func missingPinIsAUsageError() throws {
        defer { cleanup() }
        let result = try fetch([server.url("/files/artifact.bin"), "-o", destination.path])
        #expect(result.status == 2)
        #expect(result.err.contains("--sha256"))
        #expect(server.requests(to: "/files/artifact.bin") == 0, "nothing is downloaded without something to verify against")
    }

    @Test func otherSchemesAreRefused() throws {
        defer { cleanup() }
        for url in ["ftp://127.0.0.1/artifact.bin", "gopher://127.0.0.1/artifact.bin", "file://otherhost/etc/passwd", "artifact.bin"] {
            let result = try fetch([url, "--sha256", digest, "-o", destination.path])
            #expect(result.status == 2, "\(url): \(result.err)")
            #expect(result.err.contains("only http, https and file:/// URLs are fetched"), "\(url): \(result.err)")
            #expect(try visibleFiles().isEmpty)
        }
    }

    /// A local file:/// URL (a pip --find-links wheelhouse) is read like a
    /// download: hashed into the store, verified, then placed; a wrong digest
    /// is refused with nothing written, a missing file is an I/O error.
    @Test func localFileURLsAreVerifiedLikeDownloads() throws {
        defer { cleanup() }
        let local = dir.appendingPathComponent("wheelhouse/artifact 1.bin")
        try FileManager.default.createDirectory(at: local.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(body).write(to: local)
        let url = "file://" + local.path.replacingOccurrences(of: " ", with: "%20")
        let good = try fetch([url, "--sha256", digest, "-o", destination.path])
        #expect(good.status == 0, "\(good.err)")
        #expect(try [UInt8](Data(contentsOf: destination)) == body)

        let other = dir.appendingPathComponent("other.bin")
        let wrong = try fetch([url, "--sha256", String(repeating: "0", count: 64), "-o", other.path])
        #expect(wrong.status == 1, "\(wrong.err)")
        #expect(wrong.err.contains("sha256"), "\(wrong.err)")
        #expect(!FileManager.default.fileExists(atPath: other.path))

        let missing = try fetch(["file://" + dir.appendingPathComponent("nowhere.bin").path, "--sha256", digest, "-o", other.path])
        #expect(missing.status == 3, "\(missing.err)")
        #expect(missing.err.contains("cannot read file://" + dir.appendingPathComponent("nowhere.bin").path), "\(missing.err)")
        #expect(!FileManager.default.fileExists(atPath: other.path))
    }

    @Test func missingDestinationDirectoryIsAnIOError() throws {
        defer { cleanup() }
        let result = try fetch([server.url("/files/artifact.bin"), "--sha256", digest, "-o", dir.appendingPathComponent("no/such/dir/f").path])
        #expect(result.status == 3)
        #expect(result.err.contains("no such directory"), "\(result.err)")
        #expect(server.requests(to: "/files/artifact.bin") == 0)
    }

    @Test func credentialsInURLsAreNotPrinted() throws {
        defer { cleanup() }
        let url = "http://user:s3cret@127.0.0.1:\(server.port)/files/missing.bin?token=abc123"
        let result = try fetch([url, "--sha256", digest, "-o", destination.path])
        #expect(result.status == 3)
        #expect(!result.err.contains("s3cret"), "\(result.err)")
        #expect(!result.err.contains("abc123"), "\(result.err)")
        #expect(result.err.contains("missing.bin"))
    }

    func cleanup() {
        server.stop()
        try? FileManager.default.removeItem(at: dir)
    }
}

/// HTTPS through the real OpenSSL stack in libcurl, against a certificate made by `openssl req`.
@Suite(.blocking) struct FetchTLSTests {
    @Test func certificatesAreVerifiedAndHTTPSNeverRedirectsToHTTP() throws {
        let tls = try LoopbackTLSServer()
        let plain = try LoopbackHTTPServer()
        let dir = try BouncerProcess.temporaryDirectory("bouncer-fetch-tls")
        defer { tls.stop(); plain.stop(); try? FileManager.default.removeItem(at: dir) }
        let body = try FetchCommandTests.randomBytes(200_000)
        let digest = try FetchCommandTests.sha256sum(body, in: dir)
        try tls.register("secure.bin", body)
        plain.register("secure.bin", body)
        let destination = dir.appendingPathComponent("secure.bin").path
        func fetch(_ url: String, trust: Bool) throws -> ProcessResult {
            var environment = ["BOUNCER_CACHE": dir.appendingPathComponent("cache").path,
                               "BOUNCER_CA_BUNDLE": "", "CURL_CA_BUNDLE": "", "SSL_CERT_FILE": ""]
            if trust { environment["BOUNCER_CA_BUNDLE"] = tls.certificate }
            return try BouncerProcess.run(["fetch", "--quiet", url, "--sha256", digest, "-o", destination],
                                          cwd: dir.path, environment: environment)
        }

        let untrusted = try fetch(tls.url("/files/secure.bin"), trust: false)
        #expect(untrusted.status == 3)
        #expect(untrusted.err.lowercased().contains("certificate"), "\(untrusted.err)")
        #expect(!FileManager.default.fileExists(atPath: destination))

        let trusted = try fetch(tls.url("/files/secure.bin"), trust: true)
        #expect(trusted.status == 0, "\(trusted.err)")
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: destination))) == body)
        try FileManager.default.removeItem(atPath: destination)

        let downgrade = try fetch(tls.url("/to?" + plain.url("/files/secure.bin")), trust: true)
        #expect(downgrade.status == 1)
        #expect(downgrade.err.contains("redirect from https to a non-https URL refused"), "\(downgrade.err)")
        #expect(plain.requests(to: "/files/secure.bin") == 0, "the plain-HTTP URL must never be requested")
        #expect(!FileManager.default.fileExists(atPath: destination))
    }
}
