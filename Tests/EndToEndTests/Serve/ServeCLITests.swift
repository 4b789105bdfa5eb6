import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import BouncerTestSupport

/// `bouncer serve`'s contract outside the proxying itself: help, usage and
/// configuration errors (exit 2), an address it cannot listen on (exit 3).
@Suite(.blocking) struct ServeCLITests {
    @Test func helpAndErrorsUseTheDocumentedExitCodes() throws {
        let help = try BouncerProcess.run(["serve", "--help"])
        #expect(help.status == 0)
        #expect(help.out.contains("--pypi-upstream") && help.out.contains("--ready-file") && help.out.contains("SIGTERM"))
        #expect(help.out.contains("--verify-ahead"))
        // The binary `bouncer serve` execs, asked directly (its --help once read options it never parsed).
        let server = (BouncerProcess.executable as NSString).deletingLastPathComponent + "/bouncer-serve"
        let direct = try BouncerProcess.runProgram(server, ["--help"])
        #expect(direct.status == 0, "\(direct.err)")
        #expect(direct.out.contains("--verify-ahead"), "\(direct.out)")

        let badListen = try BouncerProcess.run(["serve", "--listen", "nonsense", "--pypi-upstream", "http://127.0.0.1:9/", "--npm-upstream", "http://127.0.0.1:9/"])
        #expect(badListen.status == 2)
        #expect(badListen.err.contains("--listen nonsense"))

        let noPolicy = try BouncerProcess.run(["serve", "--policy", "/nonexistent/policy.json"])
        #expect(noPolicy.status == 2)

        let unknown = try BouncerProcess.run(["serve", "--bogus"])
        #expect(unknown.status == 2)

        // The npm shim's lock of tarballs to verify ahead: unreadable or malformed is a configuration error.
        let root = try BouncerProcess.temporaryDirectory("bouncer-serve-cli-expect")
        defer { try? FileManager.default.removeItem(at: root) }
        try #"{"version": 1, "rules": []}"#.write(to: root.appendingPathComponent("policy.json"), atomically: true, encoding: .utf8)
        try #"[{"name": "lib", "file": "../x.tgz", "version": "1.0.0"}]"#.write(to: root.appendingPathComponent("expect.json"), atomically: true, encoding: .utf8)
        for (file, said) in [("missing.json", "no such file"), ("expect.json", "$[0] is not {name, file, version, integrity}")] {
            let bad = try BouncerProcess.run(["serve", "--policy", root.appendingPathComponent("policy.json").path, "--npm-upstream", "http://127.0.0.1:9/",
                                              "--npm-expect", root.appendingPathComponent(file).path])
            #expect(bad.status == 2, "\(bad.err)")
            #expect(bad.err.contains(file) && bad.err.contains(said), "\(bad.err)")
        }
    }

    @Test func anAddressInUseIsAnIOFailure() throws {
        let root = try BouncerProcess.temporaryDirectory("bouncer-serve-cli")
        defer { try? FileManager.default.removeItem(at: root) }
        let holder = try DirectoryHTTPServer(root: root.path)
        try ServeProcess.policy().write(to: root.appendingPathComponent("policy.json"), atomically: true, encoding: .utf8)
        let busy = try BouncerProcess.run(["serve", "--listen", "127.0.0.1:\(holder.port)", "--policy", root.appendingPathComponent("policy.json").path,
                                           "--pypi-upstream", "http://127.0.0.1:9/", "--npm-upstream", "http://127.0.0.1:9/"])
        #expect(busy.status == 3)
        #expect(busy.err.contains("cannot listen on 127.0.0.1:\(holder.port)"))
        holder.stop()
    }
    /// With no index configured, the proxy asks pip for its default: isolated, so a
    /// `pip/` in the folder it starts in (an unpacked archive, a checkout) is not what
    /// runs (red team, round 5: `python3 -c` put the working folder first on sys.path).
    @Test func pipsDefaultIndexIsNotAskedOfAPipInTheWorkingFolder() throws {
        let root = try BouncerProcess.temporaryDirectory("bouncer-serve-cwd-pip")
        defer { try? FileManager.default.removeItem(at: root) }
        let marker = root.appendingPathComponent("cwd-pip-ran")
        let planted = root.appendingPathComponent("project/pip")
        try FileManager.default.createDirectory(at: planted, withIntermediateDirectories: true)
        try "open(\(String(reflecting: marker.path)), 'w').write('ran')\n".write(to: planted.appendingPathComponent("__init__.py"), atomically: true, encoding: .utf8)
        let upstream = try DirectoryHTTPServer(root: root.path)
        defer { upstream.stop() }
        let serve = try ServeProcess(root: root, arguments: ["--npm-upstream", upstream.baseURL + "/", "--quiet"],
                                     environment: ["PIP_CONFIG_FILE": "/dev/null"], unsetting: ["PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS"])
        // A page request waits for the upstream pip names, so the question has been asked by then.
        _ = try CurlGet.run(serve.base + "/pypi/simple/bouncer-no-such-project/")
        #expect(try serve.stop().status == 0)
        #expect(!FileManager.default.fileExists(atPath: marker.path), "the working folder's pip/ ran")
    }

