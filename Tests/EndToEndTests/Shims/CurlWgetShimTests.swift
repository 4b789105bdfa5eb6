import Foundation
import Testing
import BouncerTestSupport

/// The real curl and wget behind the shims, against a loopback server, under a policy.
@Suite(.blocking) struct CurlWgetShimTests {
    var harness: ShimHarness
    var site: DownloadSite
    let body: [UInt8]

    init() throws {
        harness = try ShimHarness("bouncer-shim-dl")
        site = try DownloadSite(in: harness.root)
        body = try ShimHarness.randomBytes((1 << 20) + 123)
        try site.publish("tool.tar.gz", body)
        try site.publish("install.sh", Array("echo installed-by-script\n".utf8))
        try harness.writePolicy()
    }

    var toolsPresent: Bool { ShimHarness.tool("curl") != nil && ShimHarness.tool("wget") != nil }

    @Test func curlRemoteNameLandsVerified() throws {
        defer { harness.cleanup() }
        let result = try harness.sh("curl -fsSLO '\(site.url("tool.tar.gz"))'")
        #expect(result.status == 0, "\(result.err)")
        #expect(try harness.bytes("tool.tar.gz") == body)
        #expect(try harness.projectFiles() == ["tool.tar.gz"])
    }

    /// In CI (CI=true) the shims freeze the lock, as `bouncer fetch` does: a
    /// download the committed lock does not pin is refused before anything is
    /// written, and the lock stays as it was; what it pins passes.
    /// BOUNCER_NO_FROZEN=1 lets a job that updates the lock pin it.
    @Test func inCITheLockIsFrozen() throws {
        defer { harness.cleanup() }
        let url = site.url("tool.tar.gz")
        let unpinned = try harness.sh("curl -fsSLO '\(url)'", extra: ["CI": "true"])
        #expect(unpinned.status == 1, "\(unpinned.err)")
        #expect(unpinned.err.contains("it is not in \(harness.file("bouncer.lock").path), and the lock is frozen"), "\(unpinned.err)")
        #expect(try harness.projectFiles() == [])
        #expect(!harness.exists("bouncer.lock"))

        let thawed = try harness.sh("curl -fsSLO '\(url)'", extra: ["CI": "true", "BOUNCER_NO_FROZEN": "1"])
        #expect(thawed.status == 0, "\(thawed.err)")
        let lock = try harness.bytes("bouncer.lock")
        try FileManager.default.removeItem(at: harness.file("tool.tar.gz"))

        let pinned = try harness.sh("curl -fsSLO '\(url)'", extra: ["CI": "true"])
        #expect(pinned.status == 0, "\(pinned.err)")
        #expect(try harness.bytes("tool.tar.gz") == body)
        #expect(try harness.bytes("bouncer.lock") == lock)
        // wget too: another URL of the same site is not pinned.
        let other = try harness.sh("wget -q '\(site.url("install.sh"))'", extra: ["CI": "true"])
        #expect(other.status == 1, "\(other.err)")
        #expect(other.err.contains("the lock is frozen"), "\(other.err)")
        #expect(!harness.exists("install.sh"))
        #expect(try harness.bytes("bouncer.lock") == lock)
    }

