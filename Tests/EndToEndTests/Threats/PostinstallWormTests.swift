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

    /// Manifest confusion: the registry's manifest for a version states a `postinstall` its
    /// tarball's package.json does not have. npm runs the manifest's scripts, not the tarball's,
    /// so the proxy serves no manifest scripts: npm runs only what Bouncer judged (here, nothing).
    /// With a minimum release age the proxy reads full packuments, which carry `scripts`.
    @Test(arguments: [false, true]) func aPostinstallOnlyTheRegistrysManifestStatesNeverRuns(releaseAge: Bool) throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let marker = root.appendingPathComponent("confused-ran")
        let registry = try TimedRegistry(root: root)
        try registry.publish("confused", "1.0.0", time: "2024-01-01T00:00:00.000Z",
                             packumentOnly: ["scripts": ["postinstall": Self.markerScript(marker)]])
        let harness = try ShimHarness("bouncer-threat-confused-shim")
        defer { harness.cleanup() }
        try ThreatFixtures.policy(top: releaseAge ? [#""minimumReleaseAge": "48h""#] : [])
            .write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        try #"{"name":"app","version":"1.0.0"}"#.write(to: harness.file("package.json"), atomically: true, encoding: .utf8)

        let result = try harness.sh("npm install --no-audit --no-fund --registry '\(registry.url)' confused@1.0.0")
        #expect(result.status == 0, "\(result.out)\n\(result.err)")
        #expect(harness.exists("node_modules/confused/index.js"), "the package itself installs: its tarball runs nothing")
        #expect(!FileManager.default.fileExists(atPath: marker.path), "npm ran a postinstall only the registry's manifest stated")
        #expect(ThreatFixtures.lockEntries(harness.file("bouncer.lock"))["npm:confused@1.0.0"] != nil)
    }

    /// A bundled dependency (`bundleDependencies`, shipped inside the tarball under
    /// `node_modules/`) whose own package.json has a `postinstall`: npm runs it too.
    @Test func aBundledDependencysPostinstallIsAnInstallScript() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let marker = root.appendingPathComponent("bundled-ran")
        let registry = try TimedRegistry(root: root)
        let inner: [String: Any] = ["name": "inner", "version": "1.0.0", "scripts": ["postinstall": Self.markerScript(marker)]]
        try registry.publish("bundler", "1.0.0", time: "2024-01-01T00:00:00.000Z", dependencies: ["inner": "1.0.0"],
                             files: ["node_modules/inner/package.json": String(decoding: try JSONSerialization.data(withJSONObject: inner), as: UTF8.self),
                                     "node_modules/inner/index.js": "module.exports = 1;\n"],
                             fields: ["bundleDependencies": ["inner"]])
        let harness = try ShimHarness("bouncer-threat-bundled-shim")
        defer { harness.cleanup() }
        try ThreatFixtures.policy().write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        try lock(harness, registry, dependencies: ["bundler": "1.0.0"])

        let result = try harness.sh("npm ci")
        #expect(result.status == 1, "\(result.out)\n\(result.err)")
        #expect(result.err.contains("refused bundler@1.0.0"), "\(result.err)")
        #expect(result.err.contains("postinstall of the bundled node_modules/inner"), "\(result.err)")
        #expect(!FileManager.default.fileExists(atPath: marker.path), "the bundled dependency's postinstall ran")
        #expect(!harness.exists("node_modules/bundler"), "nothing of it landed")
    }

    /// `"install": null` is no install script to npm (it tests `!install`), so a
    /// binding.gyp beside it still gets `node-gyp rebuild`, run from the package's own
    /// `node-gyp` command when it ships one.
    @Test func aBindingGypBesideAFalseInstallScriptIsAnInstallScript() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let marker = root.appendingPathComponent("gyp-ran")
        let registry = try TimedRegistry(root: root)
        try registry.publish("gypped", "1.0.0", time: "2024-01-01T00:00:00.000Z",
                             files: ["binding.gyp": #"{ "targets": [] }"#,
                                     "gyp.js": "#!/usr/bin/env node\nrequire('fs').writeFileSync(\(String(reflecting: marker.path)), 'ran')\n"],
                             fields: ["scripts": ["install": NSNull()], "bin": ["build-it": "gyp.js"]])
        let harness = try ShimHarness("bouncer-threat-gyp-null-shim")
        defer { harness.cleanup() }
        try ThreatFixtures.policy().write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        try lock(harness, registry, dependencies: ["gypped": "1.0.0"])

        let result = try harness.sh("npm ci")
        #expect(result.status == 1, "\(result.out)\n\(result.err)")
        #expect(result.err.contains("refused gypped@1.0.0"), "\(result.err)")
        #expect(result.err.contains("node-gyp rebuild (implicit: binding.gyp present)"), "\(result.err)")
        #expect(!harness.exists("node_modules/gypped"), "nothing of it landed")
    }

    /// A package with no script of its own but a command named `node`: npm links it into
    /// node_modules/.bin, first on the PATH of every install script, so an allowed
    /// package's `postinstall` that calls `node` runs it. Refused as an install script.
    @Test func aCommandNamedLikeOneInstallScriptsRunIsAnInstallScript() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let marker = root.appendingPathComponent("shadow-ran")
        let registry = try TimedRegistry(root: root)
        try registry.publish("builder", "1.0.0", time: "2024-01-01T00:00:00.000Z", scripts: ["postinstall": "node -e 0"])
        try registry.publish("shadow", "1.0.0", time: "2024-01-01T00:00:00.000Z",
                             files: ["n.js": "#!/usr/bin/node\nrequire('fs').writeFileSync(\(String(reflecting: marker.path)), 'ran')\n"],
                             bin: ["node": "n.js"])
        let harness = try ShimHarness("bouncer-threat-shadow-shim")
        defer { harness.cleanup() }
        try ThreatFixtures.policy(top: [#""installScripts": { "allow": ["builder"] }"#])
            .write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        try #"{"name":"app","version":"1.0.0"}"#.write(to: harness.file("package.json"), atomically: true, encoding: .utf8)

        // npm install resolves through the proxy, which does not offer the version at all;
        // npm ci from a lock written without Bouncer is refused before npm starts, for the lock's
        // `bin` (what npm links; the tarball's own is refused too: `ArchiveInspectTests`).
        let installed = try harness.sh("npm install --no-audit --no-fund --registry '\(registry.url)' shadow@1.0.0 builder@1.0.0")
        #expect(installed.status != 0, "\(installed.out)\n\(installed.err)")
        #expect(installed.err.contains("command named node"), "\(installed.err)")
        try lock(harness, registry, dependencies: ["shadow": "1.0.0", "builder": "1.0.0"])
        let result = try harness.sh("npm ci")
        #expect(result.status == 1, "\(result.out)\n\(result.err)")
        #expect(result.err.contains("node_modules/shadow installs the command node"), "\(result.err)")
        #expect(!FileManager.default.fileExists(atPath: marker.path), "the package's node ran in place of node")
        #expect(!harness.exists("node_modules/shadow"), "nothing of it landed")

        // Any program on PATH: the project's own `prepare` runs `mkdir`, nothing is allowed to run scripts.
        try registry.publish("mkdirs", "1.0.0", time: "2024-01-01T00:00:00.000Z",
                             files: ["m.js": "#!/usr/bin/node\nrequire('fs').writeFileSync(\(String(reflecting: marker.path)), 'ran')\n"],
                             bin: ["mkdir": "m.js"])
        try ThreatFixtures.policy().write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        try #"{"name":"app","version":"1.0.0","scripts":{"prepare":"mkdir -p dist"},"dependencies":{"mkdirs":"1.0.0"}}"#
            .write(to: harness.file("package.json"), atomically: true, encoding: .utf8)
        try? FileManager.default.removeItem(at: harness.file("package-lock.json"))
        let prepared = try harness.sh("npm install --no-audit --no-fund --registry '\(registry.url)'")
        #expect(prepared.status != 0, "\(prepared.out)\n\(prepared.err)")
        #expect(prepared.err.contains("command named mkdir"), "\(prepared.err)")
        #expect(!FileManager.default.fileExists(atPath: marker.path), "the package's mkdir ran in place of mkdir")
    }

    /// A package that installs another dependency's command: npm links either into
    /// node_modules/.bin (whichever sorts first) and the project's own `postinstall` runs
    /// it by name. A red-team pass ran code that way with `aaevil` claiming `prisma`.
    /// Through the shim's proxy the second package to claim it is not offered; `npm ci`
    /// of a lock naming both is refused before npm starts.
    @Test func twoPackagesInstallingOneCommandAreRefused() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let marker = root.appendingPathComponent("claimed-ran")
        let registry = try TimedRegistry(root: root)
        try registry.publish("prisma", "1.0.0", time: "2024-01-01T00:00:00.000Z", files: ["cli.js": "#!/usr/bin/env node\n"],
                             bin: ["prisma": "cli.js"])
        try registry.publish("aaevil", "1.0.0", time: "2024-01-01T00:00:00.000Z",
                             files: ["x.js": "#!/usr/bin/env node\nrequire('fs').writeFileSync(\(String(reflecting: marker.path)), 'ran')\n"],
                             bin: ["prisma": "x.js"])
        let harness = try ShimHarness("bouncer-threat-claimed-shim")
        defer { harness.cleanup() }
        try ThreatFixtures.policy().write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        try #"{"name":"app","version":"1.0.0","scripts":{"postinstall":"prisma"},"dependencies":{"prisma":"1.0.0","aaevil":"1.0.0"}}"#
            .write(to: harness.file("package.json"), atomically: true, encoding: .utf8)

        let installed = try harness.sh("npm install --no-audit --no-fund --registry '\(registry.url)'")
        #expect(installed.status != 0, "\(installed.out)\n\(installed.err)")
        #expect(installed.err.contains("installs a command named prisma, as"), "\(installed.err)")
        #expect(!FileManager.default.fileExists(atPath: marker.path), "aaevil's prisma ran")

        let ci = try Self.npmCiOfALockWrittenPastTheShim(registry, harness)
        #expect(ci.status == 1, "\(ci.out)\n\(ci.err)")
        #expect(ci.err.contains("aaevil and prisma both install the command prisma into node_modules/.bin"), "\(ci.err)")
        #expect(!FileManager.default.fileExists(atPath: marker.path), "aaevil's prisma ran")
        #expect(!harness.exists("node_modules/aaevil"))

        // A pair the project knows about: an exception for one of them lets npm ci through, with a warning.
        let tomorrow = String(ThreatFixtures.utc(Date().addingTimeInterval(86_400)).prefix(10))
        try ThreatFixtures.policy(exceptions: [#"{ "match": { "ecosystem": "npm", "package": "aaevil" }, "until": "\#(tomorrow)", "reason": "known pair" }"#])
            .write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        let excepted = try harness.sh("npm ci --ignore-scripts")
        #expect(excepted.status == 0, "\(excepted.out)\n\(excepted.err)")
        #expect(excepted.err.contains("let through by the policy's exception for aaevil"), "\(excepted.err)")
    }

    /// The same pair, the second package added by a later `npm install NAME` (red team, round 7):
    /// npm fetches no packument for a package its lock has, so the shim tells its proxy the
    /// commands of the lock's top-level packages, and the newcomer claiming one is not offered.
    /// With `package-lock=false` (red team, round 9) npm writes no package-lock.json, and the
    /// shim read its claims from there alone; npm's hidden lock in node_modules gives them.
    @Test(arguments: [false, true])
    func aCommandTheLockAlreadyGivesIsNotTakenByALaterInstall(withoutLockFile: Bool) throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let marker = root.appendingPathComponent("claimed-later-ran")
        let registry = try TimedRegistry(root: root)
        try registry.publish("testrunner", "1.0.0", time: "2024-01-01T00:00:00.000Z", files: ["cli.js": "#!/usr/bin/env node\n"],
                             bin: ["testrunner": "cli.js"])
        try registry.publish("aaa-helper", "1.0.0", time: "2024-01-01T00:00:00.000Z",
                             files: ["x.js": "#!/usr/bin/env node\nrequire('fs').writeFileSync(\(String(reflecting: marker.path)), 'ran')\n"],
                             bin: ["testrunner": "x.js"])
        let harness = try ShimHarness("bouncer-threat-claimed-later-shim")
        defer { harness.cleanup() }
        try ThreatFixtures.policy().write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        try #"{"name":"app","version":"1.0.0","scripts":{"test":"testrunner"}}"#
            .write(to: harness.file("package.json"), atomically: true, encoding: .utf8)
        if withoutLockFile { try "package-lock=false\n".write(to: harness.file(".npmrc"), atomically: true, encoding: .utf8) }
        let first = try harness.sh("npm install --no-audit --no-fund --registry '\(registry.url)' testrunner@1.0.0")
        try #require(first.status == 0, "\(first.out)\n\(first.err)")
        #expect(harness.exists("package-lock.json") != withoutLockFile)
        let second = try harness.sh("npm install --no-audit --no-fund --registry '\(registry.url)' aaa-helper@1.0.0")
        #expect(second.status != 0, "\(second.out)\n\(second.err)")
        #expect(second.err.contains("aaa-helper@1.0.0 installs a command named testrunner, as testrunner does"), "\(second.err)")
        #expect(!harness.exists("node_modules/aaa-helper"))
        _ = try harness.sh("npm test")
        #expect(!FileManager.default.fileExists(atPath: marker.path), "aaa-helper's testrunner ran")
    }

    /// A workspace's own command taken by a dependency (found after round 8): npm links a
    /// member's `bin` into the top node_modules/.bin like a dependency's, and `aaa-evil`
    /// claiming `mytool` took it over, so the project's own script ran the dependency's.
    /// The shim claims the members' commands for its proxy (first install, no lock), and
    /// `npm ci` of a lock linking both is refused.
    /// The member's command given by `bin`, or by a file under `directories.bin` (round 10).
    @Test(arguments: [false, true])
    func aWorkspacesOwnCommandIsNotTakenByADependency(throughDirectoriesBin: Bool) throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let marker = root.appendingPathComponent("workspace-claimed-ran")
        let registry = try TimedRegistry(root: root)
        try registry.publish("aaa-evil", "1.0.0", time: "2024-01-01T00:00:00.000Z",
                             files: ["x.js": "#!/usr/bin/env node\nrequire('fs').writeFileSync(\(String(reflecting: marker.path)), 'ran')\n"],
                             bin: ["mytool": "x.js"])
        let harness = try ShimHarness("bouncer-threat-workspace-claimed-shim")
        defer { harness.cleanup() }
        try ThreatFixtures.policy().write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        try #"{"name":"app","version":"1.0.0","workspaces":["packages/*"],"scripts":{"go":"mytool"},"dependencies":{"aaa-evil":"1.0.0"}}"#
            .write(to: harness.file("package.json"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: harness.file("packages/tool"), withIntermediateDirectories: true)
        if throughDirectoriesBin {
            try FileManager.default.createDirectory(at: harness.file("packages/tool/scripts"), withIntermediateDirectories: true)
            try #"{"name":"tool","version":"1.0.0","directories":{"bin":"./scripts"}}"#.write(to: harness.file("packages/tool/package.json"), atomically: true, encoding: .utf8)
            try "#!/usr/bin/env node\n".write(to: harness.file("packages/tool/scripts/mytool"), atomically: true, encoding: .utf8)
        } else {
            try #"{"name":"tool","version":"1.0.0","bin":{"mytool":"t.js"}}"#.write(to: harness.file("packages/tool/package.json"), atomically: true, encoding: .utf8)
            try "#!/usr/bin/env node\n".write(to: harness.file("packages/tool/t.js"), atomically: true, encoding: .utf8)
        }

        let installed = try harness.sh("npm install --no-audit --no-fund --registry '\(registry.url)'")
        #expect(installed.status != 0, "\(installed.out)\n\(installed.err)")
        #expect(installed.err.contains("aaa-evil@1.0.0 installs a command named mytool, as tool does"), "\(installed.err)")
        #expect(!harness.exists("node_modules/aaa-evil"))

        let ci = try Self.npmCiOfALockWrittenPastTheShim(registry, harness)
        #expect(ci.status == 1, "\(ci.out)\n\(ci.err)")
        #expect(ci.err.contains("aaa-evil and tool both install the command mytool into node_modules/.bin"), "\(ci.err)")
        #expect(!harness.exists("node_modules/aaa-evil"))
        _ = try harness.sh("npm run go")
        #expect(!FileManager.default.fileExists(atPath: marker.path), "aaa-evil's mytool ran")
    }

    /// `npm ci` through the shim, of a lock the real npm wrote first (`--package-lock-only`,
    /// no scripts), as a project's committed lock would be.
    static func npmCiOfALockWrittenPastTheShim(_ registry: TimedRegistry, _ harness: ShimHarness) throws -> ProcessResult {
        let locked = try BouncerProcess.runProgram(registry.npm, ["install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund",
                                                                  "--registry", registry.url], cwd: harness.project.path,
                                                   environment: ["npm_config_cache": harness.root.appendingPathComponent("npm-cache-lock").path])
        try #require(locked.status == 0, "\(locked.err)")
        return try harness.sh("npm ci")
    }
}
