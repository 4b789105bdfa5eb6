import Foundation
import Testing
import BouncerTestSupport

/// The real pip behind the shim: a loopback PEP 503 simple index with wheels
/// built at test time, a fresh venv per test, and one real install from PyPI
/// under the repository's own policy.json (the quick start's main job).
@Suite(.blocking) struct PipShimTests {
    var harness: ShimHarness
    let index: URL
    let server: DirectoryHTTPServer
    let venv: URL

    init() throws {
        harness = try ShimHarness("bouncer-shim-pip")
        index = harness.root.appendingPathComponent("index")
        try FileManager.default.createDirectory(at: index.appendingPathComponent("packages"), withIntermediateDirectories: true)
        server = try DirectoryHTTPServer(root: index.path)
        venv = harness.root.appendingPathComponent("venv")
        try PythonVenv.make(at: venv)
        harness.extraPath = [venv.appendingPathComponent("bin").path]
        try harness.writePolicy()
    }

    var indexURL: String { server.baseURL + "/simple/" }

    /// Builds a pure-Python wheel with Python's zipfile (RECORD included) and returns its sha256 (by sha256sum).
    @discardableResult
    /// `recordedBody`: what RECORD claims `__init__.py` holds (default: `body`).
    func buildWheel(_ name: String, _ version: String, body: String, requires: [String] = [], into dir: URL? = nil,
                    recordedBody: String? = nil) throws -> (file: String, sha256: String) {
        let file = "\(name)-\(version)-py3-none-any.whl"
        let target = (dir ?? index.appendingPathComponent("packages")).appendingPathComponent(file)
        let script = """
            import sys, zipfile, hashlib, base64
            name, version, out, body, recorded = sys.argv[1:6]
            requires = sys.argv[6:]
            di = f"{name}-{version}.dist-info"
            meta = f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n" + "".join(f"Requires-Dist: {r}\\n" for r in requires)
            files = {f"{name}/__init__.py": body.encode(), f"{di}/METADATA": meta.encode(),
                     f"{di}/WHEEL": b"Wheel-Version: 1.0\\nGenerator: bouncer-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}
            claimed = dict(files); claimed[f"{name}/__init__.py"] = recorded.encode()
            record = "".join(f"{p},sha256={base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()},{len(d)}\\n" for p, d in claimed.items())
            files[f"{di}/RECORD"] = (record + f"{di}/RECORD,,\\n").encode()
            with zipfile.ZipFile(out, "w") as z:
                for p, d in files.items():
                    z.writestr(zipfile.ZipInfo(p, date_time=(2020, 1, 1, 0, 0, 0)), d)
            """
        let made = try BouncerProcess.runProgram("/usr/bin/env", ["python3", "-c", script, name, version, target.path, body, recordedBody ?? body] + requires)
        guard made.status == 0 else { throw SetupError("wheel build failed: \(made.err)") }
        return (file, try ShimHarness.sha256([UInt8](Data(contentsOf: target))))
    }

    /// The project page: one link per file, with a #sha256= fragment when given
    /// (written under `root`, the suite's index by default).
    func page(_ name: String, _ files: [(String, String?)], in root: URL? = nil) throws {
        try ServeFixtures.writePage(name, files.map { ($0.0, $0.1, "") }, index: root ?? index)
    }

