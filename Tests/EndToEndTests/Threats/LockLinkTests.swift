import Foundation
import Testing
import BouncerTestSupport

/// Locks that link a folder, read as npm's arborist reads them (a red-team
/// pass ran a folder's postinstall by each route): a registry package's own
/// `npm-shrinkwrap.json` linking a folder of its tarball, a project lock with
/// no `packages` object (arborist reads the `dependencies` tree then), and an
/// `inBundle` entry at the root (arborist makes it the root's own bundled
/// dependency and still takes its edges). Each is refused before the folder's
/// script can run, and nothing of the package lands.
@Suite(.blocking, .serialized) struct LockLinkTests {
    let root: URL

    init() throws {
        root = try BouncerProcess.temporaryDirectory("bouncer-threat-lock-link")
    }

    static let evil = #"{"name": "evil", "version": "1.0.0", "scripts": {"postinstall": "node -e \"require('fs').writeFileSync(process.env.MARKER, 'ran')\""}}"#

    /// The lock as npm-shrinkwrap.json or package-lock.json (arborist reads either), its link
    /// as `true` or any value JavaScript takes for true (red team, round 2: `"link": 1`).
    @Test(arguments: [("npm-shrinkwrap.json", "true"), ("package-lock.json", "true"), ("npm-shrinkwrap.json", "1")])
    func aPackagesOwnLockLinkingAFolderIsRefused(file: String, link: String) throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let marker = root.appendingPathComponent("wrap-ran")
        let registry = try TimedRegistry(root: root)
        let shrinkwrap = """
            {"name": "wrap", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": {
             "": {"name": "wrap", "version": "1.0.0", "dependencies": {"evil": "file:evilpkg"}},
             "node_modules/evil": {"resolved": "evilpkg", "link": \(link)},
             "evilpkg": {"name": "evil", "version": "1.0.0", "hasInstallScript": true}}}
            """
        try registry.publish("wrap", "1.0.0", time: "2024-01-01T00:00:00.000Z",
                             files: [file: shrinkwrap, "evilpkg/package.json": Self.evil],
                             packumentOnly: ["_hasShrinkwrap": true])
        let harness = try ShimHarness("bouncer-threat-wrap-shim")
        defer { harness.cleanup() }
        try ThreatFixtures.policy().write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        try #"{"name":"app","version":"1.0.0"}"#.write(to: harness.file("package.json"), atomically: true, encoding: .utf8)