    /// curl's `-m`: the limit passes while the server has not answered; the
    /// shim stops as curl does (28), writes nothing, and leaves no download
    /// in the store's temp folder (the timer's exit had left one each time).
    @Test func curlMaxTimeLeavesNoDownloadBehind() throws {
        defer { harness.cleanup() }
        site.server.responseDelay = 4
        let result = try harness.sh("curl -fsS -m 1 -O '\(site.url("tool.tar.gz"))'")
        site.server.responseDelay = 0
        #expect(result.status == 28, "\(result.err)")
        #expect(result.err.contains("Operation timed out"), "\(result.err)")
        #expect(try harness.projectFiles() == [])
        let temporary = harness.cache.appendingPathComponent("tmp").path
        let left = (try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? []
        #expect(FileManager.default.fileExists(atPath: temporary), "the download had started: its temp folder exists")
        #expect(left == [], "left in \(temporary): \(left)")
    }

    @Test func curlOutputFileOutputDirAndSeveralURLs() throws {
        defer { harness.cleanup() }
        var result = try harness.sh("curl -sS -o out.bin '\(site.url("tool.tar.gz"))'")
        #expect(result.status == 0, "\(result.err)")
        #expect(try harness.bytes("out.bin") == body)
        result = try harness.sh("curl -s --create-dirs --output-dir dl -O '\(site.url("tool.tar.gz"))' -O '\(site.url("install.sh"))'")
        #expect(result.status == 0, "\(result.err)")
        #expect(try harness.bytes("dl/tool.tar.gz") == body)
        #expect(try harness.projectFiles(under: "dl") == ["install.sh", "tool.tar.gz"])
    }

    @Test func curlResumeReplacesAPartialFileWithTheVerifiedWhole() throws {
        defer { harness.cleanup() }
        try Data(body.prefix(1000)).write(to: harness.file("tool.tar.gz"))
        let result = try harness.sh("curl -s -C - -O '\(site.url("tool.tar.gz"))'")
        #expect(result.status == 0, "\(result.err)")
        #expect(try harness.bytes("tool.tar.gz") == body)
    }

    @Test func curlTamperedIsRefusedAndWritesNothing() throws {
        defer { harness.cleanup() }
        try site.tamper("tool.tar.gz", try ShimHarness.randomBytes(4096))
        let result = try harness.sh("curl -fsSLO '\(site.url("tool.tar.gz"))'")
        #expect(result.status != 0)
        #expect(result.err.contains("refused"), "\(result.err)")
        #expect(try harness.projectFiles() == [])
        // An existing file is not clobbered.
        try Data("old".utf8).write(to: harness.file("keep.bin"))
        let again = try harness.sh("curl -s -o keep.bin '\(site.url("tool.tar.gz"))'")
        #expect(again.status != 0)
        #expect(try harness.bytes("keep.bin") == Array("old".utf8))
    }

    @Test func curlPipePassesOnlyVerifiedBodies() throws {
        defer { harness.cleanup() }
        let good = try harness.sh("curl -s '\(site.url("tool.tar.gz"))' | cat")
        #expect(good.status == 0, "\(good.err)")
        #expect([UInt8](good.stdout) == body)
        let script = try harness.sh("curl -fsSL '\(site.url("install.sh"))' | sh")
        #expect(script.out == "installed-by-script\n", "\(script.err)")
        // A script that was never fetched before (a pinned one would come from the store, unchanged).
        try site.publish("other.sh", Array("echo genuine\n".utf8))
        try site.tamper("other.sh", Array("echo EVIL\n".utf8))
        let tampered = try harness.sh("curl -fsSL '\(site.url("other.sh"))' | sh")
        #expect(tampered.stdout.isEmpty, "tampered script reached the shell: \(tampered.out)")
        #expect(tampered.err.contains("refused"), "\(tampered.err)")
        let bare = try harness.sh("curl -s '\(site.url("other.sh"))'")
        #expect(bare.status != 0)
        #expect(bare.stdout.isEmpty)
    }

    @Test func curlNonDownloadsPassThroughToTheRealCurl() throws {
        defer { harness.cleanup() }
        let head = try harness.sh("curl -sI '\(site.url("tool.tar.gz"))'")
        #expect(head.status == 0, "\(head.err)")
        #expect(head.out.hasPrefix("HTTP/1.1 200"))
        #expect(head.out.contains("Content-Length: \(body.count)"))
        // A POST's response is a body too: refused in enforce mode (GateHoleCurlWgetTests has the audit case).
        let post = try harness.sh("curl -s -d hello '\(site.server.baseURL)/upload'")
        #expect(post.status == 2 && post.out.isEmpty, "\(post.err)")
        #expect(!site.server.requests.contains("POST /upload"))
    }

    /// curl's own limits, which the shim once read past (a red-team pass):
    /// `-m` over a server that stalls mid-body (curl stops at the limit; the
    /// shim waited for its own 30 s stall limit, or for ever on a trickle),
    /// `--proto =https` over an http URL (curl's error 1, nothing fetched),
    /// `-I` of a protocol with no headers (curl writes what the server sends),
    /// an absolute `-o` under `--output-dir`, an upper-case scheme; and wget's
    /// `--spider` turned off again (`--no-spider`), which downloaded.
    @Test func theRealToolsOwnLimitsAreKept() throws {
        defer { harness.cleanup() }
        let slow = try MisbehavingServer()
        let sums = "\(try ShimHarness.sha256(body))  slow.bin\n"
        slow.route("/files/SHA256SUMS", [.init(body: Array(sums.utf8))])
        slow.route("/files/slow.bin", [.init(body: Array(body.prefix(1000)), contentLength: body.count, stall: true)])
        let limited = try harness.sh("curl -sS -m 1 -o slow.bin '\(slow.url("/files/slow.bin"))'")
        #expect(limited.status == 28, "\(limited.err)")
        #expect(limited.err.contains("--max-time"), "\(limited.err)")
        #expect(!harness.exists("slow.bin"))

        let before = site.server.requests.count
        let https = try harness.sh("curl -sS --proto =https -o t.tgz '\(site.url("tool.tar.gz"))'")
        #expect(https.status == 1 && https.err.contains("Protocol \"http\" not supported or disabled"), "\(https.err)")
        let minus = try harness.sh("curl -sS --proto -all,+https -o t.tgz '\(site.url("tool.tar.gz"))'")
        #expect(minus.status == 1, "\(minus.err)")
        #expect(site.server.requests.count == before, "\(site.server.requests.dropFirst(before))")
        let telnet = try harness.sh("curl -sI telnet://127.0.0.1:\(slow.port)")
        #expect(telnet.status == 2 && telnet.err.contains("telnet"), "\(telnet.err)")
        // -I following redirects curl may take to telnet, dict… (red team C5): refused before any request.
        let heads = site.server.requests.count
        let redirected = try harness.sh("curl -sSIL --proto-redir all '\(site.url("install.sh"))'")
        #expect(redirected.status == 2 && redirected.err.contains("--proto-redir"), "\(redirected.err)")
        #expect(site.server.requests.count == heads, "\(site.server.requests.dropFirst(heads))")

        let nested = try harness.sh("curl -sS --create-dirs --output-dir od -o /abs/t.tgz '\(site.url("tool.tar.gz"))'")
        #expect(nested.status == 0, "\(nested.err)")
        #expect(try harness.bytes("od/abs/t.tgz") == body)
        let upper = try harness.sh("curl -sS -o up.tgz '\(site.url("tool.tar.gz").replacingOccurrences(of: "http://", with: "HTTP://"))'")
        #expect(upper.status == 0, "\(upper.err)")
        #expect(try harness.bytes("up.tgz") == body)

        let spider = try harness.sh("wget -q --spider --no-spider -O spider.sh '\(site.url("install.sh"))'")
        #expect(spider.status == 2, "\(spider.err)")
        #expect(!harness.exists("spider.sh"))
    }

    /// The policy reads a URL as libcurl requests it: `files/../private/x`
    /// is `/private/x`, which a `files/**` rule does not name (its checksum
    /// list beside it, `{dir}`, was the attacker's own folder's), and a dot
    /// segment hidden behind `%2e` is refused, since servers resolve it differently.
    @Test func aURLIsJudgedAsLibcurlRequestsIt() throws {
        defer { harness.cleanup() }
        try harness.writePolicy(extraRules: [#"{ "name": "files tree", "match": { "url": "http://127.0.0.1:*/files/**" }, "require": [ { "checksums": { "url": "{dir}/SHA256SUMS" } } ] }"#])
        let evil = Array("echo EVIL\n".utf8)
        let privateFolder = site.dir.appendingPathComponent("private")
        try FileManager.default.createDirectory(at: privateFolder, withIntermediateDirectories: true)
        try Data(evil).write(to: privateFolder.appendingPathComponent("evil.sh"))
        try Data("\(try ShimHarness.sha256(evil))  evil.sh\n".utf8).write(to: privateFolder.appendingPathComponent("SHA256SUMS"))
        let dotted = try harness.sh("curl -sS -o e.sh '\(site.server.baseURL)/files/../private/evil.sh'")
        #expect(dotted.status == 1, "\(dotted.err)")
        #expect(dotted.err.contains("/private/evil.sh") && dotted.err.contains("no rule"), "\(dotted.err)")
        let encoded = try harness.sh("curl -sS -o e.sh '\(site.server.baseURL)/files/%2e%2e/private/evil.sh'")
        #expect(encoded.status == 1 && encoded.err.contains("once %2e, %2f or %5c is decoded"), "\(encoded.err)")
        #expect(!harness.exists("e.sh"))
        #expect(!site.server.requests.contains { $0.contains("private") }, "\(site.server.requests)")
        // The tree the rule names still downloads, dot segments and all.
        let inside = try harness.sh("curl -sS -o t.tgz '\(site.server.baseURL)/files/sub/../tool.tar.gz'")
        #expect(inside.status == 0, "\(inside.err)")
        #expect(try harness.bytes("t.tgz") == body)
    }

    /// A "real" curl that runs the shim again as a child, as a pyenv shim for
    /// a Python that is not selected does (it falls back to PATH): another
    /// process each round, so the same call coming back is what gives the
    /// loop away, at once, with one report (it used to go 16 rounds deep,
    /// each shim starting the next).
    @Test func aRealToolThatStartsTheSameCallAgainIsALoop() throws {
        defer { harness.cleanup() }
        let env = try harness.curlRunningTheShim("%s/curl \"$@\"\\nexit $?")
        let child = try BouncerProcess.runProgram("/bin/sh", ["-c", "curl -sI '\(site.url("tool.tar.gz"))'"], cwd: harness.project.path, environment: env)
        #expect(child.status == 2, "\(child.err)")
        #expect(child.err.contains("ran this same curl command through the shim again"), "\(child.err)")
        #expect(child.err.components(separatedBy: "loop").count == 2, "one report, not one per round: \(child.err)")
    }

    @Test func curlOptionThatChangesTheFetchIsRefusedByName() throws {
        defer { harness.cleanup() }
        let result = try harness.sh("curl -s -H 'Authorization: Bearer x' -O '\(site.url("tool.tar.gz"))'")
        #expect(result.status == 2)
        #expect(result.err.contains("-H"), "\(result.err)")
        #expect(try harness.projectFiles() == [])
        #expect(!site.server.requests.contains { $0.hasPrefix("GET /files/tool.tar.gz") })
    }

    /// Audit mode lets the real curl run an option Bouncer cannot honour, and says so loudly.
    @Test func auditModePassesUnsupportedOptionsWithAWarning() throws {
        defer { harness.cleanup() }
        try harness.writePolicy(mode: "audit")
        let result = try harness.sh("curl -s -H 'X-Test: 1' -o got.bin '\(site.url("tool.tar.gz"))'")
        #expect(result.status == 0, "\(result.err)")
        #expect(result.err.contains("AUDIT") && result.err.contains("-H"), "\(result.err)")
        #expect(try harness.bytes("got.bin") == body)
    }

    @Test func wgetNamesFilesAsWgetDoes() throws {
        defer { harness.cleanup() }
        var result = try harness.sh("wget -q '\(site.url("tool.tar.gz"))'")
        #expect(result.status == 0, "\(result.err)")
        #expect(try harness.bytes("tool.tar.gz") == body)
        result = try harness.sh("wget -q '\(site.url("tool.tar.gz"))'")
        #expect(result.status == 0, "\(result.err)")
        #expect(try harness.bytes("tool.tar.gz.1") == body)
        result = try harness.sh("wget -q -P dl '\(site.url("install.sh"))' && wget -q -O named.bin '\(site.url("tool.tar.gz"))'")
        #expect(result.status == 0, "\(result.err)")
        #expect(try harness.bytes("dl/install.sh") == Array("echo installed-by-script\n".utf8))
        #expect(try harness.bytes("named.bin") == body)
        // -O FILE is where wget writes, whatever -P says (the shim had put it under the prefix).
        result = try harness.sh("wget -q -P nowhere -O direct.bin '\(site.url("tool.tar.gz"))'")
        #expect(result.status == 0, "\(result.err)")
        #expect(try harness.bytes("direct.bin") == body)
        // -nc keeps an existing -O FILE (exit 1), as wget does; an empty -P is none.
        try Data("precious\n".utf8).write(to: harness.project.appendingPathComponent("keep.bin"))
        result = try harness.sh("wget -q -nc -O keep.bin '\(site.url("tool.tar.gz"))'")
        #expect(result.status == 1 && result.err.contains("already there; not retrieving"), "\(result.status) \(result.err)")
        #expect(try harness.bytes("keep.bin") == Array("precious\n".utf8))
        result = try harness.sh("wget -q -P '' '\(site.url("install.sh"))'")
        #expect(result.status == 0, "\(result.err)")
        #expect(try harness.bytes("install.sh") == Array("echo installed-by-script\n".utf8))
    }

    @Test func wgetContinueAndStandardOutput() throws {
        defer { harness.cleanup() }
        try Data(body.prefix(10)).write(to: harness.file("tool.tar.gz"))
        var result = try harness.sh("wget -q -c '\(site.url("tool.tar.gz"))'")
        #expect(result.status == 0, "\(result.err)")
        #expect(try harness.bytes("tool.tar.gz") == body)
        result = try harness.sh("wget -qO- '\(site.url("install.sh"))' | sh")
        #expect(result.out == "installed-by-script\n", "\(result.err)")
    }

    @Test func wgetTamperedIsRefusedAndWritesNothing() throws {
        defer { harness.cleanup() }
        try site.tamper("tool.tar.gz", try ShimHarness.randomBytes(999))
        let result = try harness.sh("wget -q '\(site.url("tool.tar.gz"))'")
        #expect(result.status != 0)
        #expect(result.err.contains("refused"), "\(result.err)")
        #expect(try harness.projectFiles() == [])
        let piped = try harness.sh("wget -qO- '\(site.url("tool.tar.gz"))' | cat")
        #expect(piped.stdout.isEmpty)
    }
}

extension CurlWgetShimTests {
    /// Under GITHUB_ACTIONS=true each refusal through a shim is one `::error`
    /// annotation on standard error (standard output may be the piped body).
    @Test func shimRefusalsAreAnnotatedInGitHubActions() throws {
        defer { harness.cleanup() }
        try site.publish("other.sh", Array("echo genuine\n".utf8))
        try site.tamper("tool.tar.gz", try ShimHarness.randomBytes(4096))
        try site.tamper("other.sh", Array("echo EVIL\n".utf8))
        let actions = ["GITHUB_ACTIONS": "true"]
        func annotations(_ text: String) -> [String] {
            text.split(separator: "\n").map(String.init).filter { $0.hasPrefix("::") }
        }

        let piped = try harness.sh("curl -s '\(site.url("other.sh"))' | cat", extra: actions)
        #expect(piped.stdout.isEmpty, "\(piped.out)")
        let one = annotations(piped.err)
        #expect(one.count == 1, "\(piped.err)")
        #expect(one.first?.hasPrefix("::error title=bouncer::curl: \(site.url("other.sh")): refused by rule 'loopback downloads'") == true, "\(one)")

        // Two refused URLs and one good one in a single curl call: two annotations.
        let several = try harness.sh("curl -s -O '\(site.url("tool.tar.gz"))' -O '\(site.url("install.sh"))' -O '\(site.url("other.sh"))'", extra: actions)
        #expect(several.status == 1, "\(several.err)")
        let two = annotations(several.err)
        #expect(two.count == 2, "\(several.err)")
        #expect(two.filter { $0.contains("tool.tar.gz") }.count == 1 && two.filter { $0.contains("other.sh") }.count == 1, "\(two)")
        #expect(try harness.projectFiles() == ["install.sh"])

        let wget = try harness.sh("wget -q '\(site.url("tool.tar.gz"))'", extra: actions)
        #expect(wget.status == 1, "\(wget.err)")
        #expect(annotations(wget.err).count == 1 && annotations(wget.err).first?.hasPrefix("::error title=bouncer::wget: ") == true, "\(wget.err)")

        // An option refused in enforce mode is a refusal too.
        let option = try harness.sh("curl -s -H 'X-A: 1' -O '\(site.url("install.sh"))'", extra: actions)
        #expect(option.status == 2, "\(option.err)")
        #expect(annotations(option.err).count == 1 && option.err.contains("::error title=bouncer::curl: refused: option -H"), "\(option.err)")

        // Outside GitHub Actions: the same refusal, no workflow command.
        let plain = try harness.sh("curl -s '\(site.url("other.sh"))'", extra: ["GITHUB_ACTIONS": ""])
        #expect(plain.status == 1)
        #expect(annotations(plain.err) == [], "\(plain.err)")
    }
}

extension CurlWgetShimTests {
    /// `bouncer exec -- curl …` with no shims on PATH beforehand: the curl it
    /// starts is the shim, so the project's policy applies (a tampered file is
    /// refused, nothing written; a genuine one lands).
    @Test func execUnderAPolicyRefusesATamperedFile() throws {
        defer { harness.cleanup() }
        try site.publish("other.bin", try ShimHarness.randomBytes(5000))
        try site.tamper("tool.tar.gz", try ShimHarness.randomBytes(4096))
        // PATH without the repository's shims: only `exec` puts shims in front.
        let plainPath = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .filter { $0 != ShimHarness.shims }.joined(separator: ":")
        let environment = ["PATH": plainPath, "BOUNCER_CACHE": harness.cache.path, "CI": "", "BOUNCER_POLICY": "", "HOME": harness.root.path]
        let refused = try BouncerProcess.run(["exec", "--", "curl", "-fsSLO", site.url("tool.tar.gz")], cwd: harness.project.path,
                                             environment: environment)
        #expect(refused.status == 1, "\(refused.err)")
        #expect(refused.err.contains("bouncer: curl:") && refused.err.contains("refused by rule 'loopback downloads'"), "\(refused.err)")
        #expect(refused.err.contains("nothing was written to tool.tar.gz"), "\(refused.err)")
        #expect(try harness.projectFiles() == [])

        // The command moves where no policy.json is (an install script's usual
        // `cd "$(mktemp -d)"`): exec's policy still holds, and the tampered bytes never reach sh.
        let elsewhere = try BouncerProcess.temporaryDirectory("bouncer-exec-elsewhere")
        defer { try? FileManager.default.removeItem(at: elsewhere) }
        let moved = try BouncerProcess.run(["exec", "--", "sh", "-c", "cd '\(elsewhere.path)' && curl -fsSL '\(site.url("tool.tar.gz"))' | wc -c"],
                                           cwd: harness.project.path, environment: environment)
        #expect(moved.err.contains("refused by rule 'loopback downloads'") && !moved.err.contains("runs unguarded"), "\(moved.err)")
        #expect(moved.out.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "no byte reached the pipe: \(moved.out)")

        let good = try BouncerProcess.run(["exec", "--", "sh", "-c", "curl -fsSLO '\(site.url("other.bin"))' && wget -q '\(site.url("install.sh"))'"],
                                          cwd: harness.project.path, environment: environment)
        #expect(good.status == 0, "\(good.err)")
        #expect(try harness.projectFiles() == ["install.sh", "other.bin"])
        let lock = String(decoding: try harness.bytes("bouncer.lock"), as: UTF8.self)
        #expect(lock.contains(site.url("other.bin")) && lock.contains(site.url("install.sh")) && !lock.contains("tool.tar.gz"), "\(lock)")

        // A folder reached through a link that lies below the policy's folder: the shim looks along the
        // physical path too, as Bouncer does (it had found no policy and run the real curl; red team).
        try FileManager.default.createDirectory(at: harness.project.appendingPathComponent("sub"), withIntermediateDirectories: true)
        let link = harness.root.appendingPathComponent("linked-sub")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: harness.project.appendingPathComponent("sub"))
        let viaLink = try harness.sh("cd '\(link.path)' && curl -fsSL '\(site.url("tool.tar.gz"))' | wc -c")
        #expect(viaLink.err.contains("refused by rule 'loopback downloads'") && !viaLink.err.contains("runs unguarded"), "\(viaLink.err)")
        #expect(viaLink.out.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "no byte reached the pipe: \(viaLink.out)")

        // A relative BOUNCER_CACHE (a CI job's workspace folder) is this folder's: after the `cd` the
        // shims are still first on PATH (a red-team pass ran the tampered script past a relative one).
        var relative = environment
        relative["BOUNCER_CACHE"] = ".bouncer-cache"
        let relativeMoved = try BouncerProcess.run(["exec", "--", "sh", "-c", "cd '\(elsewhere.path)' && curl -fsSL '\(site.url("tool.tar.gz"))' | wc -c"],
                                                   cwd: harness.project.path, environment: relative)
        #expect(relativeMoved.err.contains("refused by rule 'loopback downloads'"), "\(relativeMoved.err)")
        #expect(relativeMoved.out.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "no byte reached the pipe: \(relativeMoved.out)")
        // pip's settings naming a source tree or a file pip obeys unread: refused before the command
        // starts (every pip it starts, pipx's too, would build it; red team, round 2).
        var editable = environment
        editable["PIP_EDITABLE"] = harness.project.path
        let settings = try BouncerProcess.run(["exec", "--", "sh", "-c", "echo ran"], cwd: harness.project.path, environment: editable)
        #expect(settings.status == 2 && settings.err.contains("names the editable"), "\(settings.status) \(settings.err)")
        #expect(!settings.out.contains("ran"), "\(settings.out)")
        // A ':' in the shims' folder would split PATH: refused before anything runs.
        relative["BOUNCER_CACHE"] = harness.root.appendingPathComponent("cache:1").path
        let colon = try BouncerProcess.run(["exec", "--", "sh", "-c", "curl -fsSL '\(site.url("tool.tar.gz"))' | wc -c"],
                                           cwd: harness.project.path, environment: relative)
        #expect(colon.status == 2 && colon.err.contains("has a ':' in its path"), "\(colon.status) \(colon.err)")
        #expect(colon.out.isEmpty, "\(colon.out)")
    }
}

extension CurlWgetShimTests {
    /// Exit statuses through the shims: a refusal is Bouncer's 1 (evidence) or
    /// 2 (an option it cannot honour); a transport failure is the status the
    /// real tool gives for the same failure, measured here by running the real
    /// curl and wget (bypassing the shims) against the same URLs.
    @Test func exitStatusesFollowTheRealTools() throws {
        defer { harness.cleanup() }
        let curl = try #require(ShimHarness.tool("curl")), wget = try #require(ShimHarness.tool("wget"))
        try site.tamper("tool.tar.gz", try ShimHarness.randomBytes(4096))
        let closedPort = try { () throws -> UInt16 in let s = try LoopbackHTTPServer(); let p = s.port; s.stop(); return p }()
        let missing = site.url("missing.bin")
        let unreachable = "http://127.0.0.1:\(closedPort)/files/x.bin"
        func real(_ program: String, _ arguments: [String]) throws -> Int32 {
            try BouncerProcess.runProgram(program, arguments, cwd: harness.project.path).status
        }
        func shim(_ script: String) throws -> ProcessResult { try harness.sh(script) }

        // curl: 22 for an HTTP error with -f, 7 when it cannot connect (the real curl's own codes).
        let curl404 = try real(curl, ["-fsS", "-o", "real.bin", missing])
        let curlRefused = try real(curl, ["-sS", "-o", "real.bin", unreachable])
        #expect(curl404 == 22 && curlRefused == 7, "the real curl: \(curl404), \(curlRefused)")
        try? FileManager.default.removeItem(at: harness.file("real.bin"))
        #expect(try shim("curl -fsS -o a.bin '\(missing)'").status == curl404)
        #expect(try shim("curl -sS --retry 0 -o a.bin '\(unreachable)'").status == curlRefused)
        // Without -f the real curl would save the error page and exit 0; the shim never hands over an unverified body.
        #expect(try shim("curl -sS -o a.bin '\(missing)'").status == curl404)
        let tampered = try shim("curl -fsSLO '\(site.url("tool.tar.gz"))'")
        #expect(tampered.status == 1, "\(tampered.err)")
        #expect(try shim("curl -s -H 'X-A: 1' -O '\(site.url("install.sh"))'").status == 2)

        // wget: 8 for a server error response, 4 for a network failure.
        let wget404 = try real(wget, ["-q", "-O", "real.bin", missing])
        let wgetRefused = try real(wget, ["-q", "--tries=1", "-O", "real.bin", unreachable])
        #expect(wget404 == 8 && wgetRefused == 4, "the real wget: \(wget404), \(wgetRefused)")
        try? FileManager.default.removeItem(at: harness.file("real.bin"))
        #expect(try shim("wget -q '\(missing)'").status == wget404)
        #expect(try shim("wget -q '\(unreachable)'").status == wgetRefused)
        let wgetTampered = try shim("wget -q '\(site.url("tool.tar.gz"))'")
        #expect(wgetTampered.status == 1, "\(wgetTampered.err)")
        #expect(try harness.projectFiles() == [])
    }
}

/// The mechanism itself, with no policy in force: pass-through, the notice, loops, install.
/// On a developer's machine (CI cleared): under CI=true a shim without a policy refuses (MissingShimTests).
@Suite(.blocking) struct ShimMechanismEndToEndTests {
    var harness: ShimHarness
    let server: DirectoryHTTPServer

    init() throws {
        harness = try ShimHarness("bouncer-shim-nopolicy")
        harness.overrides = ["CI": ""]
        try FileManager.default.createDirectory(at: harness.root.appendingPathComponent("site"), withIntermediateDirectories: true)
        try Data("plain\n".utf8).write(to: harness.root.appendingPathComponent("site/a.txt"))
        server = try DirectoryHTTPServer(root: harness.root.appendingPathComponent("site").path)
    }

    @Test func withoutPolicyTheRealToolRunsUnchangedAndSaysSoOnce() throws {
        defer { harness.cleanup() }
        // A policy.json above the temporary directory would change the meaning of this test.
        var dir = harness.project.deletingLastPathComponent()
        while dir.path != "/" {
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("policy.json").path))
            dir.deleteLastPathComponent()
        }
        let result = try harness.sh("curl -s '\(server.baseURL)/a.txt'; curl -s -o b.txt '\(server.baseURL)/a.txt'; cat b.txt")
        #expect(result.out == "plain\nplain\n", "\(result.err)")
        let notices = result.err.components(separatedBy: "no policy.json").count - 1
        #expect(notices == 2, "one notice per unguarded call: \(result.err)")
        // Nested calls (a tool started by a tool) do not repeat it.
        let nested = try harness.sh("curl -s '\(server.baseURL)/a.txt'", extra: ["BOUNCER_NO_POLICY_NOTICE_SHOWN": "1"])
        #expect(nested.err.isEmpty, "\(nested.err)")
        #expect(nested.out == "plain\n")
    }

    @Test func aWrapperThatRunsTheShimAgainIsALoop() throws {
        defer { harness.cleanup() }
        let env = try harness.curlRunningTheShim("exec %s/curl \"$@\"")
        let result = try BouncerProcess.runProgram("/bin/sh", ["-c", "curl -s '\(server.baseURL)/a.txt'"], cwd: harness.project.path, environment: env)
        #expect(result.status == 2, "\(result.err)")
        #expect(result.err.contains("loop"), "\(result.err)")
    }

    @Test func missingRealToolIsReported() throws {
        defer { harness.cleanup() }
        var env = harness.environment
        env["PATH"] = ShimHarness.shims
        let result = try BouncerProcess.runProgram("/bin/sh", ["-c", "\(ShimHarness.shims)/wget -q x"], cwd: harness.project.path, environment: env)
        #expect(result.status == 127)
        #expect(result.err.contains("no real wget on PATH"), "\(result.err)")
    }

    @Test func shimsInstallAndExec() throws {
        defer { harness.cleanup() }
        let dir = harness.root.appendingPathComponent("myshims").path
        let install = try BouncerProcess.run(["shims", "install", dir], cwd: harness.project.path)
        #expect(install.status == 0, "\(install.err)")
        for tool in ["curl", "wget", "pip", "pip3", "npm"] {
            #expect(FileManager.default.isExecutableFile(atPath: dir + "/" + tool))
        }
        let viaInstalled = try BouncerProcess.runProgram(dir + "/curl", ["-s", "\(server.baseURL)/a.txt"], cwd: harness.project.path,
                                                         environment: ["CI": ""])
        #expect(viaInstalled.out == "plain\n", "\(viaInstalled.err)")
        #expect(viaInstalled.err.contains("no policy.json"))
        let exec = try BouncerProcess.run(["exec", "--", "sh", "-c", "command -v curl; curl -s \(server.baseURL)/a.txt"],
                                          cwd: harness.project.path, environment: ["BOUNCER_CACHE": harness.cache.path, "CI": ""])
        #expect(exec.status == 0, "\(exec.err)")
        #expect(exec.out == "\(harness.cache.path)/shims/curl\nplain\n")
    }
}
