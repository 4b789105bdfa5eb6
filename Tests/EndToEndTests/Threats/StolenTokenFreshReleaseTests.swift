import Foundation
import Testing
import BouncerTestSupport

/// The stolen-token publish (chalk/debug, 2025): a malicious version is
/// published with a maintainer's token and pulled by every fresh install
/// within hours. `minimumReleaseAge` keeps a release out until it has aged:
/// through `bouncer serve` a range resolves to the newest version old enough,
/// and the fresh one asked for exactly is refused, naming when it becomes
/// installable; through the shims the fresh version is refused before its
/// bytes are fetched.
@Suite(.blocking, .serialized) struct StolenTokenFreshReleaseTests {
    let root: URL
    let fresh: Date
    let policy = ThreatFixtures.policy(top: [#""minimumReleaseAge": "48h""#])

    init() throws {
        root = try BouncerProcess.temporaryDirectory("bouncer-threat-fresh")
        fresh = ThreatFixtures.now().addingTimeInterval(-3600)
    }

    /// When the fresh release may be installed: its release time + 48 h, computed here.
    var installableFrom: String { ThreatFixtures.utc(fresh.addingTimeInterval(48 * 3600)) }

    func publishPython() throws -> JSONIndex {
        let index = try JSONIndex(root: root.appendingPathComponent("index"))
        let old = try ThreatFixtures.wheel("fresh", "1.0", marker: "aged", into: index.packages)
        let new = try ThreatFixtures.wheel("fresh", "1.1", marker: "STOLEN TOKEN", into: index.packages)
        try index.page("fresh", [(old, ThreatFixtures.longAgo), (new, ThreatFixtures.utc(fresh))])
        return index
    }

    @Test func serveOffersPipOnlyTheAgedReleaseAndRefusesTheFreshOneExactly() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let index = try publishPython()
        let serve = try ServeProcess(root: root, arguments: ["--pypi-upstream", index.url], policy: policy)
        let simple = serve.base + "/pypi/simple/"

        let python = try ServeFixtures.venv(root.appendingPathComponent("venv"))
        let ranged = try ServeFixtures.pipInstall(python, ["fresh>=1"], index: simple, cwd: root)
        #expect(ranged.status == 0, "\(ranged.out)\n\(ranged.err)")
        let marker = try BouncerProcess.runProgram(python, ["-c", "import fresh; print(fresh.MARKER)"], cwd: root.path)
        #expect(marker.out.trimmingCharacters(in: .whitespacesAndNewlines) == "aged")

        let page = try CurlGet.run(simple + "fresh/")
        #expect(!page.text.contains("fresh-1.1"), "the fresh release is not offered: \(page.text)")
        let exact = try CurlGet.run(serve.base + "/pypi/files/fresh/fresh-1.1-py3-none-any.whl")
        #expect(exact.status == 403)
        #expect(exact.text.contains("installable from \(installableFrom)"), "\(exact.text)")
        #expect(exact.text.contains("minimumReleaseAge of 48h"), "\(exact.text)")

        let python2 = try ServeFixtures.venv(root.appendingPathComponent("venv2"))
        let pinned = try ServeFixtures.pipInstall(python2, ["fresh==1.1"], index: simple, cwd: root)
        #expect(pinned.status != 0)
        let absent = try BouncerProcess.runProgram(python2, ["-c", "import fresh"], cwd: root.path)
        #expect(absent.status != 0, "nothing of fresh was installed")

        #expect(index.fetches(of: "fresh-1.1-py3-none-any.whl") == 0, "the fresh wheel was never fetched: \(index.files.requests)")
        let lock = ThreatFixtures.lockEntries(serve.lockfile)
        #expect(lock["pypi:fresh@1.0"] != nil)
        #expect(lock["pypi:fresh@1.1"] == nil)
        #expect(try serve.stop().status == 0)
    }

    /// Through the pip shim (its own proxy): the exact fresh version finds
    /// nothing and the shim says when it becomes installable; a range resolves
    /// to the aged release, which installs with the index's upload-time as its age.
    @Test func pipShimRefusesTheFreshReleaseAndInstallsTheAgedOne() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let index = try publishPython()
        let harness = try ThreatFixtures.pipHarness("bouncer-threat-fresh-shim", policy: policy)
        defer { harness.cleanup() }
        let pip = "\(ThreatFixtures.pipInstall) --index-url '\(index.url)'"

        let refused = try harness.sh("\(pip) fresh==1.1")
        #expect(refused.status == 1, "\(refused.out)\n\(refused.err)")
        #expect(refused.err.contains("not offered: fresh-1.1-py3-none-any.whl"), "\(refused.err)")
        #expect(refused.err.contains("installable from \(installableFrom)"), "\(refused.err)")
        #expect(index.fetches(of: "fresh-1.1-py3-none-any.whl") == 0, "never fetched: \(index.files.requests)")
        let absent = try harness.sh("python -c 'import fresh'")
        #expect(absent.status != 0)

        // A range takes the aged release: the proxy handed the index's upload-time to the guard
        // (without it the age would be unknown, and refused).
        let aged = try harness.sh("\(pip) 'fresh>=1.0'")
        #expect(aged.status == 0, "\(aged.out)\n\(aged.err)")
        let marker = try harness.sh("python -c 'import fresh; print(fresh.MARKER)'")
        #expect(marker.out.trimmingCharacters(in: .whitespacesAndNewlines) == "aged")
        #expect(ThreatFixtures.lockEntries(harness.file("bouncer.lock"))["pypi:fresh@1.0"] != nil)
        #expect(ThreatFixtures.lockEntries(harness.file("bouncer.lock"))["pypi:fresh@1.1"] == nil)
    }

