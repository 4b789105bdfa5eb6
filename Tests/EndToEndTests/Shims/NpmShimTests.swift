import Foundation
import Testing
import BouncerTestSupport

/// The real npm behind the shim, against a loopback registry (packuments and
/// tarballs made at test time as `npm pack` makes them, `NpmTarball`) and a package-lock.json written
/// by the real npm.
@Suite(.blocking) struct NpmShimTests {
    var harness: ShimHarness
    let registry: URL
    let server: DirectoryHTTPServer
    let npm = ShimHarness.tool("npm") ?? "/usr/bin/npm"

    struct Packed { let file: String; let integrity: String }

    init() throws {
        harness = try ShimHarness("bouncer-npm-e2e")
        registry = harness.root.appendingPathComponent("registry")
        try FileManager.default.createDirectory(at: registry, withIntermediateDirectories: true)
        server = try DirectoryHTTPServer(root: registry.path)
        try harness.writePolicy()
    }

    /// Packs a package as npm lays it out into the registry directory. `declared`
    /// overrides the version written into the tarball's package.json (manifest confusion).
    @discardableResult
    func pack(_ name: String, _ version: String, dependencies: [String: String] = [:], declared: String? = nil,
              body: String? = nil, as fileName: String? = nil) throws -> Packed {
        let manifest: [String: Any] = ["name": name, "version": declared ?? version, "main": "index.js", "dependencies": dependencies]
        // The registry layout npm expects (REGISTRY/NAME/-/FILE.tgz): a lock's resolved URL maps onto the proxy.
        let file = "\(name)/-/" + (fileName ?? "\(name)-\(version).tgz")
        let packed = try NpmTarball.pack(manifest: manifest, files: ["index.js": body ?? "module.exports = '\(name)@\(version)';\n"],
                                         to: registry.appendingPathComponent(file))
        return Packed(file: file, integrity: packed.integrity)
    }

    /// The registry document for a package: one version, its tarball URL and integrity.
    func packument(_ name: String, _ version: String, _ packed: Packed, dependencies: [String: String] = [:]) throws {
        let document: [String: Any] = [
            "name": name, "dist-tags": ["latest": version],
            "versions": [version: ["name": name, "version": version, "dependencies": dependencies,
                                   "dist": ["tarball": server.baseURL + "/" + packed.file, "integrity": packed.integrity]]],
        ]
        try writePackument(document, name)
    }

