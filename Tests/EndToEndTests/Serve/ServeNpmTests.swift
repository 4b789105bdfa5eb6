import Foundation
import Testing
import BouncerTestSupport

/// `bouncer serve` in front of a loopback npm registry (tarballs made at test
/// time with `npm pack`), with the real npm pointed at it through
/// `npm_config_registry` only: no shims on PATH.
@Suite(.blocking, .serialized) struct ServeNpmTests {
    let root: URL
    let registry: URL
    let upstream: DirectoryHTTPServer
    let npm = ["/usr/bin/npm", "/usr/local/bin/npm"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/bin/npm"

    init() throws {
        root = try BouncerProcess.temporaryDirectory("bouncer-serve-npm")
        registry = root.appendingPathComponent("registry")
        try FileManager.default.createDirectory(at: registry.appendingPathComponent("tarballs"), withIntermediateDirectories: true)
        upstream = try DirectoryHTTPServer(root: registry.path)
    }

    struct Packed { let file: String; let integrity: String; let sha256: String }

    /// Packs a package as npm lays it out into the registry's tarballs/ and writes its packument.
    @discardableResult
    func publish(_ name: String, _ version: String, dependencies: [String: String] = [:], body: String) throws -> Packed {
        let manifest: [String: Any] = ["name": name, "version": version, "main": "index.js", "dependencies": dependencies]
        let packedName = NpmTarball.fileName(name, version)
        let packed = try NpmTarball.pack(manifest: manifest, files: ["index.js": body],
                                         to: registry.appendingPathComponent("tarballs/\(packedName)"))
        let integrity = packed.integrity
        let document: [String: Any] = [
            "name": name, "dist-tags": ["latest": version],
            "time": [version: "2024-01-01T00:00:00.000Z"],
            "versions": [version: ["name": name, "version": version, "dependencies": dependencies,
                                   "dist": ["tarball": upstream.baseURL + "/tarballs/" + packedName, "integrity": integrity]]],
        ]
        let packument = registry.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: packument.deletingLastPathComponent(), withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: document).write(to: packument)
        return Packed(file: packedName, integrity: integrity, sha256: packed.sha256)
    }

    func install(_ packages: [String], base: String, in dir: URL, extra: [String: String] = [:]) throws -> ProcessResult {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try #"{"name":"proj","version":"1.0.0"}"#.write(to: dir.appendingPathComponent("package.json"), atomically: true, encoding: .utf8)
        var environment = [
            "npm_config_registry": base + "/npm/", "npm_config_cache": dir.appendingPathComponent(".npm-cache").path,
            "npm_config_update_notifier": "false", "HOME": dir.path,
        ]
        for (key, value) in extra { environment[key] = value }
        return try BouncerProcess.runProgram(npm, ["install", "--no-fund"] + packages, cwd: dir.path, environment: environment)
    }

    /// A package in a second, private registry under `/private/` that answers only
    /// requests carrying `Bearer TOKEN` (its packument and tarball in the registry layout).
    func publishPrivately(_ name: String, _ version: String, on server: DirectoryHTTPServer, root: URL, body: String) throws -> Packed {
        let file = NpmTarball.fileName(name, version)
        let tarball = root.appendingPathComponent("private/\(name)/-/\(file)")
        try FileManager.default.createDirectory(at: tarball.deletingLastPathComponent(), withIntermediateDirectories: true)
        let packed = try NpmTarball.pack(manifest: ["name": name, "version": version, "main": "index.js"], files: ["index.js": body], to: tarball)
        let document: [String: Any] = [
            "name": name, "dist-tags": ["latest": version], "time": [version: "2024-01-01T00:00:00.000Z"],
            "versions": [version: ["name": name, "version": version,
                                   "dist": ["tarball": server.baseURL + "/private/\(name)/-/\(file)", "integrity": packed.integrity]]],
        ]
        try JSONSerialization.data(withJSONObject: document).write(to: root.appendingPathComponent("private/\(name)/index.html"))
        return Packed(file: file, integrity: packed.integrity, sha256: packed.sha256)
    }

