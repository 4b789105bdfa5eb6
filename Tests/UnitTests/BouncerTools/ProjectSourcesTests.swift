import Foundation
import Testing
import BouncerBase
@testable import BouncerTools

/// A JavaScript project's dependency sources as npm and yarn read them: the
/// lock's links must point at a workspace, workspaces are found by their
/// globs, and a project file Bouncer cannot read is an error, not skipped.
@Suite struct ProjectSourcesTests {
    @Test func aLockLinkMustPointAtAWorkspace() throws {
        let lock = try JSON.parse(Array(#"""
            {"packages":{"":{"workspaces":["evil"]},
              "node_modules/a":{"resolved":"packages/a","link":true},
              "node_modules/b":{"resolved":"../outside","link":true},
              "node_modules/c":{"resolved":"evil","link":true},
              "node_modules/d":{"link":true},
              "node_modules/e":{"resolved":"packages/x/../../evil","link":true}}}
            """#.utf8))
        // The workspaces are package.json's, not whatever the lock's root entry claims.
        let found = ProjectSources.fromLock(lock, workspaces: ["packages/*"])
        #expect(found.map(\.spec) == ["file:../outside", "file:evil", "file:", "file:packages/x/../../evil"])
        #expect(found.first?.place == #"$.packages["node_modules/b"].resolved"#)
    }

    @Test func workspaceGlobsMatchAsNpmsDo() {
        let patterns = NpmWorkspaces.expandBraces("apps/{web,api}") + ["packages/*", "tools/**", "!packages/private"]
        for path in ["apps/web", "apps/api", "packages/a", "./packages/a", "tools/x/y", "tools/z"] {
            #expect(NpmWorkspaces.contains(path, patterns: patterns), "\(path)")
        }
        for path in ["apps/other", "packages/private", "packages/a/b", "packages/node_modules", "../packages/a", "/packages/a", "", "packages/.hidden"] {
            #expect(!NpmWorkspaces.contains(path, patterns: patterns), "\(path)")
        }
        #expect(NpmWorkspaces.expandBraces("{a,b}/{c,d}").sorted() == ["a/c", "a/d", "b/c", "b/d"])
        #expect(NpmWorkspaces.expandBraces(String(repeating: "{a,b,c,d}", count: 12)).count <= 260)
        // Ranges and nesting, as npm's glob expands them (red team: `pkgs/{1..1}` linked pkgs/1 unchecked).
        #expect(NpmWorkspaces.expandBraces("pkgs/{1..3}") == ["pkgs/1", "pkgs/2", "pkgs/3"])
        #expect(NpmWorkspaces.expandBraces("p/{08..10}") == ["p/08", "p/09", "p/10"])
        #expect(NpmWorkspaces.expandBraces("p/{a..e..2}") == ["p/a", "p/c", "p/e"])
        #expect(NpmWorkspaces.expandBraces("{a,{b,c}}/x").sorted() == ["a/x", "b/x", "c/x"])
        #expect(NpmWorkspaces.expandBraces("{x}") == ["{x}"])
        #expect(NpmWorkspaces.expandBraces("{-9223372036854775808..9223372036854775807..-9223372036854775808}") == ["{-9223372036854775808..9223372036854775807..-9223372036854775808}"])
        #expect(NpmWorkspaces.unreadable(JSON.object(["workspaces": JSON.array([JSON.string("p/{1..100000}")])])) == "p/{1..100000}")
    }

    /// Workspace patterns as npm's workspace mapper reads them (red team: each
    /// of these had npm link a workspace whose `file:` dependency's postinstall
    /// ran, unchecked): a leading `/` or `./`, a backslash, an even run of `!`,
    /// a sibling folder above the project; minimatch's extglob is refused.
    @Test(arguments: ["/pkgs/a", "./pkgs/a", #"pkgs\a"#, "!!pkgs/a", "!!!!pkgs/*", "../sib/a"])
    func workspacePatternsAreReadAsNpmReadsThem(pattern: String) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("project-workspaces-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let project = root.appendingPathComponent("project")
        let member = pattern.hasPrefix("../") ? root.appendingPathComponent("sib/a") : project.appendingPathComponent("pkgs/a")
        try FileManager.default.createDirectory(at: member, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
        let manifest = try JSONSerialization.data(withJSONObject: ["name": "proj", "workspaces": [pattern]])
        try manifest.write(to: project.appendingPathComponent("package.json"))
        try Data(#"{"name":"a","dependencies":{"evil2":"file:/tmp/evil2"}}"#.utf8).write(to: member.appendingPathComponent("package.json"))
        let found = try ProjectSources.exotic(project: project.path, tool: .npm)
        #expect(found.map(\.spec) == ["file:/tmp/evil2"], "\(pattern): \(found)")
        // An odd run of `!` excludes for npm; yarn's glob excludes nothing with it (red team round 3).
        try JSONSerialization.data(withJSONObject: ["workspaces": ["pkgs/*", "!!!pkgs/a"]]).write(to: project.appendingPathComponent("package.json"))
        #expect(try ProjectSources.exotic(project: project.path, tool: .npm).isEmpty)
        if !pattern.hasPrefix("../") {
            #expect(try ProjectSources.exotic(project: project.path, tool: .yarn).map(\.spec) == ["file:/tmp/evil2"])
            // yarn takes a workspace under node_modules.
            let vendored = project.appendingPathComponent("vendor/node_modules/evil")
            try FileManager.default.createDirectory(at: vendored, withIntermediateDirectories: true)
            try Data(#"{"name":"evil","dependencies":{"e3":"file:/tmp/e3"}}"#.utf8).write(to: vendored.appendingPathComponent("package.json"))
            try JSONSerialization.data(withJSONObject: ["workspaces": ["vendor/node_modules/evil"]]).write(to: project.appendingPathComponent("package.json"))
            #expect(try ProjectSources.exotic(project: project.path, tool: .yarn).map(\.spec) == ["file:/tmp/e3"])
        }
        // Extglob: npm expands it, Bouncer cannot: refused as unreadable configuration.
        try JSONSerialization.data(withJSONObject: ["workspaces": ["@(pkgs)/a"]]).write(to: project.appendingPathComponent("package.json"))
        #expect(throws: BouncerError.self) { try ProjectSources.exotic(project: project.path, tool: .npm) }
    }

    @Test func projectFilesAreReadWholeOrRefused() throws {
        let project = FileManager.default.temporaryDirectory.appendingPathComponent("project-sources-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: project) }
        try FileManager.default.createDirectory(at: project.appendingPathComponent("packages/a"), withIntermediateDirectories: true)
        func write(_ name: String, _ bytes: [UInt8]) throws { try Data(bytes).write(to: project.appendingPathComponent(name)) }
        try write("package.json", [0xEF, 0xBB, 0xBF] + Array(#"{"workspaces":{"packages":["packages/*"]},"overrides":{"x":{".":"1","y":"file:../y"}},"resolutions":{"z":"file:z"}}"#.utf8))
        try write("packages/a/package.json", Array(#"{"devDependencies":{"@s/n":"@x/y"}}"#.utf8))
        let npm = try ProjectSources.exotic(project: project.path, tool: .npm)
        #expect(npm.map(\.place) == ["package.json $.overrides.x.y", #"packages/a/package.json $.devDependencies["@s/n"]"#])
        let yarn = try ProjectSources.exotic(project: project.path, tool: .yarn)
        #expect(yarn.map(\.place) == ["package.json $.resolutions.z", #"packages/a/package.json $.devDependencies["@s/n"]"#])
        // The lock npm reads, handed on for its other checks: npm-shrinkwrap.json before package-lock.json; none for yarn.
        #expect(try ProjectSources.read(project: project.path, tool: .npm).npmLock == nil)
        try write("package-lock.json", Array(#"{"packages":{}}"#.utf8))
        try write("npm-shrinkwrap.json", Array(#"{"packages":{"node_modules/x":{}}}"#.utf8))
        #expect(try ProjectSources.read(project: project.path, tool: .npm).npmLock?.name == "npm-shrinkwrap.json")
        #expect(try ProjectSources.read(project: project.path, tool: .yarn).npmLock == nil)
        try FileManager.default.removeItem(at: project.appendingPathComponent("npm-shrinkwrap.json"))
        try write("package-lock.json", Array(#"{"a":1,"a":2}"#.utf8))
        #expect(throws: BouncerError.self) { try ProjectSources.exotic(project: project.path, tool: .npm) }
        // yarn reads no package-lock.json.
        #expect(try ProjectSources.exotic(project: project.path, tool: .yarn).count == 2)
        try write("packages/a/package.json", Array("[]".utf8))
        #expect(throws: BouncerError.self) { try ProjectSources.exotic(project: project.path, tool: .yarn) }
    }

    /// Two packages of one node_modules folder installing one command (npm links either):
    /// per folder, by the package's folder name, whatever case the command has.
    @Test func lockedCommandsThatTwoPackagesOfOneFolderInstall() throws {
        let lock = #"""
            {"lockfileVersion": 3, "packages": {
              "": {"name": "app"},
              "node_modules/prisma": {"version": "1.0.0", "bin": {"prisma": "cli.js"}},
              "node_modules/aaevil": {"version": "1.0.0", "bin": {"Prisma": "x.js", "fine": "f.js"}},
              "node_modules/a/node_modules/tool": {"version": "1.0.0", "bin": "t.js"},
              "node_modules/b/node_modules/tool2": {"version": "1.0.0", "name": "tool", "bin": "t.js"},
              "node_modules/c/node_modules/x": {"version": "1.0.0", "bin": {"tool": "t.js"}},
              "node_modules/c/node_modules/tool": {"version": "1.0.0", "bin": "t.js"},
              "packages/w": {"version": "1.0.0", "bin": {"prisma": "w.js"}}
            }}
            """#
        #expect(LockedCommands.collisions(try JSON.parse(Array(lock.utf8))) == [
            .init(command: "prisma", packages: ["aaevil", "prisma"], folder: "node_modules"),
            .init(command: "tool", packages: ["tool", "x"], folder: "node_modules/c/node_modules"),
        ])
        #expect(LockedCommands.collisions(.object([:])) == [])
    }

    /// A command the lock gives a package in place of one install scripts run: npm links the lock's
    /// `bin`, so a registry package whose tarball names only `toolpkg-cli` became `node` (red team, round 4).
    /// A package's own command is its own; a workspace's folder is the project's code.
    @Test func lockedCommandsThatShadowOnesScriptsRun() throws {
        let lock = #"""
            {"lockfileVersion": 3, "packages": {
              "": {"name": "app", "bin": {"node": "x.js"}},
              "node_modules/toolpkg": {"version": "1.0.0", "bin": {"node": "cli.js", "toolpkg-cli": "cli.js"}},
              "node_modules/node": {"version": "20.0.0", "bin": {"node": "bin/node"}},
              "node_modules/a/node_modules/renamed": {"version": "1.0.0", "name": "sh", "bin": "s.js"},
              "node_modules/@s/gyp": {"version": "1.0.0", "bin": {"x/node-gyp": "g.js"}},
              "packages/w": {"version": "1.0.0", "bin": {"node": "w.js"}}
            }}
            """#
        #expect(LockedCommands.shadowing(try JSON.parse(Array(lock.utf8)), path: "") == [
            .init(command: "node-gyp", package: "@s/gyp", location: "node_modules/@s/gyp"),
            .init(command: "sh", package: "sh", location: "node_modules/a/node_modules/renamed"),
            .init(command: "node", package: "toolpkg", location: "node_modules/toolpkg"),
        ])
        #expect(LockedCommands.shadowing(.object([:]), path: "") == [])
    }
}