    /// A packument at REGISTRY/NAME (served as NAME/index.html beside NAME/-/).
    func writePackument(_ document: [String: Any], _ name: String) throws {
        let directory = registry.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: document).write(to: directory.appendingPathComponent("index.html"))
    }

    /// A tarball crafted with Python's tarfile (not npm pack) into the registry
    /// directory; its integrity computed by Python's hashlib.
    func craft(_ name: String, _ version: String, hostile: String) throws -> Packed {
        let file = "\(name)/-/\(name)-\(version).tgz"
        try FileManager.default.createDirectory(at: registry.appendingPathComponent("\(name)/-"), withIntermediateDirectories: true)
        let script = #"""
            import base64, hashlib, io, json, sys, tarfile
            out, name, version, hostile = sys.argv[1:5]
            def add(t, path, data=b"", kind=tarfile.REGTYPE, link=""):
                info = tarfile.TarInfo(path); info.type = kind; info.linkname = link; info.size = len(data) if kind == tarfile.REGTYPE else 0
                t.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
            with tarfile.open(out, "w:gz") as t:
                add(t, "package/package.json", json.dumps({"name": name, "version": version, "main": "index.js"}).encode())
                add(t, "package/index.js", b"module.exports = 'lib@1.0.0';\n")
                if hostile == "symlink":
                    add(t, "package/lib", kind=tarfile.SYMTYPE, link="../../../../../../etc")
                else:
                    add(t, "package/../../escaped.js", b"evil\n")
            print("sha512-" + base64.b64encode(hashlib.sha512(open(out, "rb").read()).digest()).decode())
            """#
        let result = try BouncerProcess.runProgram("/usr/bin/env", ["python3", "-c", script, registry.appendingPathComponent(file).path, name, version, hostile])
        guard result.status == 0 else { throw SetupError("crafting \(file) failed: \(result.err)") }
        return Packed(file: file, integrity: result.out.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// A project depending on `app`, which depends on `lib` and `util`; the lock is written by the real npm.
    /// `hostileLib`: lib's tarball is crafted instead ("symlink" or "dotdot"), with its true integrity in the packument.
    func project(libDeclared: String? = nil, hostileLib: String? = nil) throws {
        let lib = try hostileLib.map { try craft("lib", "1.0.0", hostile: $0) } ?? pack("lib", "1.0.0", declared: libDeclared)
        let util = try pack("tinyutil", "1.2.0")
        let app = try pack("app", "2.0.0", dependencies: ["lib": "^1.0.0", "tinyutil": "1.2.0"],
                           body: "module.exports = require('lib') + ' ' + require('tinyutil');\n")
        try packument("lib", "1.0.0", lib)
        try packument("tinyutil", "1.2.0", util)
        try packument("app", "2.0.0", app, dependencies: ["lib": "^1.0.0", "tinyutil": "1.2.0"])
        let manifest: [String: Any] = ["name": "proj", "version": "1.0.0", "dependencies": ["app": "2.0.0"]]
        try JSONSerialization.data(withJSONObject: manifest).write(to: harness.file("package.json"))
        try relock()
    }

    /// (Re)writes package-lock.json with the real npm, from the registry as it is now (a fresh npm cache: no stale packument).
    func relock() throws {
        try? FileManager.default.removeItem(at: harness.file("package-lock.json"))
        let locked = try BouncerProcess.runProgram(npm, ["install", "--package-lock-only", "--registry", server.baseURL + "/",
                                                         "--no-audit", "--no-fund"], cwd: harness.project.path,
                                                   environment: ["npm_config_cache": harness.root.appendingPathComponent("npm-cache-lock-\(UUID().uuidString)").path])
        guard locked.status == 0 else { throw SetupError("npm install --package-lock-only failed: \(locked.err)") }
    }

    func nodeModules() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: harness.file("node_modules").path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    func tarballRequests() -> [String] { server.requests.filter { $0.hasSuffix(".tgz") } }

    /// `npm ci`, and `npm install` with an existing lock: every tarball fetched
    /// once by Bouncer's proxy (the lock's resolved URLs lead there), the lock unchanged.
    @Test(arguments: ["npm ci", "npm install"])
    func lockedInstallUsesOnlyVerifiedTarballs(command: String) throws {
        defer { harness.cleanup() }
        try project()
        let lock = try #require(snapshot("package-lock.json"))
        let before = server.requests.count
        let result = try harness.sh(command)
        #expect(result.status == 0, "\(result.err)")
        #expect(nodeModules() == ["app", "lib", "tinyutil"])
        let run = try BouncerProcess.runProgram("/usr/bin/env", ["node", "-e", "console.log(require('app'))"], cwd: harness.project.path)
        #expect(run.out == "lib@1.0.0 tinyutil@1.2.0\n", "\(run.err)")
        // Each tarball fetched once, by the proxy; the real npm never reached the registry.
        let during = Array(server.requests.dropFirst(before)).filter { $0.hasSuffix(".tgz") }.sorted()
        #expect(during == ["GET /app/-/app-2.0.0.tgz", "GET /lib/-/lib-1.0.0.tgz", "GET /tinyutil/-/tinyutil-1.2.0.tgz"])
        if command == "npm ci" {
            // The proxy took the tarballs' versions and integrity from the lock the shim handed it
            // (and verified them while npm started): no packument was asked for.
            let packuments = Array(server.requests.dropFirst(before)).filter { !$0.hasSuffix(".tgz") }
            #expect(packuments.isEmpty, "\(packuments)")
        }
        #expect(result.err.contains("lib@1.0.0"), "\(result.err)")
        #expect(snapshot("package-lock.json") == lock)
    }

    /// `@scope:registry` (the project's .npmrc here, with the private registry's
    /// token as `//HOST/PATH/:_authToken=${VAR}`) is served by the shim's proxy
    /// for that scope: `npm install @corp/lib` and then `npm ci` from the lock
    /// npm wrote install it through the proxy, which pins it; only the proxy
    /// talks to the private registry, always with the token. A scope registry
    /// that is no URL (a ${VAR} left unset) is refused before npm runs (exit 2).
    @Test func aScopesOwnRegistryIsServedThroughTheProxy() throws {
        defer { harness.cleanup() }
        try project()
        let corpRoot = harness.root.appendingPathComponent("corp")
        let corp = try DirectoryHTTPServer(root: corpRoot.path)
        defer { corp.stop() }
        corp.requiredAuthorization = "Bearer corp-token"
        let tarball = corpRoot.appendingPathComponent("private/@corp/lib/-/lib-2.0.0.tgz")
        try FileManager.default.createDirectory(at: tarball.deletingLastPathComponent(), withIntermediateDirectories: true)
        let packed = try NpmTarball.pack(manifest: ["name": "@corp/lib", "version": "2.0.0", "main": "index.js"],
                                         files: ["index.js": "module.exports = 'corp lib';\n"], to: tarball)
        let document: [String: Any] = [
            "name": "@corp/lib", "dist-tags": ["latest": "2.0.0"],
            "versions": ["2.0.0": ["name": "@corp/lib", "version": "2.0.0",
                                   "dist": ["tarball": corp.baseURL + "/private/@corp/lib/-/lib-2.0.0.tgz", "integrity": packed.integrity]]],
        ]
        try JSONSerialization.data(withJSONObject: document).write(to: corpRoot.appendingPathComponent("private/@corp/lib/index.html"))
        let npmrc = """
            registry=\(server.baseURL)/
            @corp:registry=\(corp.baseURL)/private/
            //127.0.0.1:\(corp.port)/private/:_authToken=${CORP_TOKEN}

            """
        try npmrc.write(to: harness.file(".npmrc"), atomically: true, encoding: .utf8)

        let installed = try harness.sh("npm install @corp/lib", extra: ["CORP_TOKEN": "corp-token"])
        #expect(installed.status == 0, "\(installed.err)")
        #expect(installed.err.contains("@corp/lib@2.0.0 <- "), "\(installed.err)")
        #expect(FileManager.default.fileExists(atPath: harness.file("node_modules/@corp/lib/index.js").path))
        #expect(try String(contentsOf: harness.file("bouncer.lock"), encoding: .utf8).contains("npm:@corp/lib@2.0.0"))
        let seen = corp.requests
        #expect(seen.contains("GET /private/@corp/lib/-/lib-2.0.0.tgz"), "\(seen)")
        #expect(!corp.authorizations.isEmpty && corp.authorizations.allSatisfy { $0 == "Bearer corp-token" }, "\(corp.authorizations)")
        #expect(server.authorizations.allSatisfy { $0 == nil })

        // `npm ci` from the lock npm wrote (its resolved URL names the private registry, under /private/).
        try FileManager.default.removeItem(at: harness.file("node_modules"))
        let fromLock = try harness.sh("npm ci", extra: ["CORP_TOKEN": "corp-token"])
        #expect(fromLock.status == 0, "\(fromLock.err)")
        #expect(FileManager.default.fileExists(atPath: harness.file("node_modules/@corp/lib/index.js").path))
        #expect(corp.requests.count > seen.count && corp.authorizations.allSatisfy { $0 == "Bearer corp-token" })

        // A scope registry npm's configuration leaves unexpanded: refused before npm runs.
        try "registry=\(server.baseURL)/\n@corp:registry=${CORP_URL}\n".write(to: harness.file(".npmrc"), atomically: true, encoding: .utf8)
        let before = server.requests.count + corp.requests.count
        let unusable = try harness.sh("npm install @corp/lib")
        #expect(unusable.status == 2, "\(unusable.err)")
        #expect(unusable.err.contains("refused: @corp:registry=${CORP_URL} is not an http(s) URL"), "\(unusable.err)")
        #expect(server.requests.count + corp.requests.count == before)
    }

    /// The shipped policy trusts npm's own registry only (`"index": "primary"`,
    /// as for pip's index): a scope an `.npmrc` sends to another registry (a
    /// cloned project's, say) is refused until a rule names that registry,
    /// and then installs. The lock records the registry each came from, so
    /// `bouncer check` matches as the install did.
    @Test func theShippedPolicyTrustsOnlyNpmsOwnRegistry() throws {
        defer { harness.cleanup() }
        try project()
        let packed = try pack("@types/x", "1.0.0")
        try packument("@types/x", "1.0.0", packed)
        // Another registry for the scope: here the same server under a path of its own.
        let elsewhere = server.baseURL + "/elsewhere/"
        try FileManager.default.createDirectory(at: registry.appendingPathComponent("elsewhere/@types"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: registry.appendingPathComponent("@types/x"), to: registry.appendingPathComponent("elsewhere/@types/x"))
        try "registry=\(server.baseURL)/\n@types:registry=\(elsewhere)\n".write(to: harness.file(".npmrc"), atomically: true, encoding: .utf8)
        let shipped = try String(contentsOf: Corpus.packageRoot.appendingPathComponent("policy.json"), encoding: .utf8)
        #expect(shipped.contains(#""match": { "ecosystem": "npm", "index": "primary" }"#))
        // Release age off (these packuments state no times); everything else as shipped.
        let policy = shipped.replacingOccurrences(of: #""minimumReleaseAge": "48h""#, with: #""minimumReleaseAge": "0""#)
        try policy.write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)

        let refused = try harness.sh("npm install @types/x")
        #expect(refused.status != 0, "\(refused.err)")
        #expect(refused.err.contains("refused @types/x@1.0.0") && refused.err.contains("no rule"), "\(refused.err)")
        #expect(!FileManager.default.fileExists(atPath: harness.file("node_modules/@types/x").path))

        // A rule that names the scope's registry: it installs, and the lock says where it came from.
        let trusting = policy.replacingOccurrences(of: #""rules": ["#, with: """
            "rules": [
                { "name": "@types from its registry", "match": { "ecosystem": "npm", "index": "\(elsewhere)*" }, "require": [ { "integrity": {} } ] },
            """)
        try trusting.write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        let installed = try harness.sh("npm install @types/x")
        #expect(installed.status == 0, "\(installed.err)")
        #expect(FileManager.default.fileExists(atPath: harness.file("node_modules/@types/x/index.js").path))
        let lock = try String(contentsOf: harness.file("bouncer.lock"), encoding: .utf8)
        #expect(lock.contains(#""primary": false"#) && lock.contains(#""url": "\#(elsewhere)""#), "\(lock)")
        // Frozen too (as under CI=true): the packument's sha512 the lock records is proven again, not seen as a change.
        for frozen in ["--frozen", "--no-frozen"] {
            let check = try BouncerProcess.run(["check", frozen], cwd: harness.project.path)
            #expect(check.status == 0, "\(frozen): \(check.out)\n\(check.err)")
        }
    }

    /// The scope's registry given on the command line (`--@scope:registry=URL`)
    /// is the proxy's too: npm is not sent there (the flag is taken out of its
    /// command line, which would outrank the proxy), the proxy is.
    @Test func aScopeRegistryOnTheCommandLineGoesThroughTheProxy() throws {
        defer { harness.cleanup() }
        try project()
        let packed = try pack("@evil/x", "1.0.0")
        try packument("@evil/x", "1.0.0", packed)
        let result = try harness.sh("npm install --registry=\(server.baseURL)/ --@evil:registry=\(server.baseURL)/ @evil/x")
        #expect(result.status == 0, "\(result.err)")
        #expect(result.err.contains("@evil/x@1.0.0 <- "), "\(result.err)")
        #expect(FileManager.default.fileExists(atPath: harness.file("node_modules/@evil/x/index.js").path))
    }

    /// npm reads a setting however its parser lets it be written: one dash
    /// (`-registry=URL`), a shorthand (`--reg URL`), any prefix of one setting
    /// only (`--regis=URL`). Each once reached the real npm unseen and sent it
    /// to the registry itself, past the proxy. Now each is the proxy's
    /// upstream: the install goes through, and the registry hears only from the proxy.
    @Test(arguments: ["-registry=REGISTRY", "--reg REGISTRY", "--regis=REGISTRY"])
    func everySpellingOfTheRegistryIsTheProxys(spelling: String) throws {
        defer { harness.cleanup() }
        try project()
        try expectInstalledThroughTheProxy("npm install \(spelling.replacingOccurrences(of: "REGISTRY", with: server.baseURL + "/")) app",
                                           fromScratch: true, proof: "app@2.0.0 <- ")
    }

    /// Runs `command` in the project (`fromScratch`: without its lock and
    /// dependencies): it installs app, lib and tinyutil, the registry hears
    /// only from the proxy, and the shim shows `proof` of the verification.
    func expectInstalledThroughTheProxy(_ command: String, fromScratch: Bool, proof: String) throws {
        if fromScratch {
            try FileManager.default.removeItem(at: harness.file("package-lock.json"))
            try JSONSerialization.data(withJSONObject: ["name": "proj", "version": "1.0.0"]).write(to: harness.file("package.json"))
        }
        let before = server.userAgents.count
        let result = try harness.sh(command)
        #expect(result.status == 0, "\(command): \(result.err)")
        #expect(nodeModules() == ["app", "lib", "tinyutil"], "\(command)")
        let heard = Array(server.userAgents.dropFirst(before))
        #expect(!heard.isEmpty && !heard.contains { $0?.hasPrefix("npm/") == true }, "\(command): npm reached the registry itself: \(heard)")
        #expect(result.err.contains(proof), "\(command): through the proxy: \(result.err)")
    }

    /// npm called by its path (no shim in front of it) under `bouncer exec`,
    /// which puts its own verifying proxy in the command's environment: the
    /// install goes through the proxy (the registry hears only Bouncer), and
    /// what was verified is said when the command ends.
    @Test func npmByItsPathUnderBouncerExecInstallsThroughItsProxy() throws {
        defer { harness.cleanup() }
        try project()
        let before = server.userAgents.count
        let result = try harness.sh("\"$BOUNCER_BIN\" exec -- \(npm) ci --no-audit --no-fund", extra: ["npm_config_registry": server.baseURL + "/"])
        #expect(result.status == 0, "\(result.err)")
        #expect(nodeModules() == ["app", "lib", "tinyutil"])
        let heard = Array(server.userAgents.dropFirst(before))
        #expect(!heard.isEmpty && !heard.contains { $0?.hasPrefix("npm/") == true }, "npm reached the registry itself: \(heard)")
        #expect(result.err.contains("bouncer: lib 1.0.0 <- \(server.baseURL)/lib/-/lib-1.0.0.tgz: "), "\(result.err)")

        // An install that writes the lockfile records the registry's tarball URLs, never the
        // exec proxy's passing address (the next run's proxy has another).
        try FileManager.default.removeItem(at: harness.file("package-lock.json"))
        try FileManager.default.removeItem(at: harness.file("node_modules"))
        let install = try harness.sh("\"$BOUNCER_BIN\" exec -- \(npm) install --no-audit --no-fund", extra: ["npm_config_registry": server.baseURL + "/"])
        #expect(install.status == 0, "\(install.err)")
        #expect(nodeModules() == ["app", "lib", "tinyutil"])
        #expect(install.err.contains("bouncer: app 2.0.0 <- "), "\(install.err)")
        let lock = try String(contentsOf: harness.file("package-lock.json"), encoding: .utf8)
        #expect(lock.contains("\"resolved\": \"\(server.baseURL)/lib/-/lib-1.0.0.tgz\""), "\(lock)")
        #expect(!lock.contains("/npm/"), "the proxy's address is in the lockfile: \(lock)")
    }

    /// An option before the command, with its value as the next word: npm
    /// takes that word as the option's value (nopt, with the setting's type).
    /// The shim took it for npm's command ("2099-01-01" is no install), passed
    /// the call through, and the real npm installed from the registry itself,
    /// unverified, in enforce mode. Now the install goes through the proxy.
    @Test(arguments: ["--before 2099-01-01", "--ignore-scripts false", "--otp 123456", "--fetch-retries 0", "-C ."])
    func anOptionsValueIsNeverTakenForTheCommand(option: String) throws {
        defer { harness.cleanup() }
        try project()
        try expectInstalledThroughTheProxy("npm \(option) install --registry=\(server.baseURL)/ app", fromScratch: true, proof: "app@2.0.0 <- ")
    }

    /// npm reads its command word as it reads options: any prefix of one
    /// command or alias (`upd` is `update`, `dedu` is `dedupe`), or camelCase.
    /// The shim knew only full words and aliases: these ran the real npm
    /// unguarded, fetching from the registry itself.
    @Test(arguments: ["upd", "dedu", "ci"])
    func everySpellingOfAFetchingCommandGoesThroughTheProxy(command: String) throws {
        defer { harness.cleanup() }
        try project()
        try expectInstalledThroughTheProxy("npm \(command)", fromScratch: false, proof: "lib@1.0.0 <- ")
    }

    /// Commands that install outside the project and its lock: `npm link
    /// NAME` installs NAME into npm's global folder first; `npm audit fix`
    /// installs what npm's audit picks (which the proxy does not answer).
    /// Both passed through to the real npm. Refused in enforce mode, in any spelling.
    @Test func installsOutsideTheLockAreRefusedInEverySpelling() throws {
        defer { harness.cleanup() }
        try project()
        let before = server.requests.count
        for command in ["link app", "ln app", "lin app", "audit fix", "aud fix"] {
            let result = try harness.sh("npm \(command)")
            #expect(result.status == 2, "\(command): \(result.err)")
            #expect(result.err.contains("refused: npm "), "\(command): \(result.err)")
            #expect(!FileManager.default.fileExists(atPath: harness.file("node_modules/app").path), "\(command)")
        }
        #expect(server.requests.count == before, "\(server.requests.dropFirst(before))")
    }

    /// `--@scope:registry URL` (no `=`): npm does not know the setting, reads
    /// it as a flag, and the URL as a package to install from that URL. The
    /// shim took the URL for the scope's registry, so the tarball URL was
    /// never checked, and npm fetched it itself. `install-test` (`it`)
    /// installs the specs it names, as `install` does, and a tarball URL among
    /// them was not checked either. Now each is refused as a source outside
    /// the registry before anything runs.
    @Test(arguments: ["install --registry=REGISTRY --@corp:registry URL", "install-test URL", "it URL", "installTest URL"])
    func aURLAfterAScopeRegistryFlagIsAPackageSpec(command: String) throws {
        defer { harness.cleanup() }
        try project()
        let before = server.requests.count
        let url = "\(server.baseURL)/app/-/app-2.0.0.tgz"
        let line = command.replacingOccurrences(of: "REGISTRY", with: server.baseURL + "/").replacingOccurrences(of: "URL", with: url)
        let result = try harness.sh("npm \(line)")
        #expect(result.status != 0, "\(line): \(result.err)")
        #expect(result.err.contains("\(url) (the command line) does not come from the registry"), "\(line): \(result.err)")
        #expect(Array(server.requests.dropFirst(before)).filter { $0.hasSuffix(".tgz") }.isEmpty, "\(line)")
    }

    /// npm reads the words after `--` as it reads the others (the command too:
    /// `npm -- install X`), and `npm diff --diff=SPEC` and `npm publish SPEC`
    /// fetch what they name. The shim checked none of these: a folder's
    /// postinstall ran, a git package's prepare ran (red team). Each is
    /// refused before npm starts; the folder's script never runs.
    @Test func specsAfterDashesAndDiffAndPublishSpecsAreChecked() throws {
        defer { harness.cleanup() }
        try project()
        let evil = harness.root.appendingPathComponent("evil")
        let marker = harness.root.appendingPathComponent("postinstall-ran")
        try FileManager.default.createDirectory(at: evil, withIntermediateDirectories: true)
        let manifest: [String: Any] = ["name": "evil", "version": "1.0.0",
                                       "scripts": ["postinstall": "touch '\(marker.path)'", "prepare": "touch '\(marker.path)'"]]
        try JSONSerialization.data(withJSONObject: manifest).write(to: evil.appendingPathComponent("package.json"))
        for line in ["install -- \(evil.path)", "-- install \(evil.path)", "i --registry=\(server.baseURL)/ -- \(evil.path)",
                     "pack -- \(evil.path)", "init -- git+file://\(evil.path)", "diff --diff=\(evil.path) --diff=app@2.0.0",
                     "publish --dry-run git+file://\(evil.path)"] {
            let result = try harness.sh("npm \(line)")
            #expect(result.status == 1, "\(line): \(result.err)")
            #expect(result.err.contains("(the command line) does not come from the registry"), "\(line): \(result.err)")
        }
        #expect(!FileManager.default.fileExists(atPath: marker.path), "a script of the folder ran")
        #expect(!nodeModules().contains("evil"))
        // A folder on disk stays publishable (its own code; publish never goes through the proxy).
        let local = try harness.sh("npm publish --dry-run \(evil.path)")
        #expect(!local.err.contains("refused"), "\(local.err)")
    }

    /// npm's update check keeps its date in npm's cache, which the shim makes
    /// new on every run: npm fetched its own packument through the proxy on
    /// every run. The shim turns the check off unless the user set it.
    @Test func npmDoesNotCheckForItsOwnUpdateOnEveryRun() throws {
        defer { harness.cleanup() }
        try project()
        let before = server.requests.count
        let result = try harness.sh("env -u npm_config_update_notifier npm ci")
        #expect(result.status == 0, "\(result.err)")
        let asked = Array(server.requests.dropFirst(before))
        #expect(!asked.isEmpty && !asked.contains { $0.hasPrefix("GET /npm") }, "\(asked)")
    }

    /// A global install (no project, no lock to pin it in) is refused in
    /// enforce mode in each way npm takes it: `-g`, in a cluster (`-gf`),
    /// `--location=global`, `--location global`. Nothing is fetched.
    @Test func aGlobalInstallIsRefusedHoweverItIsWritten() throws {
        defer { harness.cleanup() }
        try project()
        let before = server.requests.count
        for flags in ["-g", "-gf", "--location=global", "--location global", "-global", "--global=true"] {
            let result = try harness.sh("npm install \(flags) --registry=\(server.baseURL)/ app")
            #expect(result.status == 2, "\(flags): \(result.err)")
            #expect(result.err.contains("installs globally without a lock"), "\(flags): \(result.err)")
        }
        // The same settings from the environment and an npmrc file, named in the refusal.
        for (variable, value) in [("npm_config_global", "true"), ("NPM_CONFIG_LOCATION", "global")] {
            let result = try harness.sh("npm install --registry=\(server.baseURL)/ app", extra: [variable: value])
            #expect(result.status == 2, "\(variable): \(result.err)")
            #expect(result.err.contains("\(variable)=\(value) installs globally without a lock"), "\(variable): \(result.err)")
        }
        for line in ["global=true", "location=global"] {
            try "\(line)\n".write(to: harness.file(".npmrc"), atomically: true, encoding: .utf8)
            let result = try harness.sh("npm install --registry=\(server.baseURL)/ app")
            #expect(result.status == 2, "\(line): \(result.err)")
            #expect(result.err.contains("\(line) in \(harness.file(".npmrc").path) installs globally"), "\(line): \(result.err)")
        }
        #expect(server.requests.count == before, "\(server.requests.dropFirst(before))")
        // The command line outranks them, as in npm (each of `global` and `location` can make it global): a local install.
        try "global=true\n".write(to: harness.file(".npmrc"), atomically: true, encoding: .utf8)
        let local = try harness.sh("npm install --no-global --location=project --registry=\(server.baseURL)/ app",
                                   extra: ["npm_config_location": "global"])
        #expect(local.status == 0, "\(local.err)")
        #expect(nodeModules().contains("app"))
        #expect(local.err.contains("app@2.0.0 <- "), "through the proxy: \(local.err)")
    }

    /// Behind an HTTP proxy npm is given (`--proxy`), with a `--noproxy` that
    /// leaves the loopback out, `HTTP_PROXY` pointing at a closed port, and
    /// `--replace-registry-host=never` (npm would fetch the lock's tarball
    /// URLs as they are): npm reaches the shim's proxy directly and only
    /// through it the registry, and the proxy's own requests go through the
    /// HTTP proxy npm was given. Before, npm sent its requests for the loopback
    /// proxy through the HTTP proxy (which cannot reach this machine's loopback,
    /// and could answer in the proxy's place), and fetched the lock's tarballs itself.
    @Test func behindAnHTTPProxyNpmReachesTheVerifyingProxyDirectly() throws {
        defer { harness.cleanup() }
        try project()
        let relay = try ForwardProxy(directory: harness.root)
        defer { relay.stop() }
        let closedPort = try { () throws -> UInt16 in let s = try MisbehavingServer(); let p = s.port; s.stop(); return p }()
        let before = server.userAgents.count
        let result = try harness.sh("npm ci --proxy=\(relay.url) --noproxy example.invalid --replace-registry-host=never",
                                    extra: ["HTTP_PROXY": "http://127.0.0.1:\(closedPort)", "NO_PROXY": "", "no_proxy": ""])
        #expect(result.status == 0, "\(result.err)")
        #expect(nodeModules() == ["app", "lib", "tinyutil"])
        let heard = Array(server.userAgents.dropFirst(before))
        #expect(!heard.contains { $0?.hasPrefix("npm/") == true }, "npm reached the registry itself: \(heard)")
        let relayed = relay.requests
        #expect(relayed.filter { $0.url.hasSuffix(".tgz") }.count == 3, "the proxy's requests did not go through npm's proxy: \(relayed)")
        #expect(!relayed.contains { $0.userAgent.hasPrefix("npm/") }, "npm's own requests went through the HTTP proxy: \(relayed)")
    }

    /// A registry behind the company's own CA, which npm is told to trust
    /// (`--cafile FILE`, or `cafile=` in an npmrc): the proxy trusts the same
    /// file for its own requests. Without it the shim says the registry could
    /// not be read (the proxy refused its certificate).
    @Test func aRegistryBehindItsOwnCAIsReadWithTheCAFileNpmTrusts() throws {
        defer { harness.cleanup() }
        let tls = try LoopbackTLSServer()
        defer { tls.stop() }
        let registryFlag = try publishOverTLS(tls)
        // (npm retries a 502 for a minute by default.)
        let untrusted = try harness.sh("npm install \(registryFlag) tlspkg", extra: ["npm_config_fetch_retries": "0"])
        #expect(untrusted.status != 0, "\(untrusted.err)")
        #expect(untrusted.err.contains("could not read npm:tlspkg upstream"), "\(untrusted.err)")
        try "cafile=\(tls.certificate)\n".write(to: harness.file(".npmrc"), atomically: true, encoding: .utf8)
        let trusted = try harness.sh("npm install \(registryFlag) tlspkg")
        #expect(trusted.status == 0, "\(trusted.err)")
        #expect(nodeModules() == ["tlspkg"])
        #expect(trusted.err.contains("tlspkg@1.0.0"), "\(trusted.err)")
        // The certificate inline, as npm's `ca` setting takes it (PEM, newlines written `\n`): in an npmrc, or the variable.
        let inline = try String(contentsOfFile: tls.certificate, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: "\n", with: "\\n")
        for (label, npmrc, extra, flag) in [("ca= in .npmrc", "ca=\"\(inline)\"\n", [String: String](), ""),
                                            ("npm_config_ca", "", ["npm_config_ca": inline], ""),
                                            ("--ca", "", [:], "--ca '\(inline)'")] {
            for name in ["node_modules", "package-lock.json"] { try? FileManager.default.removeItem(at: harness.file(name)) }
            try JSONSerialization.data(withJSONObject: ["name": "proj", "version": "1.0.0"]).write(to: harness.file("package.json"))
            try npmrc.write(to: harness.file(".npmrc"), atomically: true, encoding: .utf8)
            let result = try harness.sh("npm install \(flag) \(registryFlag) tlspkg", extra: extra.merging(["npm_config_fetch_retries": "0"]) { $1 })
            #expect(result.status == 0, "\(label): \(result.err)")
            #expect(nodeModules() == ["tlspkg"], "\(label)")
        }
    }

    /// A registry that admits clients by certificate (mutual TLS), named as
    /// npm takes it: `//HOST/PATH/:certfile` and `:keyfile` in an npmrc. The
    /// proxy presents that certificate upstream for the registry's URLs (its
    /// packument and its tarballs); without them it is turned away.
    @Test func aRegistryThatAdmitsClientsByCertificateGetsNpmsCertificate() throws {
        defer { harness.cleanup() }
        let tls = try LoopbackTLSServer(requiringClientCertificates: true)
        defer { tls.stop() }
        let registryFlag = try publishOverTLS(tls)
        try "cafile=\(tls.certificate)\n".write(to: harness.file(".npmrc"), atomically: true, encoding: .utf8)
        let turnedAway = try harness.sh("npm install \(registryFlag) tlspkg", extra: ["npm_config_fetch_retries": "0"])
        #expect(turnedAway.status != 0, "\(turnedAway.err)")
        #expect(turnedAway.err.contains("could not read npm:tlspkg upstream"), "\(turnedAway.err)")
        #expect(nodeModules() == [])
        let key = "//127.0.0.1:\(tls.port)/tree/"
        try "cafile=\(tls.certificate)\n\(key):certfile=\(tls.clientCertificate)\n\(key):keyfile=\(tls.clientKey)\n"
            .write(to: harness.file(".npmrc"), atomically: true, encoding: .utf8)
        let admitted = try harness.sh("npm install \(registryFlag) tlspkg", extra: ["npm_config_fetch_retries": "0"])
        #expect(admitted.status == 0, "\(admitted.err)")
        #expect(nodeModules() == ["tlspkg"])
        #expect(admitted.err.contains("tlspkg@1.0.0 <- "), "\(admitted.err)")
    }

    /// `tlspkg@1.0.0` on a registry served by `tls` under `/tree/`; returns npm's `--registry=` for it.
    func publishOverTLS(_ tls: LoopbackTLSServer) throws -> String {
        let tarball = "tlspkg/-/tlspkg-1.0.0.tgz"
        let packed = try NpmTarball.pack(manifest: ["name": "tlspkg", "version": "1.0.0", "main": "index.js"],
                                         files: ["index.js": "module.exports = 'tls';\n"], to: tls.tree.appendingPathComponent(tarball))
        let document: [String: Any] = ["name": "tlspkg", "dist-tags": ["latest": "1.0.0"],
                                       "versions": ["1.0.0": ["name": "tlspkg", "version": "1.0.0",
                                                              "dist": ["tarball": tls.url("/tree/" + tarball), "integrity": packed.integrity]]]]
        try JSONSerialization.data(withJSONObject: document).write(to: tls.tree.appendingPathComponent("tlspkg/index.html"))
        try JSONSerialization.data(withJSONObject: ["name": "proj", "version": "1.0.0"]).write(to: harness.file("package.json"))
        return "--registry=\(tls.url("/tree/"))"
    }

    /// npm run in a subdirectory works on the project above it (the nearest
    /// directory with a package.json): so does the shim. The project's
    /// `.npmrc` scope registry goes through the proxy, and a dependency from
    /// outside the registry in the project's package.json is refused, exactly
    /// as from the project's own directory. A scope registry in an npmrc named
    /// by `--userconfig` goes through the proxy as well.
    @Test func aSubdirectoryOrAnotherNpmrcIsStillTheProjectsConfiguration() throws {
        defer { harness.cleanup() }
        try project()
        let packed = try pack("@evil/x", "1.0.0")
        try packument("@evil/x", "1.0.0", packed)
        let sub = harness.project.appendingPathComponent("src/deeper")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        try "registry=\(server.baseURL)/\n@evil:registry=\(server.baseURL)/\n".write(to: harness.file(".npmrc"), atomically: true, encoding: .utf8)
        let scoped = try harness.sh("npm install @evil/x", cwd: sub)
        #expect(scoped.status == 0, "\(scoped.err)")
        #expect(scoped.err.contains("@evil/x@1.0.0 <- "), "through the proxy: \(scoped.err)")
        #expect(FileManager.default.fileExists(atPath: harness.file("node_modules/@evil/x/index.js").path))

        // Another npmrc on the command line, naming another scope's registry.
        try FileManager.default.removeItem(at: harness.file(".npmrc"))
        let other = try pack("@other/y", "1.0.0")
        try packument("@other/y", "1.0.0", other)
        let userconfig = harness.root.appendingPathComponent("other.npmrc")
        try "@other:registry=\(server.baseURL)/\n".write(to: userconfig, atomically: true, encoding: .utf8)
        let named = try harness.sh("npm install --registry=\(server.baseURL)/ --userconfig \(userconfig.path) @other/y", cwd: sub)
        #expect(named.status == 0, "\(named.err)")
        #expect(named.err.contains("@other/y@1.0.0 <- "), "through the proxy: \(named.err)")

        // The project's package.json gains a dependency from outside the registry: refused from the subdirectory.
        let payload = server.baseURL + "/payload/evil-1.0.0.tgz"
        var manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: harness.file("package.json"))) as? [String: Any])
        var dependencies = manifest["dependencies"] as? [String: Any] ?? [:]
        dependencies["evil"] = payload
        manifest["dependencies"] = dependencies
        try JSONSerialization.data(withJSONObject: manifest).write(to: harness.file("package.json"))
        let before = server.requests.count
        let refused = try harness.sh("npm install --registry=\(server.baseURL)/", cwd: sub)
        #expect(refused.status == 1, "\(refused.err)")
        #expect(refused.err.contains("exotic-source") && refused.err.contains(payload), "\(refused.err)")
        #expect(!server.requests.dropFirst(before).contains { $0.contains("/payload/") }, "\(server.requests.dropFirst(before))")
    }

    /// Local code npm installs without the registry, named where the shim
    /// once did not look (found by a red-team pass): a hand-written lock
    /// linking a registry-looking dependency to a folder, specs npm reads as
    /// files (`evil-1.0.0.tgz`, `.evil`, `x:evil`), npm's `overrides`, a
    /// workspace's own package.json, `npm update`, and a package.json Bouncer
    /// cannot read as JSON (a duplicate key: npm takes the last). Each ran the
    /// folder's postinstall; each is refused now, and the real npm alone is
    /// run on the first to show it would have.
    @Test func localCodeNamedWhereTheShimDidNotLookIsRefused() throws {
        defer { harness.cleanup() }
        let marker = harness.root.appendingPathComponent("PWNED")
        let evil = harness.file("evil")
        try FileManager.default.createDirectory(at: evil, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: ["name": "good", "version": "1.0.0", "scripts": ["postinstall": "touch \(marker.path)"]])
            .write(to: evil.appendingPathComponent("package.json"))
        let packed = try BouncerProcess.runProgram(npm, ["pack", "--pack-destination", harness.project.path, "--ignore-scripts"], cwd: evil.path,
                                                   environment: ["npm_config_cache": harness.root.appendingPathComponent("pack-cache").path])
        #expect(packed.status == 0, "\(packed.err)")
        func write(_ name: String, _ text: String) throws { try text.write(to: harness.file(name), atomically: true, encoding: .utf8) }
        func refused(_ command: String, status: Int32 = 1, _ words: [String], _ caller: String = #function, line: Int = #line) throws {
            let result = try harness.sh(command + " --registry=\(server.baseURL)/")
            #expect(result.status == status, "\(command) (line \(line)): \(result.err)")
            for word in words { #expect(result.err.contains(word), "\(command) (line \(line)): \(result.err)") }
            #expect(!FileManager.default.fileExists(atPath: marker.path), "\(command) (line \(line)) ran the folder's script")
        }
        // The lock links `good` (package.json: a registry range) to the folder.
        let clean = #"{"name":"p","version":"1.0.0","dependencies":{"good":"^1.0.0"}}"#
        try write("package.json", clean)
        let linkedLock = #"""
            {"name":"p","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{
              "":{"name":"p","version":"1.0.0","dependencies":{"good":"^1.0.0"}},
              "node_modules/good":{"resolved":"evil","link":true},
              "evil":{"name":"good","version":"1.0.0","hasInstallScript":true}}}
            """#
        try write("package-lock.json", linkedLock)
        try refused("npm ci", ["exotic-source", #"package-lock.json $.packages["node_modules/good"].resolved"#, "file:evil"])
        try FileManager.default.removeItem(at: harness.file("package-lock.json"))
        // Specs npm's own parser reads as a tarball file, a folder, a path.
        for spec in ["evil-1.0.0.tgz", ".evil", "x:evil"] {
            try write("package.json", #"{"name":"p","version":"1.0.0","dependencies":{"good":"\#(spec)"}}"#)
            try refused("npm install", ["exotic-source", "package.json $.dependencies.good", spec])
        }
        try write("package.json", clean)
        try refused("npm install .evil", ["exotic-source", "the command line"])
        // `overrides`, a workspace's package.json, and commands besides install that reify the project.
        try write("package.json", #"{"name":"p","version":"1.0.0","dependencies":{"good":"^1.0.0"},"overrides":{"good":"file:./evil"}}"#)
        try refused("npm install", ["exotic-source", "package.json $.overrides.good"])
        let workspace = harness.file("packages/a")
        try FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true)
        try #"{"name":"a","version":"1.0.0","dependencies":{"good":"file:../../evil"}}"#.write(to: workspace.appendingPathComponent("package.json"), atomically: true, encoding: .utf8)
        try write("package.json", #"{"name":"p","version":"1.0.0","workspaces":["packages/*"]}"#)
        try refused("npm install", ["exotic-source", "packages/a/package.json $.dependencies.good"])
        try write("package.json", #"{"name":"p","version":"1.0.0","dependencies":{"good":"file:./evil"}}"#)
        for command in ["npm update", "npm dedupe", "npm prune", "npm uninstall nothing"] {
            try refused(command, ["exotic-source", "package.json $.dependencies.good"])
        }
        try write("package.json", #"{"name":"p","version":"1.0.0","dependencies":{"good":"^1.0.0"},"dependencies":{"good":"file:./evil"}}"#)
        try refused("npm install", status: 2, ["package.json: line 1", "duplicate"])
        try refused("npm cache add evil-1.0.0.tgz", status: 2, ["npm cache add"])
        // npm's `package` setting is what npx installs (a repository's .npmrc, the environment): read as --package is.
        try write(".npmrc", "package=./evil-1.0.0.tgz\n")
        let fromNpmrc = try harness.sh("npx --yes cowsay hi", extra: ["npm_config_registry": server.baseURL + "/"])
        #expect(fromNpmrc.status == 1 && fromNpmrc.err.contains("exotic-source") && fromNpmrc.err.contains("./evil-1.0.0.tgz"), "\(fromNpmrc.err)")
        try FileManager.default.removeItem(at: harness.file(".npmrc"))
        let fromEnvironment = try harness.sh("npm exec --yes -- good", extra: ["npm_config_registry": server.baseURL + "/", "npm_config_package": "./evil-1.0.0.tgz"])
        #expect(fromEnvironment.status == 1 && fromEnvironment.err.contains("exotic-source"), "\(fromEnvironment.err)")
        #expect(!FileManager.default.fileExists(atPath: marker.path), "npx ran the configured package's script")
        // From a workspace whose root names it in braces (npm's globs take them): the root's lock is the one npm reads.
        try write("package.json", #"{"name":"p","version":"1.0.0","workspaces":["{packages/a,packages/b}"]}"#)
        try #"{"name":"a","version":"1.0.0","dependencies":{"good":"^1.0.0"}}"#.write(to: workspace.appendingPathComponent("package.json"), atomically: true, encoding: .utf8)
        try write("package-lock.json", #"""
            {"name":"p","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{
              "":{"name":"p","version":"1.0.0","workspaces":["{packages/a,packages/b}"]},
              "node_modules/a":{"resolved":"packages/a","link":true},
              "node_modules/good":{"resolved":"evil","link":true},
              "evil":{"name":"good","version":"1.0.0","hasInstallScript":true},
              "packages/a":{"version":"1.0.0","dependencies":{"good":"^1.0.0"}}}}
            """#)
        let member = try harness.sh("npm ci --registry=\(server.baseURL)/", cwd: workspace)
        #expect(member.status == 1 && member.err.contains(#"package-lock.json $.packages["node_modules/good"].resolved"#), "\(member.err)")
        #expect(!FileManager.default.fileExists(atPath: marker.path), "npm ci from the workspace ran the folder's script")
        try FileManager.default.removeItem(at: harness.file("package-lock.json"))
        try FileManager.default.removeItem(at: harness.file("packages"))

        // The real npm alone, on the lock that links to the folder: it runs the folder's script.
        try write("package.json", clean)
        try write("package-lock.json", linkedLock)
        let alone = try BouncerProcess.runProgram(npm, ["ci", "--registry=\(server.baseURL)/", "--no-audit", "--no-fund"], cwd: harness.project.path,
                                                  environment: ["npm_config_cache": harness.root.appendingPathComponent("alone-cache").path, "HOME": harness.root.path])
        #expect(alone.status == 0, "\(alone.err)")
        #expect(FileManager.default.fileExists(atPath: marker.path), "npm alone was expected to run the linked folder's postinstall")
    }

    @Test func tamperedTarballIsRefused() throws {
        defer { harness.cleanup() }
        try project()
        try pack("lib", "1.0.0", body: "module.exports = 'EVIL';\n")  // same name and version, other bytes
        let result = try harness.sh("npm ci")
        #expect(result.status == 1, "\(result.err)")
        #expect(result.err.contains("refused lib@1.0.0"), "\(result.err)")
        #expect(nodeModules() == [])
    }

    @Test func wrongIntegrityInTheLockIsRefused() throws {
        defer { harness.cleanup() }
        try project()
        let lockURL = harness.file("package-lock.json")
        var lock = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: lockURL)) as? [String: Any])
        var packages = try #require(lock["packages"] as? [String: Any])
        var lib = try #require(packages["node_modules/lib"] as? [String: Any])
        let util = try #require(packages["node_modules/tinyutil"] as? [String: Any])
        lib["integrity"] = util["integrity"]
        packages["node_modules/lib"] = lib
        lock["packages"] = packages
        try JSONSerialization.data(withJSONObject: lock).write(to: lockURL)
        let result = try harness.sh("npm ci")
        #expect(result.status == 1, "\(result.err)")
        #expect(result.err.contains("refused lib@1.0.0"), "\(result.err)")
        #expect(nodeModules() == [])
    }

    /// The registry's metadata and the lock say lib 1.0.0 (with the tarball's true
    /// integrity), but the tarball's own package.json says 6.6.6.
    @Test func manifestConfusionIsRefused() throws {
        defer { harness.cleanup() }
        try project(libDeclared: "6.6.6")
        let result = try harness.sh("npm ci")
        #expect(result.status == 1, "\(result.err)")
        #expect(result.err.contains("6.6.6"), "\(result.err)")
        #expect(nodeModules() == [])
        // Refused before it was pinned: bouncer.lock holds no entry for the confused tarball.
        let lock = (try? String(contentsOf: harness.file("bouncer.lock"), encoding: .utf8)) ?? ""
        #expect(!lock.contains("npm:lib@1.0.0"), "\(lock)")
    }

    @Test func installByNameResolvesThenInstallsVerified() throws {
        defer { harness.cleanup() }
        try project()
        try FileManager.default.removeItem(at: harness.file("package-lock.json"))
        try JSONSerialization.data(withJSONObject: ["name": "proj", "version": "1.0.0"]).write(to: harness.file("package.json"))
        let result = try harness.sh("npm install --registry '\(server.baseURL)/' app")
        #expect(result.status == 0, "\(result.err)")
        #expect(nodeModules() == ["app", "lib", "tinyutil"])
        #expect(FileManager.default.fileExists(atPath: harness.file("package-lock.json").path))
        #expect(tarballRequests().sorted() == ["GET /app/-/app-2.0.0.tgz", "GET /lib/-/lib-1.0.0.tgz", "GET /tinyutil/-/tinyutil-1.2.0.tgz"])
    }

    /// A tarball whose integrity matches the lock but that holds a symlink out
    /// of the package, or a `..` path: refused naming the entry, nothing installed.
    @Test(arguments: [("symlink", "package/lib"), ("dotdot", "package/../../escaped.js")])
    func hostileTarballIsRefused(kind: String, entry: String) throws {
        defer { harness.cleanup() }
        try project(hostileLib: kind)
        let result = try harness.sh("npm ci")
        #expect(result.status == 1, "\(result.err)")
        #expect(result.err.contains("refused lib@1.0.0"), "\(result.err)")
        #expect(result.err.contains("'\(entry)'"), "\(result.err)")
        #expect(result.err.contains("nothing was installed"), "\(result.err)")
        #expect(nodeModules() == [])
        #expect(!FileManager.default.fileExists(atPath: harness.root.appendingPathComponent("escaped.js").path))
        #expect(!FileManager.default.fileExists(atPath: harness.project.appendingPathComponent("escaped.js").path))
    }

    /// The policy's "archive" limits hold for the tarball check: the same
    /// project that installs with the defaults (lockedInstallUsesOnlyVerifiedTarballs)
    /// is refused when the policy allows fewer entries than a package has.
    @Test func policyArchiveLimitsApplyToTarballs() throws {
        defer { harness.cleanup() }
        try harness.writePolicy(archive: #"{"maxEntries": 1}"#)
        try project()
        let result = try harness.sh("npm ci")
        #expect(result.status == 1, "\(result.err)")
        #expect(result.err.contains("refused lib@1.0.0"), "\(result.err)")
        #expect(result.err.contains("the archive has more than 1 entries"), "\(result.err)")
        #expect(result.err.contains("nothing was installed"), "\(result.err)")
        #expect(nodeModules() == [])

        try harness.writePolicy(archive: #"{"maxEntries": 2}"#)
        let enough = try harness.sh("npm ci")
        #expect(enough.status == 0, "\(enough.err)")
        #expect(nodeModules() == ["app", "lib", "tinyutil"])
    }

    /// The bytes of a project file, or nil when it does not exist (Data: a failure prints its size, not every byte).
    func snapshot(_ name: String) -> Data? {
        FileManager.default.contents(atPath: harness.file(name).path)
    }

    /// Publishes `extra` 1.0.0 (the registry states the genuine integrity), then swaps its tarball for other bytes.
    func publishTamperedExtra() throws {
        let extra = try pack("extra", "1.0.0")
        try packument("extra", "1.0.0", extra)
        try pack("extra", "1.0.0", body: "module.exports = 'EVIL';\n")
    }

    /// `npm install NAME` lets the real npm rewrite package.json and the lock before
    /// anything is verified: a refusal must put both back exactly as they were.
    @Test func refusedInstallByNameLeavesPackageJSONAndTheLockAsTheyWere() throws {
        defer { harness.cleanup() }
        try project()
        try publishTamperedExtra()
        let manifest = try #require(snapshot("package.json"))
        let lock = try #require(snapshot("package-lock.json"))
        let result = try harness.sh("npm install --registry '\(server.baseURL)/' extra")
        #expect(result.status == 1, "\(result.err)")
        #expect(result.err.contains("refused extra@1.0.0"), "\(result.err)")
        // The real npm did resolve (the proxy fetched the packument for it); the files are as they were.
        #expect(server.requests.contains("GET /extra"), "\(server.requests)")
        #expect(snapshot("package.json") == manifest)
        #expect(snapshot("package-lock.json") == lock)
        #expect(nodeModules() == [])
        #expect(!harness.exists("npm-shrinkwrap.json"))
    }

    /// Ctrl-C (to the shim alone) while Bouncer's proxy downloads for `npm
    /// install NAME`: the real npm is stopped too, package.json and the lock are
    /// as they were, nothing is installed, and the shim exits 130 as an
    /// interrupted command does.
    @Test func interruptedInstallByNamePutsTheProjectFilesBack() throws {
        defer { harness.cleanup() }
        try project()
        // extra's tarball comes from a server that sends ten bytes of it and then stalls.
        let stalling = try MisbehavingServer()
        defer { stalling.stop() }
        let extra = try pack("extra", "1.0.0")
        let bytes = try [UInt8](Data(contentsOf: registry.appendingPathComponent(extra.file)))
        stalling.route("/extra-1.0.0.tgz", [.init(body: Array(bytes.prefix(10)), contentLength: bytes.count, stall: true)])
        let document: [String: Any] = [
            "name": "extra", "dist-tags": ["latest": "1.0.0"],
            "versions": ["1.0.0": ["name": "extra", "version": "1.0.0", "dependencies": [String: String](),
                                   "dist": ["tarball": stalling.url("/extra-1.0.0.tgz"), "integrity": extra.integrity]]],
        ]
        try writePackument(document, "extra")
        let manifest = try #require(snapshot("package.json"))
        let lock = try #require(snapshot("package-lock.json"))

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        // exec all the way down: the process started here becomes Bouncer itself.
        process.arguments = ["-c", "exec npm install --registry '\(server.baseURL)/' extra"]
        process.currentDirectoryURL = harness.project
        process.environment = harness.environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Wait (at most a minute) until the proxy asks for the tarball: by then the real npm has resolved.
        for _ in 0..<600 where stalling.requests(to: "/extra-1.0.0.tgz") == 0 && process.isRunning { usleep(100_000) }
        #expect(stalling.requests(to: "/extra-1.0.0.tgz") == 1)
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        let err = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationReason == .exit && process.terminationStatus == 130, "\(process.terminationReason) \(process.terminationStatus): \(err)")
        #expect(err.contains("interrupted (signal \(SIGINT)); nothing was installed"), "\(err)")
        #expect(snapshot("package.json") == manifest)
        #expect(snapshot("package-lock.json") == lock)
        #expect(nodeModules() == [])
    }

    /// In an empty directory the real npm creates package.json and the lock to resolve;
    /// a refusal removes both again.
    @Test func refusedInstallByNameInAnEmptyProjectLeavesNoProjectFiles() throws {
        defer { harness.cleanup() }
        // A package.json above the project would make npm resolve there instead.
        var dir = harness.project.deletingLastPathComponent()
        while dir.path != "/" {
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("package.json").path))
            dir.deleteLastPathComponent()
        }
        try publishTamperedExtra()
        let result = try harness.sh("npm install --registry '\(server.baseURL)/' extra")
        #expect(result.status == 1, "\(result.err)")
        #expect(result.err.contains("refused extra@1.0.0"), "\(result.err)")
        #expect(!harness.exists("package.json"))
        #expect(!harness.exists("package-lock.json"))
        #expect(!harness.exists("node_modules") || nodeModules() == [])
        // A verified install by name does change them.
        let good = try pack("extra", "1.0.0")
        try packument("extra", "1.0.0", good)
        let again = try harness.sh("npm install --registry '\(server.baseURL)/' extra")
        #expect(again.status == 0, "\(again.err)")
        #expect(nodeModules() == ["extra"])
        #expect(String(decoding: snapshot("package.json") ?? Data(), as: UTF8.self).contains("\"extra\""))
        #expect(harness.exists("package-lock.json"))
    }

    @Test func installWithAnExistingLockRefusesATamperedTarball() throws {
        defer { harness.cleanup() }
        try project()
        let lock = try #require(snapshot("package-lock.json"))
        try pack("tinyutil", "1.2.0", body: "module.exports = 'EVIL';\n")
        let result = try harness.sh("npm install")
        #expect(result.status == 1, "\(result.err)")
        #expect(result.err.contains("refused tinyutil@1.2.0"), "\(result.err)")
        #expect(nodeModules() == [])
        #expect(snapshot("package-lock.json") == lock)
    }

    /// Only resolving a lock installs nothing, so the shim lets the real npm do it
    /// (the hint Bouncer gives when a lock is missing); no tarball is fetched.
    @Test func packageLockOnlyResolvesWithoutFetchingTarballs() throws {
        defer { harness.cleanup() }
        try project()
        try FileManager.default.removeItem(at: harness.file("package-lock.json"))
        let missing = try harness.sh("npm ci")
        #expect(missing.status != 0, "\(missing.err)")
        #expect(missing.err.contains("package-lock.json"), "npm says what is missing: \(missing.err)")
        #expect(!harness.exists("node_modules"))
        let result = try harness.sh("npm install --package-lock-only --registry '\(server.baseURL)/'")
        #expect(result.status == 0, "\(result.err)")
        #expect(harness.exists("package-lock.json"))
        #expect(!harness.exists("node_modules"))
        #expect(tarballRequests() == [])
        let ci = try harness.sh("npm ci")
        #expect(ci.status == 0, "\(ci.err)")
        #expect(nodeModules() == ["app", "lib", "tinyutil"])
    }

    /// lib 1.0.0 was verified by integrity and the SHA256SUMS its publisher kept
    /// beside the tarballs; the list stops (and the policy drops its rule), and
    /// lib 1.1.0 arrives with integrity only: a trust downgrade within the
    /// package (`npm:lib`), refused unless an exception names that package.
    @Test func weakerEvidenceForANewVersionOfALockedPackageIsADowngrade() throws {
        defer { harness.cleanup() }
        try project()
        let sums = try ShimHarness.sha256(try [UInt8](Data(contentsOf: registry.appendingPathComponent("lib/-/lib-1.0.0.tgz"))))
        try "\(sums)  lib-1.0.0.tgz\n".write(to: registry.appendingPathComponent("lib/-/SHA256SUMS"), atomically: true, encoding: .utf8)
        let sumsRule = #"{ "name": "lib with release sums", "match": { "ecosystem": "npm", "package": "lib" }, "require": [ { "integrity": {} }, { "checksums": { "url": "{dir}/SHA256SUMS" } } ] }"#
        try harness.writePolicy(extraRules: [sumsRule])
        let first = try harness.sh("npm ci")
        #expect(first.status == 0, "\(first.err)")
        #expect(first.err.contains("listed in SHA256SUMS"), "\(first.err)")
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: harness.file("bouncer.lock"))) as? [String: Any])
        let lib = (entries["artifacts"] as? [[String: Any]] ?? []).first { $0["key"] as? String == "npm:lib@1.0.0" }
        #expect(Set((lib?["evidence"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }) == ["integrity", "checksums"])

        // lib 1.1.0: no SHA256SUMS entry, and the policy keeps only the general npm rule.
        let next = try pack("lib", "1.1.0")
        try packument("lib", "1.1.0", next)
        try FileManager.default.removeItem(at: harness.file("node_modules"))  // else npm keeps the installed 1.0.0
        try relock()
        #expect(String(decoding: snapshot("package-lock.json") ?? Data(), as: UTF8.self).contains("lib-1.1.0.tgz"))
        try harness.writePolicy()
        let downgraded = try harness.sh("npm ci")
        #expect(downgraded.status == 1, "\(downgraded.err)")
        #expect(downgraded.err.contains("refused lib@1.1.0"), "\(downgraded.err)")
        #expect(downgraded.err.contains("trust downgrade"), "\(downgraded.err)")
        #expect(downgraded.err.contains("lacks checksums"), "\(downgraded.err)")
        #expect(nodeModules() == [])

        // An exception for another package does not cover it; one for lib does, loudly.
        let other = #"{ "match": { "ecosystem": "npm", "package": "tinyutil" }, "until": "2999-01-01", "reason": "not lib" }"#
        try harness.writePolicy(exceptions: [other])
        #expect(try harness.sh("npm ci").status == 1)
        #expect(nodeModules() == [])
        let forLib = #"{ "match": { "ecosystem": "npm", "package": "lib" }, "until": "2999-01-01", "reason": "lib stopped publishing SHA256SUMS" }"#
        try harness.writePolicy(exceptions: [forLib])
        let excepted = try harness.sh("npm ci")
        #expect(excepted.status == 0, "\(excepted.err)")
        #expect(excepted.err.contains("WARNING: lib@1.1.0") && excepted.err.contains("trust downgrade"), "\(excepted.err)")
        #expect(excepted.err.contains("lib stopped publishing SHA256SUMS"), "\(excepted.err)")
        let run = try BouncerProcess.runProgram("/usr/bin/env", ["node", "-e", "console.log(require('app'))"], cwd: harness.project.path)
        #expect(run.out == "lib@1.1.0 tinyutil@1.2.0\n", "\(run.err)")
    }

    /// A registry that is down refuses every tarball of the lock: the first ten refusals are
    /// shown with their reason, the rest named on one line, not a screenful of the same reason.
    @Test func aRegistryThatIsDownGetsOneScreenOfRefusals() throws {
        let root = try BouncerProcess.temporaryDirectory("bouncer-npm-down")
        defer { try? FileManager.default.removeItem(at: root) }
        let registry = try TimedRegistry(root: root)
        let names = (0..<15).map { "pkg-\($0)" }
        for name in names { try registry.publish(name, "1.0.0", time: "2024-01-01T00:00:00.000Z") }
        let harness = try ShimHarness("bouncer-npm-down-shim")
        defer { harness.cleanup() }
        try ThreatFixtures.policy().write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        let manifest: [String: Any] = ["name": "app", "version": "1.0.0", "dependencies": Dictionary(uniqueKeysWithValues: names.map { ($0, "1.0.0") })]
        try JSONSerialization.data(withJSONObject: manifest).write(to: harness.file("package.json"))
        let locked = try BouncerProcess.runProgram(registry.npm, ["install", "--package-lock-only", "--no-audit", "--no-fund", "--registry", registry.url],
                                                   cwd: harness.project.path, environment: ["npm_config_cache": root.appendingPathComponent("lock-cache").path])
        try #require(locked.status == 0, "\(locked.err)")
        registry.server.stop()

        let result = try harness.sh("npm ci --fetch-retries=0")
        #expect(result.status != 0, "\(result.out)\n\(result.err)")
        let refusals = result.err.split(separator: "\n").filter { $0.hasPrefix("bouncer: npm: refused pkg-") }
        #expect(refusals.count == 10, "\(result.err)")
        #expect(refusals.allSatisfy { $0.contains("cannot connect") }, "\(refusals)")
        let rest = result.err.split(separator: "\n").filter { $0.hasPrefix("bouncer: npm: … and 5 more refused: pkg-") }
        #expect(rest.count == 1, "\(result.err)")
        #expect(!harness.exists("node_modules/pkg-0"))
    }
}
