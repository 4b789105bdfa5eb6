import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import BouncerTestSupport

/// `bouncer serve --verify-ahead`: the file a client will fetch next is
/// fetched and verified while the client is still reading the page, but it
/// is pinned in the lock and sent only when the client asks for it; a file
/// that fails is refused when asked, as without verifying ahead. A proxy
/// given `--pypi-expect` (the pip shim's) reads those projects, and what
/// their wheels require, before pip asks.
@Suite(.blocking, .serialized) struct ServeVerifyAheadTests {
    let root: URL
    let index: URL
    let upstream: DirectoryHTTPServer

    init() throws {
        root = try BouncerProcess.temporaryDirectory("bouncer-serve-ahead")
        index = root.appendingPathComponent("index")
        try FileManager.default.createDirectory(at: index.appendingPathComponent("packages"), withIntermediateDirectories: true)
        upstream = try DirectoryHTTPServer(root: index.path)
    }

    var packages: URL { index.appendingPathComponent("packages") }

    /// A project page linking `files` with their digests (or `digest` given for all).
    func page(_ name: String, _ files: [String], digest: String? = nil) throws {
        let links = try files.map { file in
            (file: file, sha256: Optional(try digest ?? ServeFixtures.sha256(packages.appendingPathComponent(file))), attributes: "")
        }
        try ServeFixtures.writePage(name, links, index: index)
    }

    func requests(of path: String) -> Int { upstream.requests.filter { $0 == "GET " + path }.count }

    /// Waits (up to 20 s) until upstream has been asked for `path`.
    func waitForRequest(_ path: String) -> Bool {
        for _ in 0..<400 {
            if requests(of: path) > 0 { return true }
            usleep(50_000)
        }
        return false
    }

    /// `bouncer serve` with `flags` (and `serve`'s policy) stops at once: exit 2, saying what was wrong.
    func expectRefused(_ flags: [String], saying said: String, policyOf serve: ServeProcess) throws {
        let bad = try BouncerProcess.run(["serve", "--pypi-upstream", upstream.baseURL + "/simple/",
                                          "--policy", serve.project.appendingPathComponent("policy.json").path] + flags, cwd: root.path)
        #expect(bad.status == 2, "\(bad.err)")
        #expect(bad.err.contains(said), "\(bad.err)")
    }

    func lockKeys(_ serve: ServeProcess) throws -> [String] {
        guard FileManager.default.fileExists(atPath: serve.lockfile.path) else { return [] }
        return try ServeFixtures.lockEntries(serve.lockfile).keys.sorted()
    }

    @Test func theNextFileIsVerifiedAheadButPinnedAndSentOnlyWhenAsked() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let wheel = try ServeFixtures.wheel("gamma", "1.0", marker: "genuine gamma", into: packages)
        let older = try ServeFixtures.wheel("gamma", "0.9", marker: "older gamma", into: packages)
        try page("gamma", [older, wheel])
        let serve = try ServeProcess(root: root, arguments: ["--pypi-upstream", upstream.baseURL + "/simple/", "--no-npm"])
        defer { _ = try? serve.stop() }

        let shown = try CurlGet.run(serve.base + "/pypi/simple/gamma/")
        #expect(shown.status == 200)
        // The newest release's only wheel is fetched without being asked for; the older one is not.
        #expect(waitForRequest("/packages/\(wheel)"), "upstream saw: \(upstream.requests)")
        #expect(requests(of: "/packages/\(older)") == 0)
        #expect(try lockKeys(serve).isEmpty, "nothing is pinned before the client asks")