    /// A scope with its own private registry, as npm's configuration names it
    /// (`@corp:registry`, and the token as `//HOST/PATH/:_authToken=${VAR}`),
    /// served by a proxy started with no npm flags: npm, pointed at the proxy
    /// for the registry and the scope, installs a package and its dependency
    /// from the private registry, both pinned. Only the private registry is
    /// sent the token, and only by the proxy; without the token the proxy
    /// answers 403 saying the registry refused it (npm does not retry that); a scope pointed at the proxy itself is
    /// refused at once rather than asked of itself.
    @Test func aScopesPrivateRegistryIsServedWithItsToken() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let privateRoot = root.appendingPathComponent("private-registry")
        try FileManager.default.createDirectory(at: privateRoot, withIntermediateDirectories: true)
        let corp = try DirectoryHTTPServer(root: privateRoot.path)
        corp.requiredAuthorization = "Bearer s3cret-token"
        let lib = try publishPrivately("@corp/lib", "2.0.0", on: corp, root: privateRoot, body: "module.exports = 'corp lib';\n")
        let app = try publish("app", "1.0.0", dependencies: ["@corp/lib": "^2.0.0"], body: "module.exports = 'app+' + require('@corp/lib');\n")
        let npmrc = """
            registry=\(upstream.baseURL)/
            @corp:registry=\(corp.baseURL)/private/
            //127.0.0.1:\(corp.port)/private/:_authToken=${CORP_TOKEN}
            """
        let project = root.appendingPathComponent("project")
        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
        try npmrc.write(to: project.appendingPathComponent(".npmrc"), atomically: true, encoding: .utf8)
        let serve = try ServeProcess(root: root, arguments: ["--pypi-upstream", upstream.baseURL + "/simple/"],
                                     environment: ["CORP_TOKEN": "s3cret-token"])

        let first = root.appendingPathComponent("first")
        let installed = try install(["app"], base: serve.base, in: first, extra: ["npm_config_@corp:registry": serve.base + "/npm/"])
        #expect(installed.status == 0, "npm install failed: \(installed.out)\n\(installed.err)")
        let run = try BouncerProcess.runProgram("/usr/bin/env", ["node", "-e", "console.log(require('app'))"], cwd: first.path)
        #expect(run.out.trimmingCharacters(in: .whitespacesAndNewlines) == "app+corp lib")
        let lock = try ServeFixtures.lockEntries(serve.lockfile)
        #expect(lock["npm:app@1.0.0"]?["sha256"] as? String == app.sha256)
        #expect(lock["npm:@corp/lib@2.0.0"]?["sha256"] as? String == lib.sha256)
        #expect(corp.requests.contains("GET /private/@corp%2flib"), "\(corp.requests)")
        #expect(corp.requests.contains("GET /private/@corp/lib/-/\(lib.file)"), "\(corp.requests)")
        // Every request the private registry had carried the token; the public one never saw it.
        #expect(!corp.authorizations.isEmpty && corp.authorizations.allSatisfy { $0 == "Bearer s3cret-token" }, "\(corp.authorizations)")
        #expect(upstream.authorizations.allSatisfy { $0 == nil }, "\(upstream.authorizations)")
        let packument = try CurlGet.run(serve.base + "/npm/@corp%2flib")
        #expect(packument.status == 200)
        #expect(packument.text.contains(serve.base + "/npm/@corp/lib/-/" + lib.file), "\(packument.text)")
        #expect(!packument.text.contains(":\(corp.port)"))
        #expect(try serve.stop().status == 0)

        // The same configuration without the token: the registry's refusal, said as such.
        try? FileManager.default.removeItem(at: root.appendingPathComponent("ready"))
        let tokenless = try ServeProcess(root: root, arguments: ["--pypi-upstream", upstream.baseURL + "/simple/"], unsetting: ["CORP_TOKEN"])
        let refused = try CurlGet.run(tokenless.base + "/npm/@corp%2flib")
        #expect(refused.status == 403)
        #expect(refused.text.contains("HTTP 401") && refused.text.contains(":_authToken"), "\(refused.text)")
        #expect(try tokenless.stop().status == 0)