    /// `bouncer shims check` says which clients' index is a running proxy (and
    /// which is not), and what else each takes packages from itself, which no
    /// proxy sees: pip's find-links and extra indexes, uv's (its environment and
    /// its project's pyproject.toml), npm's scope registries.
    @Test func shimsCheckSaysWhichClientsReachTheProxyAndWhatGoesAroundIt() throws {
        let root = try BouncerProcess.temporaryDirectory("bouncer-serve-coverage")
        defer { try? FileManager.default.removeItem(at: root) }
        let upstream = try DirectoryHTTPServer(root: root.path)
        defer { upstream.stop() }
        let serve = try ServeProcess(root: root, arguments: ["--pypi-upstream", upstream.baseURL + "/simple/", "--npm-upstream", upstream.baseURL + "/", "--quiet"])
        let wheels = root.appendingPathComponent("wheels").path
        let environment = [
            "HOME": root.path, "PIP_CONFIG_FILE": "/dev/null",
            "PIP_INDEX_URL": serve.base + "/pypi/simple/", "PIP_FIND_LINKS": wheels, "PIP_EXTRA_INDEX_URL": "",
            "UV_DEFAULT_INDEX": serve.base + "/pypi/simple/", "UV_INDEX_URL": "",
            "UV_INDEX": "internal=http://127.0.0.1:9/simple/", "UV_EXTRA_INDEX_URL": "", "UV_FIND_LINKS": "",
            "npm_config_registry": serve.base + "/npm/", "npm_config_@acme:registry": "http://127.0.0.1:9/npm/",
            // A scope pointed at the proxy goes through it: not said to go around it.
            "npm_config_@served:registry": serve.base + "/npm/",
        ]
        // uv's own configuration: the project's pyproject.toml names another index and a wheelhouse.
        try "[project]\nname = \"demo\"\n\n[tool.uv]\nfind-links = [\"./vendor\"]\n\n[[tool.uv.index]]\nname = \"corp\"\nurl = \"http://127.0.0.1:9/corp/\"\n"
            .write(to: root.appendingPathComponent("pyproject.toml"), atomically: true, encoding: .utf8)
        let human = try BouncerProcess.run(["shims", "check"], cwd: root.path, environment: environment)
        #expect(human.out.contains("pip index: \(serve.base)/pypi/simple/ (a running bouncer serve at \(serve.base)"), "\(human.out)")
        #expect(human.out.contains("pip also takes packages from \(wheels) itself, NOT through bouncer serve"), "\(human.out)")
        #expect(human.out.contains("then run pip with PIP_CONFIG_FILE=/dev/null"), "\(human.out)")
        #expect(human.out.contains("uv also takes packages from http://127.0.0.1:9/simple/, http://127.0.0.1:9/corp/, ./vendor itself"), "\(human.out)")
        #expect(human.out.contains("npm also takes packages from @acme:registry=http://127.0.0.1:9/npm/ itself"), "\(human.out)")
        #expect(human.out.contains("env 'npm_config_@SCOPE:registry=\(serve.base)/npm/' npm ci"), "\(human.out)")
        #expect(!human.out.contains("@served"), "\(human.out)")
        // An index that is not the proxy: said so, and no line about going around a proxy it does not use.
        var direct = environment
        direct["UV_DEFAULT_INDEX"] = upstream.baseURL + "/simple/"
        let unproxied = try BouncerProcess.run(["shims", "check"], cwd: root.path, environment: direct)
        #expect(unproxied.out.contains("uv index: \(upstream.baseURL)/simple/ (not a running bouncer serve)"), "\(unproxied.out)")
        #expect(!unproxied.out.contains("uv also takes"), "\(unproxied.out)")

        let json = try BouncerProcess.run(["shims", "check", "--json"], cwd: root.path, environment: environment)
        let object = try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any]
        let indexes = (object?["indexes"] as? [[String: String]]) ?? []
        let byTool = Dictionary(uniqueKeysWithValues: indexes.compactMap { row in row["tool"].map { ($0, row) } })
        #expect(byTool["pip"]?["proxy"] == serve.base)
        #expect(byTool["pip"]?["direct"] == wheels)
        #expect(byTool["uv"]?["proxy"] == serve.base)
        #expect(byTool["uv"]?["direct"] == "http://127.0.0.1:9/simple/ http://127.0.0.1:9/corp/ ./vendor")
        #expect(byTool["npm"]?["proxy"] == serve.base)
        #expect(byTool["npm"]?["direct"] == "@acme:registry=http://127.0.0.1:9/npm/")
        #expect(try serve.stop().status == 0)
    }
}
