import Foundation
import Testing
import BouncerTestSupport

/// Issue 15, curl and wget: every request that writes a response body is
/// guarded or refused, in front of the real tools. A URL under /private/ is
/// one the policy denies (no rule matches it, `unmatched: deny`).
@Suite(.blocking) struct GateHoleCurlWgetTests {
    var harness: ShimHarness
    var site: DownloadSite
    let secret: [UInt8]

    init() throws {
        harness = try ShimHarness("bouncer-gate-dl")
        site = try DownloadSite(in: harness.root)
        secret = try ShimHarness.randomBytes(3000)
        try FileManager.default.createDirectory(at: site.dir.appendingPathComponent("private"), withIntermediateDirectories: true)
        try Data(secret).write(to: site.dir.appendingPathComponent("private/x.bin"))
        try site.publish("tool.bin", try ShimHarness.randomBytes(2000))
        try harness.writePolicy()
    }

    var denied: String { site.server.baseURL + "/private/x.bin" }
    var privateRequests: [String] { site.server.requests.filter { $0.contains("/private/") } }

    /// The target (path and query) the real curl requests for `arguments`,
    /// read from the server's log: the reference for the shim's URL.
    func realCurlTarget(_ arguments: [String]) throws -> String {
        let curl = try #require(ShimHarness.tool("curl"))
        let before = site.server.requests.count
        let result = try BouncerProcess.runProgram(curl, ["-q", "-s", "-o", "/dev/null"] + arguments, cwd: harness.project.path)
        #expect(result.status == 0, "\(result.err)")
        let target = try #require(site.server.requests.dropFirst(before).first)
        return String(target.drop(while: { $0 != " " }).dropFirst())
    }

    @Test func curlGetWithDataIsGuarded() throws {
        defer { harness.cleanup() }
        for flags in ["-G -d x=1", "--get --data-urlencode 'q=a b'", "-G -X GET -d x=1"] {
            let result = try harness.sh("curl -s \(flags) -o out.bin '\(denied)'")
            #expect(result.status == 1, "\(flags): \(result.err)")
            #expect(result.err.contains("\(denied)?"), "the refusal names the URL with its query: \(result.err)")
            #expect(!harness.exists("out.bin"), "\(flags)")
        }
        #expect(privateRequests.isEmpty, "the denied URL was fetched: \(privateRequests)")
    }

