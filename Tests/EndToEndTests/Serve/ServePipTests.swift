import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import BouncerBase
import BouncerPolicy
import BouncerTestSupport

/// `bouncer serve` in front of a loopback PEP 503 index (wheels built at test
/// time), with the real pip (and uv, when installed) pointed at it through
/// the environment only: no shims on PATH.
@Suite(.blocking, .serialized) final class ServePipTests {
    let root: URL
    let index: URL
    let upstream: DirectoryHTTPServer

    init() throws {
        root = try BouncerProcess.temporaryDirectory("bouncer-serve-pip")
        index = root.appendingPathComponent("index")
        try FileManager.default.createDirectory(at: index.appendingPathComponent("packages"), withIntermediateDirectories: true)
        upstream = try DirectoryHTTPServer(root: index.path)
    }

    // One folder per test, removed when the test is done with it.
    deinit { try? FileManager.default.removeItem(at: root) }

    var packages: URL { index.appendingPathComponent("packages") }

    /// A project page with one link per file: (file, sha256 or nil, extra attributes).
    func page(_ name: String, _ files: [(String, String?, String)]) throws {
        try ServeFixtures.writePage(name, files, index: index)
    }

    /// alpha 1.0 (needs beta; its PEP 658 metadata offered), a yanked alpha 2.0,
    /// beta 2.0, and a beta 3.0 sdist that enforce mode must not offer.
    func publish() throws -> [String: String] {
        var digests: [String: String] = [:]
        let alpha = try ServeFixtures.wheel("alpha", "1.0", marker: "genuine alpha", requires: ["beta>=1"], into: packages)
        let alpha2 = try ServeFixtures.wheel("alpha", "2.0", marker: "yanked alpha", requires: ["beta>=1"], into: packages)
        let beta = try ServeFixtures.wheel("beta", "2.0", marker: "genuine beta", into: packages)
        try Data("not really an sdist".utf8).write(to: packages.appendingPathComponent("beta-3.0.tar.gz"))
        for file in [alpha, alpha2, beta, "beta-3.0.tar.gz"] { digests[file] = try ServeFixtures.sha256(packages.appendingPathComponent(file)) }
        let alphaMetadata = try ServeFixtures.sha256(packages.appendingPathComponent(alpha + ".metadata"))
        try page("alpha", [(alpha, digests[alpha], "data-requires-python=\"&gt;=3.7\" data-core-metadata=\"sha256=\(alphaMetadata)\""),
                           (alpha2, digests[alpha2], "data-yanked=\"broken\"")])
        try page("beta", [(beta, digests[beta], ""), ("beta-3.0.tar.gz", digests["beta-3.0.tar.gz"], "")])
        return digests
    }

    func python(_ venvPython: String, _ code: String) throws -> ProcessResult {
        try BouncerProcess.runProgram(venvPython, ["-c", code], cwd: root.path)
    }

    /// pip installs alpha and beta through the proxy; both are pinned with the
    /// digests sha256sum computes; once upstream is compromised (bytes and
    /// advertised digest both changed) the proxy answers 403 and pip installs nothing.
    @Test func pipInstallsPinsAndRefusesACompromisedUpstream() throws {
        let digests = try publish()
        let serve = try ServeProcess(root: root, arguments: ["--pypi-upstream", upstream.baseURL + "/simple/", "--npm-upstream", upstream.baseURL + "/"])
        let indexURL = serve.base + "/pypi/simple/"

        let python = try ServeFixtures.venv(root.appendingPathComponent("venv1"))
        let installed = try ServeFixtures.pipInstall(python, ["alpha"], index: indexURL, cwd: root)
        #expect(installed.status == 0, "pip install failed: \(installed.out)\n\(installed.err)")
        let markers = try self.python(python, "import alpha, beta; print(alpha.MARKER + '|' + beta.MARKER)")
        #expect(markers.out.trimmingCharacters(in: .whitespacesAndNewlines) == "genuine alpha|genuine beta")

        let lock = try ServeFixtures.lockEntries(serve.lockfile)
        #expect(lock["pypi:alpha@1.0"]?["sha256"] as? String == digests["alpha-1.0-py3-none-any.whl"])
        #expect(lock["pypi:beta@2.0"]?["sha256"] as? String == digests["beta-2.0-py3-none-any.whl"])
        #expect(lock["pypi:alpha@2.0"] == nil, "the yanked alpha 2.0 must not have been fetched")
        #expect(lock.count == 2, "lock: \(lock.keys.sorted())")
        // pip read alpha's metadata through the proxy (PEP 658), then the wheel.
        #expect(upstream.requests.contains("GET /packages/alpha-1.0-py3-none-any.whl.metadata"))

        // Compromise: new bytes for beta 2.0 and the page advertising their digest.
        let beta = "beta-2.0-py3-none-any.whl"
        _ = try ServeFixtures.wheel("beta", "2.0", marker: "EVIL beta", into: packages)
        let evil = try ServeFixtures.sha256(packages.appendingPathComponent(beta))
        #expect(evil != digests[beta])
        try page("beta", [(beta, evil, "")])

        let python2 = try ServeFixtures.venv(root.appendingPathComponent("venv2"))
        let refused = try ServeFixtures.pipInstall(python2, ["beta==2.0"], index: indexURL, cwd: root)
        #expect(refused.status != 0)
        #expect((refused.out + refused.err).contains("403"), "pip output: \(refused.out)\n\(refused.err)")
        let importBeta = try self.python(python2, "import beta")
        #expect(importBeta.status != 0, "beta must not be installed")

        // Asked directly, after pip read the new page (before it, the proxy would still hold the page it
        // had shown and serve the bytes it verified against it a moment ago, never the new ones).
        let direct = try CurlGet.run(serve.base + "/pypi/files/beta/" + beta)
        #expect(direct.status == 403)
        #expect(direct.contentType.hasPrefix("text/plain"))
        #expect(direct.text.contains("lock"), "reason: \(direct.text)")
        #expect(direct.text.split(separator: "\n").count == 1, "one line: \(direct.text)")
        #expect(try ServeFixtures.lockEntries(serve.lockfile)["pypi:beta@2.0"]?["sha256"] as? String == digests[beta])

        let stopped = try serve.stop()
        #expect(stopped.status == 0, "SIGTERM must stop it cleanly: \(stopped.err)")
        #expect(stopped.err.contains("listening on \(serve.base)"))
        #expect(stopped.err.contains("403"), "the refusal is on stderr too: \(stopped.err)")
        #expect(!FileManager.default.fileExists(atPath: serve.readyFile.path))
    }

