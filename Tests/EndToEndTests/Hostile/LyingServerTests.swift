import Foundation
import Testing
import BouncerTestSupport

/// A server that lies (issue 9, item 3), through `bouncer fetch -o` under a
/// policy that pins the genuine digest. Each lie must end with the documented
/// exit code, a message naming the problem, no file at the destination, no
/// partial file in the store, no lock entry, and no hang (every run is
/// guarded by `timeout`; stalls use a short `--stall-timeout`).
/// Truncation, a short Content-Length, a stall, a redirect loop, a redirect
/// to a host the rule does not allow and HTTPS→HTTP without a policy are in
/// FetchCommandTests and PolicyFetchTests; here they run again under a policy.
@Suite(.blocking) struct LyingServerTests {
    let server: MisbehavingServer
    let project: HostileProject
    let body: [UInt8]
    let sha: String

    init() throws {
        server = try MisbehavingServer()
        project = try HostileProject("lying")
        body = try HostileProject.random(200_000)
        sha = try HostileProject.sha256(body)
        try project.pinnedPolicy(sha)
    }

    func fetch(_ path: String, _ extra: [String] = []) throws -> ProcessResult {
        try project.bouncer(["fetch", "--quiet", server.url(path), "-o", project.path("out.bin"), "--retries", "1",
                             "--stall-timeout", "2", "--connect-timeout", "5"] + extra)
    }

    func expectNothingLeft(_ result: ProcessResult, _ label: String) {
        #expect(!project.exists("out.bin"), "\(label): a file was written")
        #expect(project.leftovers().isEmpty, "\(label): partial files \(project.leftovers())")
        #expect(!project.lockText.contains(sha), "\(label): locked")
    }

    @Test func contentLengthLongerThanTheBodyIsATransportError() throws {
        server.route("/long", [.init(body: body, contentLength: body.count + 5000)])
        let result = try fetch("/long")
        #expect(result.status == 3, "\(result.err)")
        #expect(result.err.lowercased().contains("transfer") || result.err.contains("bytes"), "\(result.err)")
        expectNothingLeft(result, "long Content-Length")
        #expect(server.requests(to: "/long") == 2, "truncated bodies are retried from byte 0")
    }

    @Test func contentLengthShorterThanTheBodyGivesTheDeclaredBytesWhichFailTheDigest() throws {
        server.route("/short", [.init(body: body, contentLength: body.count - 1000)])
        let result = try fetch("/short")
        #expect(result.status == 1, "\(result.err)")
        #expect(result.err.contains("sha256"), "\(result.err)")
        expectNothingLeft(result, "short Content-Length")
    }

    @Test func stallMidBodyIsAbandoned() throws {
        server.route("/stall", [.init(body: Array(body.prefix(50_000)), contentLength: body.count, stall: true)])
        let result = try fetch("/stall", ["--retries", "0"])
        #expect(result.status == 3, "\(result.err)")
        #expect(result.err.contains("stall") || result.err.contains("no data"), "\(result.err)")
        expectNothingLeft(result, "stall")
        server.stop()
    }

    @Test func redirectLoopEndsAtTheLimit() throws {
        server.route("/loop", [.redirect("/loop")])
        let result = try fetch("/loop", ["--max-redirects", "5"])
        #expect(result.status == 3, "\(result.err)")
        #expect(result.err.contains("redirect"), "\(result.err)")
        expectNothingLeft(result, "redirect loop")
        #expect(server.requests(to: "/loop") <= 12)
    }