    /// A second simple index on its own loopback server (for --extra-index-url).
    func secondIndex(_ name: String) throws -> (root: URL, server: DirectoryHTTPServer) {
        let root = harness.root.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("packages"), withIntermediateDirectories: true)
        return (root, try DirectoryHTTPServer(root: root.path))
    }

    /// Dependency confusion's setting: the genuine tinylib 1.0 on the suite's
    /// index, and a higher, forged version of it on a second index (stop its server).
    func genuineHereAndForgedOnASecondIndex(_ forgedVersion: String) throws
        -> (extra: DirectoryHTTPServer, genuine: (file: String, sha256: String), forged: (file: String, sha256: String)) {
        let (extraRoot, extra) = try secondIndex("extra-index")
        let genuine = try buildWheel("tinylib", "1.0", body: "VALUE = 41\n")
        try page("tinylib", [(genuine.file, genuine.sha256)])
        let forged = try buildWheel("tinylib", forgedVersion, body: "VALUE = 666\n", into: extraRoot.appendingPathComponent("packages"))
        try page("tinylib", [(forged.file, forged.sha256)], in: extraRoot)
        return (extra, genuine, forged)
    }

    /// A scripted index for verify-one-use-another: the project page, and the
    /// wheel answering its n-th GET with the n-th body (the last one repeats).
    func scriptedIndex(_ name: String, file: String, pageDigest: String?, bodies: [[UInt8]]) throws -> MisbehavingServer {
        let scripted = try MisbehavingServer()
        scripted.route("/simple/\(name)/", [.init(headers: ["Content-Type: text/html"], body: Array(ServeFixtures.pageHTML([(file, pageDigest, "")]).utf8))])
        scripted.route("/packages/\(file)", bodies.map { .init(headers: ["Content-Type: application/octet-stream"], body: $0) })
        return scripted
    }

    /// An index whose page states the genuine tinylib 1.0's digest and whose
    /// wheel answers with other bytes (a tinylib 1.0 built elsewhere).
    func tamperedIndex(_ good: (file: String, sha256: String)) throws -> (MisbehavingServer, (file: String, sha256: String)) {
        let elsewhere = harness.root.appendingPathComponent("evil")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        let evil = try buildWheel("tinylib", "1.0", body: "import os\nVALUE = 666\n", into: elsewhere)
        #expect(evil.sha256 != good.sha256)
        return (try scriptedIndex("tinylib", file: good.file, pageDigest: good.sha256, bodies: [try wheelBytes(evil.file, in: elsewhere)]), evil)
    }

    func wheelBytes(_ file: String, in dir: URL? = nil) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: (dir ?? index.appendingPathComponent("packages")).appendingPathComponent(file)))
    }

    /// Every regular file under `dir` (recursively).
    static func files(under dir: URL) -> [URL] {
        guard let walker = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
        return walker.compactMap { $0 as? URL }.filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
    }

    /// The entries of a bouncer.lock, by key (parsed here with JSONSerialization, not Bouncer's decoder).
    static func lockEntries(_ file: URL) throws -> [String: [String: Any]] {
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any]
        let artifacts = root?["artifacts"] as? [[String: Any]] ?? []
        return Dictionary(artifacts.compactMap { entry in (entry["key"] as? String).map { ($0, entry) } }, uniquingKeysWith: { first, _ in first })
    }

    /// What is installed, asked of the venv's real pip directly (not through the shim).
    func installed() throws -> [String] {
        let list = try BouncerProcess.runProgram(venv.appendingPathComponent("bin/pip").path, ["list", "--format=freeze", "--disable-pip-version-check"])
        return list.out.split(separator: "\n").map(String.init).sorted()
    }

    /// Uninstalls packages with the venv's real pip directly (not through the shim).
    func uninstall(_ names: String...) throws {
        let uninstalled = try BouncerProcess.runProgram(venv.appendingPathComponent("bin/pip").path, ["uninstall", "-y"] + names)
        #expect(uninstalled.status == 0, "\(uninstalled.err)")
    }

    func python(_ code: String) throws -> ProcessResult {
        try BouncerProcess.runProgram(venv.appendingPathComponent("bin/python").path, ["-c", code], cwd: harness.root.path)
    }

    @Test func installFromLoopbackIndexWithDependency() throws {
        defer { harness.cleanup() }
        let lib = try buildWheel("tinylib", "1.0", body: "VALUE = 41\n")
        let app = try buildWheel("tinyapp", "2.0", body: "from tinylib import VALUE\nANSWER = VALUE + 1\n", requires: ["tinylib>=1.0"])
        try page("tinylib", [(lib.file, lib.sha256)])
        try page("tinyapp", [(app.file, app.sha256)])
        let before = try installed()
        let result = try harness.sh("pip install --index-url '\(indexURL)' tinyapp==2.0")
        #expect(result.status == 0, "\(result.err)")
        #expect(try installed() == (before + ["tinyapp==2.0", "tinylib==1.0"]).sorted())
        #expect(try python("import tinyapp; print(tinyapp.ANSWER)").out == "42\n")
        #expect(result.err.contains("sha256:\(lib.sha256)"), "the proof names the verified digest: \(result.err)")
    }

    /// A private index whose URL carries its credentials (`PIP_INDEX_URL=
    /// http://user:password@HOST/simple/`, as CI jobs set it) and whose page
    /// links to the files by absolute URLs without them: the shim's proxy
    /// sends the credentials with every request to that host and port, as
    /// pip would (percent-decoded), and the install goes through. The password
    /// is in no output and no lock. With a wrong one, the shim says the index
    /// refused it, not only pip's "no matching distribution".
    @Test func aPrivateIndexsCredentialsReachItThroughTheProxy() throws {
        defer { harness.cleanup() }
        let lib = try buildWheel("privlib", "1.0", body: "VALUE = 7\n")
        let page = index.appendingPathComponent("simple/privlib")
        try FileManager.default.createDirectory(at: page, withIntermediateDirectories: true)
        try "<!DOCTYPE html><html><body><a href=\"\(server.baseURL)/packages/\(lib.file)#sha256=\(lib.sha256)\">\(lib.file)</a></body></html>\n"
            .write(to: page.appendingPathComponent("index.html"), atomically: true, encoding: .utf8)
        server.requiredAuthorization = "Basic " + Data("alice:s3cret!".utf8).base64EncodedString()
        let url = "http://alice:s3cret%21@127.0.0.1:\(server.port)/simple/"

        let result = try harness.sh("pip install privlib==1.0", extra: ["PIP_INDEX_URL": url])
        #expect(result.status == 0, "\(result.err)")
        #expect(try installed().contains("privlib==1.0"))
        #expect(server.requests.contains("GET /packages/\(lib.file)"), "\(server.requests)")
        #expect(!server.authorizations.isEmpty && server.authorizations.allSatisfy { $0 == server.requiredAuthorization }, "\(server.authorizations)")
        #expect(!(result.out + result.err).contains("s3cret"), "\(result.err)")
        let lock = try String(contentsOf: harness.file("bouncer.lock"), encoding: .utf8)
        #expect(lock.contains("/packages/\(lib.file)") && !lock.contains("s3cret") && !lock.contains("alice"))

        let wrong = try harness.sh("pip install --force-reinstall privlib==1.0", extra: ["PIP_INDEX_URL": "http://alice:wrong@127.0.0.1:\(server.port)/simple/"])
        #expect(wrong.status != 0)
        #expect(wrong.err.contains("bouncer: pip: could not read pypi:privlib upstream: upstream refused the proxy"), "\(wrong.err)")
        #expect(wrong.err.contains("HTTP 401"), "\(wrong.err)")

        // The credentials in a netrc file instead (`~/.netrc`, as pip reads it): the index URL carries none.
        let netrc = harness.root.appendingPathComponent(".netrc")
        try "machine 127.0.0.1\n  login alice\n  password s3cret!\n".write(to: netrc, atomically: true, encoding: .utf8)
        let fromNetrc = try harness.sh("pip install --force-reinstall privlib==1.0", extra: ["PIP_INDEX_URL": indexURL])
        #expect(fromNetrc.status == 0, "\(fromNetrc.err)")
        try FileManager.default.removeItem(at: netrc)
        let without = try harness.sh("pip install --force-reinstall privlib==1.0", extra: ["PIP_INDEX_URL": indexURL])
        #expect(without.status != 0 && without.err.contains("HTTP 401"), "\(without.err)")
    }

    /// The page states the genuine wheel's #sha256=, the server answers with
    /// other bytes: the proxy refuses them (one fetch, pip never sees a byte).
    @Test func tamperedWheelIsRefusedAndNothingInstalled() throws {
        defer { harness.cleanup() }
        let good = try buildWheel("tinylib", "1.0", body: "VALUE = 41\n")
        let (scripted, evil) = try tamperedIndex(good)
        defer { scripted.stop() }
        let before = try installed()
        let result = try harness.sh("pip install --index-url '\(scripted.baseURL)/simple/' tinylib==1.0")
        #expect(result.status == 1, "\(result.err)")
        #expect(result.err.contains("bouncer: pip: refused tinylib 1.0"), "\(result.err)")
        #expect(result.err.contains("sha256 is \(evil.sha256), expected \(good.sha256)"), "Bouncer names both digests: \(result.err)")
        #expect(result.err.components(separatedBy: "sha256 is \(evil.sha256)").count == 2, "the mismatch is said once: \(result.err)")
        #expect(result.err.contains("nothing was installed"), "\(result.err)")
        #expect(result.err.contains("HTTP error 403"), "pip was refused by the proxy: \(result.err)")
        // Fetched once, by the proxy; pip never reached the upstream.
        #expect(scripted.requests(to: "/packages/\(good.file)") == 1)
        #expect(try installed() == before)
        #expect(try python("import importlib.util; print(importlib.util.find_spec('tinylib'))").out == "None\n")
        // The tampered bytes are nowhere in Bouncer's cache either.
        for file in Self.files(under: harness.cache) {
            #expect(try ShimHarness.sha256([UInt8](Data(contentsOf: file))) != evil.sha256, "tampered bytes kept at \(file.path)")
        }
    }

    /// `python3 -m pip` (the interpreter shim, then the venv's python running
    /// the real pip as a module) is the pip shim: a genuine wheel is verified
    /// and pinned, in each spelling; a tampered one is refused with Bouncer's
    /// reason and nothing is installed.
    @Test func pythonDashMPipIsGuardedLikePip() throws {
        defer { harness.cleanup() }
        let good = try buildWheel("tinylib", "1.0", body: "VALUE = 41\n")
        try page("tinylib", [(good.file, good.sha256)])
        let before = try installed()
        try expectEachInstallsTinylib([
            ("python3 -m pip", "python3 -m pip install --index-url '\(indexURL)' tinylib==1.0", [:]),
            ("python -Impip", "python -Impip install --index-url '\(indexURL)' tinylib==1.0", [:]),
            ("pip.__main__", "python3 -W ignore -m pip.__main__ --disable-pip-version-check install tinylib==1.0", ["PIP_INDEX_URL": indexURL]),
        ], over: before)
        #expect(try Self.lockEntries(harness.file("bouncer.lock"))["pypi:tinylib@1.0"]?["sha256"] as? String == good.sha256)

        let (scripted, evil) = try tamperedIndex(good)
        defer { scripted.stop() }
        try FileManager.default.removeItem(at: harness.file("bouncer.lock"))
        let result = try harness.sh("python3 -m pip install --index-url '\(scripted.baseURL)/simple/' tinylib==1.0")
        #expect(result.status == 1, "\(result.err)")
        #expect(result.err.contains("sha256 is \(evil.sha256), expected \(good.sha256)"), "\(result.err)")
        #expect(result.err.contains("nothing was installed"), "\(result.err)")
        #expect(try installed() == before)
    }

    /// `python3.11 -m pip` and `pip3.11` (a venv has both, Debian's Python
    /// too) had no shim: the real pip installed straight from the index.
    /// `bouncer shims install` now writes shims for the versioned names it
    /// finds on PATH, and `bouncer shims check` reports one without a shim.
    @Test func versionedPythonAndPipNamesGetShimsOfTheirOwn() throws {
        defer { harness.cleanup() }
        let bin = venv.appendingPathComponent("bin")
        let names = try FileManager.default.contentsOfDirectory(atPath: bin.path)
        let python = try #require(names.filter { $0.hasPrefix("python3.") }.sorted().first, "the venv has a versioned python: \(names)")
        let pip = try #require(names.filter { $0.hasPrefix("pip3.") }.sorted().first, "the venv has a versioned pip: \(names)")
        let shimDirectory = harness.root.appendingPathComponent("installed").path
        let install = try harness.sh("\"$BOUNCER_BIN\" shims install '\(shimDirectory)'")
        #expect(install.status == 0, "\(install.err)")
        #expect(install.out.contains(python) && install.out.contains(pip), "\(install.out)")
        let shimmed = "PATH='\(shimDirectory)':\"$PATH\" "

        let good = try buildWheel("tinylib", "1.0", body: "VALUE = 41\n")
        try page("tinylib", [(good.file, good.sha256)])
        let before = try installed()
        try expectEachInstallsTinylib([
            ("\(python) -m pip", shimmed + "\(python) -m pip install --index-url '\(indexURL)' tinylib==1.0", [:]),
            (pip, shimmed + "\(pip) install --index-url '\(indexURL)' tinylib==1.0", [:]),
        ], over: before)
        #expect(try Self.lockEntries(harness.file("bouncer.lock"))["pypi:tinylib@1.0"]?["sha256"] as? String == good.sha256)

        let (scripted, evil) = try tamperedIndex(good)
        defer { scripted.stop() }
        for command in ["\(python) -m pip install", "\(pip) install"] {
            try? FileManager.default.removeItem(at: harness.file("bouncer.lock"))
            let result = try harness.sh(shimmed + "\(command) --index-url '\(scripted.baseURL)/simple/' tinylib==1.0")
            #expect(result.status == 1, "\(command): \(result.err)")
            #expect(result.err.contains("sha256 is \(evil.sha256), expected \(good.sha256)"), "\(command): \(result.err)")
            #expect(try installed() == before, "\(command)")
        }

        // A versioned name on PATH with no shim in front of it: check fails, naming it.
        #expect(try harness.sh(shimmed + "\"$BOUNCER_BIN\" shims check").status == 0)
        try FileManager.default.removeItem(atPath: shimDirectory + "/" + python)
        let check = try harness.sh(shimmed + "\"$BOUNCER_BIN\" shims check")
        #expect(check.status == 1, "\(check.out)")
        #expect(check.out.contains("\(python): UNGUARDED"), "\(check.out)")
        // Installing again writes it back, and drops a versioned shim whose Python is not on PATH.
        try FileManager.default.copyItem(atPath: shimDirectory + "/" + pip, toPath: shimDirectory + "/pip3.99")
        #expect(try harness.sh("\"$BOUNCER_BIN\" shims install '\(shimDirectory)'").status == 0)
        #expect(FileManager.default.fileExists(atPath: shimDirectory + "/" + python))
        #expect(!FileManager.default.fileExists(atPath: shimDirectory + "/pip3.99"))
        let uninstall = try harness.sh("\"$BOUNCER_BIN\" shims uninstall '\(shimDirectory)'")
        #expect(uninstall.status == 0 && uninstall.out.contains(pip), "\(uninstall.out)")
        #expect(!FileManager.default.fileExists(atPath: shimDirectory + "/" + pip))
    }

    /// `bouncer exec` under a policy puts a verifying proxy in its command's
    /// environment: an activated venv's pip (first on PATH, before every
    /// shim) installs through it, the genuine wheel pinned under its real
    /// URL and a tampered one refused (403) with Bouncer's reason said when
    /// the command ends. The pip shim under exec runs its own proxy over the
    /// real index, as without exec (no proxy over the exec's proxy, whose
    /// address would end up in the lock).
    @Test func anActivatedVenvUnderBouncerExecInstallsThroughItsProxy() throws {
        defer { harness.cleanup() }
        let good = try buildWheel("tinylib", "1.0", body: "VALUE = 41\n")
        try page("tinylib", [(good.file, good.sha256)])
        let before = try installed()
        let activated = "\"$BOUNCER_BIN\" exec -- sh -c '. \(venv.path)/bin/activate && command -v pip && pip install --disable-pip-version-check tinylib==1.0'"
        let result = try harness.sh(activated, extra: ["PIP_INDEX_URL": indexURL])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.hasPrefix(venv.path + "/bin/pip\n"), "the venv's own pip ran, no shim: \(result.out)")
        #expect(result.err.contains("bouncer: tinylib 1.0 <- \(server.baseURL)/packages/\(good.file): "), "\(result.err)")
        #expect(try installed() == (before + ["tinylib==1.0"]).sorted())
        let pinned = try Self.lockEntries(harness.file("bouncer.lock"))
        #expect(pinned["pypi:tinylib@1.0"]?["url"] as? String == "\(server.baseURL)/packages/\(good.file)", "\(pinned)")
        try uninstall("tinylib")

        // The pip shim under exec: one pin, under the index's URL.
        try FileManager.default.removeItem(at: harness.file("bouncer.lock"))
        let shimmed = try harness.sh("\"$BOUNCER_BIN\" exec -- pip install tinylib==1.0", extra: ["PIP_INDEX_URL": indexURL])
        #expect(shimmed.status == 0, "\(shimmed.err)")
        let entries = try Self.lockEntries(harness.file("bouncer.lock"))
        #expect(entries.keys.sorted() == ["pypi:tinylib@1.0"], "\(entries.keys)")
        #expect(entries["pypi:tinylib@1.0"]?["url"] as? String == "\(server.baseURL)/packages/\(good.file)", "\(entries)")
        try uninstall("tinylib")

        // Tampered bytes behind the activated venv's pip: refused, nothing installed.
        let (scripted, evil) = try tamperedIndex(good)
        defer { scripted.stop() }
        try FileManager.default.removeItem(at: harness.file("bouncer.lock"))
        let refused = try harness.sh(activated, extra: ["PIP_INDEX_URL": scripted.baseURL + "/simple/"])
        #expect(refused.status != 0, "\(refused.err)")
        #expect(refused.err.contains("bouncer: exec: refused tinylib 1.0"), "\(refused.err)")
        #expect(refused.err.contains("sha256 is \(evil.sha256), expected \(good.sha256)"), "\(refused.err)")
        #expect(try installed() == before)
    }

    /// A terminal's Ctrl-C reaches the foreground process group: `bouncer
    /// exec` and its command. A command that carries on (an interactive
    /// shell does) still has the exec's proxy: it runs in a group of its own.
    @Test func aCtrlCUnderBouncerExecLeavesTheCommandItsProxy() throws {
        defer { harness.cleanup() }
        let good = try buildWheel("tinylib", "1.0", body: "VALUE = 41\n")
        try page("tinylib", [(good.file, good.sha256)])
        // setsid: exec leads a process group of its own, which `kill -INT 0` signals as a terminal would.
        let script = harness.root.appendingPathComponent("interrupted.sh")
        try "trap '' INT\nkill -INT 0\nsleep 1\n. \(venv.path)/bin/activate && pip install --disable-pip-version-check tinylib==1.0\n"
            .write(to: script, atomically: true, encoding: .utf8)
        let result = try harness.sh("setsid \"$BOUNCER_BIN\" exec -- sh \(script.path)", extra: ["PIP_INDEX_URL": indexURL])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.err.contains("bouncer: tinylib 1.0 <- "), "\(result.err)")
        #expect(try installed().contains("tinylib==1.0"))
    }

    /// A wheel whose index digest is right but whose files differ from its own
    /// RECORD (pip installs such a wheel without looking) is refused.
    @Test func wheelWhoseFilesDifferFromItsRecordIsRefused() throws {
        defer { harness.cleanup() }
        let patched = try buildWheel("tinylib", "1.0", body: "import os\nVALUE = 666\n", recordedBody: "VALUE = 41\n")
        try page("tinylib", [(patched.file, patched.sha256)])
        let before = try installed()
        let result = try harness.sh("pip install --index-url '\(indexURL)' tinylib==1.0")
        #expect(result.status == 1, "\(result.err)")
        #expect(result.err.contains("'tinylib/__init__.py' does not match its RECORD sha256 hash"), "\(result.err)")
        #expect(result.err.contains("nothing was installed"), "\(result.err)")
        #expect(try installed() == before)
        // Refused before it was pinned: the lock does not vouch for it, and `check` has nothing to call fine.
        let lock = harness.file("bouncer.lock")
        if FileManager.default.fileExists(atPath: lock.path) {
            #expect(try Self.lockEntries(lock)["pypi:tinylib@1.0"] == nil, "\(String(decoding: (try? Data(contentsOf: lock)) ?? Data(), as: UTF8.self))")
        }
    }

    /// The lock's identity of an artifact is its coordinates and digest: the
    /// same locked bytes from a wheelhouse and then from the index do not
    /// rewrite the entry's source, so CI (the lock frozen) still installs from
    /// the index what a developer first installed from a wheelhouse.
    @Test func sameLockedBytesFromAnotherSourceKeepTheLock() throws {
        defer { harness.cleanup() }
        let wheelhouse = harness.file("wheelhouse")
        try FileManager.default.createDirectory(at: wheelhouse, withIntermediateDirectories: true)
        let lib = try buildWheel("tinylib", "1.0", body: "VALUE = 41\n", into: wheelhouse)
        try "tinylib==1.0 --hash=sha256:\(lib.sha256)\n".write(to: harness.file("requirements.txt"), atomically: true, encoding: .utf8)
        let first = try harness.sh("pip install --no-index --find-links wheelhouse -r requirements.txt")
        #expect(first.status == 0, "\(first.err)")
        let pinned = try Data(contentsOf: harness.file("bouncer.lock"))
        #expect(try Self.lockEntries(harness.file("bouncer.lock"))["pypi:tinylib@1.0"]?["url"] as? String == "file:wheelhouse/\(lib.file)")

        // The same bytes on the index.
        try FileManager.default.copyItem(at: wheelhouse.appendingPathComponent(lib.file), to: index.appendingPathComponent("packages/\(lib.file)"))
        try page("tinylib", [(lib.file, lib.sha256)])
        _ = try harness.sh("pip uninstall -y tinylib")
        let fromIndex = try harness.sh("pip install --index-url '\(indexURL)' -r requirements.txt")
        #expect(fromIndex.status == 0, "\(fromIndex.err)")
        #expect(try Data(contentsOf: harness.file("bouncer.lock")) == pinned, "the lock changed for byte-identical bytes")
        #expect(fromIndex.err.contains("its locked digest was recorded from file:wheelhouse/\(lib.file)"), "\(fromIndex.err)")

        _ = try harness.sh("pip uninstall -y tinylib")
        let frozen = try harness.sh("pip install --index-url '\(indexURL)' -r requirements.txt", extra: ["CI": "true"])
        #expect(frozen.status == 0, "\(frozen.err)")
        #expect(try python("import tinylib; print(tinylib.VALUE)").out == "41\n")
        #expect(try Data(contentsOf: harness.file("bouncer.lock")) == pinned)
    }

    /// An index that lies consistently (new bytes, matching #sha256=) passes pip's
    /// own checks; the policy's pinned digest is what refuses it.
    @Test func consistentlyForgedIndexIsRefusedByThePolicyPin() throws {
        defer { harness.cleanup() }
        let genuine = harness.root.appendingPathComponent("genuine")
        try FileManager.default.createDirectory(at: genuine, withIntermediateDirectories: true)
        let pinned = try buildWheel("tinylib", "1.0", body: "VALUE = 41\n", into: genuine)
        let forged = try buildWheel("tinylib", "1.0", body: "VALUE = 666\n")
        #expect(pinned.sha256 != forged.sha256)
        try page("tinylib", [(forged.file, forged.sha256)])
        try harness.writePolicy(extraRules: [
            #"{ "name": "tinylib pinned", "match": { "ecosystem": "pypi", "package": "tinylib" }, "require": [ { "digest": { "sha256": "\#(pinned.sha256)" } } ] }"#,
        ])
        let before = try installed()
        let result = try harness.sh("pip install --index-url '\(indexURL)' tinylib==1.0")
        #expect(result.status == 1, "\(result.err)")
        #expect(result.err.contains("refused tinylib 1.0"), "\(result.err)")
        #expect(try installed() == before)
    }

    @Test func requirementsFileWithHashesIntoTarget() throws {
        defer { harness.cleanup() }
        let lib = try buildWheel("tinylib", "1.0", body: "VALUE = 41\n")
        try page("tinylib", [(lib.file, nil)])  // no index digest: the requirement's --hash is the evidence
        try "tinylib==1.0 \\\n    --hash=sha256:\(lib.sha256)\n".write(to: harness.file("requirements.txt"), atomically: true, encoding: .utf8)
        let result = try harness.sh("pip install --index-url '\(indexURL)' --target vendored -r requirements.txt")
        #expect(result.status == 0, "\(result.err)")
        #expect(FileManager.default.fileExists(atPath: harness.file("vendored/tinylib/__init__.py").path))
        // No digest anywhere (no --hash, no #sha256= on the page, not in bouncer.lock): pip's report still
        // carries the hash pip computed itself, which is no claim; the policy's digest rule refuses.
        let other = try buildWheel("tinyother", "1.0", body: "VALUE = 1\n")
        try page("tinyother", [(other.file, nil)])
        let bare = try harness.sh("pip install --index-url '\(indexURL)' tinyother==1.0")
        #expect(bare.status == 1, "\(bare.err)")
        #expect(bare.err.contains("refused tinyother 1.0"), "\(bare.err)")
        #expect(!(try installed()).contains("tinyother==1.0"))
        // Bytes different from the --hash are refused by Bouncer itself, before pip could check them.
        let shown = harness.root.appendingPathComponent("shown")
        try FileManager.default.createDirectory(at: shown, withIntermediateDirectories: true)
        let pinned = try buildWheel("tinylib", "1.0", body: "VALUE = 40\n", into: shown)
        #expect(pinned.sha256 != lib.sha256)
        let scripted = try scriptedIndex("tinylib", file: lib.file, pageDigest: nil,
                                         bodies: [try wheelBytes(lib.file)])
        defer { scripted.stop() }
        try "tinylib==1.0 --hash=sha256:\(pinned.sha256)\n".write(to: harness.file("wrong.txt"), atomically: true, encoding: .utf8)
        let wrong = try harness.sh("pip install --index-url '\(scripted.baseURL)/simple/' -r wrong.txt")
        #expect(wrong.status == 1, "\(wrong.err)")
        #expect(wrong.err.contains("bouncer: pip: refused tinylib 1.0"), "\(wrong.err)")
        #expect(wrong.err.contains("sha256 is \(lib.sha256), expected \(pinned.sha256)"), "\(wrong.err)")
        #expect(!wrong.err.contains("could not resolve"), "\(wrong.err)")
        #expect(scripted.requests(to: "/packages/\(lib.file)") == 1)
        #expect(!(try installed()).contains("tinylib==1.0"))
    }

    /// A local wheelhouse (`--no-index --find-links DIR`, the usual offline
    /// set-up): pip reports file:// URLs, which Bouncer reads like downloads.
    /// With the requirement's --hash the wheel is verified, pinned and
    /// installed; without any stated digest the policy's digest rule refuses.
    @Test func localWheelhouseWithHashesInstallsAndWithoutIsRefused() throws {
        defer { harness.cleanup() }
        let wheelhouse = harness.file("wheelhouse")
        try FileManager.default.createDirectory(at: wheelhouse, withIntermediateDirectories: true)
        let lib = try buildWheel("tinylib", "1.0", body: "VALUE = 41\n", into: wheelhouse)
        try "tinylib==1.0 --hash=sha256:\(lib.sha256)\n".write(to: harness.file("requirements.txt"), atomically: true, encoding: .utf8)
        let result = try harness.sh("pip install --no-index --find-links wheelhouse -r requirements.txt")
        #expect(result.status == 0, "\(result.err)")
        #expect(try python("import tinylib; print(tinylib.VALUE)").out == "41\n")
        #expect(result.err.contains("sha256:\(lib.sha256)"), "\(result.err)")
        let entry = try Self.lockEntries(harness.file("bouncer.lock"))["pypi:tinylib@1.0"]
        #expect(entry?["sha256"] as? String == lib.sha256)
        // Recorded relative to the lock, so another checkout of the project records the same.
        #expect(entry?["url"] as? String == "file:wheelhouse/\(lib.file)", "\(String(describing: entry))")

        // The same project checked out elsewhere, in CI (the lock frozen): the same entry, so it installs,
        // and `bouncer check` re-reads the wheel from the new checkout's wheelhouse.
        let checkout = harness.root.appendingPathComponent("second checkout")
        try FileManager.default.createDirectory(at: checkout, withIntermediateDirectories: true)
        for name in ["policy.json", "bouncer.lock", "requirements.txt", "wheelhouse"] {
            try FileManager.default.copyItem(at: harness.file(name), to: checkout.appendingPathComponent(name))
        }
        let lockBefore = try Data(contentsOf: checkout.appendingPathComponent("bouncer.lock"))
        let elsewhere = try harness.sh("pip install --no-index --find-links wheelhouse --target vendored -r requirements.txt",
                                       cwd: checkout, extra: ["CI": "true"])
        #expect(elsewhere.status == 0, "\(elsewhere.err)")
        #expect(FileManager.default.fileExists(atPath: checkout.appendingPathComponent("vendored/tinylib/__init__.py").path))
        #expect(try Data(contentsOf: checkout.appendingPathComponent("bouncer.lock")) == lockBefore,
                "\(String(decoding: lockBefore, as: UTF8.self)) -> \(String(decoding: (try? Data(contentsOf: checkout.appendingPathComponent("bouncer.lock"))) ?? Data(), as: UTF8.self)) \(elsewhere.err)")
        let check = try BouncerProcess.run(["check", "--frozen"], cwd: checkout.path)
        #expect(check.status == 0, "\(check.out)\(check.err)")
        #expect((check.out + check.err).contains("sha256 matches bouncer.lock"), "\(check.out) \(check.err)")

        try buildWheel("tinybare", "1.0", body: "VALUE = 1\n", into: wheelhouse)
        let refused = try harness.sh("pip install --no-index --find-links wheelhouse tinybare==1.0")
        #expect(refused.status == 1, "\(refused.err)")
        #expect(refused.err.contains("refused tinybare 1.0"), "\(refused.err)")
        #expect(!(try installed()).contains("tinybare==1.0"))
    }

    /// The policy's "archive" limits hold for the wheel check: a wheel of four
    /// entries is refused under "maxEntries": 3 and installs under 4.
    /// The shim binds the proxy's socket and starts pip at once; a proxy that
    /// cannot start (here: a --find-links directory that does not exist) stops
    /// pip and says why (exit 2), instead of pip retrying a dead address.
    @Test func aProxyThatCannotStartStopsPipAndSaysWhy() throws {
        defer { harness.cleanup() }
        let result = try harness.sh("pip install --find-links no-such-wheelhouse tinylib==1.0")
        #expect(result.status == 2, "\(result.err)")
        #expect(result.err.contains("the verifying proxy stopped"), "\(result.err)")
        #expect(result.err.contains("no-such-wheelhouse"), "\(result.err)")
        #expect(!FileManager.default.fileExists(atPath: harness.file("bouncer.lock").path))
    }

    @Test func policyArchiveLimitsApplyToWheels() throws {
        defer { harness.cleanup() }
        let lib = try buildWheel("tinylib", "1.0", body: "VALUE = 41\n")
        try page("tinylib", [(lib.file, lib.sha256)])
        try harness.writePolicy(archive: #"{"maxEntries": 3}"#)
        let before = try installed()
        let result = try harness.sh("pip install --index-url '\(indexURL)' tinylib==1.0")
        #expect(result.status == 1, "\(result.err)")
        #expect(result.err.contains("refused tinylib 1.0"), "\(result.err)")
        #expect(result.err.contains("the archive has more than 3 entries"), "\(result.err)")
        #expect(try installed() == before)

        try harness.writePolicy(archive: #"{"maxEntries": 4}"#)
        let passed = try harness.sh("pip install --index-url '\(indexURL)' tinylib==1.0")
        #expect(passed.status == 0, "\(passed.err)")
        #expect(try installed().contains("tinylib==1.0"))
    }

    @Test func harmlessSubcommandsPassThrough() throws {
        defer { harness.cleanup() }
        let result = try harness.sh("pip list --format=freeze --disable-pip-version-check")
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.split(separator: "\n").map(String.init).sorted() == (try installed()))
    }

    /// A requirement may list several --hash values (pip-compile writes one per
    /// wheel and sdist); pip accepts the file if any one matches, and so must Bouncer.
    @Test func requirementWithSeveralHashesInstallsTheFileThatMatchesOne() throws {
        defer { harness.cleanup() }
        let lib = try buildWheel("tinylib", "1.0", body: "VALUE = 41\n")
        try page("tinylib", [(lib.file, nil)])
        let sdist = try ShimHarness.sha256(Array("tinylib-1.0.tar.gz stands for another file of the release".utf8))
        try "tinylib==1.0 \\\n    --hash=sha256:\(sdist) \\\n    --hash=sha256:\(lib.sha256)\n"
            .write(to: harness.file("requirements.txt"), atomically: true, encoding: .utf8)
        let result = try harness.sh("pip install --index-url '\(indexURL)' -r requirements.txt")
        #expect(result.status == 0, "\(result.err)")
        #expect(result.err.contains("bouncer: \(lib.file) <- \(server.baseURL)/packages/\(lib.file): "), "\(result.err)")
        #expect(result.err.contains("sha256:\(lib.sha256)"), "\(result.err)")
        #expect(try installed().contains("tinylib==1.0"))
        // Neither listed hash matches the bytes the upstream now serves: refused by the proxy.
        // (Uninstalled, and the lock set aside, so that only the requirement's hashes can refuse.)
        try uninstall("tinylib")
        try FileManager.default.removeItem(at: harness.file("bouncer.lock"))
        let other = harness.root.appendingPathComponent("other")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        let swapped = try buildWheel("tinylib", "1.0", body: "VALUE = 666\n", into: other)
        let scripted = try scriptedIndex("tinylib", file: lib.file, pageDigest: nil,
                                         bodies: [try wheelBytes(swapped.file, in: other)])
        defer { scripted.stop() }
        let refused = try harness.sh("pip install --index-url '\(scripted.baseURL)/simple/' -r requirements.txt")
        #expect(refused.status == 1, "\(refused.err)")
        #expect(refused.err.contains("bouncer: pip: refused tinylib 1.0") && refused.err.contains("sha256 is \(swapped.sha256)"), "\(refused.err)")
        #expect(!(try installed()).contains("tinylib==1.0"))
    }

    /// `pip3 install --user` through the pip3 shim, in a venv that sees the
    /// system site-packages (pip refuses --user in an isolated venv): the
    /// package lands under PYTHONUSERBASE and nowhere else.
    @Test func userInstallThroughThePip3ShimLandsUnderTheUserBase() throws {
        defer { harness.cleanup() }
        let lib = try buildWheel("tinylib", "1.0", body: "VALUE = 41\n")
        try page("tinylib", [(lib.file, lib.sha256)])
        let shared = harness.root.appendingPathComponent("venv-shared")
        try PythonVenv.make(at: shared, systemSitePackages: true)
        let userBase = harness.root.appendingPathComponent("userbase")
        var user = harness
        user.extraPath = [shared.appendingPathComponent("bin").path]
        user.overrides["PYTHONUSERBASE"] = userBase.path
        let sharedPython = shared.appendingPathComponent("bin/python").path
        let environment = ["PYTHONUSERBASE": userBase.path, "HOME": harness.root.path]
        // Where Python itself says the user site and the venv's own site-packages are.
        let paths = try BouncerProcess.runProgram(sharedPython, ["-c", "import site, sysconfig; print(site.getusersitepackages()); print(sysconfig.get_paths()['purelib'])"],
                                                  environment: environment)
        let lines = paths.out.split(separator: "\n").map(String.init)
        guard lines.count == 2, lines[0].hasPrefix(userBase.path + "/") else { throw SetupError("unexpected site paths: \(paths.out) \(paths.err)") }
        let (userSite, venvSite) = (lines[0], lines[1])
        let venvSiteBefore = try FileManager.default.contentsOfDirectory(atPath: venvSite).sorted()

        let result = try user.sh("pip3 install --user --index-url '\(indexURL)' tinylib==1.0")
        #expect(result.status == 0, "\(result.err)")
        #expect(result.err.contains("bouncer: \(lib.file) <- \(server.baseURL)/packages/\(lib.file): "), "the pip3 shim ran Bouncer: \(result.err)")
        #expect(result.err.contains("sha256:\(lib.sha256)"), "\(result.err)")
        #expect(FileManager.default.fileExists(atPath: userSite + "/tinylib/__init__.py"))
        #expect(FileManager.default.fileExists(atPath: userSite + "/tinylib-1.0.dist-info/METADATA"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: venvSite).sorted() == venvSiteBefore)
        #expect(!FileManager.default.fileExists(atPath: harness.root.appendingPathComponent(".local").path))
        #expect(try user.projectFiles() == [])
        let imported = try BouncerProcess.runProgram(sharedPython, ["-c", "import tinylib; print(tinylib.__file__); print(tinylib.VALUE)"],
                                                     cwd: harness.root.path, environment: environment)
        #expect(imported.out == "\(userSite)/tinylib/__init__.py\n41\n", "\(imported.err)")
    }

    /// --extra-index-url: a package found only on the second loopback index is
    /// fetched from there and verified; once locked, a forged copy on that
    /// index (consistent with its own page) is refused by the lock.
    @Test func extraIndexPackageIsVerifiedAndAForgedCopyThereIsRefusedByTheLock() throws {
        defer { harness.cleanup() }
        let (extraRoot, extra) = try secondIndex("extra-index")
        defer { extra.stop() }
        let lib = try buildWheel("tinylib", "1.0", body: "VALUE = 41\n", into: extraRoot.appendingPathComponent("packages"))
        try page("tinylib", [(lib.file, lib.sha256)], in: extraRoot)
        let app = try buildWheel("tinyapp", "2.0", body: "from tinylib import VALUE\nANSWER = VALUE + 1\n", requires: ["tinylib>=1.0"])
        try page("tinyapp", [(app.file, app.sha256)])
        let before = try installed()
        let command = "pip install --index-url '\(indexURL)' --extra-index-url '\(extra.baseURL)/simple/' tinyapp==2.0"
        let result = try harness.sh(command)
        #expect(result.status == 0, "\(result.err)")
        #expect(result.err.contains("bouncer: \(lib.file) <- \(extra.baseURL)/packages/\(lib.file): "), "\(result.err)")
        #expect(result.err.contains("sha256:\(lib.sha256)"), "\(result.err)")
        #expect(try installed() == (before + ["tinyapp==2.0", "tinylib==1.0"]).sorted())
        #expect(try python("import tinyapp; print(tinyapp.ANSWER)").out == "42\n")
        #expect(!server.requests.contains { $0.hasSuffix("/packages/\(lib.file)") }, "the main index has no tinylib")
        let locked = try Self.lockEntries(harness.file("bouncer.lock"))["pypi:tinylib@1.0"]
        #expect(locked?["url"] as? String == "\(extra.baseURL)/packages/\(lib.file)")
        #expect(locked?["sha256"] as? String == lib.sha256)

        // The extra index now serves another tinylib 1.0, its page agreeing with the new bytes.
        try uninstall("tinyapp", "tinylib")
        let forged = try buildWheel("tinylib", "1.0", body: "VALUE = 666\n", into: extraRoot.appendingPathComponent("packages"))
        #expect(forged.sha256 != lib.sha256)
        try page("tinylib", [(forged.file, forged.sha256)], in: extraRoot)
        let again = try harness.sh(command)
        #expect(again.status == 1, "\(again.err)")
        #expect(again.err.contains("bouncer: pip: refused tinylib 1.0"), "\(again.err)")
        #expect(again.err.contains("pins sha256 \(lib.sha256)") && again.err.contains("now have sha256 \(forged.sha256)"), "\(again.err)")
        #expect(try installed() == before)
        #expect(try Self.lockEntries(harness.file("bouncer.lock"))["pypi:tinylib@1.0"]?["sha256"] as? String == lib.sha256)
    }

    /// Dependency confusion through --extra-index-url: a higher version of a
    /// pinned package on the extra index is what pip picks, and the policy's
    /// pin refuses it.
    @Test func extraIndexHigherForgedVersionIsRefusedByThePolicyPin() throws {
        defer { harness.cleanup() }
        let (extra, genuine, forged) = try genuineHereAndForgedOnASecondIndex("9.0")
        defer { extra.stop() }
        try harness.writePolicy(extraRules: [
            #"{ "name": "tinylib pinned", "match": { "ecosystem": "pypi", "package": "tinylib" }, "require": [ { "digest": { "sha256": "\#(genuine.sha256)" } } ] }"#,
        ])
        let before = try installed()
        let result = try harness.sh("pip install --index-url '\(indexURL)' --extra-index-url '\(extra.baseURL)/simple/' tinylib")
        #expect(result.status == 1, "\(result.err)")
        #expect(result.err.contains("bouncer: pip: refused tinylib 9.0 (\(extra.baseURL)/packages/\(forged.file))"), "\(result.err)")
        #expect(result.err.contains("expected \(genuine.sha256)"), "\(result.err)")
        #expect(try installed() == before)
        // Control: pinned to the version on the main index, the same command line installs the genuine wheel.
        let pinned = try harness.sh("pip install --index-url '\(indexURL)' --extra-index-url '\(extra.baseURL)/simple/' tinylib==1.0")
        #expect(pinned.status == 0, "\(pinned.err)")
        #expect(try installed() == (before + ["tinylib==1.0"]).sorted())
    }

    /// The repository's own policy trusts only the index pip is configured
    /// with as its primary one (`"index": "primary"`, no host name written
    /// down): a fake, higher version on an `--extra-index-url` (plain http
    /// too) matches no rule, so the proxy never offers it: `tinylib` resolves
    /// to the primary index's 1.0, and `tinylib==99.0` finds nothing and says why.
    @Test func theShippedPolicyTrustsOnlyPipsPrimaryIndex() throws {
        defer { harness.cleanup() }
        let (extra, _, fake) = try genuineHereAndForgedOnASecondIndex("99.0")
        defer { extra.stop() }
        let scratch = harness.root.appendingPathComponent("shipped")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        // The shipped policy as it is, but for its release age: this loopback index serves
        // HTML pages without PEP 700 upload times (StolenTokenFreshReleaseTests covers that).
        let shipped = try String(contentsOf: Corpus.packageRoot.appendingPathComponent("policy.json"), encoding: .utf8)
        #expect(shipped.contains(#""minimumReleaseAge": "48h""#))
        try shipped.replacingOccurrences(of: #""minimumReleaseAge": "48h""#, with: #""minimumReleaseAge": "0""#)
            .write(to: scratch.appendingPathComponent("policy.json"), atomically: true, encoding: .utf8)
        let policy = ["BOUNCER_POLICY": scratch.appendingPathComponent("policy.json").path]
        let before = try installed()

        let exact = try harness.sh("pip install --index-url '\(indexURL)' --extra-index-url '\(extra.baseURL)/simple/' tinylib==99.0", extra: policy)
        #expect(exact.status == 1, "\(exact.err)")
        #expect(exact.err.contains("not offered: \(fake.file) from the index \(extra.baseURL)/simple/: no rule in"), "\(exact.err)")
        #expect(try installed() == before)
        #expect(!extra.requests.contains { $0.contains("/packages/") }, "the fake wheel was fetched: \(extra.requests)")

        let confused = try harness.sh("pip install --index-url '\(indexURL)' --extra-index-url '\(extra.baseURL)/simple/' tinylib", extra: policy)
        #expect(confused.status == 0, "\(confused.err)")
        #expect(try installed() == (before + ["tinylib==1.0"]).sorted())
        #expect(!((try? String(contentsOf: scratch.appendingPathComponent("bouncer.lock"), encoding: .utf8)) ?? "").contains("99.0"))

        // The lock records the index each package came from, so `bouncer check` matches the
        // shipped rule's "index": "primary" as the install did (it found no rule before).
        let lock = try Self.lockEntries(scratch.appendingPathComponent("bouncer.lock"))
        let recorded = lock["pypi:tinylib@1.0"]?["index"] as? [String: Any]
        #expect(recorded?["primary"] as? Bool == true && recorded?["url"] as? String == indexURL, "\(String(describing: recorded))")
        let check = try BouncerProcess.run(["check", "--policy", scratch.appendingPathComponent("policy.json").path], cwd: scratch.path)
        #expect(check.status == 0, "\(check.out)\n\(check.err)")
        // An entry that says it came from another index matches no rule of the shipped policy.
        let lockURL = scratch.appendingPathComponent("bouncer.lock")
        let text = try String(contentsOf: lockURL, encoding: .utf8)
        try text.replacingOccurrences(of: "\"primary\": true", with: "\"primary\": false").write(to: lockURL, atomically: true, encoding: .utf8)
        let moved = try BouncerProcess.run(["check", "--policy", scratch.appendingPathComponent("policy.json").path], cwd: scratch.path)
        #expect(moved.status != 0 && (moved.out + moved.err).contains("no rule"), "\(moved.out)\n\(moved.err)")
    }

    /// pip obeys the index options inside a requirement file over its command
    /// line and environment, and reads every option of a line (optparse: any
    /// unambiguous prefix of a long option). A file that says `--pre --index-ur
    /// URL` and includes another with `--extra-index-url` once sent pip straight
    /// to both indexes, past the proxy. Now the shim hands them to its proxy as
    /// pip would have used them (the file's `-i` is pip's primary index, its
    /// extra index an extra one) and gives pip copies of the files without
    /// them: pip itself contacts neither index, the package is pinned with the
    /// index it came from, and the extra index's higher fake, which no rule
    /// trusts, is not offered.
    @Test func indexOptionsInsideRequirementFilesGoThroughTheProxy() throws {
        defer { harness.cleanup() }
        let (extra, _, fake) = try genuineHereAndForgedOnASecondIndex("99.0")
        defer { extra.stop() }
        try """
            { "version": 1, "mode": "enforce", "unmatched": "deny", "lockfile": "bouncer.lock",
              "rules": [ { "name": "primary", "match": { "ecosystem": "pypi", "index": "primary" }, "require": [ { "digest": {} } ] } ] }
            """.write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: harness.file("requirements"), withIntermediateDirectories: true)
        try "# where to look\n--pre --index-ur \(indexURL)\n-r more.txt\n".write(to: harness.file("requirements.txt"), atomically: true, encoding: .utf8)
        try "--extra-index-url=\(extra.baseURL)/simple/ \\\n  --prefer-binary\ntinylib\n".write(to: harness.file("more.txt"), atomically: true, encoding: .utf8)
        let before = try installed()

        let result = try harness.sh("pip install -r requirements.txt")
        #expect(result.status == 0, "\(result.err)")
        #expect(try installed() == (before + ["tinylib==1.0"]).sorted())
        // Every request either index saw came from the proxy, none from pip.
        #expect(!server.requests.isEmpty && !extra.requests.isEmpty)
        #expect(!(server.userAgents + extra.userAgents).contains { $0?.hasPrefix("pip/") == true },
                "pip went past the proxy: \(server.userAgents) \(extra.userAgents)")
        #expect(!extra.requests.contains { $0.contains("/packages/") }, "the fake wheel was fetched: \(extra.requests)")
        let entry = try Self.lockEntries(harness.file("bouncer.lock"))["pypi:tinylib@1.0"]
        let index = entry?["index"] as? [String: Any]
        #expect(index?["primary"] as? Bool == true && index?["url"] as? String == indexURL, "\(String(describing: entry))")
        // The user's files are as they were.
        #expect(try String(contentsOf: harness.file("requirements.txt"), encoding: .utf8).contains("--index-ur"))

        // Asked for exactly, the fake is refused for the index it is on.
        let exact = try harness.sh("pip install -r requirements.txt tinylib==99.0")
        #expect(exact.status == 1, "\(exact.err)")
        #expect(exact.err.contains("not offered: \(fake.file) from the index \(extra.baseURL)/simple/"), "\(exact.err)")
        #expect(!(server.userAgents + extra.userAgents).contains { $0?.hasPrefix("pip/") == true })

        // pip also takes an index from PIP_PYPI_URL (an old name of --index-url), which once
        // outranked the proxy's PIP_INDEX_URL: the proxy reads from it, pip only from the proxy.
        try uninstall("tinylib")
        let renamed = try harness.sh("PIP_PYPI_URL='\(indexURL)' pip install tinylib", extra: ["BOUNCER_CACHE": harness.root.appendingPathComponent("cache2").path])
        #expect(renamed.status == 0, "\(renamed.err)")
        #expect(try installed() == (before + ["tinylib==1.0"]).sorted())
        #expect(!(server.userAgents + extra.userAgents).contains { $0?.hasPrefix("pip/") == true }, "pip went past the proxy: \(server.userAgents)")
    }

    /// Behind an HTTP proxy. With `HTTP_PROXY` set and no `no_proxy` for
    /// 127.0.0.1 (as many company shells have it), pip sent even its requests
    /// for the shim's loopback proxy through that proxy, which cannot reach
    /// this machine's loopback: every install failed, and whatever answered in
    /// the proxy's place would have reached pip unverified. pip's `--proxy`
    /// did the same, whatever `no_proxy` said. Now pip reaches the shim's
    /// proxy directly, and the shim's proxy fetches from upstream through the
    /// proxy pip was given.
    @Test func behindAnHTTPProxyPipReachesTheVerifyingProxyDirectly() throws {
        defer { harness.cleanup() }
        let lib = try buildWheel("tinylib", "1.0", body: "VALUE = 41\n")
        try page("tinylib", [(lib.file, lib.sha256)])
        let closedPort = try { () throws -> UInt16 in let s = try MisbehavingServer(); let p = s.port; s.stop(); return p }()
        let before = try installed()
        // requests (pip) reads HTTP_PROXY; libcurl (the shim's proxy) reads only the lower-case name for http.
        let shell = try harness.sh("pip install --retries 0 --index-url '\(indexURL)' tinylib==1.0",
                                   extra: ["HTTP_PROXY": "http://127.0.0.1:\(closedPort)", "NO_PROXY": "", "no_proxy": ""])
        #expect(shell.status == 0, "\(shell.err)")
        #expect(try installed() == (before + ["tinylib==1.0"]).sorted())

        try uninstall("tinylib")
        let relay = try ForwardProxy(directory: harness.root)
        defer { relay.stop() }
        let given = try harness.sh("pip --proxy \(relay.url) install --retries 0 --index-url '\(indexURL)' tinylib==1.0",
                                   extra: ["BOUNCER_CACHE": harness.root.appendingPathComponent("cache2").path])
        #expect(given.status == 0, "\(given.err)")
        #expect(try installed() == (before + ["tinylib==1.0"]).sorted())
        let relayed = relay.requests
        #expect(relayed.contains { $0.url == indexURL + "tinylib/" } && relayed.contains { $0.url.hasSuffix("/packages/\(lib.file)") },
                "the proxy's upstream requests did not go through pip's proxy: \(relayed)")
        #expect(!relayed.contains { $0.userAgent.hasPrefix("pip/") }, "pip's own requests went through the HTTP proxy: \(relayed)")
    }

    /// A private index behind the company's own CA, which pip is told to
    /// trust (`--cert FILE`, or `cert =` in pip.conf): pip alone installs from
    /// it; through the shim the proxy refused the index's certificate and pip
    /// found nothing. Now the proxy trusts what pip was told to trust, and
    /// without it (the CA nowhere) the shim says the upstream could not be read.
    @Test func aPrivateIndexBehindItsOwnCAIsReadWithTheCertificatePipTrusts() throws {
        defer { harness.cleanup() }
        let tls = try LoopbackTLSServer()
        defer { tls.stop() }
        let index = try tinylibIndex(on: tls)
        let before = try installed()
        let untrusted = try harness.sh("pip install --retries 0 --index-url '\(index)' tinylib==1.0")
        #expect(untrusted.status != 0, "\(untrusted.err)")
        #expect(untrusted.err.contains("could not read pypi:tinylib upstream"), "\(untrusted.err)")
        try expectEachInstallsTinylib([
            ("--cert", "pip --cert '\(tls.certificate)' install --retries 0 --index-url '\(index)' tinylib==1.0", [:]),
            ("PIP_CERT", "pip install --retries 0 --index-url '\(index)' tinylib==1.0", ["PIP_CERT": tls.certificate]),
        ], over: before)
    }

    /// An index that admits clients by certificate (mutual TLS): the client
    /// certificate pip is told to present (`--client-cert`, `PIP_CLIENT_CERT`)
    /// is the proxy's for its upstream requests. Without one, the index turns
    /// the proxy away and the shim says so.
    @Test func anIndexThatAdmitsClientsByCertificateGetsPipsClientCertificate() throws {
        defer { harness.cleanup() }
        let tls = try LoopbackTLSServer(requiringClientCertificates: true)
        defer { tls.stop() }
        let index = try tinylibIndex(on: tls)
        let before = try installed()
        let turnedAway = try harness.sh("pip --cert '\(tls.certificate)' install --retries 0 --index-url '\(index)' tinylib==1.0")
        #expect(turnedAway.status != 0, "\(turnedAway.err)")
        #expect(turnedAway.err.contains("could not read pypi:tinylib upstream"), "\(turnedAway.err)")
        #expect(try installed() == before)
        try expectEachInstallsTinylib([
            ("--client-cert", "pip install --cert '\(tls.certificate)' --client-cert '\(tls.clientBundle)' --retries 0 --index-url '\(index)' tinylib==1.0", [:]),
            ("PIP_CLIENT_CERT", "pip --cert '\(tls.certificate)' install --retries 0 --index-url '\(index)' tinylib==1.0", ["PIP_CLIENT_CERT": tls.clientBundle]),
        ], over: before)
    }

    /// `tinylib==1.0` (a wheel) on a simple index served by `tls` under `/tree/`; returns the index URL.
    func tinylibIndex(on tls: LoopbackTLSServer) throws -> String {
        try FileManager.default.createDirectory(at: tls.tree.appendingPathComponent("packages"), withIntermediateDirectories: true)
        let lib = try buildWheel("tinylib", "1.0", body: "VALUE = 41\n", into: tls.tree.appendingPathComponent("packages"))
        try page("tinylib", [(lib.file, lib.sha256)], in: tls.tree)
        return tls.url("/tree/simple/")
    }

    /// Each shell command (with its extra variables, a store of its own) installs tinylib, which is then uninstalled.
    func expectEachInstallsTinylib(_ runs: [(label: String, command: String, extra: [String: String])], over before: [String]) throws {
        for (label, command, extra) in runs {
            let result = try harness.sh(command, extra: extra.merging(["BOUNCER_CACHE": harness.root.appendingPathComponent("cache-\(label)").path]) { $1 })
            #expect(result.status == 0, "\(label): \(result.err)")
            #expect(try installed() == (before + ["tinylib==1.0"]).sorted(), "\(label)")
            try uninstall("tinylib")
        }
    }

    /// The main job, as scripts/quickstart.sh runs it: a real, small, pinned
    /// package from PyPI (found through pip's own configuration) under a copy
    /// of the repository's own policy.json given as BOUNCER_POLICY.
    @Test func realPinnedPackageFromPyPI() throws {
        defer { harness.cleanup() }
        let scratch = harness.root.appendingPathComponent("scratch")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let repositoryPolicy = Corpus.packageRoot.appendingPathComponent("policy.json")
        try FileManager.default.copyItem(at: repositoryPolicy, to: scratch.appendingPathComponent("policy.json"))
        let policy = try JSONSerialization.jsonObject(with: Data(contentsOf: repositoryPolicy)) as? [String: Any]
        let pypiRule = (policy?["rules"] as? [[String: Any]] ?? [])
            .first { ($0["match"] as? [String: Any])?["ecosystem"] as? String == "pypi" }?["name"] as? String
        #expect(pypiRule != nil, "the repository's policy.json has a rule for the pypi ecosystem")
        // The digest PyPI publishes for this file (files there never change once uploaded).
        let published = "8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254"
        let wheel = "six-1.16.0-py2.py3-none-any.whl"

        let result = try harness.sh("pip install --disable-pip-version-check six==1.16.0",
                                    extra: ["BOUNCER_POLICY": scratch.appendingPathComponent("policy.json").path])
        #expect(result.status == 0, "\(result.err)")
        #expect(try installed().contains("six==1.16.0"))
        #expect(try python("import six; print(six.__version__)").out == "1.16.0\n")
        // What was proven, as the quick start prints it.
        let proven = result.err.split(separator: "\n").first { $0.hasPrefix("bouncer: \(wheel) <- https://") }.map(String.init) ?? ""
        #expect(proven.contains("/\(wheel): "), "\(result.err)")
        #expect(proven.contains("sha256:\(published)"), "\(result.err)")
        #expect(proven.contains("sha256 matches the stated digest"), "\(result.err)")
        // The lock beside the policy copy, not in the project (whose own policy.json was not used).
        #expect(!harness.exists("bouncer.lock"))
        let entry = try Self.lockEntries(scratch.appendingPathComponent("bouncer.lock"))["pypi:six@1.16.0"]
        #expect(entry?["sha256"] as? String == published)
        #expect(entry?["rule"] as? String == pypiRule)
        #expect((entry?["url"] as? String)?.hasSuffix("/\(wheel)") == true)
        #expect((entry?["evidence"] as? [[String: Any]])?.first?["source"] as? String == "sha256:\(published)")
    }
}
