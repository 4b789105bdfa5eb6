import Foundation
import Testing
import BouncerTestSupport
@testable import BouncerTools

/// How the yarn shim reads a yarn 1 command line and yarn's settings: which
/// commands may fetch, the settings that would take yarn round the fence, and
/// the yarn.lock lines yarn would fetch from itself.
@Suite struct YarnShimTests {
    @Test func theCommandIsReadAsYarnReadsIt() {
        // Installing commands, with yarn's global options before them.
        #expect(YarnShim.fetchingCommand([]) == "install")
        #expect(YarnShim.fetchingCommand(["--frozen-lockfile"]) == "install")
        #expect(YarnShim.fetchingCommand(["add", "left-pad"]) == "add")
        #expect(YarnShim.fetchingCommand(["--cwd", "sub", "add", "x"]) == "add")
        #expect(YarnShim.fetchingCommand(["--registry", "http://r/", "upgrade"]) == "upgrade")
        #expect(YarnShim.fetchingCommand(["remove", "x"]) == "remove")
        #expect(YarnShim.fetchingCommand(["upgrade-interactive"]) == "upgrade-interactive")
        #expect(YarnShim.fetchingCommand(["create", "react-app", "x"]) == "create")
        #expect(YarnShim.fetchingCommand(["global", "add", "x"]) == "global")
        #expect(YarnShim.fetchingCommand(["set", "version", "berry"]) == "set version")
        #expect(YarnShim.fetchingCommand(["policies", "set-version", "1.22.0"]) == "policies")
        #expect(YarnShim.fetchingCommand(["init", "-2"]) == "init -2")
        #expect(YarnShim.fetchingCommand(["workspace", "web", "add", "x"]) == "workspace web add")
        // yarn's own options before the workspace's name (red team, round 2).
        #expect(YarnShim.fetchingCommand(["workspace", "--json", "w1", "add", "x"]) == "workspace w1 add")
        #expect(YarnShim.fetchingCommand(["workspace", "-s", "w1", "add", "x", "--registry", "http://r/"]) == "workspace w1 add")
        // A valued option binds the next word, even an optional one: `--prod install` is a bare yarn (install).
        #expect(YarnShim.fetchingCommand(["--prod", "install"]) == "install")
        #expect(YarnShim.fetchingCommand(["--mutex", "file", "add", "x"]) == "add")
        // Commands that resolve or fetch the project's packages to read them (red team: `licenses` fetched
        // a tarball from the host yarn.lock names, past the serve).
        for command in ["list", "why", "outdated", "licenses", "check", "audit", "unplug"] {
            #expect(YarnShim.fetchingCommand([command, "x"]) == command)
        }
        #expect(YarnShim.fetchingCommand(["workspace", "w", "create", "x"]) == "workspace w create")
        // Scripts, help, the version and reading commands fetch nothing.
        for words in [["build"], ["run", "add"], ["test", "--", "install"], ["-v"], ["--version"], ["--help", "add"], ["add", "--help"], ["help", "add"],
                      ["info", "x"], ["cache", "clean"], ["config", "get", "registry"], ["init", "-y"],
                      ["global", "list"], ["workspaces", "run", "build"], ["workspace", "web", "build"], ["workspace", "web"], ["exec", "add"],
                      ["--cwd", "add", "build"]] {
            #expect(YarnShim.fetchingCommand(words) == nil, "\(words)")
        }
    }

    @Test func settingsFilesAreReadInEveryFormYarnTakes() throws {
        let directory = try BouncerProcess.temporaryDirectory("yarn-settings")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent(".yarnrc")
        try """
        # yarn lockfile v1
        registry "http://127.0.0.1:8731/npm/"
        "--install.https-proxy" "http://corp:3128"
        yarn-offline-mirror ./mirror
        yarnPath: .yarn/releases/yarn-4.cjs
        proxy=http://other:8080
        cache-folder ""
          nested "value"
        """.write(to: file, atomically: true, encoding: .utf8)
        let entries = YarnSettings.entries(file.path)
        #expect(entries.map(\.key) == ["registry", "https-proxy", "yarn-offline-mirror", "yarnpath", "proxy", "nested"])
        #expect(entries.first?.value == "http://127.0.0.1:8731/npm/")
        #expect(entries.map(\.line) == [2, 3, 4, 5, 6, 8])
        #expect(YarnSettings.entries(directory.appendingPathComponent("absent").path).isEmpty)
    }

