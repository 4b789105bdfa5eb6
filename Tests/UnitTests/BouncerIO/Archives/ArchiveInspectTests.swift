import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools
import BouncerTestSupport

/// `ArchiveInspector`: wheel RECORD checks on a real wheel and on crafted
/// ones, npm package.json and install scripts, and the RECORD CSV dialect.
@Suite(.blocking) struct ArchiveInspectTests {
    /// Crafted wheels and npm tarballs: each file name says what is wrong with it.
    static let script = #"""
import base64, hashlib, io, sys, tarfile, zipfile
out = sys.argv[1]
def b64(data, algo="sha256", pad=False):
    text = base64.urlsafe_b64encode(hashlib.new(algo, data).digest()).decode()
    return text if pad else text.rstrip("=")
def wheel(name, files, record_lines=None, extra_record=""):
    di = "demo-1.0.dist-info"
    lines = record_lines if record_lines is not None else [
        '%s,sha256=%s,%d' % (p, b64(d), len(d)) for p, d in files]
    record = "\n".join(lines + [di + "/RECORD,,"]) + "\n" + extra_record
    with zipfile.ZipFile(out + "/" + name, "w", zipfile.ZIP_DEFLATED) as z:
        for p, d in files:
            z.writestr(p, d)
        z.writestr(di + "/RECORD", record)
code, meta = b"print('hi')\n", b"Metadata-Version: 2.1\nName: demo\n"
base = [("demo/__init__.py", code), ("demo-1.0.dist-info/METADATA", meta)]
wheel("good.whl", base)
wheel("other-name.whl", [("demo/__init__.py", code), ("demo-1.0.dist-info/METADATA", b"Metadata-Version: 2.1\nName: other\nVersion: 1.0\n")])
wheel("same-name-spelled.whl", [("demo/__init__.py", code), ("demo-1.0.dist-info/METADATA", b"Metadata-Version: 2.1\nName: DEMO\nVersion: 1.0\n")])
wheel("crlf-quoted-padded.whl", base + [("demo/a,b.py", b"x")], record_lines=[
    'demo/__init__.py,sha256=%s,%d' % (b64(code, pad=True), len(code)),
    'demo-1.0.dist-info/METADATA,sha512=%s,%d' % (b64(meta, "sha512"), len(meta)),
    '"demo/a,b.py",sha256=%s,1' % b64(b"x")], extra_record="")
with open(out + "/crlf-quoted-padded.whl", "rb") as f: pass
wheel("entry-points.whl", base + [("demo-1.0.dist-info/entry_points.txt", b"[console_scripts]\n./pip3 = demo:main\ntool = demo:main\n")])
wheel("unlisted.whl", base + [("demo/sneaky.py", b"import os")],
      record_lines=['%s,sha256=%s,%d' % (p, b64(d), len(d)) for p, d in base])
wheel("missing.whl", base, record_lines=['%s,sha256=%s,%d' % (p, b64(d), len(d)) for p, d in base]
      + ['demo/gone.py,sha256=%s,1' % b64(b"x")])
wheel("md5.whl", base, record_lines=['demo/__init__.py,md5=%s,%d' % (b64(code, "md5"), len(code)),
      'demo-1.0.dist-info/METADATA,sha256=%s,%d' % (b64(meta), len(meta))])
wheel("size.whl", base, record_lines=['demo/__init__.py,sha256=%s,999' % b64(code),
      'demo-1.0.dist-info/METADATA,sha256=%s,%d' % (b64(meta), len(meta))])
wheel("duplicate-line.whl", base, record_lines=['%s,sha256=%s,%d' % (p, b64(d), len(d)) for p, d in base]
      + ['demo/__init__.py,sha256=%s,%d' % (b64(code), len(code))])
wheel("changed.whl", [("demo/__init__.py", b"print('HI')\n"), ("demo-1.0.dist-info/METADATA", meta)],
      record_lines=['%s,sha256=%s,%d' % (p, b64(d), len(d)) for p, d in base])

def npm(name, members):
    with tarfile.open(out + "/" + name, "w:gz") as t:
        for path, data in members:
            info = tarfile.TarInfo(path); info.size = len(data)
            t.addfile(info, io.BytesIO(data))
npm("scripts.tgz", [("package/package.json",
    b'{"name":"left-pad","version":"1.3.0","scripts":{"postinstall":"node steal.js","test":"tap"}}'),
    ("package/steal.js", b"")])
npm("gyp.tgz", [("package/package.json", b'{"name":"native","version":"2.0.0"}'), ("package/binding.gyp", b"{}")])
npm("gyp-null.tgz", [("package/package.json", b'{"name":"native","version":"2.0.0","scripts":{"install":null,"preinstall":""}}'),
    ("package/binding.gyp", b"{}")])
npm("gyp-off.tgz", [("package/package.json", b'{"name":"native","version":"2.0.0","gypfile":false}'), ("package/binding.gyp", b"{}")])
npm("truthy.tgz", [("package/package.json", b'{"name":"t","version":"1.0.0","scripts":{"install":1,"postinstall":false,"preinstall":{}}}')])
npm("bundled.tgz", [("package/package.json", b'{"name":"outer","version":"1.0.0","bundleDependencies":["inner"]}'),
    ("package/node_modules/inner/package.json", b'{"name":"inner","version":"1.0.0","scripts":{"postinstall":"node x.js"}}'),
    ("package/node_modules/@s/deep/node_modules/gyp/package.json", b'{"name":"gyp","version":"1.0.0"}'),
    ("package/node_modules/@s/deep/node_modules/gyp/binding.gyp", b"{}"),
    ("package/node_modules/not-a-package/lib/package.json", b'{"scripts":{"postinstall":"ignored: not a package folder"}}')])
npm("bins.tgz", [("package/package.json", b'{"name":"@evil/node","version":"1.0.0","bin":{"tool":"a.js","x/NODE":"n.js","sh":"s.js"}}')])
npm("bin-array.tgz", [("package/package.json", b'{"name":"a","version":"1.0.0","bin":["lib/fine","lib/x/bash/"]}')])
npm("bin-string.tgz", [("package/package.json", b'{"name":"@evil/node","version":"1.0.0","bin":"n.js"}')])
npm("bin-folder.tgz", [("package/package.json", b'{"name":"d","version":"1.0.0","directories":{"bin":"./tools"}}'),
    ("package/tools/fine", b""), ("package/tools/sub/python3", b""), ("package/other/node", b"")])
npm("bundled-bin.tgz", [("package/package.json", b'{"name":"bundlebin","version":"1.0.0","bundleDependencies":["helper","tools"]}'),
    ("package/node_modules/helper/package.json", b'{"name":"helper","version":"1.0.0","bin":{"node":"x.js","fine":"f.js"}}'),
    ("package/node_modules/tools/package.json", b'{"name":"tools","version":"1.0.0","directories":{"bin":"b"}}'),
    ("package/node_modules/tools/b/sh", b""), ("package/node_modules/tools/b/ok", b"")])
npm("node-gyp.tgz", [("package/package.json", b'{"name":"node-gyp","version":"10.0.0","bin":{"node-gyp":"bin/node-gyp.js"}}')])
def npm_links(name, members, links):
    with tarfile.open(out + "/" + name, "w:gz") as t:
        for path, data in members:
            info = tarfile.TarInfo(path); info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        for path, target, kind in links:
            info = tarfile.TarInfo(path); info.type = kind; info.linkname = target
            t.addfile(info)
gyp_base = [("package/package.json", b'{"name":"native","version":"2.0.0"}'), ("package/real.gyp", b"{}")]
npm_links("gyp-symlink.tgz", gyp_base, [("package/binding.gyp", "real.gyp", tarfile.SYMTYPE)])
npm_links("gyp-hardlink.tgz", gyp_base, [("package/binding.gyp", "package/real.gyp", tarfile.LNKTYPE)])
npm("gyp-nested.tgz", [("package/package.json", b'{"name":"carrier","version":"1.0.0","dependencies":{"victim":"^1.0.0"}}'),
    ("package/node_modules/victim/binding.gyp", b"{}"), ("package/node_modules/@s/v/binding.gyp", b"{}"),
    ("package/node_modules/victim/sub/binding.gyp", b"{}")])
npm_links("dotbin.tgz", [("package/package.json", b'{"name":"carrier","version":"1.0.0"}'),
    ("package/node_modules/.bin/node", b"#!/bin/sh\n"), ("package/node_modules/.binx/node", b""), ("package/bin/node", b"")],
    [("package/node_modules/a/node_modules/.bin/x", "../../y", tarfile.SYMTYPE), ("package/node_modules/.bin/sub", "", tarfile.DIRTYPE)])
npm("shrinkwrap-places.tgz", [("package/package.json", b'{"name":"shrinky","version":"1.0.0"}'),
    ("package/npm-shrinkwrap.json", b'{"lockfileVersion":3,"packages":{"":{"name":"shrinky"},'
     b'"node_modules/dep":{"name":"dep@file:./node_modules/shrinky/payload","version":"1.0.0"},'
     b'"node_modules/fine":{"version":"1.0.0","resolved":"https://r.test/fine.tgz","bin":{"fine":"f.js"}},'
     b'"../toolpkg":{"version":"1.0.0","resolved":"https://r.test/toolpkg.tgz","bin":{"node":"cli.js"}}}}'),
    ("package/payload@1.0.0/package.json", b'{"name":"dep","version":"1.0.0","scripts":{"postinstall":"x"}}')])
npm("manifest-deps.tgz", [("package/package.json", b'{"name":"innocent","version":"1.0.0","dependencies":{"evil":"file:./evil","ok":"^1.0.0"},'
     b'"peerDependencies":{"@s/p":"http://127.0.0.1:1/p.tgz"},"devDependencies":{"dev":"file:./dev"}}'),
    ("package/evil/package.json", b'{"name":"evil","version":"1.0.0","scripts":{"postinstall":"x"}}'),
    ("package/node_modules/inner/package.json", b'{"name":"inner","version":"1.0.0","optionalDependencies":{"g":"git+https://h.test/g.git"}}')])
npm("mixed.tgz", [("package/package.json", b'{"name":"a","version":"1.0.0"}'), ("other/x.js", b"")])
npm("nomanifest.tgz", [("package/index.js", b"")])
"""#

    private static let lock = NSLock()
    nonisolated(unsafe) private static var built: URL?

    static func fixture(_ name: String) throws -> String {
        lock.lock()
        defer { lock.unlock() }
        if built == nil {
            let dir = try BouncerProcess.runScopedDirectory("bouncer-inspect-fixtures")
            try ArchiveFixtures.runPython(script, arguments: [dir.path])
            built = dir
        }
        return built?.appendingPathComponent(name).path ?? name
    }

    static func inspect(_ name: String, _ options: ArchiveInspector.Options = .init()) throws -> InspectionReport {
        try ArchiveInspector.inspect(try ArchiveReader(path: try fixture(name)), options: options)
    }

    @Test func goodWheelPasses() throws {
        let report = try Self.inspect("good.whl")
        #expect(report.problems == [])
        #expect(report.wheel?.verified == 2)
        #expect(report.verdict == .pass)
        #expect(report.entries.count == 3)
        #expect(report.entries.first?.sha256 == Hasher.digest(Array("print('hi')\n".utf8), .sha256).hex)
    }

    /// A wheel is the distribution it is offered as: its dist-info names
    /// the project and version expected (PEP 503 normal form for the name).
    /// A red-team pass had the proxy serve and pin `other-2.0` as `p1 1.0`.
    @Test func aWheelIsTheDistributionItIsOfferedAs() throws {
        #expect(try Self.inspect("good.whl", .init(kind: .wheel, expectName: "Demo", expectVersion: "1.0")).problems.isEmpty)
        let other = try Self.inspect("good.whl", .init(kind: .wheel, expectName: "p1", expectVersion: "2.0"))
        #expect(other.problems.map(\.code) == ["wheel-name-mismatch", "wheel-version-mismatch"])
        #expect(other.problems.first?.message.contains("demo-1.0.dist-info is the distribution 'demo', expected 'p1'") == true, "\(other.problems)")
    }

    /// METADATA's Name is the distribution pip installs: one naming another than
    /// the .dist-info folder was pinned as `namew 1.0` and installed as `other`
    /// (red team, round 5). Another spelling of the same name is the same.
    @Test func aWheelsMetadataNamesItsOwnDistribution() throws {
        let report = try Self.inspect("other-name.whl")
        #expect(report.problems.map(\.code) == ["wheel-name-mismatch"], "\(report.problems)")
        #expect(report.problems.first?.message.contains("names the distribution 'other', but the wheel's .dist-info folder is 'demo'") == true)
        #expect(try Self.inspect("same-name-spelled.whl").problems.isEmpty)
    }

    @Test func recordDialectQuotingPaddingAndSha512() throws {
        let report = try Self.inspect("crlf-quoted-padded.whl")
        #expect(report.problems == [], "\(report.problems)")
        #expect(report.wheel?.verified == 3)
    }

    @Test(arguments: [
        ("unlisted.whl", "wheel-record-unlisted-file", "demo/sneaky.py"),
        ("missing.whl", "wheel-record-missing-file", "demo/gone.py"),
        ("md5.whl", "wheel-record-weak-hash", "demo/__init__.py"),
        ("size.whl", "wheel-record-size-mismatch", "demo/__init__.py"),
        ("duplicate-line.whl", "wheel-record-duplicate", "demo/__init__.py"),
        ("changed.whl", "wheel-record-hash-mismatch", "demo/__init__.py"),
    ])
    func badWheelFailsNamingTheFile(_ name: String, _ code: String, _ file: String) throws {
        let report = try Self.inspect(name)
        #expect(report.verdict == .fail)
        #expect(report.problems.count == 1, "\(report.problems)")
        #expect(report.problems.first?.code == code)
        #expect(report.problems.first?.entry == file)
        #expect(report.problems.first?.message.contains("'\(file)'") == true)
    }

    @Test func npmInstallScriptsAreShown() throws {
        let report = try Self.inspect("scripts.tgz")
        #expect(report.verdict == .pass)
        #expect(report.npm?.name == "left-pad")
        #expect(report.npm?.version == "1.3.0")
        #expect(report.npm?.installScripts == [.init(name: "postinstall", command: "node steal.js")])
        #expect(report.npm?.otherScripts == ["test"])
        #expect(report.humanLines().contains("    postinstall: node steal.js"))
        let gyp = try Self.inspect("gyp.tgz")
        #expect(gyp.npm?.installScripts.first?.command.hasPrefix("node-gyp rebuild") == true)
    }

    /// Red team, round 4: a binding.gyp that is a symlink or hard link is one to npm (stat) and yarn
    /// (readdir); one in a node_modules folder with no package.json beside it lands in the folder npm
    /// installs that dependency into, and is built there. (One deeper in a package is no package's.)
    @Test func everyBindingGypNpmWouldBuildIsAnInstallScript() throws {
        func scripts(_ name: String) throws -> [String] {
            try Self.inspect(name).npm?.installScripts.map { "\($0.name): \($0.command)" } ?? ["no npm report"]
        }
        #expect(try scripts("gyp-symlink.tgz") == ["install: node-gyp rebuild (implicit: binding.gyp present)"])
        #expect(try scripts("gyp-hardlink.tgz") == ["install: node-gyp rebuild (implicit: binding.gyp present)"])
        #expect(try scripts("gyp-nested.tgz") == [
            "install of node_modules/@s/v: node-gyp rebuild (implicit: binding.gyp present, in the folder npm installs that dependency into)",
            "install of node_modules/victim: node-gyp rebuild (implicit: binding.gyp present, in the folder npm installs that dependency into)"])
    }

    /// A command in a node_modules/.bin folder of a tarball (npm never packs one), of any kind: npm
    /// extracts it first on the PATH of the scripts of the packages it nests below it, so an allowed
    /// package's `postinstall` that ran `node` ran it (red team, round 4).
    @Test func aNodeModulesBinFolderInATarballIsAnInstallScript() throws {
        let scripts = try Self.inspect("dotbin.tgz").npm?.installScripts.map(\.name)
        #expect(scripts == ["bin node_modules/.bin/node", "bin node_modules/a/node_modules/.bin/x"], "\(String(describing: scripts))")
        #expect(try Self.inspect("gyp-nested.tgz").npm?.installScripts.contains { $0.name.hasPrefix("bin ") } == false)
    }

    /// A bundled package's commands (red team, round 7): npm links them into the .bin of the
    /// node_modules holding it, so a bundled `bin.node` ran in an allowed nested package's postinstall.
    @Test func aBundledPackagesCommandsAreChecked() throws {
        let scripts = try Self.inspect("bundled-bin.tgz").npm?.installScripts.map(\.name)
        #expect(scripts == ["bin node of the bundled node_modules/helper", "bin sh of the bundled node_modules/tools"], "\(String(describing: scripts))")
    }

    /// A package's own lock (red team, round 4): an entry's `name` holding a spec is an exotic source,
    /// a key outside its node_modules (`../toolpkg`) refuses, and a `bin` naming a command scripts run
    /// (npm links the lock's) is code that runs on install.
    @Test func aPackagesOwnLockIsReadForNamesPlacesAndCommands() throws {
        let report = try Self.inspect("shrinkwrap-places.tgz")
        #expect(report.npm?.shippedSources?.map(\.spec) == ["dep@file:./node_modules/shrinky/payload"])
        #expect(report.problems.map(\.code) == ["npm-shrinkwrap"])
        #expect(report.problems.first?.message.contains("'../toolpkg'") == true, "\(report.problems)")
        #expect(report.npm?.installScripts.map(\.name) == ["bin node of ../toolpkg in npm-shrinkwrap.json"])
    }

    /// The dependencies a tarball's own package.json files name (red team, round 5): npm reads the
    /// installed manifests when it builds the tree from disk, so a `file:` folder of the tarball was
    /// linked in and its postinstall ran, though the registry's manifest named no such dependency.
    /// Development dependencies of an installed package are never installed.
    @Test func aTarballsOwnManifestsDependenciesAreItsSources() throws {
        let sources = try Self.inspect("manifest-deps.tgz").npm?.shippedSources
        #expect(sources?.map(\.spec) == ["git+https://h.test/g.git", "file:./evil", "http://127.0.0.1:1/p.tgz"], "\(String(describing: sources))")
        #expect(sources?.map(\.place) == ["package/node_modules/inner/package.json $.optionalDependencies.g",
                                           "package/package.json $.dependencies.evil", "package/package.json $.peerDependencies[\"@s/p\"]"])
        #expect(try Self.inspect("bundled.tgz").npm?.shippedSources == nil)
    }

    /// What npm really runs on install (red-team pass): any value JavaScript takes for true
    /// is a script; `install: null` leaves a binding.gyp's implicit build on; bundled
    /// dependencies' scripts and binding.gyp count; and a command named like one install
    /// scripts run (node, sh) is code that runs on install, unless its own package ships it.
    @Test func npmInstallTimeCodeIsFoundAsNpmRunsIt() throws {
        func scripts(_ name: String) throws -> [String] {
            try Self.inspect(name).npm?.installScripts.map { "\($0.name): \($0.command)" } ?? ["no npm report"]
        }
        #expect(try scripts("gyp-null.tgz") == ["install: node-gyp rebuild (implicit: binding.gyp present)"])
        // npm reads `gypfile` from the registry's manifest, not from the tarball: not taken from it.
        #expect(try scripts("gyp-off.tgz") == ["install: node-gyp rebuild (implicit: binding.gyp present)"])
        #expect(try scripts("truthy.tgz") == ["preinstall: {}", "install: 1"])
        let bundled = try scripts("bundled.tgz")
        #expect(bundled == ["postinstall of the bundled node_modules/inner: node x.js",
                            "install of the bundled node_modules/@s/deep/node_modules/gyp: node-gyp rebuild (implicit: binding.gyp present)"]
                || bundled == ["install of the bundled node_modules/@s/deep/node_modules/gyp: node-gyp rebuild (implicit: binding.gyp present)",
                               "postinstall of the bundled node_modules/inner: node x.js"], "\(bundled)")
        let bins = try scripts("bins.tgz")
        #expect(bins.count == 2 && bins.contains { $0.hasPrefix("bin NODE: ") } && bins.contains { $0.hasPrefix("bin sh: ") }, "\(bins)")
        #expect(try scripts("bin-string.tgz").map { $0.prefix(9) } == ["bin node:"])
        #expect(try scripts("bin-array.tgz").map { $0.prefix(9) } == ["bin bash:"])
        #expect(try scripts("bin-folder.tgz").map { $0.prefix(12) } == ["bin python3:"])
        #expect(try scripts("node-gyp.tgz") == [], "node-gyp's own command is node-gyp")
        #expect(NpmBins.inFolder("./tools/", file: "tools/a") == "a")
        // Any program on PATH (a red-team pass hijacked a project's own `prepare: mkdir -p dist` with a bin
        // named mkdir), unless it is the same package installed globally; node_modules' .bin folders are npm's.
        let root = try BouncerProcess.temporaryDirectory("bouncer-npm-bins")
        defer { try? FileManager.default.removeItem(at: root) }
        let system = root.appendingPathComponent("usr/bin"), global = root.appendingPathComponent("lib/node_modules/tool/bin")
        let dotBin = root.appendingPathComponent("p/node_modules/.bin")
        for folder in [system, global, dotBin] { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        for file in [system.appendingPathComponent("mytool"), global.appendingPathComponent("tool.js"), dotBin.appendingPathComponent("local"),
                     system.appendingPathComponent("plain")] {
            try "#!/bin/sh\n".write(to: file, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: file.lastPathComponent == "plain" ? 0o644 : 0o755], ofItemAtPath: file.path)
        }
        try FileManager.default.createSymbolicLink(atPath: system.appendingPathComponent("tool").path, withDestinationPath: global.appendingPathComponent("tool.js").path)
        let path = [dotBin.path, "relative/bin", system.path].joined(separator: ":")
        #expect(NpmBins.shadowsACommandScriptsRun("mytool", package: "evil", path: path))
        #expect(NpmBins.shadowsACommandScriptsRun("tool", package: "evil", path: path))
        #expect(!NpmBins.shadowsACommandScriptsRun("tool", package: "tool", path: path), "the same package installed globally")
        #expect(!NpmBins.shadowsACommandScriptsRun("local", package: "evil", path: path), "node_modules/.bin is npm's own")
        #expect(!NpmBins.shadowsACommandScriptsRun("plain", package: "evil", path: path), "not executable")
        #expect(!NpmBins.shadowsACommandScriptsRun("tsc", package: "typescript", path: path))
        #expect(NpmBins.shadowsACommandScriptsRun("node-gyp-build", package: "evil", path: ""))
        #expect(NpmBins.shadowsACommandScriptsRun("make", package: "evil", path: ""), "a build tool this machine lacks")
        #expect(NpmBins.inFolder("tools", file: "toolsx/a") == nil)
    }

    /// A wheel's entry points are the commands pip writes into bin: `./pip3` lands on the venv's own
    /// pip3 (a red-team pass ran it), so the guard refuses it as install-time code.
    @Test func aWheelsEntryPointsAreReadAndJudged() throws {
        let report = try Self.inspect("entry-points.whl")
        #expect(report.problems == [])
        #expect(report.wheel?.scripts == ["./pip3", "tool"])
        let problem = ArtifactInspection.installScriptProblem(report, package: "demo")
        #expect(problem?.code == .installScript)
        #expect(problem?.message.contains("the command ./pip3 (entry_points.txt)") == true, "\(problem?.message ?? "")")
        #expect(ArtifactInspection.installScriptProblem(try Self.inspect("good.whl"), package: "demo") == nil)
    }

    @Test func npmExpectationsAndLayoutAreChecked() throws {
        let mismatch = try Self.inspect("scripts.tgz", .init(expectName: "left-pad", expectVersion: "1.2.0"))
        #expect(mismatch.problems.map(\.code) == ["npm-version-mismatch"])
        #expect(try Self.inspect("mixed.tgz").problems.map(\.code) == ["npm-top-level"])
        #expect(try Self.inspect("nomanifest.tgz", .init(kind: .npm)).problems.map(\.code) == ["npm-no-package-json"])
        let xz = try ArchiveInspector.inspect(try ArchiveReader(path: try ArchiveFixtures.path("tree.tar.xz")), options: .init(kind: .npm))
        #expect(xz.problems.map(\.code).first == "npm-not-tgz")
        let zip = try ArchiveInspector.inspect(try ArchiveReader(path: try ArchiveFixtures.path("tree.tar")), options: .init(kind: .wheel))
        #expect(zip.problems.map(\.code).first == "wheel-not-zip")
        // Without --kind npm, a .tgz with no package.json is just a tarball.
        #expect(try Self.inspect("nomanifest.tgz").npm == nil)
    }

    @Test func hostileEntriesAreReportedNotUnpacked() throws {
        let report = try ArchiveInspector.inspect(try ArchiveReader(path: try ArchiveFixtures.path("symlink-absolute.tar")))
        #expect(report.verdict == .fail)
        #expect(report.problems.map(\.code) == ["archive-symlink-escape"])
        #expect(report.entries.map(\.path) == ["ok.txt", "etc"])
    }

    @Test func recordCSVDialect() throws {
        let rows = try RecordCSV.parse(Array("a,b,c\r\n\"x,\"\"y\"\"\",h,1\n\n\"multi\nline\",,\nlast,row,no-newline".utf8))
        #expect(rows.map(\.fields) == [["a", "b", "c"], ["x,\"y\"", "h", "1"], ["multi\nline", "", ""],
                                       ["last", "row", "no-newline"]])
        #expect(rows.map(\.line) == [1, 2, 4, 6])
        #expect(throws: RecordCSV.ParseError.self) { try RecordCSV.parse(Array("\"open,1,2\n".utf8)) }
        #expect(throws: RecordCSV.ParseError.self) { try RecordCSV.parse(Array("\"q\"junk,1,2\n".utf8)) }
        #expect(throws: RecordCSV.ParseError.self) { try RecordCSV.parse([0xff, 0x2c]) }
    }
}

/// A real wheel, fetched with pip at test time: it passes; the same wheel with
/// one file's bytes changed fails, naming that file.
@Suite(.blocking) struct RealWheelTests {
    static let package = "six==1.16.0"

    /// Downloads the wheel into a fresh directory; nil (with a notice) when pip or the network is unavailable.
    static func download() throws -> URL? {
        let dir = try BouncerProcess.temporaryDirectory("bouncer-wheel")
        let result = try BouncerProcess.runProgram("/usr/bin/env", [
            "python3", "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
            "-q", package, "-d", dir.path])
        let wheels = (try? FileManager.default.contentsOfDirectory(atPath: dir.path))?.filter { $0.hasSuffix(".whl") } ?? []
        guard result.status == 0, let wheel = wheels.first else {
            print("NOTICE: real wheel test skipped: pip download \(package) failed: \(result.err.suffix(300))")
            try? FileManager.default.removeItem(at: dir)
            return nil
        }
        return dir.appendingPathComponent(wheel)
    }

    @Test func realWheelPassesAndAChangedCopyFails() throws {
        guard let wheel = try Self.download() else { return }
        defer { try? FileManager.default.removeItem(at: wheel.deletingLastPathComponent()) }
        let report = try ArchiveInspector.inspect(try ArchiveReader(path: wheel.path))
        #expect(report.problems == [], "\(report.problems)")
        #expect((report.wheel?.verified ?? 0) >= 4)

        let changed = wheel.deletingLastPathComponent().appendingPathComponent("changed-" + wheel.lastPathComponent)
        try ArchiveFixtures.runPython(#"""
import sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
    for item in zin.infolist():
        data = zin.read(item)
        if item.filename == "six.py":
            data = data.replace(b"import sys", b"import sYs", 1)  # same size: only the hash can tell
        zout.writestr(item, data)
"""#, arguments: [wheel.path, changed.path])
        let bad = try ArchiveInspector.inspect(try ArchiveReader(path: changed.path))
        #expect(bad.verdict == .fail)
        #expect(bad.problems.map(\.code) == ["wheel-record-hash-mismatch"])
        #expect(bad.problems.first?.message.contains("'six.py'") == true)
    }
}