    /// The README's standalone recipe with the shims on PATH too: the pip
    /// shim finds its one index is the bouncer serve on this machine and
    /// points pip at it, with no proxy of its own over it. Before, a second
    /// proxy verified everything again and pinned the serve's free port in
    /// the project's lock.
    @Test func thePipShimReadsFromARunningServeWithoutASecondProxy() throws {
        let digests = try publish()
        let serve = try ServeProcess(root: root, arguments: ["--pypi-upstream", upstream.baseURL + "/simple/", "--no-npm"])
        let python = try ServeFixtures.venv(root.appendingPathComponent("venv-shim"))
        let shims = Corpus.packageRoot.appendingPathComponent("shims").path
        let bin = URL(fileURLWithPath: python).deletingLastPathComponent().path
        let environment = ["PATH": "\(shims):\(bin):/usr/bin:/bin", "BOUNCER_BIN": BouncerProcess.executable, "CI": "",
                           "BOUNCER_CACHE": root.appendingPathComponent("shim-cache").path, "PIP_CONFIG_FILE": "/dev/null",
                           "PIP_INDEX_URL": serve.base + "/pypi/simple/", "PIP_DISABLE_PIP_VERSION_CHECK": "1"]
        func pip(_ arguments: [String], index: String? = nil) throws -> ProcessResult {
            try BouncerProcess.runProgram("/usr/bin/env", ["-u", "PIP_FIND_LINKS", "-u", "PIP_EXTRA_INDEX_URL", shims + "/pip"] + arguments,
                                          cwd: serve.project.path, environment: environment.merging(["PIP_INDEX_URL": index ?? serve.base + "/pypi/simple/"]) { $1 })
        }
        let installed = try pip(["install", "--no-cache-dir", "alpha"])
        #expect(installed.status == 0, "\(installed.err)")
        #expect(installed.err.contains("the index is the bouncer serve at \(serve.base)"), "\(installed.err)")
        #expect(try self.python(python, "import alpha, beta").status == 0)
        let lock = try ServeFixtures.lockEntries(serve.lockfile)
        #expect(lock["pypi:alpha@1.0"]?["sha256"] as? String == digests["alpha-1.0-py3-none-any.whl"])
        #expect(lock.values.allSatisfy { ($0["url"] as? String)?.hasPrefix(upstream.baseURL) == true },
                "every pin names the index, none the serve's address: \(lock)")

        // This user's bouncer-serve under another policy file: an upstream too (the project's policy applies).
        let other = try ServeProcess(root: root.appendingPathComponent("other"), arguments: ["--pypi-upstream", upstream.baseURL + "/simple/", "--no-npm"])
        let underAnother = try pip(["install", "--no-cache-dir", "--no-deps", "--force-reinstall", "alpha==1.0"], index: other.base + "/pypi/simple/")
        #expect(!underAnother.err.contains("the index is the bouncer serve"), "\(underAnother.err)")
        _ = try other.stop()

        // Another program on this machine answering as a bouncer serve under the same policy (not
        // this user's bouncer-serve binary) is an upstream like any index: the shim's own proxy
        // judges it, and its lock pin refuses the impostor's alpha.
        let fakeRoot = root.appendingPathComponent("impostor")
        let fakeIndex = fakeRoot.appendingPathComponent("pypi")
        let fakePackages = fakeIndex.appendingPathComponent("packages")
        try FileManager.default.createDirectory(at: fakePackages, withIntermediateDirectories: true)
        let evilAlpha = try ServeFixtures.wheel("alpha", "1.0", marker: "EVIL alpha", into: fakePackages)
        try ServeFixtures.writePage("alpha", [(evilAlpha, try ServeFixtures.sha256(fakePackages.appendingPathComponent(evilAlpha)), "")], index: fakeIndex)
        let impostor = try DirectoryHTTPServer(root: fakeRoot.path)
        defer { impostor.stop() }
        let policy = Policy.fileMark(serve.project.appendingPathComponent("policy.json").path)
        try "bouncer serve: \(impostor.baseURL)/pypi/simple/ (pip, uv), \(impostor.baseURL)/npm/ (npm) policy: \(policy)"
            .write(to: fakeRoot.appendingPathComponent("index.html"), atomically: true, encoding: .utf8)
        _ = try BouncerProcess.runProgram(python, ["-m", "pip", "uninstall", "-y", "alpha"])
        let impersonated = try pip(["install", "--no-cache-dir", "--no-deps", "alpha==1.0"], index: impostor.baseURL + "/pypi/simple/")
        #expect(impersonated.status != 0, "\(impersonated.err)")
        #expect(!impersonated.err.contains("the index is the bouncer serve"), "\(impersonated.err)")
        #expect(impersonated.err.contains("nothing was installed"), "\(impersonated.err)")
        #expect(try self.python(python, "import alpha").status != 0, "the impostor's alpha must not be installed")
        // What listens there is not this user's bouncer-serve (found through /proc): not even asked who it is.
        #expect(!impostor.requests.contains("GET /"), "\(impostor.requests)")

