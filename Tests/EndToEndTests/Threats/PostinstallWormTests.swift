import Foundation
import Testing
import BouncerTestSupport

/// The npm worms (Shai-Hulud, 2025): a compromised package's `postinstall`
/// runs on every machine that installs it and publishes itself onward.
/// `installScripts` refuses any package with install-time code unless the
/// policy names it: the worm is refused, nothing is installed and its script
/// never runs (its marker file never appears); a package the policy allows
/// installs and its script runs as npm runs it.
@Suite(.blocking, .serialized) struct PostinstallWormTests {
    let root: URL

    init() throws {
        root = try BouncerProcess.temporaryDirectory("bouncer-threat-worm")
    }

    /// A postinstall that leaves a marker file (node, so that it runs wherever npm does).
    static func markerScript(_ path: URL) -> String {
        "node -e \"require('fs').writeFileSync('\(path.path)', 'ran')\""
    }

    /// The project's lock, written by the real npm straight from the registry (no shim, no scripts).
    func lock(_ harness: ShimHarness, _ registry: TimedRegistry, dependencies: [String: String]) throws {
        let manifest: [String: Any] = ["name": "app", "version": "1.0.0", "dependencies": dependencies]
        try JSONSerialization.data(withJSONObject: manifest).write(to: harness.file("package.json"))
        let locked = try BouncerProcess.runProgram(registry.npm, ["install", "--package-lock-only", "--no-audit", "--no-fund", "--registry", registry.url],
                                                   cwd: harness.project.path,
                                                   environment: ["npm_config_cache": harness.root.appendingPathComponent("npm-cache-lock").path])
        guard locked.status == 0 else { throw SetupError("npm install --package-lock-only failed: \(locked.err)") }
    }

    @Test func theWormIsRefusedAndItsPostinstallNeverRuns() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let marker = root.appendingPathComponent("worm-ran")
        let registry = try TimedRegistry(root: root)
        try registry.publish("worm", "1.0.0", time: "2024-01-01T00:00:00.000Z", scripts: ["postinstall": Self.markerScript(marker)])
        try registry.publish("plain", "1.0.0", time: "2024-01-01T00:00:00.000Z")
        let harness = try ShimHarness("bouncer-threat-worm-shim")
        defer { harness.cleanup() }
        try ThreatFixtures.policy().write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        try lock(harness, registry, dependencies: ["worm": "1.0.0", "plain": "1.0.0"])

        let result = try harness.sh("npm ci")
        #expect(result.status == 1, "\(result.out)\n\(result.err)")
        #expect(result.err.contains("refused worm@1.0.0"), "\(result.err)")
        #expect(result.err.contains("postinstall"), "\(result.err)")
        #expect(result.err.contains("installScripts.allow"), "\(result.err)")
        #expect(!result.err.contains("refused plain@1.0.0"), "the plain package is not the problem: \(result.err)")
        #expect(!FileManager.default.fileExists(atPath: marker.path), "the worm's postinstall ran")
        #expect(!harness.exists("node_modules/worm"), "nothing of the worm landed")
        #expect(!harness.exists("node_modules/plain"), "nothing at all is installed when one package is refused")
        #expect(ThreatFixtures.lockEntries(harness.file("bouncer.lock"))["npm:worm@1.0.0"] == nil)
    }

    /// No install script, but a `binding.gyp`: npm runs `node-gyp rebuild` for
    /// it at install (compiling whatever the package ships). Refused the same way.
    @Test func aBindingGypIsAnInstallScript() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let registry = try TimedRegistry(root: root)
        try registry.publish("native", "1.0.0", time: "2024-01-01T00:00:00.000Z",
                             files: ["binding.gyp": #"{ "targets": [ { "target_name": "native", "sources": [ "native.cc" ] } ] }"#])
        let harness = try ShimHarness("bouncer-threat-gyp-shim")
        defer { harness.cleanup() }
        try ThreatFixtures.policy().write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        try lock(harness, registry, dependencies: ["native": "1.0.0"])
        let result = try harness.sh("npm ci")
        #expect(result.status == 1, "\(result.out)\n\(result.err)")
        #expect(result.err.contains("refused native@1.0.0"), "\(result.err)")
        #expect(result.err.contains("binding.gyp"), "\(result.err)")
        #expect(!harness.exists("node_modules/native/binding.gyp"), "nothing of it landed")
        #expect(ThreatFixtures.lockEntries(harness.file("bouncer.lock"))["npm:native@1.0.0"] == nil)
    }

    @Test func theWormIsRefusedThroughServeAndItsPostinstallNeverRuns() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let marker = root.appendingPathComponent("worm-ran")
        let registry = try TimedRegistry(root: root)
        try registry.publish("worm", "1.0.0", time: "2024-01-01T00:00:00.000Z", scripts: ["postinstall": Self.markerScript(marker)])
        let serve = try ServeProcess(root: root, arguments: ["--npm-upstream", registry.url], policy: ThreatFixtures.policy())
        let project = root.appendingPathComponent("app")
        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
        try #"{"name":"app","version":"1.0.0"}"#.write(to: project.appendingPathComponent("package.json"), atomically: true, encoding: .utf8)
        let installed = try BouncerProcess.runProgram(registry.npm, ["install", "--no-fund", "--no-audit", "worm"], cwd: project.path, environment: [
            "npm_config_registry": serve.base + "/npm/", "npm_config_cache": root.appendingPathComponent("npm-cache").path,
            "npm_config_update_notifier": "false", "HOME": root.path])
        #expect(installed.status != 0)
        #expect((installed.out + installed.err).contains("403"), "\(installed.out)\n\(installed.err)")
        #expect(!FileManager.default.fileExists(atPath: marker.path), "the worm's postinstall ran")
        #expect(!FileManager.default.fileExists(atPath: project.appendingPathComponent("node_modules/worm/index.js").path))
        let stopped = try serve.stop()
        #expect(stopped.err.contains("postinstall"), "\(stopped.err)")
    }

    @Test func aPackageThePolicyAllowsInstallsAndItsScriptRuns() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let marker = root.appendingPathComponent("builder-ran")
        let registry = try TimedRegistry(root: root)
        try registry.publish("builder", "1.0.0", time: "2024-01-01T00:00:00.000Z", scripts: ["postinstall": Self.markerScript(marker)])
        let harness = try ShimHarness("bouncer-threat-builder-shim")
        defer { harness.cleanup() }
        try ThreatFixtures.policy(top: [#""installScripts": { "allow": ["build*"] }"#]).write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        try lock(harness, registry, dependencies: ["builder": "1.0.0"])

        let result = try harness.sh("npm ci")
        #expect(result.status == 0, "\(result.out)\n\(result.err)")
        #expect(harness.exists("node_modules/builder/index.js"))
        #expect(FileManager.default.fileExists(atPath: marker.path), "an allowed package's postinstall runs as npm runs it")
        #expect(ThreatFixtures.lockEntries(harness.file("bouncer.lock"))["npm:builder@1.0.0"] != nil)
    }
}