    @Test func settingsThatTakeYarnRoundTheFenceAreFoundWhereYarnReadsThem() throws {
        let home = try BouncerProcess.temporaryDirectory("yarn-home")
        defer { try? FileManager.default.removeItem(at: home) }
        let project = home.appendingPathComponent("work/project")
        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
        let clean = YarnSettings.read(cwd: project.path, environment: ["HOME": home.path], useYarnrc: [])
        #expect(clean.dangerous.isEmpty)
        #expect(clean.npmRegistry == nil && clean.yarnRegistry == nil)

        // A folder above the project, the user's npmrc, a variable in any case, a --use-yarnrc file.
        try "yarn-offline-mirror \"/m\"\n".write(to: home.appendingPathComponent("work/.yarnrc"), atomically: true, encoding: .utf8)
        try "registry=http://127.0.0.1:8731/npm/\nproxy=http://corp:3128\n".write(to: home.appendingPathComponent(".npmrc"), atomically: true, encoding: .utf8)
        try "yarn-path ./y.js\n".write(to: project.appendingPathComponent("extra.rc"), atomically: true, encoding: .utf8)
        let read = YarnSettings.read(cwd: project.path, environment: ["HOME": home.path, "Yarn_Https_Proxy": "http://x", "YARN_REGISTRY": "http://y/"],
                                     useYarnrc: ["extra.rc"])
        #expect(Set(read.dangerous.map(\.key)) == ["yarn-offline-mirror", "proxy", "https-proxy", "yarn-path"])
        #expect(read.dangerous.contains(YarnSettings.Setting(key: "https-proxy", place: "$Yarn_Https_Proxy")))
        #expect(read.dangerous.contains(YarnSettings.Setting(key: "proxy", place: home.appendingPathComponent(".npmrc").path)))
        #expect(read.npmRegistry == "http://127.0.0.1:8731/npm/")
        #expect(read.yarnRegistry == "http://y/")
        // npm's variable outranks its files, as yarn reads them.
        let variable = YarnSettings.read(cwd: project.path, environment: ["HOME": home.path, "npm_config_registry": "http://v/"], useYarnrc: [])
        #expect(variable.npmRegistry == "http://v/")
        // A .yarnrc.yml's yarnPath (yarn 1 runs that file instead).
        try "yarnPath: .yarn/releases/yarn-4.5.0.cjs\n".write(to: project.appendingPathComponent(".yarnrc.yml"), atomically: true, encoding: .utf8)
        let berry = YarnSettings.read(cwd: project.path, environment: ["HOME": home.path], useYarnrc: [])
        #expect(berry.dangerous.contains(YarnSettings.Setting(key: "yarnpath", place: project.appendingPathComponent(".yarnrc.yml").path)))
    }

    @Test func lockLinesOutsideTheServeAreFound() throws {
        let serve = "http://127.0.0.1:8731/npm/"
        let lock = """
        # yarn lockfile v1


        util@^1.2.0:
          version "1.2.0"
          resolved "http://127.0.0.1:8731/npm/util/-/util-1.2.0.tgz#5e59"
          integrity sha512-abc

        other@^2:
          version "2.0.0"
          resolved "http://127.0.0.1:8732/npm/other/-/other-2.0.0.tgz#aa"
        """
        #expect(YarnLock.strayResolved(Array(lock.utf8), file: "yarn.lock", registry: serve)
                == YarnLock.Stray(file: "yarn.lock", line: 11, url: "http://127.0.0.1:8732/npm/other/-/other-2.0.0.tgz#aa"))
        let fine = lock.replacingOccurrences(of: ":8732", with: ":8731")
        #expect(YarnLock.strayResolved(Array(fine.utf8), file: "yarn.lock", registry: serve) == nil)
        // A git source, and the serve's address as a prefix of another host's.
        for url in ["git+ssh://git@host/x.git#abc", "http://127.0.0.1:8731.evil/npm/x.tgz"] {
            let text = "x@1:\n  resolved \"\(url)\"\n"
            #expect(YarnLock.strayResolved(Array(text.utf8), file: "f", registry: serve)?.url == url)
        }
        // The lock yarn reads is its project's: a parent folder's unrelated yarn.lock is not it.
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent("yarn-lock-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: parent) }
        let child = parent.appendingPathComponent("sub")
        try FileManager.default.createDirectory(at: child.appendingPathComponent("src"), withIntermediateDirectories: true)
        try lock.write(to: parent.appendingPathComponent("yarn.lock"), atomically: true, encoding: .utf8)
        try #"{"name":"p"}"#.write(to: parent.appendingPathComponent("package.json"), atomically: true, encoding: .utf8)
        try #"{"name":"c"}"#.write(to: child.appendingPathComponent("package.json"), atomically: true, encoding: .utf8)
        func stray(_ cwd: URL) -> YarnLock.Stray? {
            YarnProject.folders(project: YarnProject.root(given: nil, cwd: cwd.path)).lazy.compactMap { YarnLock.strayResolved(folder: $0, registry: serve) }.first
        }
        #expect(stray(child.appendingPathComponent("src")) == nil)
        #expect(stray(parent)?.line == 11)
    }