        let result = try harness.sh("npm install --no-audit --no-fund --registry '\(registry.url)' wrap@1.0.0", extra: ["MARKER": marker.path])
        #expect(result.status == 1, "\(result.out)\n\(result.err)")
        #expect(result.err.contains("own files") && result.err.contains("file:evilpkg (\(file)"), "\(result.err)")
        #expect(!FileManager.default.fileExists(atPath: marker.path), "the linked folder's postinstall ran")
        #expect(!harness.exists("node_modules/wrap"), "nothing of it landed")
        #expect(ThreatFixtures.lockEntries(harness.file("bouncer.lock"))["npm:wrap@1.0.0"] == nil)
    }

    /// A project lock whose `packages` is missing (a version 1 lock) or null.
    /// A project depending on the registry's `good`, with the folder `vendor/evil` (a postinstall) beside it.
    func projectWithAnEvilFolder(_ name: String) throws -> (registry: TimedRegistry, integrity: String, harness: ShimHarness) {
        let registry = try TimedRegistry(root: root)
        let integrity = try registry.publish("good", "1.0.0", time: "2024-01-01T00:00:00.000Z")
        let harness = try ShimHarness(name)
        try ThreatFixtures.policy().write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: harness.project.appendingPathComponent("vendor/evil"), withIntermediateDirectories: true)
        try Self.evil.write(to: harness.project.appendingPathComponent("vendor/evil/package.json"), atomically: true, encoding: .utf8)
        try #"{"name":"proj","version":"1.0.0","dependencies":{"good":"^1.0.0"}}"#.write(to: harness.file("package.json"), atomically: true, encoding: .utf8)
        return (registry, integrity, harness)
    }

    @Test(arguments: ["1", "3-null"]) func aLockReadFromItsDependencyTreeIsChecked(form: String) throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let marker = root.appendingPathComponent("v1-ran")
        let (registry, integrity, harness) = try projectWithAnEvilFolder("bouncer-threat-v1-shim")
        defer { harness.cleanup() }
        let header = form == "1" ? #""lockfileVersion": 1"# : #""lockfileVersion": 3, "packages": null"#
        try """
            {"name": "proj", "version": "1.0.0", \(header), "requires": true, "dependencies": {
              "good": {"version": "1.0.0", "resolved": "\(registry.url)/good/-/good-1.0.0.tgz", "integrity": "\(integrity)",
                       "requires": {"evil": "file:vendor/evil"}},
              "evil": {"version": "file:vendor/evil"}}}
            """.write(to: harness.file("package-lock.json"), atomically: true, encoding: .utf8)

        let result = try harness.sh("npm ci --no-audit --no-fund --registry '\(registry.url)'", extra: ["MARKER": marker.path])
        #expect(result.status != 0, "\(result.out)\n\(result.err)")
        #expect(result.err.contains("file:vendor/evil") && result.err.contains("package-lock.json $.dependencies"), "\(result.err)")
        #expect(!FileManager.default.fileExists(atPath: marker.path), "the folder's postinstall ran")
        #expect(!harness.exists("node_modules/evil"))
    }

    /// `"inBundle": true` on an entry, at the root or nested: its dependency specs still count
    /// (arborist resolves them as any other entry's).
    @Test(arguments: ["node_modules/good", "node_modules/good/node_modules/bee"]) func anInBundleEntryIsChecked(key: String) throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let marker = root.appendingPathComponent("bundle-ran")
        let (registry, integrity, harness) = try projectWithAnEvilFolder("bouncer-threat-inbundle-shim")
        defer { harness.cleanup() }
        try """
            {"name": "proj", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": {
              "": {"name": "proj", "version": "1.0.0", "dependencies": {"good": "^1.0.0"}},
              \(key == "node_modules/good" ? "" : #""node_modules/good": {"version": "1.0.0", "resolved": "\#(registry.url)/good/-/good-1.0.0.tgz", "integrity": "\#(integrity)"},"#)
              "\(key)": {"version": "1.0.0", "resolved": "\(registry.url)/good/-/good-1.0.0.tgz", "integrity": "\(integrity)",
                                    "inBundle": true, "dependencies": {"evil": "file:../../vendor/evil"}}}}
            """.write(to: harness.file("package-lock.json"), atomically: true, encoding: .utf8)

        let result = try harness.sh("npm install --no-audit --no-fund --registry '\(registry.url)'", extra: ["MARKER": marker.path])
        #expect(result.status != 0, "\(result.out)\n\(result.err)")
        #expect(result.err.contains("file:../../vendor/evil"), "\(result.err)")
        #expect(!FileManager.default.fileExists(atPath: marker.path), "the folder's postinstall ran")
        #expect(!harness.exists("node_modules/evil"))
    }

    // MARK: - Red team, round 4

    /// A postinstall writing $MARKER, in a package.json named `name`.
    static func evil(named name: String) -> String {
        #"{"name": "\#(name)", "version": "1.0.0", "scripts": {"postinstall": "node -e \"require('fs').writeFileSync(process.env.MARKER, 'ran')\""}}"#
    }

    /// With no `resolved`, arborist fetches `NAME@VERSION`, NAME being the entry's `name`:
    /// `good@file:./evil` copied the project's folder `evil@1.0.0` in and ran its postinstall.
    @Test func aLockEntrysNameHoldingASpecIsRefused() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let marker = root.appendingPathComponent("name-ran")
        let registry = try TimedRegistry(root: root)
        try registry.publish("good", "1.0.0", time: "2024-01-01T00:00:00.000Z")
        let harness = try ShimHarness("bouncer-threat-lock-name-shim")
        defer { harness.cleanup() }
        try ThreatFixtures.policy().write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: harness.project.appendingPathComponent("evil@1.0.0"), withIntermediateDirectories: true)
        try Self.evil(named: "good").write(to: harness.project.appendingPathComponent("evil@1.0.0/package.json"), atomically: true, encoding: .utf8)
        try #"{"name":"proj","version":"1.0.0","dependencies":{"good":"^1.0.0"}}"#.write(to: harness.file("package.json"), atomically: true, encoding: .utf8)
        try """
            {"name": "proj", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": {
              "": {"name": "proj", "version": "1.0.0", "dependencies": {"good": "^1.0.0"}},
              "node_modules/good": {"name": "good@file:./evil", "version": "1.0.0", "hasInstallScript": true}}}
            """.write(to: harness.file("package-lock.json"), atomically: true, encoding: .utf8)

        let result = try harness.sh("npm ci --no-audit --no-fund --registry '\(registry.url)'", extra: ["MARKER": marker.path])
        #expect(result.status != 0, "\(result.out)\n\(result.err)")
        #expect(result.err.contains(#"good@file:./evil (package-lock.json $.packages["node_modules/good"].name)"#), "\(result.err)")
        #expect(!FileManager.default.fileExists(atPath: marker.path), "the folder's postinstall ran")
        #expect(!harness.exists("node_modules/good"))
    }

    /// The same name in a registry package's own npm-shrinkwrap.json, naming a folder of its tarball.
    @Test func aPackagesOwnLockEntrysNameHoldingASpecIsRefused() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let marker = root.appendingPathComponent("shrinky-ran")
        let registry = try TimedRegistry(root: root)
        try registry.publish("dep", "1.0.0", time: "2024-01-01T00:00:00.000Z")
        let shrinkwrap = """
            {"name": "shrinky", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": {
             "": {"name": "shrinky", "version": "1.0.0", "dependencies": {"dep": "^1.0.0"}},
             "node_modules/dep": {"name": "dep@file:./node_modules/shrinky/payload", "version": "1.0.0", "hasInstallScript": true}}}
            """
        try registry.publish("shrinky", "1.0.0", time: "2024-01-01T00:00:00.000Z", dependencies: ["dep": "^1.0.0"],
                             files: ["npm-shrinkwrap.json": shrinkwrap, "payload@1.0.0/package.json": Self.evil(named: "dep")],
                             packumentOnly: ["_hasShrinkwrap": true])
        let harness = try ShimHarness("bouncer-threat-wrap-name-shim")
        defer { harness.cleanup() }
        try ThreatFixtures.policy().write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        try #"{"name":"app","version":"1.0.0"}"#.write(to: harness.file("package.json"), atomically: true, encoding: .utf8)

        let result = try harness.sh("npm install --no-audit --no-fund --registry '\(registry.url)' shrinky@1.0.0", extra: ["MARKER": marker.path])
        #expect(result.status != 0, "\(result.out)\n\(result.err)")
        #expect(result.err.contains("own files") && result.err.contains("dep@file:./node_modules/shrinky/payload"), "\(result.err)")
        #expect(!FileManager.default.fileExists(atPath: marker.path), "the tarball's folder's postinstall ran")
        #expect(!harness.exists("node_modules/shrinky"), "nothing of it landed")
    }

    /// A dependency only the tarball's own package.json names (the registry's manifest names none):
    /// npm reads the installed package.json whenever it builds the tree from disk (no lock, or a stale
    /// hidden lock), links `file:./evil` from the tarball and runs its postinstall (red team, round 5,
    /// through `bouncer serve` with `package-lock=false`). Refused when the tarball is checked.
    @Test func aDependencyOnlyTheTarballsManifestNamesIsRefused() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let marker = root.appendingPathComponent("innocent-ran")
        let registry = try TimedRegistry(root: root)
        try registry.publish("innocent", "1.0.0", time: "2024-01-01T00:00:00.000Z", dependencies: ["evil": "file:./evil"],
                             files: ["evil/package.json": Self.evil(named: "evil")], packumentOnly: ["dependencies": [String: String]()])
        let harness = try ShimHarness("bouncer-threat-manifest-deps-shim")
        defer { harness.cleanup() }
        try ThreatFixtures.policy().write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        try #"{"name":"app","version":"1.0.0"}"#.write(to: harness.file("package.json"), atomically: true, encoding: .utf8)
        try "package-lock=false\n".write(to: harness.file(".npmrc"), atomically: true, encoding: .utf8)

        let result = try harness.sh("npm install --no-audit --no-fund --registry '\(registry.url)' innocent@1.0.0", extra: ["MARKER": marker.path])
        #expect(result.status != 0, "\(result.out)\n\(result.err)")
        #expect(result.err.contains("own files") && result.err.contains("file:./evil (package/package.json $.dependencies.evil)"), "\(result.err)")
        #expect(!FileManager.default.fileExists(atPath: marker.path), "the tarball's folder's postinstall ran")
        #expect(!harness.exists("node_modules/innocent"), "nothing of it landed")
    }

    /// A `binding.gyp` at `node_modules/victim/` of a registry tarball, no package.json beside it: npm
    /// extracts it into the folder where it later places the dependency victim, and runs node-gyp there
    /// (whose `<!(…)` runs a command). node-gyp finds the headers as on a machine that built an addon before.
    @Test func aBindingGypInANodeModulesFolderOfATarballIsRefused() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let marker = root.appendingPathComponent("gyp-ran")
        let registry = try TimedRegistry(root: root)
        try registry.publish("victim", "1.0.0", time: "2024-01-01T00:00:00.000Z")
        try registry.publish("victim", "2.0.0", time: "2024-01-02T00:00:00.000Z")
        let gyp = #"{"targets": [{"target_name": "x", "sources": ["<!(echo ran > \#(marker.path); echo x.c)"]}]}"#
        try registry.publish("carrier", "1.0.0", time: "2024-01-01T00:00:00.000Z", dependencies: ["victim": "^1.0.0"],
                             files: ["node_modules/victim/binding.gyp": gyp])
        let harness = try ShimHarness("bouncer-threat-gyp-overlay-shim")
        defer { harness.cleanup() }
        let version = try BouncerProcess.runProgram("/usr/bin/env", ["node", "-p", "process.versions.node"]).out
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let headers = harness.root.appendingPathComponent(".cache/node-gyp/\(version)")
        try FileManager.default.createDirectory(at: headers.appendingPathComponent("include"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: headers.appendingPathComponent("include/node").path, withDestinationPath: "/usr/include/node")
        try "11\n".write(to: headers.appendingPathComponent("installVersion"), atomically: true, encoding: .utf8)
        try ThreatFixtures.policy().write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        try #"{"name":"app","version":"1.0.0","dependencies":{"victim":"^2.0.0","carrier":"^1.0.0"}}"#
            .write(to: harness.file("package.json"), atomically: true, encoding: .utf8)

        let result = try harness.sh("npm install --no-audit --no-fund --registry '\(registry.url)'")
        #expect(result.status != 0, "\(result.out)\n\(result.err)")
        #expect(result.err.contains("install of node_modules/victim: node-gyp rebuild"), "\(result.err)")
        #expect(!FileManager.default.fileExists(atPath: marker.path), "node-gyp ran the binding.gyp")
        #expect(!harness.exists("node_modules/carrier"), "nothing of it landed")
    }

    /// The lock's `bin` is what npm links: a registry package whose tarball names only `toolpkg-cli`,
    /// given `node` by the lock, became node_modules/.bin/node, which the project's own `prepare` ran.
    @Test func aLockGivingAPackageACommandScriptsRunIsRefused() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let marker = root.appendingPathComponent("bin-ran")
        let registry = try TimedRegistry(root: root)
        let integrity = try registry.publish("toolpkg", "1.0.0", time: "2024-01-01T00:00:00.000Z",
                                             files: ["cli.js": "#!/bin/sh\necho ran > \"$MARKER\"\n"], bin: ["toolpkg-cli": "cli.js"])
        let harness = try ShimHarness("bouncer-threat-lock-bin-shim")
        defer { harness.cleanup() }
        try ThreatFixtures.policy().write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        try #"{"name":"proj","version":"1.0.0","scripts":{"prepare":"node -e 0"},"dependencies":{"toolpkg":"^1.0.0"}}"#
            .write(to: harness.file("package.json"), atomically: true, encoding: .utf8)
        try """
            {"name": "proj", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": {
              "": {"name": "proj", "version": "1.0.0", "dependencies": {"toolpkg": "^1.0.0"}},
              "node_modules/toolpkg": {"version": "1.0.0", "resolved": "\(registry.url)toolpkg/-/toolpkg-1.0.0.tgz",
                                       "integrity": "\(integrity)", "bin": {"node": "cli.js"}}}}
            """.write(to: harness.file("package-lock.json"), atomically: true, encoding: .utf8)

        let result = try harness.sh("npm ci --no-audit --no-fund --registry '\(registry.url)'", extra: ["MARKER": marker.path])
        #expect(result.status != 0, "\(result.out)\n\(result.err)")
        #expect(result.err.contains("node_modules/toolpkg installs the command node"), "\(result.err)")
        #expect(!FileManager.default.fileExists(atPath: marker.path), "the package's file ran as node")
        #expect(!harness.exists("node_modules/toolpkg"))
    }

    /// A registry package's own lock keyed `../toolpkg` placed a package at the project's top level
    /// (arborist places keys against the package's folder), with the lock's `bin` `node`.
    @Test func aPackagesOwnLockPlacingAPackageOutsideItIsRefused() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let registry = try TimedRegistry(root: root)
        try registry.publish("dep", "1.0.0", time: "2024-01-01T00:00:00.000Z")
        let integrity = try registry.publish("toolpkg", "1.0.0", time: "2024-01-01T00:00:00.000Z",
                                             files: ["cli.js": "#!/bin/sh\necho ran > \"$MARKER\"\n"], bin: ["toolpkg-cli": "cli.js"])
        let shrinkwrap = """
            {"name": "shrinky2", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": {
             "": {"name": "shrinky2", "version": "1.0.0", "dependencies": {"dep": "^1.0.0"}},
             "node_modules/dep": {"version": "1.0.0", "resolved": "\(registry.url)dep/-/dep-1.0.0.tgz"},
             "../toolpkg": {"version": "1.0.0", "resolved": "\(registry.url)toolpkg/-/toolpkg-1.0.0.tgz", "integrity": "\(integrity)",
                            "bin": {"node": "cli.js"}}}}
            """
        try registry.publish("shrinky2", "1.0.0", time: "2024-01-01T00:00:00.000Z", dependencies: ["dep": "^1.0.0"],
                             files: ["npm-shrinkwrap.json": shrinkwrap], packumentOnly: ["_hasShrinkwrap": true])
        let harness = try ShimHarness("bouncer-threat-wrap-escape-shim")
        defer { harness.cleanup() }
        try ThreatFixtures.policy().write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        try #"{"name":"app","version":"1.0.0","scripts":{"prepare":"node -e 0"}}"#.write(to: harness.file("package.json"), atomically: true, encoding: .utf8)

        let result = try harness.sh("npm install --no-audit --no-fund --registry '\(registry.url)' shrinky2@1.0.0")
        #expect(result.status != 0, "\(result.out)\n\(result.err)")
        #expect(result.err.contains("places a package at '../toolpkg'"), "\(result.err)")
        #expect(!harness.exists("node_modules/toolpkg"), "the lock's package landed at the project's top level")
        #expect(!harness.exists("node_modules/shrinky2"), "nothing of it landed")
    }
}