    @Test func pipShimRefusesAReleaseOfUnknownAge() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let index = try JSONIndex(root: root.appendingPathComponent("index"))
        let file = try ThreatFixtures.wheel("undated", "1.0", marker: "undated", into: index.packages)
        try index.page("undated", [(file, nil)])
        var harness = try ShimHarness("bouncer-threat-undated")
        defer { harness.cleanup() }
        let venv = harness.root.appendingPathComponent("venv")
        _ = try ServeFixtures.venv(venv)
        harness.extraPath = [venv.appendingPathComponent("bin").path]
        try policy.write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        let result = try harness.sh("env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null pip install --index-url '\(index.url)' undated==1.0")
        #expect(result.status == 1, "\(result.out)\n\(result.err)")
        #expect(result.err.contains("release time is unknown"), "\(result.err)")
        #expect(index.fetches(of: file) <= 1, "only the real pip's dry run read it: \(index.files.requests)")
        #expect((try harness.sh("python -c 'import undated'")).status != 0)
    }

    func publishNpm() throws -> TimedRegistry {
        let registry = try TimedRegistry(root: root)
        try registry.publish("fresh", "1.0.0", time: "2024-01-01T00:00:00.000Z", body: "module.exports = 'aged';\n")
        try registry.publish("fresh", "1.1.0", time: ThreatFixtures.utc(fresh), body: "module.exports = 'STOLEN TOKEN';\n")
        return registry
    }

    @Test func serveResolvesAnNpmRangeToTheAgedVersionAndRefusesTheFreshTarball() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let registry = try publishNpm()
        let serve = try ServeProcess(root: root, arguments: ["--npm-upstream", registry.url], policy: policy)
        let project = root.appendingPathComponent("app")
        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
        try #"{"name":"app","version":"1.0.0"}"#.write(to: project.appendingPathComponent("package.json"), atomically: true, encoding: .utf8)
        let environment = ["npm_config_registry": serve.base + "/npm/", "npm_config_cache": root.appendingPathComponent("npm-cache").path,
                           "npm_config_update_notifier": "false", "HOME": root.path]
        let installed = try BouncerProcess.runProgram(registry.npm, ["install", "--no-fund", "--no-audit", "fresh@^1.0.0"],
                                                      cwd: project.path, environment: environment)
        #expect(installed.status == 0, "\(installed.out)\n\(installed.err)")
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: project.appendingPathComponent("node_modules/fresh/package.json"))) as? [String: Any]
        #expect(manifest?["version"] as? String == "1.0.0")

        let packument = try CurlGet.run(serve.base + "/npm/fresh")
        let document = try JSONSerialization.jsonObject(with: packument.body) as? [String: Any]
        #expect((document?["versions"] as? [String: Any])?.keys.sorted() == ["1.0.0"])
        #expect((document?["dist-tags"] as? [String: String])?["latest"] == "1.0.0")
        #expect((document?["time"] as? [String: Any])?["1.1.0"] == nil)

        let exact = try CurlGet.run(serve.base + "/npm/fresh/-/fresh-1.1.0.tgz")
        #expect(exact.status == 403)
        #expect(exact.text.contains("installable from \(installableFrom)"), "\(exact.text)")
        #expect(registry.tarballFetches("fresh").allSatisfy { !$0.contains("1.1.0") }, "\(registry.server.requests)")
        #expect(ThreatFixtures.lockEntries(serve.lockfile)["npm:fresh@1.1.0"] == nil)
        #expect(try serve.stop().status == 0)
    }

    @Test func npmShimRefusesAFreshVersionTheLockNames() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let registry = try publishNpm()
        let harness = try ShimHarness("bouncer-threat-fresh-npm")
        defer { harness.cleanup() }
        try policy.write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        try #"{"name":"app","version":"1.0.0","dependencies":{"fresh":"1.1.0"}}"#.write(to: harness.file("package.json"), atomically: true, encoding: .utf8)
        // The lock written by the real npm, straight from the registry (no shim).
        let locked = try BouncerProcess.runProgram(registry.npm, ["install", "--package-lock-only", "--no-audit", "--no-fund", "--registry", registry.url],
                                                   cwd: harness.project.path,
                                                   environment: ["npm_config_cache": harness.root.appendingPathComponent("npm-cache-lock").path])
        #expect(locked.status == 0, "\(locked.err)")
        let result = try harness.sh("npm ci")
        #expect(result.status == 1, "\(result.out)\n\(result.err)")
        #expect(result.err.contains("installable from \(installableFrom)"), "\(result.err)")
        #expect(!harness.exists("node_modules/fresh"))
        #expect(registry.tarballFetches("fresh").isEmpty, "refused before the tarball was fetched: \(registry.server.requests)")
    }

    /// Through the npm shim (its own proxy): `npm install fresh@^1.0.0` takes the
    /// aged 1.0.0, never fetching the one-hour-old 1.1.0; asked for exactly, the
    /// fresh one is not there and the shim says when it becomes installable.
    @Test func npmShimResolvesARangeToTheAgedVersion() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let registry = try publishNpm()
        let harness = try ShimHarness("bouncer-threat-fresh-npm-range")
        defer { harness.cleanup() }
        try policy.write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        try #"{"name":"app","version":"1.0.0"}"#.write(to: harness.file("package.json"), atomically: true, encoding: .utf8)
        let ranged = try harness.sh("npm install --registry '\(registry.url)' 'fresh@^1.0.0'")
        #expect(ranged.status == 0, "\(ranged.out)\n\(ranged.err)")
        let installed = try String(contentsOf: harness.file("node_modules/fresh/package.json"), encoding: .utf8)
        #expect(installed.contains("\"1.0.0\""), "\(installed)")
        #expect(registry.tarballFetches("fresh").allSatisfy { !$0.contains("1.1.0") }, "\(registry.server.requests)")
        #expect(ThreatFixtures.lockEntries(harness.file("bouncer.lock"))["npm:fresh@1.0.0"] != nil)

        let exact = try harness.sh("npm install --registry '\(registry.url)' fresh@1.1.0")
        #expect(exact.status != 0, "\(exact.out)\n\(exact.err)")
        #expect(exact.err.contains("not offered: fresh@1.1.0") && exact.err.contains("installable from \(installableFrom)"), "\(exact.err)")
        #expect(registry.tarballFetches("fresh").allSatisfy { !$0.contains("1.1.0") }, "\(registry.server.requests)")
        #expect(ThreatFixtures.lockEntries(harness.file("bouncer.lock"))["npm:fresh@1.1.0"] == nil)
    }
}