        // A scope pointed at the proxy itself (npm's setting read back by the proxy) is not asked of itself.
        try? FileManager.default.removeItem(at: root.appendingPathComponent("ready"))
        let port = try LoopbackListener.freePort()
        let looped = try ServeProcess(root: root, arguments: ["--listen", "127.0.0.1:\(port)", "--npm-upstream", upstream.baseURL + "/",
                                                              "--npm-scope-upstream", "@corp=http://127.0.0.1:\(port)/npm/",
                                                              "--pypi-upstream", upstream.baseURL + "/simple/"])
        let loop = try CurlGet.run(looped.base + "/npm/@corp%2flib")
        #expect(loop.status == 403)
        #expect(loop.text.contains("is this proxy itself") && loop.text.contains("--npm-scope-upstream @corp=URL"), "\(loop.text)")
        // Unscoped packages still come from the registry.
        #expect(try CurlGet.run(looped.base + "/npm/app").status == 200)
        #expect(try looped.stop().status == 0)
        corp.stop()
    }

    /// npm installs an unscoped package and its scoped dependency through the
    /// proxy; both are pinned with the digests sha256sum computes; the lock npm
    /// writes resolves to the proxy; after a compromised upstream (tarball and
    /// integrity both changed) the proxy answers 403 and npm installs nothing.
    @Test func npmInstallsPinsAndRefusesACompromisedUpstream() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let util = try publish("@acme/util", "1.2.0", body: "module.exports = 'genuine util';\n")
        let app = try publish("app", "1.0.0", dependencies: ["@acme/util": "^1.2.0"],
                              body: "module.exports = 'app+' + require('@acme/util');\n")
        let serve = try ServeProcess(root: root, arguments: ["--npm-upstream", upstream.baseURL + "/", "--pypi-upstream", upstream.baseURL + "/simple/"])

        let first = root.appendingPathComponent("first")
        let installed = try install(["app"], base: serve.base, in: first)
        #expect(installed.status == 0, "npm install failed: \(installed.out)\n\(installed.err)")
        let run = try BouncerProcess.runProgram("/usr/bin/env", ["node", "-e", "console.log(require('app'))"], cwd: first.path)
        #expect(run.out.trimmingCharacters(in: .whitespacesAndNewlines) == "app+genuine util")

        let lock = try ServeFixtures.lockEntries(serve.lockfile)
        #expect(lock["npm:app@1.0.0"]?["sha256"] as? String == app.sha256)
        #expect(lock["npm:@acme/util@1.2.0"]?["sha256"] as? String == util.sha256)
        let packageLock = try String(contentsOf: first.appendingPathComponent("package-lock.json"), encoding: .utf8)
        #expect(packageLock.contains("\"resolved\": \"\(serve.base)/npm/@acme/util/-/\(util.file)\""), "\(packageLock)")
        #expect(!packageLock.contains(":\(upstream.port)/"))

        // Compromise: a different util 1.2.0 with the packument advertising its integrity.
        let evil = try publish("@acme/util", "1.2.0", body: "module.exports = 'EVIL util';\n")
        #expect(evil.sha256 != util.sha256)
        let second = root.appendingPathComponent("second")
        let refused = try install(["@acme/util@1.2.0"], base: serve.base, in: second)
        #expect(refused.status != 0)
        #expect((refused.out + refused.err).contains("403"), "\(refused.out)\n\(refused.err)")
        #expect(!FileManager.default.fileExists(atPath: second.appendingPathComponent("node_modules/@acme/util/index.js").path))

        // Asked directly, after npm read the new packument (before it, the proxy would still hold the one it
        // had shown and serve the bytes it verified against it a moment ago, never the new ones).
        let direct = try CurlGet.run(serve.base + "/npm/@acme/util/-/" + util.file)
        #expect(direct.status == 403)
        #expect(direct.contentType.hasPrefix("text/plain"))
        #expect(direct.text.contains("lock"), "reason: \(direct.text)")
        #expect(try ServeFixtures.lockEntries(serve.lockfile)["npm:@acme/util@1.2.0"]?["sha256"] as? String == util.sha256)
        let stopped = try serve.stop()
        #expect(stopped.status == 0, "\(stopped.err)")
    }

    /// The README's standalone recipe with the shims on PATH too: the npm
    /// shim finds its registry is the bouncer serve on this machine and
    /// points npm at it, with no proxy of its own over it (which verified
    /// everything again and pinned the serve's free port in the lock).
    @Test func theNpmShimReadsFromARunningServeWithoutASecondProxy() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let util = try publish("util", "1.2.0", body: "module.exports = 'genuine util';\n")
        let serve = try ServeProcess(root: root, arguments: ["--npm-upstream", upstream.baseURL + "/", "--pypi-no-index"])
        let shims = Corpus.packageRoot.appendingPathComponent("shims").path
        let project = serve.project
        try #"{"name":"proj","version":"1.0.0"}"#.write(to: project.appendingPathComponent("package.json"), atomically: true, encoding: .utf8)
        let environment = ["PATH": "\(shims):/usr/local/bin:/usr/bin:/bin", "BOUNCER_BIN": BouncerProcess.executable, "CI": "", "HOME": project.path,
                           "BOUNCER_CACHE": root.appendingPathComponent("shim-cache").path, "npm_config_registry": serve.base + "/npm/",
                           "npm_config_update_notifier": "false"]
        let installed = try BouncerProcess.runProgram(shims + "/npm", ["install", "--no-fund", "util"], cwd: project.path, environment: environment)
        #expect(installed.status == 0, "\(installed.err)")
        #expect(installed.err.contains("the registry is the bouncer serve at \(serve.base)"), "\(installed.err)")
        #expect(FileManager.default.fileExists(atPath: project.appendingPathComponent("node_modules/util/index.js").path))
        let lock = try ServeFixtures.lockEntries(serve.lockfile)
        #expect(lock["npm:util@1.2.0"]?["sha256"] as? String == util.sha256)
        #expect(lock.values.allSatisfy { ($0["url"] as? String)?.hasPrefix(upstream.baseURL) == true },
                "every pin names the registry, none the serve's address: \(lock)")

        // Compromised upstream: the serve refuses, npm fails, the shim says where the reason is and puts package.json back.
        _ = try publish("util", "1.2.0", body: "module.exports = 'EVIL util';\n")
        let packageJSON = try Data(contentsOf: project.appendingPathComponent("package.json"))
        try FileManager.default.removeItem(at: project.appendingPathComponent("node_modules"))
        try FileManager.default.removeItem(at: project.appendingPathComponent("package-lock.json"))
        let refused = try BouncerProcess.runProgram(shims + "/npm", ["install", "--no-fund", "util@1.2.0"], cwd: project.path, environment: environment)
        #expect(refused.status != 0, "\(refused.err)")
        #expect(refused.err.contains("what the bouncer serve at \(serve.base) refused"), "\(refused.err)")
        #expect(!FileManager.default.fileExists(atPath: project.appendingPathComponent("node_modules/util/index.js").path))
        #expect(try Data(contentsOf: project.appendingPathComponent("package.json")) == packageJSON)
        #expect(try serve.stop().err.contains("403"))
    }

    /// The real yarn 1 (Debian's `yarnpkg`, or `yarn`) and the environment it
    /// runs in: Debian's build finds its modules in /usr/share/nodejs only
    /// with Debian's node, so under another node the test names the folder.
    /// nil, with a notice, when there is none that runs.
    static func yarn() -> (path: String, environment: [String: String])? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .flatMap { ["\($0)/yarnpkg", "\($0)/yarn"] }.first { FileManager.default.isExecutableFile(atPath: $0) && !$0.contains("/shims/") }
        guard let path else {
            print("notice: no yarnpkg or yarn on PATH (install-deps.sh installs Debian's yarnpkg); skipping the yarn shim test")
            return nil
        }
        for environment in [[:], ["NODE_PATH": "/usr/share/nodejs"]] {
            if let version = try? BouncerProcess.runProgram(path, ["--version"], environment: environment), version.status == 0,
               version.out.hasPrefix("1.") {
                return (path, environment)
            }
        }
        print("notice: \(path) does not run as yarn 1 here; skipping the yarn shim test")
        return nil
    }

    /// The yarn shim in front of the real yarn 1: through the user's own serve
    /// (found where npm's registry is set) yarn installs and the serve pins;
    /// pointed at the registry itself, it is refused before yarn starts; a
    /// tarball URL on another port of the same host, which yarn alone
    /// fetches, is cut off by the fence; a yarn.lock that has yarn fetch from
    /// the registry itself is refused naming its line; a compromised
    /// upstream is the serve's 403 and nothing is installed.
    @Test func theYarnShimRunsYarnOnlyAgainstTheUsersOwnServe() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        guard let yarn = Self.yarn() else { return }
        let util = try publish("util", "1.2.0", body: "module.exports = 'genuine util';\n")
        let serve = try ServeProcess(root: root, arguments: ["--npm-upstream", upstream.baseURL + "/", "--pypi-no-index"])
        let (shim, environment, unset) = yarnShim(yarn, serve: serve)
        func project(_ name: String, dependencies: [String: String] = [:]) throws -> URL {
            let directory = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let manifest = try JSONSerialization.data(withJSONObject: ["name": name, "version": "1.0.0", "license": "MIT", "dependencies": dependencies])
            try manifest.write(to: directory.appendingPathComponent("package.json"))
            return directory
        }
        func run(_ program: String, _ arguments: [String], in directory: URL, registry: String? = nil) throws -> ProcessResult {
            var env = environment
            if let registry { env["npm_config_registry"] = registry }
            env["BOUNCER_POLICY"] = serve.project.appendingPathComponent("policy.json").path
            return try BouncerProcess.startProgram(program, arguments, cwd: directory.path, environment: env, unsetting: unset).wait()
        }

        let first = try project("first")
        let added = try run(shim, ["add", "util"], in: first)
        #expect(added.status == 0, "\(added.out)\n\(added.err)")
        #expect(added.err.contains("the registry is the bouncer serve at \(serve.base)"), "\(added.err)")
        let node = try BouncerProcess.runProgram("/usr/bin/env", ["node", "-e", "console.log(require('util/index.js'))"], cwd: first.path)
        #expect(node.out.trimmingCharacters(in: .whitespacesAndNewlines) == "genuine util", "\(node.err)")
        #expect(try ServeFixtures.lockEntries(serve.lockfile)["npm:util@1.2.0"]?["sha256"] as? String == util.sha256)
        let yarnLock = try String(contentsOf: first.appendingPathComponent("yarn.lock"), encoding: .utf8)
        #expect(yarnLock.contains("resolved \"\(serve.base)/npm/util/-/\(util.file)"), "\(yarnLock)")

        // The registry itself, no serve in between: refused before yarn starts.
        let direct = try project("direct")
        let refused = try run(shim, ["add", "util"], in: direct, registry: upstream.baseURL + "/")
        #expect(refused.status == 2, "\(refused.err)")
        #expect(refused.err.contains("refused: yarn add fetches packages itself"), "\(refused.err)")
        #expect(!FileManager.default.fileExists(atPath: direct.appendingPathComponent("node_modules").path))

        // A scope's own registry on the registry's port: yarn alone fetches from it; behind the shim the fence cuts it off.
        _ = try publish("@acme/tool", "1.0.0", body: "module.exports = 'acme';\n")
        let scoped = try project("scoped", dependencies: ["@acme/tool": "^1.0.0"])
        try "@acme:registry=\(upstream.baseURL)/\n".write(to: scoped.appendingPathComponent(".npmrc"), atomically: true, encoding: .utf8)
        let fenced = try run(shim, ["install"], in: scoped)
        #expect(fenced.status != 0, "\(fenced.err)")
        #expect(fenced.err.contains("was cut off"), "\(fenced.err)")
        #expect(!FileManager.default.fileExists(atPath: scoped.appendingPathComponent("node_modules/@acme/tool/index.js").path))
        let unguarded = try run(yarn.path, ["install"], in: scoped)
        #expect(unguarded.status == 0, "yarn alone reaches it: \(unguarded.err)")
        #expect(FileManager.default.fileExists(atPath: scoped.appendingPathComponent("node_modules/@acme/tool/index.js").path))

        // Code yarn installs with no registry at all: a tarball URL, a folder, a git repository on disk,
        // in package.json, a workspace's or on the command line. Refused before yarn starts.
        let evil = root.appendingPathComponent("evil-folder")
        try FileManager.default.createDirectory(at: evil, withIntermediateDirectories: true)
        let marker = root.appendingPathComponent("PWNED-yarn")
        try JSONSerialization.data(withJSONObject: ["name": "evil", "version": "1.0.0", "scripts": ["postinstall": "touch \(marker.path)"]])
            .write(to: evil.appendingPathComponent("package.json"))
        for (name, spec) in [("by-url", upstream.baseURL + "/tarballs/" + util.file), ("by-folder", "file:../evil-folder"),
                             ("by-git", "git+file://\(evil.path)")] {
            let local = try project(name, dependencies: ["evil": spec])
            let result = try run(shim, ["install"], in: local)
            #expect(result.status == 1, "\(name): \(result.err)")
            #expect(result.err.contains("package.json $.dependencies.evil") && result.err.contains("exotic-source"), "\(name): \(result.err)")
            #expect(!FileManager.default.fileExists(atPath: local.appendingPathComponent("node_modules").path), "\(name)")
        }
        let workspaces = try project("workspaces")
        try #"{"name":"w","private":true,"workspaces":["packages/*"]}"#.write(to: workspaces.appendingPathComponent("package.json"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: workspaces.appendingPathComponent("packages/a"), withIntermediateDirectories: true)
        try #"{"name":"a","version":"1.0.0","dependencies":{"evil":"file:../../../evil-folder"}}"#
            .write(to: workspaces.appendingPathComponent("packages/a/package.json"), atomically: true, encoding: .utf8)
        let member = try run(shim, ["install"], in: workspaces.appendingPathComponent("packages/a"))
        #expect(member.status == 1 && member.err.contains("packages/a/package.json $.dependencies.evil"), "\(member.err)")
        let named = try run(shim, ["add", "file:../evil-folder"], in: try project("named"))
        #expect(named.status == 1 && named.err.contains("the command line"), "\(named.err)")
        #expect(!FileManager.default.fileExists(atPath: marker.path), "a refused folder's install script ran")

        // A yarn.lock naming the registry's own tarball URL: yarn would fetch it from there, past any registry setting.
        let locked = try project("locked", dependencies: ["util": "^1.2.0"])
        try yarnLock.replacingOccurrences(of: serve.base + "/npm/util/-/", with: upstream.baseURL + "/tarballs/")
            .write(to: locked.appendingPathComponent("yarn.lock"), atomically: true, encoding: .utf8)
        let stray = try run(shim, ["install", "--frozen-lockfile"], in: locked)
        #expect(stray.status == 2, "\(stray.err)")
        #expect(stray.err.contains("\(locked.path)/yarn.lock:7 has yarn fetch \(upstream.baseURL)/tarballs/\(util.file)"), "\(stray.err)")
        #expect(!FileManager.default.fileExists(atPath: locked.appendingPathComponent("node_modules").path))

        // Compromised upstream: the serve refuses (its pin), yarn fails and nothing is installed.
        _ = try publish("util", "1.2.0", body: "module.exports = 'EVIL util';\n")
        let second = try project("second")
        let compromised = try run(shim, ["add", "util@1.2.0"], in: second)
        #expect(compromised.status != 0, "\(compromised.err)")
        #expect((compromised.out + compromised.err).contains("403"), "\(compromised.out)\n\(compromised.err)")
        #expect(!FileManager.default.fileExists(atPath: second.appendingPathComponent("node_modules/util/index.js").path))
        #expect(try serve.stop().err.contains("403"))
    }

    /// What yarn itself reads, by its own rules, behind the shim (red team, round 4): each case ran a
    /// marker's code under the shim before (a local tarball's postinstall, a yarn-path, a global
    /// folder's dependency), or fetched from a host the serve does not front; each is refused before yarn starts.
    @Test func theYarnShimChecksWhatYarnItselfReads() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        guard let yarn = Self.yarn() else { return }
        let good = try publish("good", "1.0.0", body: "module.exports = 'good';\n")
        _ = try publish("create-good", "1.0.0", body: "module.exports = 'create';\n")
        let serve = try ServeProcess(root: root, arguments: ["--npm-upstream", upstream.baseURL + "/", "--pypi-no-index"])
        let (shim, environment, unset) = yarnShim(yarn, serve: serve, policy: serve.project.appendingPathComponent("policy.json").path)
        let marker = root.appendingPathComponent("PWNED-yarn-reads")
        func write(_ text: String, _ path: String) throws {
            let file = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: file, atomically: true, encoding: .utf8)
        }
        // A tarball of `good` whose postinstall leaves the marker, and a yarn.lock that has yarn take it from `resolved`.
        func evilTarball(_ path: String) throws -> String {
            let file = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            return try NpmTarball.pack(manifest: ["name": "good", "version": "1.0.0", "scripts": ["postinstall": "touch \(marker.path)"]],
                                       files: ["index.js": "module.exports = 'evil';\n"], to: file).integrity
        }
        func lock(_ resolved: String, integrity: String) -> String {
            "# yarn lockfile v1\n\n\ngood@1.0.0:\n  version \"1.0.0\"\n  resolved \"\(resolved)\"\n  integrity \(integrity)\n"
        }
        let dependsOnGood = #"{"name":"p","version":"1.0.0","license":"MIT","dependencies":{"good":"1.0.0"}}"#
        func run(_ arguments: [String], in path: String) throws -> ProcessResult {
            let result = try BouncerProcess.startProgram(shim, arguments, cwd: root.appendingPathComponent(path).path, environment: environment, unsetting: unset).wait()
            #expect(!FileManager.default.fileExists(atPath: marker.path), "\(path) \(arguments): the marker's code ran: \(result.err)")
            return result
        }

        // Y2: a member with `"workspaces": []` is its own root to yarn, which installs from its yarn.lock.
        try write(#"{"name":"root","private":true,"workspaces":["app"]}"#, "own-root/package.json")
        try write(#"{"name":"app","version":"1.0.0","license":"MIT","workspaces":[],"dependencies":{"good":"1.0.0"}}"#, "own-root/app/package.json")
        try write(lock("file:./vendor/good-1.0.0.tgz", integrity: try evilTarball("own-root/app/vendor/good-1.0.0.tgz")), "own-root/app/yarn.lock")
        let member = try run(["install"], in: "own-root/app")
        #expect(member.status == 2 && member.err.contains("own-root/app/yarn.lock:6 has yarn fetch file:./vendor/good-1.0.0.tgz"), "\(member.err)")
        // A node_modules folder marks no project to yarn: it installs the folder above's.
        try write(dependsOnGood, "above/package.json")
        try write(lock("file:./vendor/good-1.0.0.tgz", integrity: try evilTarball("above/vendor/good-1.0.0.tgz")), "above/yarn.lock")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("above/sub/node_modules"), withIntermediateDirectories: true)
        let below = try run(["install"], in: "above/sub")
        #expect(below.status == 2 && below.err.contains("above/yarn.lock:6 has yarn fetch file:"), "\(below.err)")
        // yarn reads `x@evil` as the project's folder evil, wherever in the project it runs.
        try write(#"{"name":"evil","version":"1.0.0","scripts":{"postinstall":"touch \#(marker.path)"}}"#, "implicit/evil/package.json")
        try write(#"{"name":"implicit","version":"1.0.0","license":"MIT"}"#, "implicit/package.json")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("implicit/src"), withIntermediateDirectories: true)
        let implicit = try run(["add", "evil@evil"], in: "implicit/src")
        #expect(implicit.status == 1 && implicit.err.contains("file:evil (the command line)"), "\(implicit.err)")

        // Y3: an offline mirror in an .npmrc, its key spelled as ini reads it.
        try write(dependsOnGood, "mirror/package.json")
        try write(lock("\(serve.base)/npm/good/-/\(good.file)", integrity: try evilTarball("mirror/mirror/good-1.0.0.tgz")), "mirror/yarn.lock")
        for key in ["yarn-offline-mirror#", #""yarn-offline-mirro\u0072""#] {
            try write("\(key)=./mirror\n", "mirror/.npmrc")
            let mirrored = try run(["install"], in: "mirror")
            #expect(mirrored.status == 2 && mirrored.err.contains("yarn-offline-mirror is set in \(root.path)/mirror/.npmrc"), "\(key): \(mirrored.err)")
        }

        // Y4: a .yarnrc.yml's yarn-path in YAML's other spellings: yarn runs that file instead of itself.
        try write(dependsOnGood, "yml/package.json")
        try write("require('fs').writeFileSync(\(String(reflecting: marker.path)), 'ran')\n", "yml/.yarn/releases/yarn-4.0.0.cjs")
        for line in [#""yarn-pat\x68": ./.yarn/releases/yarn-4.0.0.cjs"#, "{yarn-path: ./.yarn/releases/yarn-4.0.0.cjs}"] {
            try write(line + "\n", "yml/.yarnrc.yml")
            let yml = try run(["install"], in: "yml")
            #expect(yml.status == 2 && yml.err.contains("yarn reads a .yarnrc.yml as YAML"), "\(line): \(yml.err)")
        }

        // Y5: `yarn create` is a `yarn global add` inside yarn, and installs the global folder's own package.json.
        try write(#"{"name":"c","version":"1.0.0","license":"MIT"}"#, "create/package.json")
        try write("global-folder \"./g\"\n", "create/.yarnrc")
        try write(#"{"dependencies":{"evil":"file:../evil"}}"#, "create/g/package.json")
        try write(#"{"name":"evil","version":"1.0.0","scripts":{"postinstall":"touch \#(marker.path)"}}"#, "create/evil/package.json")
        let created = try run(["create", "good"], in: "create")
        #expect(created.status == 2 && created.err.contains("global-folder is set in \(root.path)/create/.yarnrc"), "\(created.err)")
        let added = try run(["add", "good"], in: "create")
        #expect(added.status == 2 && added.err.contains("global-folder is set in \(root.path)/create/.yarnrc"), "\(added.err)")
        // With no such setting, `yarn create` is refused as `yarn global add` is.
        try write(#"{"name":"plain","version":"1.0.0","license":"MIT"}"#, "plain/package.json")
        let plain = try run(["create", "good"], in: "plain")
        #expect(plain.status == 2 && plain.err.contains("yarn create installs into yarn's global folder"), "\(plain.err)")

        // Y7: yarn reads --use-yarnrc, and looks for yarn-path, in the working folder, whatever --cwd says.
        try write(#"{"name":"app","version":"1.0.0","license":"MIT"}"#, "use-rc/app/package.json")
        try write("require('fs').writeFileSync(\(String(reflecting: marker.path)), 'ran')\n", "use-rc/ci-yarn.js")
        try write("yarn-path \"./ci-yarn.js\"\n", "use-rc/.yarnrc-ci")
        let named = try run(["--cwd", "app", "--use-yarnrc", ".yarnrc-ci", "install"], in: "use-rc")
        #expect(named.status == 2 && named.err.contains("yarn-path is set in \(root.path)/use-rc/.yarnrc-ci"), "\(named.err)")
        try write("yarn-path \"../ci-yarn.js\"\n", "use-rc/here/.yarnrc")
        let here = try run(["--cwd", root.appendingPathComponent("use-rc/app").path, "install"], in: "use-rc/here")
        #expect(here.status == 2 && here.err.contains("yarn-path is set in \(root.path)/use-rc/here/.yarnrc"), "\(here.err)")
        let missing = try run(["--use-yarnrc", "absent.rc", "install"], in: "use-rc/app")
        #expect(missing.status == 2 && missing.err.contains("use-rc/app/absent.rc: --use-yarnrc names it"), "\(missing.err)")

        // Y6: commands that read the project's packages fetch them too, from where yarn.lock says.
        try write(dependsOnGood, "reading/package.json")
        try write(lock(upstream.baseURL + "/tarballs/" + good.file, integrity: good.integrity), "reading/yarn.lock")
        for command in [["licenses", "list"], ["why", "good"], ["list"], ["check"]] {
            let read = try run(command, in: "reading")
            #expect(read.status == 2 && read.err.contains("yarn \(command[0]): \(root.path)/reading/yarn.lock:6 has yarn fetch \(upstream.baseURL)/tarballs/"),
                    "\(command): \(read.err)")
        }
        #expect(try serve.stop().status == 0)
    }

    /// The repository's yarn shim in front of the real yarn, pointed at `serve`: the shim's path, the
    /// environment (BOUNCER_POLICY when `policy` is given) and the variables to unset.
    func yarnShim(_ yarn: (path: String, environment: [String: String]), serve: ServeProcess, policy: String? = nil)
        -> (shim: String, environment: [String: String], unset: [String]) {
        let shims = Corpus.packageRoot.appendingPathComponent("shims").path
        let yarnDirectory = URL(fileURLWithPath: yarn.path).deletingLastPathComponent().path
        var environment = ["PATH": "\(shims):\(yarnDirectory):/usr/local/bin:/usr/bin:/bin", "BOUNCER_BIN": BouncerProcess.executable, "CI": "",
                           "HOME": root.path, "BOUNCER_CACHE": root.appendingPathComponent("shim-cache").path,
                           "npm_config_registry": serve.base + "/npm/", "YARN_CACHE_FOLDER": root.appendingPathComponent("yarn-cache").path]
        if let policy { environment["BOUNCER_POLICY"] = policy }
        for (key, value) in yarn.environment { environment[key] = value }
        let unset = ["YARN_REGISTRY", "npm_config_proxy", "npm_config_https_proxy", "YARN_PROXY", "YARN_HTTPS_PROXY", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"]
        return (shims + "/" + URL(fileURLWithPath: yarn.path).lastPathComponent, environment, unset)
    }

    /// Full and abbreviated packuments (Accept), scoped names in both spellings,
    /// tarball URLs pointing at the proxy, and the registry endpoints npm calls.
    @Test func packumentsPointAtTheProxy() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let util = try publish("@acme/util", "1.2.0", body: "module.exports = 'genuine util';\n")
        try #"{"keys":[{"expires":null,"keyid":"SHA256:test","keytype":"ecdsa-sha2-nistp256","scheme":"ecdsa-sha2-nistp256","key":"AAAA"}]}"#
            .write(to: registry.appendingPathComponent("-/npm/v1/keys", isDirectory: false).creatingParent(), atomically: true, encoding: .utf8)
        let serve = try ServeProcess(root: root, arguments: ["--npm-upstream", upstream.baseURL + "/", "--pypi-upstream", upstream.baseURL + "/simple/", "--quiet"])

        for path in ["/npm/@acme%2futil", "/npm/@acme%2Futil", "/npm/@acme/util"] {
            let full = try CurlGet.run(serve.base + path)
            #expect(full.status == 200, "\(path): \(full.text)")
            #expect(full.contentType.hasPrefix("application/json"))
            let document = try JSONSerialization.jsonObject(with: full.body) as? [String: Any]
            let dist = ((document?["versions"] as? [String: Any])?["1.2.0"] as? [String: Any])?["dist"] as? [String: Any]
            #expect(dist?["tarball"] as? String == serve.base + "/npm/@acme/util/-/" + util.file)
            #expect(dist?["integrity"] as? String == util.integrity)
            #expect(!full.text.contains(":\(upstream.port)"))
        }
        let abbreviated = try CurlGet.run(serve.base + "/npm/@acme%2futil", accept: "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*")
        #expect(abbreviated.status == 200)
        // The loopback registry answers JSON whatever is asked; the proxy says what it got.
        #expect(abbreviated.contentType.hasPrefix("application/json"))
        #expect(upstream.requests.contains("GET /@acme%2futil"))

        let tarball = try CurlGet.run(serve.base + "/npm/@acme/util/-/" + util.file)
        #expect(tarball.status == 200)
        let saved = root.appendingPathComponent("saved.tgz")
        try tarball.body.write(to: saved)
        #expect(try ServeFixtures.sha256(saved) == util.sha256)

        let keys = try CurlGet.run(serve.base + "/npm/-/npm/v1/keys")
        #expect(keys.status == 200)
        #expect(keys.text.contains("SHA256:test"))
        let audit = try CurlGet.run(serve.base + "/npm/-/npm/v1/security/advisories/bulk")
        #expect(audit.status == 404)
        let missing = try CurlGet.run(serve.base + "/npm/no-such-package")
        #expect(missing.status == 404)
        let traversal = try CurlGet.run(serve.base + "/npm/..%2f..%2fetc%2fpasswd")
        #expect(traversal.status == 404)

        // A version whose tarball's file name the proxy cannot serve (a leading dot) is not offered: its
        // URL would stay upstream's and npm would fetch it from there, unverified (red team, round 5).
        let dotted: [String: Any] = [
            "name": "dotpkg", "dist-tags": ["latest": "2.0.0"],
            "time": ["1.0.0": "2024-01-01T00:00:00.000Z", "2.0.0": "2024-02-01T00:00:00.000Z"],
            "versions": ["1.0.0": ["name": "dotpkg", "version": "1.0.0", "dist": ["tarball": upstream.baseURL + "/tarballs/dotpkg-1.0.0.tgz"]],
                         "2.0.0": ["name": "dotpkg", "version": "2.0.0", "dist": ["tarball": upstream.baseURL + "/tarballs/.dotpkg-2.0.0.tgz"]]],
        ]
        try JSONSerialization.data(withJSONObject: dotted).write(to: registry.appendingPathComponent("dotpkg"))
        let offered = try CurlGet.run(serve.base + "/npm/dotpkg")
        let document = try JSONSerialization.jsonObject(with: offered.body) as? [String: Any]
        #expect((document?["versions"] as? [String: Any]).map { Set($0.keys) } == ["1.0.0"], "\(offered.text)")
        #expect((document?["dist-tags"] as? [String: Any])?["latest"] as? String == "1.0.0")
        #expect(!offered.text.contains(":\(upstream.port)"), "an upstream URL was offered: \(offered.text)")
        #expect(try serve.stop().status == 0)
    }
}

extension URL {
    /// Creates the parent directory and returns self (for writing a file at a nested path).
    func creatingParent() throws -> URL {
        try FileManager.default.createDirectory(at: deletingLastPathComponent(), withIntermediateDirectories: true)
        return self
    }
}
