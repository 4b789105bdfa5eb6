import Testing
import BouncerBase
@testable import BouncerIO

/// An npm lock's sources outside the registry, read as arborist reads the lock.
@Suite struct NpmLockSourcesTests {
    func exotic(_ text: String, workspaces: Set<String> = []) throws -> [String] {
        NpmLockSources.exotic(try JSON.parse(file: Array(text.utf8), maxDepth: 64), linkAllowed: workspaces.contains).map { "\($0.place) \($0.spec)" }
    }

    @Test func linksResolvedAndSpecsOfEveryEntry() throws {
        let found = try exotic(#"""
            {"packages": {"": {"dependencies": {"a": "^1"}},
             "node_modules/a": {"resolved": "https://r.test/a.tgz", "dependencies": {"b": "git+https://g.test/b"}},
             "node_modules/ws": {"resolved": "packages/ws", "link": true},
             "node_modules/x": {"resolved": "vendor/x", "link": true},
             "node_modules/y": {"resolved": "file:y.tgz"},
             "node_modules/one": {"resolved": "http://x/../../inner", "link": 1},
             "node_modules/v": {"name": "v", "version": "file:../evil", "hasInstallScript": true},
             "node_modules/a/node_modules/z": {"inBundle": true, "dependencies": {"q": "file:q"}},
             "node_modules/good": {"inBundle": true, "dependencies": {"evil": "file:../../vendor/evil"}},
             "packages/ws/node_modules/w": {"inBundle": true, "dependencies": {"e": "file:e"}}}}
            """#, workspaces: ["packages/ws"])
        #expect(found == [#"$.packages["node_modules/a"].dependencies.b git+https://g.test/b"#,
                          #"$.packages["node_modules/a/node_modules/z"].dependencies.q file:q"#,
                          #"$.packages["node_modules/good"].dependencies.evil file:../../vendor/evil"#,
                          #"$.packages["node_modules/one"].resolved file:http://x/../../inner"#,
                          #"$.packages["node_modules/v"].version file:../evil"#,
                          #"$.packages["node_modules/x"].resolved file:vendor/x"#,
                          #"$.packages["node_modules/y"].resolved file:y.tgz"#,
                          #"$.packages["packages/ws/node_modules/w"].dependencies.e file:e"#])
    }

    /// No `packages` object (a version 1 lock, or null): the `dependencies` tree, nested.
    @Test func theDependencyTreeWhenPackagesIsMissing() throws {
        for header in [#""lockfileVersion": 1"#, #""lockfileVersion": 3, "packages": null"#] {
            let found = try exotic(#"{\#(header), "dependencies": {"a": {"version": "1.0.0", "resolved": "https://r.test/a.tgz", "requires": {"e": "file:vendor/e"},"#
                                   + #" "dependencies": {"b": {"version": "github:u/b"}}}, "e": {"version": "file:vendor/e"}}}"#)
            #expect(found == ["$.dependencies.a.requires.e file:vendor/e", "$.dependencies.a.dependencies.b.version github:u/b",
                              "$.dependencies.e.version file:vendor/e"], "\(header): \(found)")
        }
        #expect(try exotic(#"{"lockfileVersion": 1, "dependencies": {"a": {"version": "1.0.0", "resolved": "https://r.test/a.tgz"}}}"#).isEmpty)
    }

    /// arborist fetches `NAME@VERSION` (`NAME@RESOLVED`), NAME being the entry's `name` or its
    /// folder's: one holding a spec is one (red team, round 4: `goodpkg@file:./evil` copied the
    /// folder `./evil@1.0.0` in and ran its postinstall). Old names' capitals are names.
    @Test func aNameThatIsNoPackageNameIsASpec() throws {
        let found = try exotic(#"""
            {"packages": {"": {"name": "proj"},
             "node_modules/good": {"name": "good@file:./evil", "version": "1.0.0", "hasInstallScript": true},
             "node_modules/@s/ok": {"name": "@s/ok", "version": "1.0.0", "resolved": "https://r.test/ok.tgz"},
             "node_modules/x@file:evil": {"version": "1.0.0"},
             "node_modules/a/node_modules/JSONStream": {"version": "1.0.0", "resolved": "https://r.test/j.tgz"},
             "packages/ws": {"name": "ws", "version": "1.0.0"}}}
            """#)
        #expect(found == [#"$.packages["node_modules/good"].name good@file:./evil"#, #"$.packages["node_modules/x@file:evil"] x@file:evil"#])
        #expect(try exotic(#"{"lockfileVersion": 1, "dependencies": {"x@file:evil": {"version": "1.0.0"}, "ok": {"version": "1.0.0"}}}"#)
                == [#"$.dependencies["x@file:evil"] x@file:evil"#])
    }

    /// A package's own lock places its keys against the package's folder: `../toolpkg` put a
    /// package at the top of the project that installed it (red team, round 4). Only folders
    /// strictly below its node_modules are places.
    @Test func aPackagesOwnLockPlacesNothingOutsideItsNodeModules() throws {
        let lock = try JSON.parse(Array(#"""
            {"packages": {"": {}, "node_modules/a": {}, "node_modules/@s/b": {}, "node_modules/a/node_modules/c": {},
             "../toolpkg": {}, "/abs": {}, "node_modules": {}, "node_modules//x": {}, "node_modules/../x": {},
             "node_modules/./x": {}, "node_modules/a\\..\\..\\x": {}, "packages/ws": {}}}
            """#.utf8))
        #expect(Set(NpmLockSources.keysOutsidePackage(lock)) == ["../toolpkg", "/abs", "node_modules", "node_modules//x", "node_modules/../x",
                                                                  "node_modules/./x", #"node_modules/a\..\..\x"#, "packages/ws"])
        #expect(NpmLockSources.keysOutsidePackage(.object([:])) == [])
    }
}