    /// The URL Bouncer verifies is the one the real curl would request, query included.
    @Test func curlGetWithDataUsesCurlsOwnQuery() throws {
        defer { harness.cleanup() }
        try Data("a=1\r\nb=2\n".utf8).write(to: harness.file("data.txt"))
        let flags = ["-G", "-d", "x=1", "--data-urlencode", "name=a b/c&d é", "-d", "@data.txt", "--data-urlencode", "=~z"]
        let target = try realCurlTarget(flags + [site.url("tool.bin") + "?k=v"])
        #expect(target.hasPrefix("/files/tool.bin?k=v&x=1&"), "\(target)")
        let expected = site.server.baseURL + target
        let sha = try ShimHarness.sha256(try [UInt8](Data(contentsOf: site.dir.appendingPathComponent("files/tool.bin"))))
        try harness.writePolicy(extraRules: [#"{ "name": "exact", "match": { "url": "\#(expected)" }, "require": [ { "digest": { "sha256": "\#(sha)" } } ] }"#])
        let quoted = flags.map { "'\($0)'" }.joined(separator: " ")
        let result = try harness.sh("curl -s \(quoted) -o got.bin '\(site.url("tool.bin"))?k=v'")
        #expect(result.status == 0, "\(result.err)")
        #expect(try ShimHarness.sha256(try harness.bytes("got.bin")) == sha)
        let lock = String(decoding: try harness.bytes("bouncer.lock"), as: UTF8.self)
        #expect(lock.contains(expected), "expected \(expected) in \(lock)")
    }

    @Test func curlRequestGetWithABodyIsRefused() throws {
        defer { harness.cleanup() }
        for flags in ["-X GET -d x", "--request GET --data-binary @/dev/null"] {
            let result = try harness.sh("curl -s \(flags) -o out.bin '\(denied)'")
            #expect(result.status == 2, "\(flags): \(result.err)")
            #expect(result.err.contains("sends a GET with a request body"), "\(result.err)")
            #expect(!harness.exists("out.bin"))
        }
        #expect(privateRequests.isEmpty, "\(privateRequests)")
    }

    /// A POST's, PUT's or upload's response is a body too: refused in enforce
    /// mode; audit mode runs the real curl and says so.
    @Test func curlPostAndUploadAreRefusedInEnforceMode() throws {
        defer { harness.cleanup() }
        for flags in ["-d x", "-X POST", "-F f=1", "-T /dev/null", "--json '{}'"] {
            let result = try harness.sh("curl -s \(flags) -o out.bin '\(denied)'")
            #expect(result.status == 2, "\(flags): \(result.err)")
            #expect(result.err.contains("refused: option"), "\(result.err)")
            #expect(!harness.exists("out.bin"))
        }
        #expect(privateRequests.isEmpty, "\(privateRequests)")
        try harness.writePolicy(mode: "audit")
        let audit = try harness.sh("curl -s -d hello '\(site.server.baseURL)/upload'")
        #expect(audit.out == "received 5 bytes\n", "\(audit.err)")
        #expect(audit.err.contains("AUDIT") && audit.err.contains("-d"), "\(audit.err)")
    }

    @Test func curlHeadStillPassesThrough() throws {
        defer { harness.cleanup() }
        let head = try harness.sh("curl -sI '\(site.url("tool.bin"))'")
        #expect(head.status == 0, "\(head.err)")
        #expect(head.out.hasPrefix("HTTP/1.1 200"), "\(head.out)")
        #expect(site.server.requests.contains("HEAD /files/tool.bin"))
    }

    @Test func curlConfigFileIsRefused() throws {
        defer { harness.cleanup() }
        try "url = \"\(denied)\"\noutput = \"out.bin\"\n".write(to: harness.file("cfg"), atomically: true, encoding: .utf8)
        for flags in ["-K cfg", "--config cfg", "-sK cfg"] {
            let result = try harness.sh("curl \(flags)")
            #expect(result.status == 2, "\(flags): \(result.err)")
            #expect(result.err.contains("config syntax"), "\(result.err)")
        }
        #expect(!harness.exists("out.bin"))
        #expect(privateRequests.isEmpty, "\(privateRequests)")
    }

    /// A ~/.curlrc cannot add a URL to a call the shim passed to the real curl.
    @Test func curlrcCannotAddRequests() throws {
        defer { harness.cleanup() }
        try "url = \"\(denied)\"\n".write(to: harness.root.appendingPathComponent(".curlrc"), atomically: true, encoding: .utf8)
        // The real curl alone does read it (so the test can fail).
        let curl = try #require(ShimHarness.tool("curl"))
        _ = try BouncerProcess.runProgram(curl, ["-sI", site.url("tool.bin")], cwd: harness.project.path, environment: ["HOME": harness.root.path])
        #expect(privateRequests == ["HEAD /private/x.bin"], "\(site.server.requests)")
        let head = try harness.sh("curl -sI '\(site.url("tool.bin"))'")
        #expect(head.status == 0, "\(head.err)")
        let download = try harness.sh("curl -s -O '\(site.url("tool.bin"))'")
        #expect(download.status == 0, "\(download.err)")
        #expect(privateRequests.count == 1, "\(site.server.requests)")
        #expect(try harness.projectFiles() == ["tool.bin"])
    }

    @Test func wgetMethodGetIsGuarded() throws {
        defer { harness.cleanup() }
        let plain = try harness.sh("wget -q --method=GET -O out.bin '\(denied)'")
        #expect(plain.status == 1, "\(plain.err)")
        #expect(!harness.exists("out.bin"))
        let good = try harness.sh("wget -q --method=GET '\(site.url("tool.bin"))'")
        #expect(good.status == 0, "\(good.err)")
        #expect(harness.exists("tool.bin"))
        for flags in ["--method=GET --body-data=x", "--method=POST", "--post-data=x", "--post-file=/dev/null"] {
            let result = try harness.sh("wget -q \(flags) -O out.bin '\(denied)'")
            #expect(result.status == 2, "\(flags): \(result.err)")
            #expect(result.err.contains("refused: option"), "\(result.err)")
            #expect(!harness.exists("out.bin"))
        }
        #expect(privateRequests.isEmpty, "\(privateRequests)")
    }

    @Test func wgetInputFileIsGuarded() throws {
        defer { harness.cleanup() }
        try site.publish("two.bin", try ShimHarness.randomBytes(100))
        try "\(site.url("tool.bin"))\n\n  \(site.url("two.bin"))  \n".write(to: harness.file("list.txt"), atomically: true, encoding: .utf8)
        let good = try harness.sh("wget -q -P dl -i list.txt")
        #expect(good.status == 0, "\(good.err)")
        #expect(try harness.projectFiles(under: "dl") == ["tool.bin", "two.bin"])
        // --input-file=, -B for relative entries, and a denied one: refused, that one not written.
        try "files/two.bin\n\(denied)\n".write(to: harness.file("list2.txt"), atomically: true, encoding: .utf8)
        let mixed = try harness.sh("wget -q -P dl2 --input-file=list2.txt -B '\(site.server.baseURL)/'")
        #expect(mixed.status == 1, "\(mixed.err)")
        #expect(mixed.err.contains(denied), "\(mixed.err)")
        #expect(try harness.projectFiles(under: "dl2") == ["two.bin"])
        // From standard input.
        let stdin = try harness.sh("printf '%s\\n' '\(denied)' | wget -q -i -")
        #expect(stdin.status == 1, "\(stdin.err)")
        #expect(!harness.exists("x.bin"))
        #expect(privateRequests.isEmpty, "\(privateRequests)")
    }
}