        let got = try CurlGet.run(serve.base + "/pypi/files/gamma/\(wheel)")
        #expect(got.status == 200)
        let expected = try Data(contentsOf: packages.appendingPathComponent(wheel))
        #expect(got.body == expected)
        #expect(try lockKeys(serve) == ["pypi:gamma@1.0"])
        // The request was answered from the verification made ahead: one download, not two.
        #expect(requests(of: "/packages/\(wheel)") == 1, "upstream saw: \(upstream.requests)")
    }

    /// Each thread of `pid`: its name and nice value (`/proc/PID/task/TID/comm`, and `stat`'s 19th field).
    func threads(_ pid: pid_t) throws -> [Int: (name: String, nice: Int)] {
        var found: [Int: (name: String, nice: Int)] = [:]
        for task in try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") {
            guard let tid = Int(task),
                  let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/stat", encoding: .utf8),
                  let name = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/comm", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            // After the command name: the state is field 3, so nice (field 19) is the 17th.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 16, let nice = Int(fields[16]) { found[tid] = (name.trimmingCharacters(in: .whitespacesAndNewlines), nice) }
        }
        return found
    }

    /// Verifying ahead is a guess at what a client will ask for, so it yields
    /// to the clients: the threads doing it run at nice 10, and no other
    /// thread of the proxy does (a request is decided, pinned and sent at the
    /// proxy's own priorities).
    @Test func verificationsAheadYieldToRequests() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let wheel = try ServeFixtures.wheel("gamma", "1.0", marker: "genuine gamma", into: packages)
        try page("gamma", [wheel])
        let other = try ServeFixtures.wheel("delta", "1.0", marker: "delta", into: packages)
        try page("delta", [other])
        let serve = try ServeProcess(root: root, arguments: ["--pypi-upstream", upstream.baseURL + "/simple/", "--no-npm"])
        defer { _ = try? serve.stop() }
        let pid = serve.process.processIdentifier
        let base = try #require(try threads(pid)[Int(pid)]?.nice, "no /proc entry for the proxy's main thread")
        try #require(base < 10, "the tests run at nice \(base): nothing can be lowered to 10")

        #expect(try CurlGet.run(serve.base + "/pypi/simple/gamma/").status == 200)
        #expect(waitForRequest("/packages/\(wheel)"), "upstream saw: \(upstream.requests)")
        // Asked for, and delta's wheel only then: verified for the request, not ahead.
        #expect(try CurlGet.run(serve.base + "/pypi/files/gamma/\(wheel)").status == 200)
        #expect(try CurlGet.run(serve.base + "/pypi/files/delta/\(other)").status == 200)
        #expect(requests(of: "/packages/\(wheel)") == 1, "upstream saw: \(upstream.requests)")
        let all = try threads(pid)
        let shown = all.values.map { "\($0.name):\($0.nice)" }.sorted()
        // The verifying-ahead pool's workers (NIO names them TP-#N; a thread one of them starts carries its
        // name): one or two (--verify-ahead 2). libdispatch sets its own workers' priorities by QoS, never 10.
        let lowered = Set(all.values.filter { $0.nice == 10 }.map(\.name))
        #expect((1...2).contains(lowered.count) && lowered.allSatisfy { $0.hasPrefix("TP-#") }, "threads: \(shown)")
        // The event loops, which read requests and send answers, and the main thread keep the proxy's priority.
        let loops = all.values.filter { $0.name.hasPrefix("NIO-") }
        #expect(!loops.isEmpty && loops.allSatisfy { $0.nice == base }, "threads: \(shown)")
        #expect(all[Int(pid)]?.nice == base, "threads: \(shown)")
    }

    /// Platform wheels: the one pip's User-Agent (CPython 3.11, x86_64 Linux, glibc 2.36) ranks first.
    @Test func theClientsPlatformWheelIsVerifiedAhead() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let built = try ServeFixtures.wheel("gamma", "1.0", marker: "native gamma", into: packages)
        let names = ["gamma-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", "gamma-1.0-cp311-cp311-musllinux_1_1_x86_64.whl",
                     "gamma-1.0-cp310-cp310-manylinux_2_17_x86_64.whl", "gamma-1.0-py3-none-any.whl"]
        for name in names where name != built {
            try FileManager.default.copyItem(at: packages.appendingPathComponent(built), to: packages.appendingPathComponent(name))
        }
        try page("gamma", names)
        let serve = try ServeProcess(root: root, arguments: ["--pypi-upstream", upstream.baseURL + "/simple/", "--no-npm"])
        defer { _ = try? serve.stop() }
        let agent = #"pip/23.2.1 {"cpu":"x86_64","distro":{"libc":{"lib":"glibc","version":"2.36"}},"implementation":{"name":"CPython","version":"3.11.7"},"python":"3.11.7","system":{"name":"Linux","release":"6.1.0"}}"#
        #expect(try CurlGet.run(serve.base + "/pypi/simple/gamma/", userAgent: agent).status == 200)
        #expect(waitForRequest("/packages/\(names[0])"), "upstream saw: \(upstream.requests)")
        #expect(names.dropFirst().allSatisfy { requests(of: "/packages/\($0)") == 0 }, "upstream saw: \(upstream.requests)")
        #expect(try lockKeys(serve).isEmpty)
    }

    @Test func verifyAheadZeroFetchesOnlyWhatIsAsked() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let wheel = try ServeFixtures.wheel("gamma", "1.0", marker: "genuine gamma", into: packages)
        try page("gamma", [wheel])
        let other = try ServeFixtures.wheel("delta", "1.0", marker: "delta", into: packages)
        try page("delta", [other])
        let serve = try ServeProcess(root: root, arguments: ["--pypi-upstream", upstream.baseURL + "/simple/", "--no-npm", "--verify-ahead", "0"])
        defer { _ = try? serve.stop() }

        #expect(try CurlGet.run(serve.base + "/pypi/simple/gamma/").status == 200)
        #expect(try CurlGet.run(serve.base + "/pypi/simple/delta/").status == 200)
        let got = try CurlGet.run(serve.base + "/pypi/files/delta/\(other)")
        #expect(got.status == 200)
        #expect(requests(of: "/packages/\(wheel)") == 0, "upstream saw: \(upstream.requests)")
        #expect(requests(of: "/packages/\(other)") == 1)
        // Nothing verified ahead, so nothing runs at a lower priority.
        let all = try threads(serve.process.processIdentifier)
        #expect(!all.values.contains { $0.nice == 10 }, "threads: \(all.values.map { "\($0.name):\($0.nice)" }.sorted())")

        try expectRefused(["--verify-ahead", "99"], saying: "--verify-ahead takes 0 to 64", policyOf: serve)
    }

    /// The page states a digest the bytes do not have: the verification made
    /// ahead fails, and the request for the file is refused (403), unpinned.
    @Test func aFileThatFailsAheadIsRefusedWhenAsked() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let wheel = try ServeFixtures.wheel("gamma", "1.0", marker: "tampered gamma", into: packages)
        try page("gamma", [wheel], digest: String(repeating: "ab", count: 32))
        let serve = try ServeProcess(root: root, arguments: ["--pypi-upstream", upstream.baseURL + "/simple/", "--no-npm"])
        defer { _ = try? serve.stop() }

        #expect(try CurlGet.run(serve.base + "/pypi/simple/gamma/").status == 200)
        #expect(waitForRequest("/packages/\(wheel)"))
        let got = try CurlGet.run(serve.base + "/pypi/files/gamma/\(wheel)")
        #expect(got.status == 403, "\(got.text)")
        #expect(got.text.contains("sha256"), "\(got.text)")
        #expect(!got.body.starts(with: Array("PK".utf8)))
        #expect(try lockKeys(serve).isEmpty)
    }

    /// `--pypi-expect alpha==1.0`: alpha's page and wheel are read at start;
    /// the wheel's METADATA requires beta (and gamma for an extra only), so
    /// beta's page and wheel follow; gamma is never asked for. Nothing is
    /// pinned until pip installs, and then each wheel was downloaded once.
    @Test func expectedProjectsAndWhatTheyRequireAreReadAhead() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let alpha = try ServeFixtures.wheel("alpha", "1.0", marker: "genuine alpha", requires: ["beta>=1", "gamma; extra == \"more\""], into: packages)
        let alphaNewer = try ServeFixtures.wheel("alpha", "2.0", marker: "newer alpha", into: packages)
        let beta = try ServeFixtures.wheel("beta", "2.0", marker: "genuine beta", into: packages)
        let gamma = try ServeFixtures.wheel("gamma", "1.0", marker: "gamma", into: packages)
        try page("alpha", [alpha, alphaNewer])
        try page("beta", [beta])
        try page("gamma", [gamma])
        let serve = try ServeProcess(root: root, arguments: ["--pypi-upstream", upstream.baseURL + "/simple/", "--no-npm",
                                                             "--pypi-expect", "alpha==1.0"])
        defer { _ = try? serve.stop() }

        // The pinned version, not the newest, is the one read ahead.
        #expect(waitForRequest("/packages/\(alpha)"), "upstream saw: \(upstream.requests)")
        #expect(waitForRequest("/packages/\(beta)"), "upstream saw: \(upstream.requests)")
        #expect(requests(of: "/packages/\(alphaNewer)") == 0)
        #expect(requests(of: "/simple/gamma/") == 0)
        #expect(try lockKeys(serve).isEmpty)

        let python = try ServeFixtures.venv(root.appendingPathComponent("venv"))
        let installed = try ServeFixtures.pipInstall(python, ["alpha==1.0"], index: serve.base + "/pypi/simple/", cwd: root)
        #expect(installed.status == 0, "\(installed.out)\n\(installed.err)")
        #expect(try lockKeys(serve) == ["pypi:alpha@1.0", "pypi:beta@2.0"])
        #expect(requests(of: "/packages/\(alpha)") == 1, "upstream saw: \(upstream.requests)")
        #expect(requests(of: "/packages/\(beta)") == 1, "upstream saw: \(upstream.requests)")
        #expect(requests(of: "/packages/\(gamma)") == 0)

        try expectRefused(["--pypi-expect", "not a name"], saying: "--pypi-expect not a name", policyOf: serve)
    }

    /// A shim's proxy reads what it expects a few at a time: two pages and
    /// two files verified ahead, never more. A small index (Python's
    /// http.server answers one request at a time from an accept queue of
    /// five) drops the connections beyond its queue, and each dropped one
    /// cost ~0.4 s of TCP retransmission; reading four pages at a time as
    /// well overflowed it in about a quarter of the pip shim's installs.
    @Test func expectedProjectsAreReadAFewAtATime() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let names = (0..<10).map { "proj\($0)" }
        var wheels: [String] = []
        for name in names {
            let wheel = try ServeFixtures.wheel(name, "1.0", marker: name, into: packages)
            try page(name, [wheel])
            wheels.append(wheel)
        }
        // A slow server, so that whatever the proxy reads at once overlaps.
        upstream.responseDelay = 0.05
        let serve = try ServeProcess(root: root, arguments: ["--pypi-upstream", upstream.baseURL + "/simple/", "--no-npm"]
                                         + names.flatMap { ["--pypi-expect", "\($0)==1.0"] })
        defer { _ = try? serve.stop() }
        for wheel in wheels {
            #expect(waitForRequest("/packages/\(wheel)"), "upstream saw: \(upstream.requests)")
        }
        let most = upstream.mostRequestsAtOnce
        #expect(most <= 4, "\(most) requests in the index's hands at once")
        #expect(most >= 2, "read one at a time: \(most)")
    }

    /// delta 1.0 released as `wheels` (platform wheels, one build under each
    /// name), and epsilon 1.0, a universal wheel: a page a client can ask for first.
    func platformRelease(_ wheels: [String]) throws {
        let built = try ServeFixtures.wheel("delta", "1.0", marker: "delta", into: packages)
        for name in wheels {
            try FileManager.default.copyItem(at: packages.appendingPathComponent(built), to: packages.appendingPathComponent(name))
        }
        try page("delta", wheels)
        let other = try ServeFixtures.wheel("epsilon", "1.0", marker: "epsilon", into: packages)
        try page("epsilon", [other])
    }

    /// `--pypi-expect delta==1.0`, a release of platform wheels only: which
    /// one pip fetches is unknown until pip's first request says what it runs
    /// on (here a page of another project); then that wheel is read ahead,
    /// before pip asks for delta at all, and the other never.
    @Test func anExpectedPinsPlatformWheelIsReadAheadOnceTheClientSaysWhatItRunsOn() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let linux = "delta-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
        let mac = "delta-1.0-cp311-cp311-macosx_11_0_arm64.whl"
        try platformRelease([linux, mac])
        let serve = try ServeProcess(root: root, arguments: ["--pypi-upstream", upstream.baseURL + "/simple/", "--no-npm",
                                                             "--pypi-expect", "delta==1.0"])
        defer { _ = try? serve.stop() }

        #expect(waitForRequest("/simple/delta/"), "upstream saw: \(upstream.requests)")
        Thread.sleep(forTimeInterval: 0.5)
        #expect(requests(of: "/packages/\(linux)") == 0, "no guess among platform wheels before the client's platform is known")

        let pip = #"pip/23.2.1 {"cpu":"x86_64","distro":{"libc":{"lib":"glibc","version":"2.36"}},"implementation":{"name":"CPython","version":"3.11.7"},"python":"3.11.7","system":{"name":"Linux","release":"6.1.0"}}"#
        #expect(try CurlGet.run(serve.base + "/pypi/simple/epsilon/", userAgent: pip).status == 200)
        #expect(waitForRequest("/packages/\(linux)"), "upstream saw: \(upstream.requests)")
        #expect(requests(of: "/packages/\(mac)") == 0)
        #expect(try lockKeys(serve).isEmpty, "read ahead, not pinned")
    }

    /// The pip shim's `--pypi-platform-guess` (pip's interpreter, before pip
    /// has started): the guessed platform's wheel is read ahead before any
    /// request. A client that then says it runs elsewhere gets its own wheel
    /// read ahead too; the guessed one is never pinned. A malformed guess
    /// stops the proxy at once.
    @Test func aGuessedPlatformsWheelIsReadAheadBeforeAnyRequestAndTheClientsWordCounts() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let x86 = "delta-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
        let arm = "delta-1.0-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"
        try platformRelease([x86, arm])
        let serve = try ServeProcess(root: root, arguments: ["--pypi-upstream", upstream.baseURL + "/simple/", "--no-npm",
                                                             "--pypi-expect", "delta==1.0", "--pypi-platform-guess", "3.11:x86_64:2.36"])
        defer { _ = try? serve.stop() }

        #expect(waitForRequest("/packages/\(x86)"), "the guessed platform's wheel, with no request yet: \(upstream.requests)")
        #expect(requests(of: "/packages/\(arm)") == 0)

        let pip = #"pip/24.0 {"cpu":"aarch64","distro":{"libc":{"lib":"glibc","version":"2.39"}},"implementation":{"name":"CPython","version":"3.12.3"},"python":"3.12.3","system":{"name":"Linux","release":"6.8.0"}}"#
        #expect(try CurlGet.run(serve.base + "/pypi/simple/epsilon/", userAgent: pip).status == 200)
        #expect(waitForRequest("/packages/\(arm)"), "the platform the client said: \(upstream.requests)")
        let got = try CurlGet.run(serve.base + "/pypi/files/delta/\(arm)", userAgent: pip)
        #expect(got.status == 200)
        #expect(try lockKeys(serve) == ["pypi:delta@1.0"])
        let pinned = try ServeFixtures.lockEntries(serve.lockfile)["pypi:delta@1.0"]?["url"] as? String
        #expect(pinned?.hasSuffix("/" + arm) == true, "the wheel asked for is the one pinned: \(pinned ?? "none")")

        for bad in ["3.11:x86_64", "3:x86_64:2.36", "3.11:x86 64:2.36", "3.11:x86_64:1.36", "3.11:x86_64:2.36:extra", "python3.11:x86_64:2.36"] {
            try expectRefused(["--pypi-platform-guess", bad], saying: "--pypi-platform-guess \(bad): not PYTHON:CPU:GLIBC", policyOf: serve)
        }
    }
}