    @Test func redirectToAHostTheRuleDoesNotAllowIsRefused() throws {
        // The rule matches 127.0.0.1 and allows no other redirect host; `localhost` serves the genuine bytes.
        try project.pinnedPolicy(sha, extra: #", "redirectHosts": []"#)
        server.route("/genuine", [.init(body: body)])
        server.route("/away", [.redirect("http://localhost:\(server.port)/genuine")])
        let result = try fetch("/away")
        #expect(result.status == 1, "\(result.err)")
        #expect(result.err.contains("redirected to localhost"), "\(result.err)")
        expectNothingLeft(result, "redirect host")
        // The same redirect is fine once the rule names the host.
        try project.pinnedPolicy(sha, extra: #", "redirectHosts": ["localhost"]"#)
        let allowed = try fetch("/away")
        #expect(allowed.status == 0, "\(allowed.err)")
        #expect(project.bytes("out.bin") == body)
    }

    /// `redirectHosts: []` allows no other server, and another port of the same
    /// host is another server (red team: a redirect to :OTHER passed as the URL's own host).
    @Test func redirectToAnotherPortOfTheSameHostIsAnotherServer() throws {
        let other = try MisbehavingServer()
        defer { other.stop() }
        other.route("/genuine", [.init(body: body)])
        try project.pinnedPolicy(sha, extra: #", "redirectHosts": []"#)
        server.route("/elsewhere", [.redirect(other.url("/genuine"))])
        let result = try fetch("/elsewhere")
        #expect(result.status == 1, "\(result.err)")
        #expect(result.err.contains("redirected to 127.0.0.1 port \(other.port)"), "\(result.err)")
        expectNothingLeft(result, "redirect port")
        // Listing the host allows its other ports.
        try project.pinnedPolicy(sha, extra: #", "redirectHosts": ["127.0.0.1"]"#)
        #expect(try fetch("/elsewhere").status == 0)
    }

    @Test func httpsToHTTPRedirectIsRefusedUnderAPolicy() throws {
        let tls = try LoopbackTLSServer()
        defer { tls.stop() }
        server.route("/plain", [.init(body: body)])
        try project.writePolicy(#"""
        {"version": 1, "unmatched": "deny", "rules": [{"match": {"host": "127.0.0.1"}, "require": [{"digest": {"sha256": "\#(sha)"}}], "redirectHosts": ["127.0.0.1"]}]}
        """#)
        let result = try project.bouncer(["fetch", "--quiet", tls.url("/to?" + server.url("/plain")), "-o", project.path("out.bin"), "--retries", "0"],
                                         environment: ["BOUNCER_CA_BUNDLE": tls.certificate])
        #expect(result.status == 1, "\(result.err)")
        #expect(result.err.contains("redirect from https to a non-https URL refused"), "\(result.err)")
        #expect(server.requests(to: "/plain") == 0, "the plain-HTTP target was contacted")
        expectNothingLeft(result, "https to http")
    }

    @Test func htmlErrorPageServedAs200IsRefused() throws {
        let page = Array("<!DOCTYPE html><html><body><h1>Service temporarily unavailable</h1></body></html>\n".utf8)
        server.route("/artifact.tar.gz", [.init(headers: ["Content-Type: text/html"], body: page)])
        let result = try fetch("/artifact.tar.gz")
        #expect(result.status == 1, "\(result.err)")
        #expect(result.err.contains("sha256"), "\(result.err)")
        expectNothingLeft(result, "html 200")
    }

    @Test func gzipContentEncodingIsNeverExpanded() throws {
        // 64 MiB of zeros, gzipped to about 64 KiB, sent as Content-Encoding: gzip.
        let zeros = try BouncerProcess.runProgram("/bin/sh", ["-c", "head -c 67108864 /dev/zero | gzip -9"])
        let bomb = [UInt8](zeros.stdout)
        #expect(bomb.count < 200_000)
        let expanded = try BouncerProcess.runProgram("/bin/sh", ["-c", "head -c 67108864 /dev/zero | sha256sum"])
        server.route("/bomb.bin", [.init(headers: ["Content-Encoding: gzip"], body: bomb)])
        // Pinned to the expanded bytes: refused (the body is the bytes on the wire), with a 1 MiB cap.
        try project.pinnedPolicy(String(expanded.out.prefix(64)))
        let result = try fetch("/bomb.bin", ["--max-size", "1M"])
        #expect(result.status == 1, "\(result.err)")
        expectNothingLeft(result, "gzip bomb")
        // Pinned to the wire bytes: accepted, and the file is the compressed body, not 64 MiB.
        try project.pinnedPolicy(try HostileProject.sha256(bomb))
        let wire = try fetch("/bomb.bin", ["--max-size", "1M"])
        #expect(wire.status == 0, "\(wire.err)")
        #expect(project.bytes("out.bin")?.count == bomb.count)
    }

    /// The same lies through the curl and wget shims: a non-zero exit, no file, and the real tool never runs.
    @Test func shimsEndEveryLieWithNothingWritten() throws {
        let page = Array("<html><body>error</body></html>".utf8)
        server.route("/long", [.init(body: body, contentLength: body.count + 5000)])
        server.route("/short", [.init(body: body, contentLength: body.count - 1000)])
        server.route("/loop", [.redirect("/loop")])
        server.route("/html", [.init(headers: ["Content-Type: text/html"], body: page)])
        for path in ["/long", "/short", "/loop", "/html"] {
            for command in ["curl -fsSL -o got.bin", "wget -q -O got.bin"] {
                let result = try project.sh("\(command) '\(server.url(path))'")
                #expect(result.status != 0, "\(command) \(path): \(result.err)")
                #expect(!project.exists("got.bin"), "\(command) \(path)")
            }
        }
        #expect(project.leftovers().isEmpty, "\(project.leftovers())")
        #expect(project.realToolRuns.isEmpty, "the real tool ran: \(project.realToolRuns)")
        server.stop()
    }
}