        // Compromised upstream: the serve refuses, pip fails, and the shim says where the reason is.
        let beta = "beta-2.0-py3-none-any.whl"
        _ = try ServeFixtures.wheel("beta", "2.0", marker: "EVIL beta", into: packages)
        try page("beta", [(beta, try ServeFixtures.sha256(packages.appendingPathComponent(beta)), "")])
        _ = try BouncerProcess.runProgram(python, ["-m", "pip", "uninstall", "-y", "beta"])
        let refused = try pip(["install", "--no-cache-dir", "beta==2.0"])
        #expect(refused.status != 0, "\(refused.err)")
        #expect(refused.err.contains("what the bouncer serve at \(serve.base) refused"), "\(refused.err)")
        #expect(try self.python(python, "import beta").status != 0, "beta must not be installed")
        #expect(try serve.stop().err.contains("403"))
    }

    /// `bouncer exec` in a shell set up as the README's standalone recipe
    /// (pip's index and npm's registry are this user's own bouncer serve,
    /// under the project's policy): the command reads from that serve, with
    /// no proxy of exec's over it. Before, exec's proxy verified everything
    /// again and pinned the serve's free port in the project's lock.
    @Test func bouncerExecReadsFromARunningServeWithoutAProxyOfItsOwn() throws {
        let digests = try publish()
        let serve = try ServeProcess(root: root, arguments: ["--pypi-upstream", upstream.baseURL + "/simple/", "--npm-upstream", upstream.baseURL + "/"])
        let python = try ServeFixtures.venv(root.appendingPathComponent("venv-exec"))
        let pip = URL(fileURLWithPath: python).deletingLastPathComponent().appendingPathComponent("pip").path
        let environment = ["PATH": "/usr/bin:/bin", "BOUNCER_CACHE": root.appendingPathComponent("exec-cache").path, "CI": "",
                           "HOME": root.path, "PIP_CONFIG_FILE": "/dev/null", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                           "PIP_INDEX_URL": serve.base + "/pypi/simple/", "npm_config_registry": serve.base + "/npm/"]
        func exec(_ command: [String], unsetting: [String] = []) throws -> ProcessResult {
            try BouncerProcess.start(["exec", "--"] + command, cwd: serve.project.path, environment: environment.filter { !unsetting.contains($0.key) },
                                     unsetting: ["PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "NPM_CONFIG_REGISTRY"] + unsetting).wait()
        }
        let report = ["sh", "-c", "echo \"proxy=${BOUNCER_EXEC_PROXY-none} index=$PIP_INDEX_URL registry=${npm_config_registry-}\""]
        let shell = try exec(report)
        #expect(shell.status == 0, "\(shell.err)")
        #expect(shell.out.contains("proxy=none index=\(serve.base)/pypi/simple/ registry=\(serve.base)/npm/"), "\(shell.out)")
        #expect(shell.err.contains("pip's index is the bouncer serve at \(serve.base)"), "\(shell.err)")
        #expect(shell.err.contains("npm's registry is the bouncer serve at \(serve.base)"), "\(shell.err)")
        // npm left at its built-in registry: exec's own proxy stands in front of npm, pip stays at the serve.
        let mixed = try exec(report, unsetting: ["npm_config_registry"])
        #expect(mixed.status == 0, "\(mixed.err)")
        let proxied = mixed.out.split(separator: " ").first { $0.hasPrefix("proxy=http://127.0.0.1:") }.map { String($0.dropFirst(6)) }
        #expect(proxied != nil && proxied != serve.base, "\(mixed.out)")
        #expect(mixed.out.contains("index=\(serve.base)/pypi/simple/ registry=\(proxied ?? "?")/npm/"), "\(mixed.out)")

        // The venv's own pip, by its path: no shim in front of it.
        let installed = try exec([pip, "install", "--no-cache-dir", "alpha"])
        #expect(installed.status == 0, "\(installed.err)")
        #expect(try self.python(python, "import alpha, beta").status == 0)
        let lock = try ServeFixtures.lockEntries(serve.lockfile)
        #expect(lock["pypi:alpha@1.0"]?["sha256"] as? String == digests["alpha-1.0-py3-none-any.whl"])
        #expect(lock.values.allSatisfy { ($0["url"] as? String)?.hasPrefix(upstream.baseURL) == true },
                "every pin names the index, none the serve's address: \(lock)")

        // Compromised upstream: the serve refuses, pip fails, and exec says where the reason is.
        let beta = "beta-2.0-py3-none-any.whl"
        _ = try ServeFixtures.wheel("beta", "2.0", marker: "EVIL beta", into: packages)
        try page("beta", [(beta, try ServeFixtures.sha256(packages.appendingPathComponent(beta)), "")])
        _ = try BouncerProcess.runProgram(python, ["-m", "pip", "uninstall", "-y", "beta"])
        let refused = try exec([pip, "install", "--no-cache-dir", "beta==2.0"])
        #expect(refused.status != 0, "\(refused.err)")
        #expect(refused.err.contains("exited with 1; what the bouncer serve at \(serve.base) refused"), "\(refused.err)")
        #expect(try self.python(python, "import beta").status != 0, "beta must not be installed")
        #expect(try serve.stop().err.contains("403"))
    }

    /// curl with extra arguments: status, the response headers (names lowercased) and body.
    func curl(_ arguments: [String], _ url: String) throws -> (status: Int, headers: [String: String], body: Data) {
        let out = root.appendingPathComponent("curl-body-\(UUID().uuidString)")
        let head = root.appendingPathComponent("curl-head-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out); try? FileManager.default.removeItem(at: head) }
        let ran = try BouncerProcess.runProgram("/usr/bin/curl", ["-s", "-D", head.path, "-o", out.path, "-w", "%{http_code}"] + arguments + [url])
        var headers: [String: String] = [:]
        for line in try String(contentsOf: head, encoding: .utf8).split(separator: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let body = (try? Data(contentsOf: out)) ?? Data()
        return (Int(ran.out) ?? 0, headers, body)
    }

    /// A file asked for again and again (uv: HEAD, the ranges holding the
    /// wheel's METADATA, then the whole file) is fetched and verified once and
    /// served from the verified bytes, in part when a range is asked; a file
    /// that fails gets no byte, whatever range is asked.
    @Test func rangesAndRepeatsAreServedFromOneVerification() throws {
        let digests = try publish()
        let beta = "beta-2.0-py3-none-any.whl"
        let bytes = try Data(contentsOf: packages.appendingPathComponent(beta))
        let serve = try ServeProcess(root: root, arguments: ["--pypi-upstream", upstream.baseURL + "/simple/", "--npm-upstream", upstream.baseURL + "/"])
        let url = serve.base + "/pypi/files/beta/" + beta

        let head = try curl(["-I"], url)
        #expect(head.status == 200)
        #expect(head.headers["accept-ranges"] == "bytes")
        #expect(head.headers["content-length"] == String(bytes.count))
        let tail = try curl(["-r", "-100"], url)
        #expect(tail.status == 206)
        #expect(tail.headers["content-range"] == "bytes \(bytes.count - 100)-\(bytes.count - 1)/\(bytes.count)")
        #expect(tail.body == bytes.suffix(100))
        let span = try curl(["-r", "10-19"], url)
        #expect(span.status == 206)
        #expect(span.body == bytes.subdata(in: 10..<20))
        let past = try curl(["-r", "\(bytes.count)-"], url)
        #expect(past.status == 416)
        #expect(past.headers["content-range"] == "bytes */\(bytes.count)")
        #expect(past.body.isEmpty)
        // Two ranges at once are not served as ranges: the whole file.
        let two = try curl(["-r", "0-1,5-6"], url)
        #expect(two.status == 200)
        #expect(two.body == bytes)
        let whole = try curl([], url)
        #expect(whole.status == 200)
        #expect(whole.body == bytes)
        #expect(upstream.requests.filter { $0 == "GET /packages/\(beta)" }.count == 1, "\(upstream.requests)")
        #expect(try ServeFixtures.lockEntries(serve.lockfile)["pypi:beta@2.0"]?["sha256"] as? String == digests[beta])
        // beta's bytes change upstream now: asked again at once, the bytes verified a moment ago are served, never the new ones.
        _ = try ServeFixtures.wheel("beta", "2.0", marker: "EVIL beta", into: packages)
        #expect(try Data(contentsOf: packages.appendingPathComponent(beta)) != bytes)
        let again = try curl([], url)
        #expect(again.status == 200)
        #expect(again.body == bytes)
        #expect(upstream.requests.filter { $0 == "GET /packages/\(beta)" }.count == 1)
        // The lock is removed: what was served is no longer pinned, so it is not served again from what
        // was kept. Decided afresh, the changed bytes fail the page's digest.
        try FileManager.default.removeItem(at: serve.lockfile)
        let afresh = try curl([], url)
        #expect(afresh.status == 403, "\(String(decoding: afresh.body, as: UTF8.self))")
        #expect(upstream.requests.filter { $0 == "GET /packages/\(beta)" }.count == 2)

        // alpha's bytes change upstream, its page still states the old digest: no range of it is served.
        let alpha = "alpha-1.0-py3-none-any.whl"
        _ = try ServeFixtures.wheel("alpha", "1.0", marker: "EVIL alpha", requires: ["beta>=1"], into: packages)
        let refused = try curl(["-r", "0-9"], serve.base + "/pypi/files/alpha/" + alpha)
        #expect(refused.status == 403)
        #expect(String(decoding: refused.body, as: UTF8.self).hasPrefix("http"), "a reason, no byte of the file: \(refused.body.count) bytes")
        let stopped = try serve.stop()
        #expect(stopped.status == 0)
        #expect(stopped.err.contains("served again, as verified"), "\(stopped.err)")
    }

    /// The pages link to the proxy only; yanked files and (in enforce mode)
    /// sdists are left out; PEP 691 JSON by Accept, with hashes and metadata carried over.
    @Test func pagesLinkToTheProxyOnlyInHTMLAndJSON() throws {
        let digests = try publish()
        let serve = try ServeProcess(root: root, arguments: ["--pypi-upstream", upstream.baseURL + "/simple/", "--npm-upstream", upstream.baseURL + "/", "--quiet"])
        let upstreamPort = ":\(upstream.port)"

        let html = try CurlGet.run(serve.base + "/pypi/simple/alpha/")
        #expect(html.status == 200)
        #expect(html.contentType.hasPrefix("text/html"))
        let links = ServeFixtures.links(html.text)
        #expect(links.count == 1, "only alpha 1.0 (2.0 is yanked): \(links)")
        #expect(links.allSatisfy { $0.hasPrefix(serve.base + "/pypi/files/") })
        #expect(links.first?.hasSuffix("alpha-1.0-py3-none-any.whl#sha256=" + (digests["alpha-1.0-py3-none-any.whl"] ?? "?")) == true)
        #expect(!html.text.contains(upstreamPort))
        #expect(html.text.contains("data-requires-python=\"&gt;=3.7\""))
        #expect(html.text.contains("data-core-metadata=\"sha256="))

        let betaPage = try CurlGet.run(serve.base + "/pypi/simple/Beta/")
        #expect(betaPage.status == 200)
        #expect(!betaPage.text.contains("beta-3.0.tar.gz"), "enforce mode offers no sdist")
        #expect(ServeFixtures.links(betaPage.text).count == 1)
        let sdist = try CurlGet.run(serve.base + "/pypi/files/beta/beta-3.0.tar.gz")
        #expect(sdist.status == 403)
        #expect(sdist.text.contains("source distribution"))

        let json = try CurlGet.run(serve.base + "/pypi/simple/alpha/", accept: "application/vnd.pypi.simple.v1+json, text/html;q=0.1")
        #expect(json.status == 200)
        #expect(json.contentType == "application/vnd.pypi.simple.v1+json")
        let document = try JSONSerialization.jsonObject(with: json.body) as? [String: Any]
        #expect((document?["meta"] as? [String: Any])?["api-version"] as? String == "1.0")
        #expect(document?["name"] as? String == "alpha")
        let files = document?["files"] as? [[String: Any]] ?? []
        #expect(files.count == 1)
        #expect(files.first?["filename"] as? String == "alpha-1.0-py3-none-any.whl")
        #expect((files.first?["url"] as? String)?.hasPrefix(serve.base + "/pypi/files/alpha/") == true)
        #expect((files.first?["hashes"] as? [String: String])?["sha256"] == digests["alpha-1.0-py3-none-any.whl"])
        #expect(files.first?["requires-python"] as? String == ">=3.7")
        let metadataDigest = try ServeFixtures.sha256(packages.appendingPathComponent("alpha-1.0-py3-none-any.whl.metadata"))
        #expect((files.first?["core-metadata"] as? [String: String])?["sha256"] == metadataDigest)
        #expect(!json.text.contains(upstreamPort))

        // The metadata file itself, and a tampered one refused.
        let metadata = try CurlGet.run(serve.base + "/pypi/files/alpha/alpha-1.0-py3-none-any.whl.metadata")
        #expect(metadata.status == 200)
        #expect(metadata.text.contains("Requires-Dist: beta>=1"))
        try Data("Metadata-Version: 2.1\nName: alpha\nVersion: 1.0\nRequires-Dist: evil\n".utf8)
            .write(to: packages.appendingPathComponent("alpha-1.0-py3-none-any.whl.metadata"))
        let tampered = try CurlGet.run(serve.base + "/pypi/files/alpha/alpha-1.0-py3-none-any.whl.metadata")
        #expect(tampered.status == 403)
        #expect(!tampered.text.contains("Requires-Dist"))

        let rootPage = try CurlGet.run(serve.base + "/pypi/simple/", accept: "application/vnd.pypi.simple.v1+json")
        #expect(rootPage.status == 404 || rootPage.status == 200) // the loopback index has no root page: passed on as 404
        #expect(try serve.stop().status == 0)
    }

    /// A standalone proxy named no index serves everything pip's own
    /// configuration names: its index, its extra index and its find-links
    /// directory, each judged like one given on the command line. pip, then
    /// told to read no configuration file of its own, loses nothing and
    /// reaches none of them around the proxy.
    @Test func aStandaloneProxyServesWhatPipsConfigurationNames() throws {
        let alpha = try ServeFixtures.wheel("alpha", "1.0", marker: "genuine alpha", into: packages)
        try page("alpha", [(alpha, try ServeFixtures.sha256(packages.appendingPathComponent(alpha)), "")])
        let extraRoot = root.appendingPathComponent("extra")
        try FileManager.default.createDirectory(at: extraRoot.appendingPathComponent("packages"), withIntermediateDirectories: true)
        let beta = try ServeFixtures.wheel("beta", "2.0", marker: "extra beta", into: extraRoot.appendingPathComponent("packages"))
        try ServeFixtures.writePage("beta", [(beta, try ServeFixtures.sha256(extraRoot.appendingPathComponent("packages/\(beta)")), "")], index: extraRoot)
        let extra = try DirectoryHTTPServer(root: extraRoot.path)
        let wheelhouse = root.appendingPathComponent("project/wheelhouse")
        try FileManager.default.createDirectory(at: wheelhouse, withIntermediateDirectories: true)
        let gamma = try ServeFixtures.wheel("gamma", "1.0", marker: "local gamma", into: wheelhouse)
        let conf = root.appendingPathComponent("pip.conf")
        // find-links relative to the proxy's working directory (the project), as pip reads it.
        try "[global]\nindex-url = \(upstream.baseURL)/simple/\nextra-index-url = \(extra.baseURL)/simple/\nfind-links = wheelhouse\n"
            .write(to: conf, atomically: true, encoding: .utf8)
        // pip's variables are unset, not emptied: an empty one wipes out the file's value, in pip as here.
        let pipVariables = ["PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX"]
        let quiet = ["XDG_CONFIG_DIRS": root.path + "/none", "XDG_CONFIG_HOME": root.path + "/none"]
        var configured = quiet
        configured["PIP_CONFIG_FILE"] = conf.path
        let serve = try ServeProcess(root: root, arguments: ["--no-npm"], environment: configured, unsetting: pipVariables)

        let betaPage = try CurlGet.run(serve.base + "/pypi/simple/beta/")
        #expect(betaPage.status == 200, "\(betaPage.text)")
        #expect(ServeFixtures.links(betaPage.text).map { $0.hasPrefix(serve.base + "/pypi/files/beta/\(beta)") } == [true], "\(betaPage.text)")
        let gammaPage = try CurlGet.run(serve.base + "/pypi/simple/gamma/")
        #expect(gammaPage.status == 200 && gammaPage.text.contains(gamma), "\(gammaPage.status) \(gammaPage.text)")
        #expect(!betaPage.text.contains(":\(extra.port)") && !gammaPage.text.contains("file://"))

        let python = try ServeFixtures.venv(root.appendingPathComponent("venv-configured"))
        let installed = try ServeFixtures.pipInstall(python, ["alpha", "beta"], index: serve.base + "/pypi/simple/", cwd: root)
        #expect(installed.status == 0, "pip install failed: \(installed.out)\n\(installed.err)")
        #expect(try self.python(python, "import alpha, beta; print(beta.MARKER)").out.contains("extra beta"))
        #expect(try ServeFixtures.lockEntries(serve.lockfile).keys.sorted() == ["pypi:alpha@1.0", "pypi:beta@2.0"])
        #expect(extra.requests.contains("GET /packages/\(beta)"), "the extra index's wheel came through the proxy: \(extra.requests)")
        #expect(try serve.stop().status == 0)

        // The same proxy with pip's configuration empty: its primary index named, and nothing else.
        var bare = quiet
        bare["PIP_CONFIG_FILE"] = "/dev/null"
        bare["PIP_INDEX_URL"] = upstream.baseURL + "/simple/"
        let plain = try ServeProcess(root: root.appendingPathComponent("plain"), arguments: ["--no-npm"], environment: bare,
                                     unsetting: pipVariables)
        defer { _ = try? plain.stop() }
        #expect(try CurlGet.run(plain.base + "/pypi/simple/alpha/").status == 200)
        #expect(try CurlGet.run(plain.base + "/pypi/simple/beta/").status == 404)
        #expect(try CurlGet.run(plain.base + "/pypi/simple/gamma/").status == 404)
    }

    /// An upstream that speaks PEP 691 JSON with PEP 700 fields: upload-time and size carried over, the URL rewritten.
    @Test func jsonUpstreamCarriesUploadTimeAndSize() throws {
        let wheel = try ServeFixtures.wheel("gamma", "1.5", marker: "gamma", into: packages)
        let digest = try ServeFixtures.sha256(packages.appendingPathComponent(wheel))
        let size = try FileManager.default.attributesOfItem(atPath: packages.appendingPathComponent(wheel).path)[.size] as? Int ?? -1
        let scripted = try MisbehavingServer()
        let pageJSON = """
            {"meta":{"api-version":"1.1"},"name":"gamma","versions":["1.5"],"files":[
             {"filename":"\(wheel)","url":"\(upstream.baseURL)/packages/\(wheel)","hashes":{"sha256":"\(digest)"},
              "requires-python":">=3.8","core-metadata":false,"yanked":false,"size":\(size),"upload-time":"2024-05-01T12:00:00.000000Z"}]}
            """
        scripted.route("/simple/gamma/", [.init(headers: ["Content-Type: application/vnd.pypi.simple.v1+json"], body: Array(pageJSON.utf8))])
        let serve = try ServeProcess(root: root, arguments: ["--pypi-upstream", scripted.url("/simple/"), "--npm-upstream", upstream.baseURL + "/"])

        let json = try CurlGet.run(serve.base + "/pypi/simple/gamma/", accept: "application/vnd.pypi.simple.v1+json")
        #expect(json.status == 200, "\(json.text)")
        let document = try JSONSerialization.jsonObject(with: json.body) as? [String: Any]
        #expect((document?["meta"] as? [String: Any])?["api-version"] as? String == "1.1")
        #expect(document?["versions"] as? [String] == ["1.5"])
        let file = (document?["files"] as? [[String: Any]])?.first
        #expect(file?["upload-time"] as? String == "2024-05-01T12:00:00.000000Z")
        #expect(file?["size"] as? Int == size)
        #expect((file?["url"] as? String)?.hasPrefix(serve.base + "/pypi/files/gamma/") == true)

        let python = try ServeFixtures.venv(root.appendingPathComponent("venv"))
        let installed = try ServeFixtures.pipInstall(python, ["gamma"], index: serve.base + "/pypi/simple/", cwd: root)
        #expect(installed.status == 0, "\(installed.out)\n\(installed.err)")
        #expect(try ServeFixtures.lockEntries(serve.lockfile)["pypi:gamma@1.5"]?["sha256"] as? String == digest)
        #expect(try serve.stop().status == 0)
    }

    /// Two installs at once through one proxy, and clients that hang up
    /// mid-transfer: every install completes, the lock holds each artifact
    /// once with the right digest, and the store keeps no partial file.
    @Test func concurrentInstallsAndDisconnectsKeepStoreAndLockWhole() throws {
        let big = try ServeFixtures.wheel("bigpkg", "1.0", marker: "big", into: packages, padding: 24 << 20)
        let bigDigest = try ServeFixtures.sha256(packages.appendingPathComponent(big))
        try page("bigpkg", [(big, bigDigest, "")])
        let digests = try publish()
        let serve = try ServeProcess(root: root, arguments: ["--pypi-upstream", upstream.baseURL + "/simple/", "--npm-upstream", upstream.baseURL + "/", "--quiet"])
        let indexURL = serve.base + "/pypi/simple/"

        // Clients that read a little of the big wheel and hang up.
        for _ in 0..<3 {
            let partial = try BouncerProcess.runProgram("/bin/sh", ["-c", "/usr/bin/curl -s \(serve.base)/pypi/files/bigpkg/\(big) | head -c 1000 > /dev/null"])
            #expect(partial.status == 0)
        }
        // Ten clients at once for the same wheel: identical, complete bytes.
        let fetchers = try (0..<10).map { n in
            try BouncerProcess.startProgram("/usr/bin/curl", ["-s", "-f", "-o", root.appendingPathComponent("big-\(n)").path, "\(serve.base)/pypi/files/bigpkg/\(big)"])
        }
        let venvs = try (1...2).map { try ServeFixtures.venv(root.appendingPathComponent("cvenv\($0)")) }
        let installs = try venvs.map { python in
            try BouncerProcess.startProgram("/usr/bin/env", ["-u", "PIP_FIND_LINKS", "PIP_CONFIG_FILE=/dev/null", "PIP_INDEX_URL=\(indexURL)",
                                                             python, "-m", "pip", "install", "--no-cache-dir", "alpha"], cwd: root.path)
        }
        for running in fetchers { #expect(try running.wait().status == 0) }
        for running in installs {
            let result = try running.wait()
            #expect(result.status == 0, "\(result.out)\n\(result.err)")
        }
        for n in 0..<10 { #expect(try ServeFixtures.sha256(root.appendingPathComponent("big-\(n)")) == bigDigest) }
        let lock = try ServeFixtures.lockEntries(serve.lockfile)
        #expect(lock["pypi:bigpkg@1.0"]?["sha256"] as? String == bigDigest)
        #expect(lock["pypi:alpha@1.0"]?["sha256"] as? String == digests["alpha-1.0-py3-none-any.whl"])
        #expect(lock["pypi:beta@2.0"]?["sha256"] as? String == digests["beta-2.0-py3-none-any.whl"])
        #expect(try serve.stop().status == 0)
        // Nothing half-written: the store's temp directory is empty, every blob matches its name.
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: serve.cache.appendingPathComponent("tmp").path)) ?? []
        #expect(leftovers.isEmpty, "left in the store's tmp: \(leftovers)")
        let blobs = FileManager.default.enumerator(atPath: serve.cache.appendingPathComponent("sha256").path)?.compactMap { $0 as? String } ?? []
        for blob in blobs where blob.count > 3 {
            let name = String(blob.split(separator: "/").last ?? "")
            guard name.count == 64 else { continue }
            #expect(try ServeFixtures.sha256(serve.cache.appendingPathComponent("sha256").appendingPathComponent(blob)) == name)
        }
    }

    /// The proxy killed (SIGKILL) while a file is still coming from upstream:
    /// no lock entry for it, and a proxy started again on the same lock and
    /// store pins and serves as before.
    @Test func aProxyKilledMidRequestLeavesNoPartialLockEntry() throws {
        let digests = try publish()
        let stalling = try MisbehavingServer()
        defer { stalling.stop() }
        let file = "stuck-1.0-py3-none-any.whl"
        let body = try HostileProject.random(64 << 10)
        let digest = try HostileProject.sha256(body)
        stalling.route("/simple/stuck/", [.init(headers: ["Content-Type: text/html"], body: Array("<a href=\"../../packages/\(file)#sha256=\(digest)\">\(file)</a>".utf8))])
        stalling.route("/packages/\(file)", [.init(body: Array(body.prefix(1000)), contentLength: body.count, stall: true)])
        let first = try ServeProcess(root: root, arguments: ["--pypi-upstream", stalling.url("/simple/"), "--quiet"])
        _ = try CurlGet.run(first.base + "/pypi/simple/stuck/")
        let waiting = try BouncerProcess.startProgram("/usr/bin/curl", ["-s", "-o", "/dev/null", first.base + "/pypi/files/stuck/" + file])
        for _ in 0..<200 where stalling.requests(to: "/packages/\(file)") == 0 { usleep(50_000) }
        #expect(stalling.requests(to: "/packages/\(file)") == 1, "the proxy was fetching when it was killed")
        kill(first.process.processIdentifier, SIGKILL)
        let killed = try first.stop()  // reaps it: its status is the SIGKILL's
        #expect(killed.status != 0)
        _ = try? waiting.wait()
        let lock = (try? ServeFixtures.lockEntries(first.lockfile)) ?? [:]
        #expect(lock["pypi:stuck@1.0"] == nil, "\(lock.keys.sorted())")

        // The killed proxy's ready file is still there (nobody removed it): the next one starts clean.
        #expect(FileManager.default.fileExists(atPath: first.readyFile.path))
        try FileManager.default.removeItem(at: first.readyFile)
        let second = try ServeProcess(root: root, arguments: ["--pypi-upstream", upstream.baseURL + "/simple/", "--quiet"])
        let served = try CurlGet.run(second.base + "/pypi/files/beta/beta-2.0-py3-none-any.whl")
        #expect(served.status == 200, "\(served.text)")
        #expect(try ServeFixtures.lockEntries(second.lockfile)["pypi:beta@2.0"]?["sha256"] as? String == digests["beta-2.0-py3-none-any.whl"])
        #expect(try second.stop().status == 0)
    }

    /// Under CI=true the lock is frozen, as for the shims: a file not yet pinned is refused (403), nothing is pinned.
    @Test func ciFreezesTheLock() throws {
        _ = try publish()
        let serve = try ServeProcess(root: root, arguments: ["--pypi-upstream", upstream.baseURL + "/simple/", "--npm-upstream", upstream.baseURL + "/"],
                                     environment: ["CI": "true"])
        let refused = try CurlGet.run(serve.base + "/pypi/files/beta/beta-2.0-py3-none-any.whl")
        #expect(refused.status == 403)
        #expect(refused.text.contains("frozen"), "\(refused.text)")
        #expect(!FileManager.default.fileExists(atPath: serve.lockfile.path))
        #expect(try serve.stop().status == 0)
    }

    /// uv's path, when it is installed; a notice otherwise.
    static func uvBinary() -> String? {
        let uv = ["/usr/local/bin/uv", "/usr/bin/uv"].first { FileManager.default.isExecutableFile(atPath: $0) }
            ?? (try? BouncerProcess.runProgram("/bin/sh", ["-c", "command -v uv"]))?.out.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let uv, !uv.isEmpty, FileManager.default.isExecutableFile(atPath: uv) else {
            print("notice: uv is not installed (python3 -m pip install uv); skipping the uv test")
            return nil
        }
        return uv
    }

    /// The uv shim in front of the real uv: pointed at this user's own
    /// bouncer serve (same policy), uv runs and everything it installs is
    /// verified and pinned; pointed at the index itself, it is refused before
    /// uv starts; and a wheel URL past the serve, which uv alone fetches, is
    /// cut off by the shim's fence. uv passed through unguarded before.
    @Test func theUvShimRunsUvOnlyAgainstTheUsersOwnServe() throws {
        guard let uv = Self.uvBinary() else { return }
        let digests = try publish()
        let serve = try ServeProcess(root: root, arguments: ["--pypi-upstream", upstream.baseURL + "/simple/", "--no-npm"])
        let shims = Corpus.packageRoot.appendingPathComponent("shims").path
        let uvDirectory = URL(fileURLWithPath: uv).deletingLastPathComponent().path
        let environment = ["PATH": "\(shims):\(uvDirectory):/usr/bin:/bin", "BOUNCER_BIN": BouncerProcess.executable, "CI": "", "HOME": root.path,
                           "BOUNCER_CACHE": root.appendingPathComponent("uv-shim-cache").path, "UV_NO_CACHE": "1",
                           "UV_DEFAULT_INDEX": serve.base + "/pypi/simple/"]
        let unset = ["UV_INDEX_URL", "UV_FIND_LINKS", "UV_EXTRA_INDEX_URL", "UV_INDEX", "PIP_FIND_LINKS", "UV_CONFIG_FILE"]
        func run(_ program: String, _ arguments: [String], index: String? = nil) throws -> ProcessResult {
            var env = environment
            if let index { env["UV_DEFAULT_INDEX"] = index }
            return try BouncerProcess.startProgram(program, arguments, cwd: serve.project.path, environment: env, unsetting: unset).wait()
        }

        let python = try ServeFixtures.venv(root.appendingPathComponent("venv-uv"))
        let installed = try run(shims + "/uv", ["pip", "install", "--python", python, "alpha"])
        #expect(installed.status == 0, "\(installed.out)\n\(installed.err)")
        #expect(try self.python(python, "import alpha, beta").status == 0)
        let lock = try ServeFixtures.lockEntries(serve.lockfile)
        #expect(lock["pypi:alpha@1.0"]?["sha256"] as? String == digests["alpha-1.0-py3-none-any.whl"])
        #expect(lock.values.allSatisfy { ($0["url"] as? String)?.hasPrefix(upstream.baseURL) == true }, "\(lock)")

        // The index itself, no serve in between: refused before uv starts.
        let other = try ServeFixtures.venv(root.appendingPathComponent("venv-uv2"))
        let direct = try run(shims + "/uv", ["pip", "install", "--python", other, "alpha"], index: upstream.baseURL + "/simple/")
        #expect(direct.status == 2, "\(direct.err)")
        #expect(direct.err.contains("refused: uv pip install fetches packages itself"), "\(direct.err)")
        #expect(try self.python(other, "import alpha").status != 0, "nothing may be installed")

        // A wheel by URL, on another name of this machine: uv alone fetches it. Behind the shim it is an exotic
        // source, refused before uv starts; where the policy allows it, the fence still cuts it off.
        let wheel = "\(upstream.baseURL.replacingOccurrences(of: "127.0.0.1", with: "localhost"))/packages/beta-2.0-py3-none-any.whl"
        let unguarded = try run(uv, ["pip", "install", "--python", other, "beta @ \(wheel)"])
        #expect(unguarded.status == 0, "uv alone reaches it: \(unguarded.err)")
        _ = try run(uv, ["pip", "uninstall", "--python", other, "beta"])
        let exotic = try run(shims + "/uv", ["pip", "install", "--python", other, "beta @ \(wheel)"])
        #expect(exotic.status == 2 && exotic.err.contains("exotic-source"), "\(exotic.err)")
        let policyFile = serve.project.appendingPathComponent("policy.json")
        let policy = try String(contentsOf: policyFile, encoding: .utf8)
        try policy.replacingOccurrences(of: #""lockfile": "bouncer.lock","#, with: #""lockfile": "bouncer.lock", "exoticSources": { "allow": ["beta @ http://localhost:**"] },"#)
            .write(to: policyFile, atomically: true, encoding: .utf8)
        let fenced = try run(shims + "/uv", ["pip", "install", "--python", other, "beta @ \(wheel)"])
        try policy.write(to: policyFile, atomically: true, encoding: .utf8)
        #expect(fenced.status != 0, "\(fenced.err)")
        #expect(fenced.err.contains("was cut off"), "\(fenced.err)")
        #expect(try self.python(other, "import beta").status != 0, "beta must not be installed")
        // A local project uv would build (its build backend runs: the fence sees no file read): refused before uv starts.
        let local = root.appendingPathComponent("uv-local-project")
        try FileManager.default.createDirectory(at: local, withIntermediateDirectories: true)
        let marker = root.appendingPathComponent("uv-local-built")
        try "[build-system]\nrequires = []\nbuild-backend = \"backend\"\nbackend-path = [\".\"]\n[project]\nname = \"localproj\"\nversion = \"1\"\n"
            .write(to: local.appendingPathComponent("pyproject.toml"), atomically: true, encoding: .utf8)
        try "open(\(String(reflecting: marker.path)), 'w').write('ran')\n".write(to: local.appendingPathComponent("backend.py"), atomically: true, encoding: .utf8)
        let built = try run(shims + "/uv", ["pip", "install", "--python", other, local.path])
        #expect(built.status == 2 && built.err.contains("a local project directory"), "\(built.err)")
        #expect(!FileManager.default.fileExists(atPath: marker.path), "the local project's build backend ran")

        // `uv run PROGRAM` in a project: uv locks and syncs through the serve, fenced; the program runs outside the
        // fence (the user's proxy settings back) with the shims first on its PATH, ahead of the project's .venv/bin.
        // A script uv reads itself (`.py`, its inline dependencies) still runs fenced.
        let project = serve.project.appendingPathComponent("uv-project")  // under the policy
        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
        try "[project]\nname = \"p\"\nversion = \"0\"\nrequires-python = \">=3.8\"\ndependencies = [\"alpha\"]\n[tool.uv]\npackage = false\n"
            .write(to: project.appendingPathComponent("pyproject.toml"), atomically: true, encoding: .utf8)
        let probe = "import os, sys, alpha; print(os.environ.get('HTTPS_PROXY'), os.environ['PATH'].split(':')[0], alpha.MARKER, sep='|')"
        var inProject = environment
        inProject["HTTPS_PROXY"] = "http://user-proxy.invalid:3128"
        inProject["UV_PYTHON"] = python
        let ran = try BouncerProcess.startProgram(shims + "/uv", ["run", "--no-progress", "python", "-c", probe], cwd: project.path,
                                                  environment: inProject, unsetting: unset).wait()
        #expect(ran.status == 0, "\(ran.out)\n\(ran.err)")
        let realShims = URL(fileURLWithPath: shims).resolvingSymlinksInPath().path
        #expect(ran.out.trimmingCharacters(in: .whitespacesAndNewlines) == "http://user-proxy.invalid:3128|\(realShims)|genuine alpha", "\(ran.err)")
        #expect(try ServeFixtures.lockEntries(serve.lockfile)["pypi:alpha@1.0"] != nil)
        try "import os\nprint(os.environ.get('HTTPS_PROXY'))\n".write(to: project.appendingPathComponent("probe.py"), atomically: true, encoding: .utf8)
        let script = try BouncerProcess.startProgram(shims + "/uv", ["run", "probe.py"], cwd: project.path, environment: inProject, unsetting: unset).wait()
        #expect(script.status == 0, "\(script.err)")
        #expect(script.out.hasPrefix("http://127.0.0.1:"), "a .py script uv reads itself runs fenced: \(script.out)")
        #expect(try serve.stop().status == 0)
    }

    /// The distribution's own pip (Debian 12's is 23.0.1, in every venv made with its
    /// python3) installs through the proxy. pip 22.3 to 23.1 fails with a TypeError on
    /// any JSON file entry carrying the old `dist-info-metadata` key (PEP 714), which
    /// the proxy's PEP 691 pages used to carry beside `core-metadata`.
    @Test func theDistributionsOwnPipInstallsThroughTheProxy() throws {
        let system = "/usr/bin/python3"
        guard FileManager.default.isExecutableFile(atPath: system) else {
            print("notice: no \(system); skipping the distribution pip test")
            return
        }
        let digests = try publish()
        let serve = try ServeProcess(root: root, arguments: ["--pypi-upstream", upstream.baseURL + "/simple/", "--no-npm"])
        let venv = root.appendingPathComponent("system-venv")
        let made = try BouncerProcess.runProgram(system, ["-m", "venv", venv.path])
        #expect(made.status == 0, "\(made.err)")
        let python = venv.appendingPathComponent("bin/python").path
        let version = try BouncerProcess.runProgram(python, ["-m", "pip", "--version"]).out
        if !(version.hasPrefix("pip 22.3") || version.hasPrefix("pip 23.0")) {
            print("notice: \(system)'s pip is \(version.prefix(12)), not one of those that fail on the old key; the install is checked all the same")
        }
        // pip asks for PEP 691 JSON first; the page it gets must carry PEP 714's key only.
        let page = try CurlGet.run(serve.base + "/pypi/simple/alpha/", accept: "application/vnd.pypi.simple.v1+json")
        #expect(page.text.contains("\"core-metadata\"") && !page.text.contains("dist-info-metadata"), "\(page.text)")
        let installed = try ServeFixtures.pipInstall(python, ["alpha"], index: serve.base + "/pypi/simple/", cwd: root)
        #expect(installed.status == 0, "\(installed.out)\n\(installed.err)")
        #expect(try self.python(python, "import alpha, beta; print(alpha.MARKER)").out.hasPrefix("genuine alpha"))
        #expect(try ServeFixtures.lockEntries(serve.lockfile)["pypi:alpha@1.0"]?["sha256"] as? String == digests["alpha-1.0-py3-none-any.whl"])
        #expect(try serve.stop().status == 0)
    }

    /// The pipx shim in front of the real pipx, which runs pip by its path in
    /// venvs of its own: with pip's index set to the loopback index itself, the
    /// shim gives pipx a verifying proxy of its own (as `bouncer exec` does),
    /// so the app and its dependency are installed and pinned; once upstream
    /// is compromised the app is not reinstalled; an index on pipx's command
    /// line (which would outrank the proxy), in either spelling of pipx, is refused.
    @Test func thePipxShimInstallsThroughAProxyOfItsOwn() throws {
        guard ["/usr/bin/pipx", "/usr/local/bin/pipx"].contains(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            print("notice: no pipx (install-deps.sh installs Debian's); skipping the pipx shim test")
            return
        }
        let digests = try publish()
        let app = try ServeFixtures.wheel("cowapp", "1.0", marker: "genuine cowapp", requires: ["beta>=1"], into: packages, script: "cowapp")
        let appDigest = try ServeFixtures.sha256(packages.appendingPathComponent(app))
        try page("cowapp", [(app, appDigest, "")])
        let project = root.appendingPathComponent("pipx-project")
        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
        try ServeProcess.policy().write(to: project.appendingPathComponent("policy.json"), atomically: true, encoding: .utf8)
        let shims = Corpus.packageRoot.appendingPathComponent("shims").path
        let bin = root.appendingPathComponent("pipx-bin")
        let environment = ["PATH": "\(shims):/usr/local/bin:/usr/bin:/bin", "BOUNCER_BIN": BouncerProcess.executable, "CI": "", "HOME": root.path,
                           "BOUNCER_CACHE": root.appendingPathComponent("pipx-cache").path, "PIPX_HOME": root.appendingPathComponent("pipx-home").path,
                           "PIPX_BIN_DIR": bin.path, "PIP_INDEX_URL": upstream.baseURL + "/simple/", "PIP_DISABLE_PIP_VERSION_CHECK": "1"]
        let unset = ["PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_CONFIG_FILE", "BOUNCER_POLICY"]
        func run(_ program: String, _ arguments: [String]) throws -> ProcessResult {
            try BouncerProcess.startProgram(program, arguments, cwd: project.path, environment: environment, unsetting: unset).wait()
        }

        let installed = try run(shims + "/pipx", ["install", "cowapp"])
        #expect(installed.status == 0, "\(installed.out)\n\(installed.err)")
        #expect(try BouncerProcess.runProgram(bin.appendingPathComponent("cowapp").path, []).out.hasPrefix("genuine cowapp"))
        let lock = try ServeFixtures.lockEntries(project.appendingPathComponent("bouncer.lock"))
        #expect(lock["pypi:cowapp@1.0"]?["sha256"] as? String == appDigest, "\(lock.keys.sorted())")
        #expect(lock["pypi:beta@2.0"]?["sha256"] as? String == digests["beta-2.0-py3-none-any.whl"])

        // An index on pipx's command line: pip would read it over the proxy's, so it is refused before pipx starts.
        for (program, words) in [(shims + "/pipx", ["install", "--force", "--index-url", upstream.baseURL + "/simple/", "cowapp"]),
                                 (shims + "/python3", ["-m", "pipx", "install", "--force", "--pip-args=--index-url " + upstream.baseURL + "/simple/", "cowapp"])] {
            let refused = try run(program, words)
            #expect(refused.status == 2, "\(words): \(refused.err)")
            #expect(refused.err.contains("refused: pipx install:"), "\(refused.err)")
        }

        // Red team: pipx reads words after `--` as operands (and drops a leading one from run's app), and takes
        // any unambiguous prefix of its options. Each of these ran the project's setup.py or a fetched script.
        let marker = root.appendingPathComponent("pipx-marker")
        let evilProject = root.appendingPathComponent("evilproj")
        try FileManager.default.createDirectory(at: evilProject, withIntermediateDirectories: true)
        let payload = "open(\(String(reflecting: marker.path)), 'a').write('ran\\n')\n"
        try (payload + "from setuptools import setup\nsetup(name='evilproj', version='1.0')\n")
            .write(to: evilProject.appendingPathComponent("setup.py"), atomically: true, encoding: .utf8)
        try payload.write(to: packages.appendingPathComponent("evil.py"), atomically: true, encoding: .utf8)
        for words in [["install", "--", evilProject.path], ["inject", "cowapp", "--", evilProject.path],
                      ["install", "--force", "cowapp", "--pip-a=-e " + evilProject.path], ["run", "--spe=" + evilProject.path, "evilproj"],
                      ["runpip", "cowapp", "--", "install", "-e", evilProject.path], ["run", "--", upstream.baseURL + "/packages/evil.py"],
                      ["install", "--force", "-fi", upstream.baseURL + "/simple/", "cowapp"]] {
            let refused = try run(shims + "/pipx", words)
            #expect(refused.status == 2, "\(words): \(refused.err)")
            #expect(refused.err.contains("refused: pipx "), "\(words): \(refused.err)")
        }
        #expect(!FileManager.default.fileExists(atPath: marker.path), "a refused pipx command's code ran")

        // Compromised upstream (bytes and advertised digest both changed): the pin refuses, the app stays as it was.
        let evil = try ServeFixtures.wheel("cowapp", "1.0", marker: "EVIL cowapp", requires: ["beta>=1"], into: packages, script: "cowapp")
        try page("cowapp", [(evil, try ServeFixtures.sha256(packages.appendingPathComponent(evil)), "")])
        let refused = try run(shims + "/pipx", ["reinstall", "cowapp"])
        #expect(refused.status != 0, "\(refused.err)")
        #expect(refused.err.contains("refused cowapp 1.0"), "\(refused.err)")
        let after = try? BouncerProcess.runProgram(bin.appendingPathComponent("cowapp").path, [])
        #expect(after?.out.contains("EVIL") != true, "the compromised app must not be installed")
    }

    /// uv (when installed) through the proxy, pointed at it with UV_DEFAULT_INDEX.
    @Test func uvInstallsThroughTheProxy() throws {
        guard let uv = Self.uvBinary() else { return }
        let digests = try publish()
        let serve = try ServeProcess(root: root, arguments: ["--pypi-upstream", upstream.baseURL + "/simple/", "--npm-upstream", upstream.baseURL + "/"])
        let python = try ServeFixtures.venv(root.appendingPathComponent("venv"))
        let installed = try BouncerProcess.runProgram("/usr/bin/env", ["-u", "PIP_FIND_LINKS", "-u", "UV_INDEX_URL", "-u", "UV_FIND_LINKS",
                                                                       "UV_DEFAULT_INDEX=\(serve.base)/pypi/simple/", "UV_NO_CACHE=1",
                                                                       "UV_NO_CONFIG=1", uv, "pip", "install", "--python", python, "alpha"],
                                                      cwd: root.path)
        #expect(installed.status == 0, "\(installed.out)\n\(installed.err)")
        let markers = try self.python(python, "import alpha, beta; print(alpha.MARKER + '|' + beta.MARKER)")
        #expect(markers.out.trimmingCharacters(in: .whitespacesAndNewlines) == "genuine alpha|genuine beta")
        let lock = try ServeFixtures.lockEntries(serve.lockfile)
        #expect(lock["pypi:alpha@1.0"]?["sha256"] as? String == digests["alpha-1.0-py3-none-any.whl"])
        #expect(lock["pypi:beta@2.0"]?["sha256"] as? String == digests["beta-2.0-py3-none-any.whl"])
        // beta offers no PEP 658 metadata: uv asks for the wheel with HEAD, then for the ranges holding its
        // METADATA, then for all of it. One download and verification serves all three.
        #expect(upstream.requests.filter { $0 == "GET /packages/beta-2.0-py3-none-any.whl" }.count == 1, "\(upstream.requests)")
        #expect(!(installed.out + installed.err).contains("Range requests not supported"), "\(installed.err)")
        #expect(try serve.stop().status == 0)
    }

    /// The real index pip is configured with (no --pypi-upstream: the proxy asks pip),
    /// one small pure-Python wheel; skipped with a notice when it cannot be reached.
    @Test func realIndexThroughTheProxy() throws {
        let serve = try ServeProcess(root: root, arguments: ["--npm-upstream", upstream.baseURL + "/"])
        let probe = try CurlGet.run(serve.base + "/pypi/simple/six/")
        guard probe.status == 200 else {
            print("notice: pip's configured index is not reachable through the proxy (HTTP \(probe.status): \(probe.text.prefix(200))); skipping")
            _ = try serve.stop()
            return
        }
        #expect(!ServeFixtures.links(probe.text).contains { !$0.hasPrefix(serve.base + "/pypi/files/six/") })
        let python = try ServeFixtures.venv(root.appendingPathComponent("venv"))
        let installed = try ServeFixtures.pipInstall(python, ["six==1.16.0"], index: serve.base + "/pypi/simple/", cwd: root)
        #expect(installed.status == 0, "\(installed.out)\n\(installed.err)")
        let lock = try ServeFixtures.lockEntries(serve.lockfile)
        let pinned = lock["pypi:six@1.16.0"]?["sha256"] as? String
        #expect(pinned?.count == 64)
        // The pin is the digest of the wheel pip downloads from its configured index directly (not through Bouncer).
        let direct = root.appendingPathComponent("direct")
        let downloaded = try BouncerProcess.runProgram("/usr/bin/env", ["-u", "PIP_FIND_LINKS", "PIP_CONFIG_FILE=/dev/null", python, "-m", "pip", "download",
                                                                        "--no-deps", "--no-cache-dir", "--only-binary", ":all:", "-d", direct.path, "six==1.16.0"])
        #expect(downloaded.status == 0, "\(downloaded.err)")
        let wheel = (try? FileManager.default.contentsOfDirectory(atPath: direct.path))?.first { $0.hasSuffix(".whl") }
        #expect(try wheel.map { try ServeFixtures.sha256(direct.appendingPathComponent($0)) } == pinned)
        let version = try BouncerProcess.runProgram(python, ["-c", "import six; print(six.__version__)"])
        #expect(version.out.trimmingCharacters(in: .whitespacesAndNewlines) == "1.16.0")
        #expect(try serve.stop().status == 0)
    }
}