    /// yarn reads its lock and .yarnrc with its own syntax: a key may be a JSON
    /// string with escapes and take a colon; a file that syntax refuses yarn
    /// reads as YAML. Each spelling below had yarn take a tarball from disk or
    /// an offline mirror past the fence (red team).
    /// yarn takes a locked package's dependencies from yarn.lock, not its tarball: a `file:`
    /// dependency named only there installed that folder and ran its postinstall (red team).
    @Test func theLocksOwnExoticSpecsAreProjectSources() throws {
        let lock = "# yarn lockfile v1\n\n\ngood@^1.0.0:\n  version \"1.0.0\"\n  resolved \"http://127.0.0.1:8731/npm/good/-/good-1.0.0.tgz\"\n"
            + "  dependencies:\n    evil \"file:./vendor/evil\"\n    fine \"^2.0.0\"\n\n\"evil@file:./vendor/evil\":\n  version \"1.0.0\"\n\n"
            + "\"@s/x@github:u/x\", \"@s/x@^1\":\n  version \"1.0.0\"\n  optionalDependencies:\n    o \"git+https://g.test/o\"\n"
        let found = YarnLock.exoticSpecs(Array(lock.utf8)).map(\.spec)
        // A key list (`"a@x", "a@y":`) is one entry per key to yarn, each with the same fields.
        #expect(found == ["file:./vendor/evil", "file:./vendor/evil", "github:u/x", "git+https://g.test/o", "git+https://g.test/o"], "\(found)")
        let dir = try BouncerProcess.temporaryDirectory("yarn-lock-sources")
        defer { try? FileManager.default.removeItem(at: dir) }
        try #"{"name":"proj","version":"1.0.0","dependencies":{"good":"^1.0.0"}}"#.write(to: dir.appendingPathComponent("package.json"), atomically: true, encoding: .utf8)
        try lock.write(to: dir.appendingPathComponent("yarn.lock"), atomically: true, encoding: .utf8)
        let sources = try ProjectSources.exotic(project: dir.path, tool: .yarn)
        #expect(sources.first == .init(place: "yarn.lock line 8", spec: "file:./vendor/evil"), "\(sources)")
        #expect(try ProjectSources.exotic(project: dir.path, tool: .npm).isEmpty, "npm does not read yarn.lock")
        // yarn reads a bare word naming a folder with a package.json as `file:WORD` (red team, round 2).
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("evil"), withIntermediateDirectories: true)
        try #"{"name":"evil","version":"1.0.0"}"#.write(to: dir.appendingPathComponent("evil/package.json"), atomically: true, encoding: .utf8)
        try #"{"name":"proj","version":"1.0.0","dependencies":{"evil":"evil","good":"latest"}}"#.write(to: dir.appendingPathComponent("package.json"), atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(at: dir.appendingPathComponent("yarn.lock"))
        #expect(try ProjectSources.exotic(project: dir.path, tool: .yarn) == [.init(place: "package.json $.dependencies.evil", spec: "file:evil")])
        #expect(try ProjectSources.exotic(project: dir.path, tool: .npm).isEmpty, "npm reads it as a tag")
    }

    /// `yarn workspace ws add x` starts a yarn in packages/ws, which reads that folder's .yarnrc:
    /// an offline mirror there fed yarn a tarball the serve refuses (red team).
    @Test func everyWorkspacesSettingsCount() throws {
        let dir = try BouncerProcess.temporaryDirectory("yarn-workspace-rc")
        defer { try? FileManager.default.removeItem(at: dir) }
        let ws = dir.appendingPathComponent("packages/ws")
        try FileManager.default.createDirectory(at: ws, withIntermediateDirectories: true)
        try #"{"name":"root","private":true,"workspaces":["packages/*"]}"#.write(to: dir.appendingPathComponent("package.json"), atomically: true, encoding: .utf8)
        try #"{"name":"ws","version":"1.0.0"}"#.write(to: ws.appendingPathComponent("package.json"), atomically: true, encoding: .utf8)
        try "yarn-offline-mirror \"./mirror\"\n".write(to: ws.appendingPathComponent(".yarnrc"), atomically: true, encoding: .utf8)
        var settings = YarnSettings.read(cwd: dir.path, environment: ["HOME": dir.path], useYarnrc: [])
        #expect(settings.dangerous.isEmpty)
        settings.include(YarnSettings.workspaceSettings(project: dir.path, environment: ["HOME": dir.path]))
        #expect(settings.dangerous == [.init(key: "yarn-offline-mirror", place: ws.appendingPathComponent(".yarnrc").path)], "\(settings.dangerous)")
        #expect(YarnShim.roundTheFence(["workspace", "ws", "add", "good"], settings: settings, realTool: "/usr/bin/yarnpkg")?
            .contains("takes tarballs from that folder") == true)
    }

    @Test func theLockAndYarnrcAreReadWithYarnsOwnSyntax() throws {
        let serve = "http://127.0.0.1:8731/npm/"
        let head = "# yarn lockfile v1\n\n\ngood@^1.0.0:\n  version \"1.1.0\"\n"
        for line in [#"  resolved:"./evil-1.1.0.tgz""#, #"  "resol\u0076ed" "./evil-1.1.0.tgz""#, "  resolved ./evil-1.1.0.tgz",
                     "  resolved \"http://127.0.0.1:8731/npm/good/-/good-1.1.0.tgz\"\n  resolved \"file:./evil-1.1.0.tgz\""] {
            let stray = YarnLock.strayResolved(Array((head + line + "\n").utf8), file: "yarn.lock", registry: serve)
            #expect(stray?.url.contains("evil-1.1.0.tgz") == true, "\(line): \(String(describing: stray))")
        }
        #expect(YarnLock.strayResolved(Array((head + #"  resolved "http://127.0.0.1:8731/npm/good/-/good-1.1.0.tgz""# + "\n").utf8),
                                       file: "yarn.lock", registry: serve) == nil)
        // A blank line inside an entry is one line break to yarn (red team: it ended Bouncer's reading early).
        #expect(YarnLock.strayResolved(Array((head + "\n  resolved \"./evil.tgz\"\n").utf8), file: "yarn.lock", registry: serve)?.url == "./evil.tgz")
        // Not yarn's syntax (a merge conflict, a YAML-only escape): yarn would read YAML.
        for text in [head + "<<<<<<< HEAD\n  resolved \"x\"\n", head + #"  "resol\x76ed" "./evil.tgz""# + "\n", head + "   resolved \"x\"\n"] {
            let stray = YarnLock.strayResolved(Array(text.utf8), file: "yarn.lock", registry: serve)
            #expect(stray?.url.contains("YAML") == true, "\(text.debugDescription): \(String(describing: stray))")
        }

        let home = try BouncerProcess.temporaryDirectory("yarn-syntax-home")
        defer { try? FileManager.default.removeItem(at: home) }
        let project = home.appendingPathComponent("p")
        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
        try #""yarn-offline-\u006dirror" "./mirror""#.write(to: project.appendingPathComponent(".yarnrc"), atomically: true, encoding: .utf8)
        let escaped = YarnSettings.read(cwd: project.path, environment: ["HOME": home.path], useYarnrc: [])
        #expect(escaped.dangerous.map(\.key).contains("yarn-offline-mirror"), "\(escaped.dangerous)")
        try #""yarn-offline-\x6dirror" "./mirror""#.write(to: project.appendingPathComponent(".yarnrc"), atomically: true, encoding: .utf8)
        let yaml = YarnSettings.read(cwd: project.path, environment: ["HOME": home.path], useYarnrc: [])
        #expect(yaml.unreadable.first?.file == project.appendingPathComponent(".yarnrc").path)
        #expect(YarnShim.roundTheFence(["install"], settings: yaml, realTool: "/usr/bin/yarnpkg")?.contains("reads the file as YAML") == true)
        try "registry \"http://127.0.0.1:8731/npm/\"\n--install.frozen-lockfile true\n".write(to: project.appendingPathComponent(".yarnrc"), atomically: true, encoding: .utf8)
        // `--proxy=URL` as a key is yarn's `--proxy URL`; a value that is an option is one too.
        for text in [#""--install.proxy=http://127.0.0.1:8802" "--verbose""#, #""--cache-folder" "--https-proxy=http://127.0.0.1:8802""#] {
            try text.write(to: project.appendingPathComponent(".yarnrc"), atomically: true, encoding: .utf8)
            let proxied = YarnSettings.read(cwd: project.path, environment: ["HOME": home.path], useYarnrc: [])
            #expect(proxied.dangerous.contains { $0.key.hasSuffix("proxy") }, "\(text): \(proxied.dangerous)")
        }
        // Round 3: `--cwd` and `--use-yarnrc` set in a .yarnrc move yarn elsewhere; `proxy[]` and `proxy.0` are proxy.
        for text in ["--cwd inner\n", #""--use-yarnrc" "./x.rc""# + "\n"] {
            try text.write(to: project.appendingPathComponent(".yarnrc"), atomically: true, encoding: .utf8)
            let moved = YarnSettings.read(cwd: project.path, environment: ["HOME": home.path], useYarnrc: [])
            #expect(YarnShim.roundTheFence(["install"], settings: moved, realTool: "/usr/bin/yarnpkg")?.contains("another folder or read another settings file") == true, "\(text)")
        }
        // A bare `--` from a .yarnrc (its key, `--CMD.`, or a value): yarn puts `--` on its command line,
        // and `yarn add good` also added `file:./evil` the file names after it, whose postinstall ran.
        for text in [#""--" "file:./evil""#, #"--add. "file:./evil""#, #""--verbose" "--""#, #""--" true"#] {
            try (text + "\n").write(to: project.appendingPathComponent(".yarnrc"), atomically: true, encoding: .utf8)
            let dashes = YarnSettings.read(cwd: project.path, environment: ["HOME": home.path], useYarnrc: [])
            #expect(YarnShim.roundTheFence(["add", "good"], settings: dashes, realTool: "/usr/bin/yarnpkg")?.contains("a bare -- is set in") == true,
                    "\(text): \(dashes.dangerous)")
        }
        try "".write(to: project.appendingPathComponent(".yarnrc"), atomically: true, encoding: .utf8)
        #expect(YarnSettings.read(cwd: project.path, environment: ["HOME": home.path, "YARN_PROXY__0": "http://127.0.0.1:8802"], useYarnrc: [])
                    .dangerous.map(\.key) == ["proxy"])
        try "proxy[]=http://127.0.0.1:8802\n".write(to: project.appendingPathComponent(".npmrc"), atomically: true, encoding: .utf8)
        #expect(YarnSettings.read(cwd: project.path, environment: ["HOME": home.path], useYarnrc: []).dangerous.map(\.key) == ["proxy"])
        // Round 4: the settings files yarn's registry code reads besides: `userconfig`, the global prefix's etc/yarnrc and etc/npmrc ($PREFIX, $DESTDIR).
        try FileManager.default.removeItem(at: project.appendingPathComponent(".npmrc"))
        let elsewhere = home.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: elsewhere.appendingPathComponent("usr/etc"), withIntermediateDirectories: true)
        try "proxy \"http://127.0.0.1:8802\"\n".write(to: elsewhere.appendingPathComponent("u.rc"), atomically: true, encoding: .utf8)
        try "proxy \"http://127.0.0.1:8802\"\n".write(to: elsewhere.appendingPathComponent("usr/etc/yarnrc"), atomically: true, encoding: .utf8)
        for variables in [["YARN_USERCONFIG": elsewhere.appendingPathComponent("u.rc").path], ["DESTDIR": elsewhere.path],
                          ["PREFIX": elsewhere.appendingPathComponent("usr").path]] {
            let read = YarnSettings.read(cwd: project.path, environment: ["HOME": home.path].merging(variables) { $1 }, useYarnrc: [])
            #expect(read.dangerous.map(\.key) == ["proxy"], "\(variables): \(read.dangerous)")
        }
        // A quoted key in an .npmrc, as npm's ini reader unquotes it.
        try #"'proxy'=http://127.0.0.1:8802"#.write(to: project.appendingPathComponent(".npmrc"), atomically: true, encoding: .utf8)
        try "".write(to: project.appendingPathComponent(".yarnrc"), atomically: true, encoding: .utf8)
        #expect(YarnSettings.read(cwd: project.path, environment: ["HOME": home.path], useYarnrc: []).dangerous.map(\.key) == ["proxy"])
        try FileManager.default.removeItem(at: project.appendingPathComponent(".npmrc"))
        try "registry \"http://127.0.0.1:8731/npm/\"\n--install.frozen-lockfile true\n".write(to: project.appendingPathComponent(".yarnrc"), atomically: true, encoding: .utf8)
        let fine = YarnSettings.read(cwd: project.path, environment: ["HOME": home.path], useYarnrc: [])
        #expect(fine.unreadable.isEmpty && fine.dangerous.isEmpty)
        #expect(fine.yarnRegistry == "http://127.0.0.1:8731/npm/")
    }

    /// yarn's project is the nearest folder with a package.json (a node_modules folder marks none), and
    /// the first folder up that declares `workspaces` ends its search for a root: a member with
    /// `"workspaces": []` of its own is its own root (red team: Bouncer read npm's project, the
    /// workspace root and its lock, while yarn installed from the member's yarn.lock).
    @Test func theProjectIsFoundAsYarnFindsIt() throws {
        let dir = try BouncerProcess.temporaryDirectory("yarn-project")
        defer { try? FileManager.default.removeItem(at: dir) }
        let app = dir.appendingPathComponent("app")
        try FileManager.default.createDirectory(at: app, withIntermediateDirectories: true)
        try #"{"name":"root","private":true,"workspaces":["app"]}"#.write(to: dir.appendingPathComponent("package.json"), atomically: true, encoding: .utf8)
        try #"{"name":"app","workspaces":[]}"#.write(to: app.appendingPathComponent("package.json"), atomically: true, encoding: .utf8)
        #expect(YarnProject.root(given: nil, cwd: app.path) == app.path)
        #expect(YarnProject.folders(project: app.path) == [app.path])
        // Without workspaces of its own, the root above counts too; `{"nohoist": []}` declares none.
        for manifest in [#"{"name":"app"}"#, #"{"name":"app","workspaces":{"nohoist":[]}}"#] {
            try manifest.write(to: app.appendingPathComponent("package.json"), atomically: true, encoding: .utf8)
            #expect(YarnProject.folders(project: app.path) == [dir.path, app.path], "\(manifest)")
        }
        // A node_modules folder marks no project to yarn (it does to npm).
        let sub = dir.appendingPathComponent("sub")
        try FileManager.default.createDirectory(at: sub.appendingPathComponent("node_modules"), withIntermediateDirectories: true)
        #expect(YarnProject.root(given: nil, cwd: sub.path) == dir.path)
        #expect(YarnProject.root(given: sub.path + "/x/..", cwd: "/") == dir.path)
        // A relative --cwd is walked as node's path.dirname walks it: to the working folder, no further.
        #expect(YarnProject.root(given: "x/y", cwd: sub.path) == sub.path + "/x/y")
        #expect(YarnProject.root(given: "sub", cwd: dir.path) == dir.path)
        #expect(["a/b", "a//b", "a/b/", "/a", "/", ".", "..", "", "//a"].map(YarnProject.dirname) == ["a", "a/", "a", "/", "/", ".", ".", ".", "//"])
    }

    /// `files` written into a fresh project under a fresh home (`home` adds to it), read as the shim
    /// reads them, with the user's own `YARN_PREFIX` set (which counts for nothing).
    func settings(_ files: [String: String], useYarnrc: [String] = [], home: ((URL) throws -> Void)? = nil) throws -> YarnSettings {
        let dir = try BouncerProcess.temporaryDirectory("yarn-readers-home")
        defer { try? FileManager.default.removeItem(at: dir) }
        let project = dir.appendingPathComponent("p")
        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(to: project.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        try home?(dir)
        return YarnSettings.read(cwd: project.path, environment: ["HOME": dir.path, "YARN_PREFIX": "/x"], useYarnrc: useYarnrc.map { project.path + "/" + $0 })
    }

    /// Folders a project's settings name that yarn takes packages from as they are: `yarn create`
    /// installed a global folder's own package.json and ran a prefix's bin/create-good (red team).
    /// The user's own prefix (npm's advice for global installs, in ~/.npmrc or a variable) is no project's.
    @Test func foldersAProjectNamesAreRefused() throws {
        for text in [#"global-folder "./g""#, #"--link-folder "./lf""#, #"prefix "./p""#] {
            let found = try settings([".yarnrc": text + "\n"])
            #expect(YarnShim.roundTheFence(["add", "x"], settings: found, realTool: "/usr/bin/yarnpkg")?.contains("takes packages from that folder") == true, "\(text)")
        }
        let own = try settings([:]) { home in
            try "prefix=\(home.path)/.npm-global\nglobal-folder=/g\n".write(to: home.appendingPathComponent(".npmrc"), atomically: true, encoding: .utf8)
        }
        #expect(own.dangerous.isEmpty, "\(own.dangerous)")
    }

    /// yarn reads .npmrc files with ini, which cuts an unquoted key at `#` or `;` and JSON-decodes a
    /// quoted one: `yarn-offline-mirror#=./mirror` had yarn install a mirror's tarball (red team).
    @Test func npmrcKeysAreReadAsIniReadsThem() throws {
        for (text, key) in [("yarn-offline-mirror#=./mirror", "yarn-offline-mirror"), ("yarn-offline-mirror;x=./mirror", "yarn-offline-mirror"),
                            (#""yarn-offline-mirro\u0072"=./mirror"#, "yarn-offline-mirror"), (#""https-pro\u0078y"=http://127.0.0.1:8802"#, "https-proxy"),
                            ("global-folder=./g", "global-folder")] {
            #expect(try settings([".npmrc": text + "\n"]).dangerous.map(\.key) == [key], "\(text)")
        }
    }

    /// yarn reads a .yarnrc.yml with YAML alone, where `"yarn-pat\x68":` and `{yarn-path: …}` named
    /// another yarn to run (red team): anything but plain `key: value` lines is refused.
    @Test func yarnrcYmlIsReadOnlyInPlainLines() throws {
        for text in [#""yarn-pat\x68": ./.yarn/releases/yarn-4.0.0.cjs"#, "{yarn-path: ./y.cjs}", "'yarnPath': ./y.cjs", "yarn-path: \"./y.cjs\"",
                     "? yarn-path\n: ./y.cjs", "x: &a ./y.cjs\nyarn-path: *a", "nodeLinker: node-modules\n  yarn-path: ./y.cjs", "--- {yarn-path: y.js}",
                     "yarn-path: ./y.cjs # x\n  continued", "yarn-path:\t./y.cjs", "yarn-path: !!str ./y.cjs"] {
            let found = try settings([".yarnrc.yml": text + "\n"])
            #expect(YarnShim.roundTheFence(["install"], settings: found, realTool: "/usr/bin/yarnpkg")?.contains("as YAML") == true, "\(text)")
        }
        let plain = try settings([".yarnrc.yml": "# berry's\nnodeLinker: node-modules\n\nnpmRegistryServer: http://127.0.0.1:8731/npm/  # the serve\nenableTelemetry:\n"])
        #expect(plain.unreadable.isEmpty && plain.dangerous.isEmpty, "\(plain.unreadable) \(plain.dangerous)")
        #expect(try settings([".yarnrc.yml": "yarnPath: .yarn/releases/yarn-4.cjs\n"]).dangerous.map(\.key) == ["yarnpath"])
        #expect(try settings([".yarnrc.yml": "--install.https-proxy: http://127.0.0.1:8802\n"]).dangerous.map(\.key) == ["https-proxy"])
    }

    /// yarn takes `--use-yarnrc FILE` anywhere (for its yarn-path, after `--` too) and `--use-yarnrc=FILE`
    /// before `--`; a file Bouncer cannot read is not skipped (red team: it looked under --cwd, skipped
    /// the file it did not find, and yarn ran the yarn-path of the one in the working folder).
    @Test func useYarnrcIsTakenWhereYarnTakesIt() throws {
        #expect(YarnShim.useYarnrc(["--cwd", "app", "--use-yarnrc", ".yarnrc-ci", "install"]) == [".yarnrc-ci"])
        #expect(YarnShim.useYarnrc(["install", "--use-yarnrc=a.rc", "--", "--use-yarnrc", "b.rc", "--use-yarnrc", "-x", "--use-yarnrc=c.rc"]) == ["b.rc", "a.rc"])
        let absent = try settings([:], useYarnrc: ["absent.rc"])
        #expect(YarnShim.roundTheFence(["install"], settings: absent, realTool: "/usr/bin/yarnpkg")?.contains("/p/absent.rc: --use-yarnrc names it and it does not exist") == true,
                "\(absent.unreadable)")
    }
}
