import Foundation
import Testing
import BouncerTestSupport

/// The real pip behind the shim: a loopback PEP 503 simple index with wheels
/// built at test time, a fresh venv per test, and one real install from PyPI.
@Suite(.serialized) struct PipShimTests {
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
        let made = try BouncerProcess.runProgram("/usr/bin/env", ["python3", "-m", "venv", venv.path])
        guard made.status == 0 else { throw SetupError("python3 -m venv failed: \(made.err)") }
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

    /// The project page: one link per file, with a #sha256= fragment when given.
    func page(_ name: String, _ files: [(String, String?)]) throws {
        let dir = index.appendingPathComponent("simple/\(name)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let links = files.map { file, hash in
            "<a href=\"../../packages/\(file)\(hash.map { "#sha256=" + $0 } ?? "")\">\(file)</a><br/>"
        }.joined(separator: "\n")
        try "<!DOCTYPE html><html><body>\n\(links)\n</body></html>\n".write(to: dir.appendingPathComponent("index.html"), atomically: true, encoding: .utf8)
    }

    /// What is installed, asked of the venv's real pip directly (not through the shim).
    func installed() throws -> [String] {
        let list = try BouncerProcess.runProgram(venv.appendingPathComponent("bin/pip").path, ["list", "--format=freeze", "--disable-pip-version-check"])
        return list.out.split(separator: "\n").map(String.init).sorted()
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

    @Test func tamperedWheelIsRefusedAndNothingInstalled() throws {
        defer { harness.cleanup() }
        let good = try buildWheel("tinylib", "1.0", body: "VALUE = 41\n")
        // The index still states the genuine digest; the served file is different.
        let elsewhere = harness.root.appendingPathComponent("evil")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        try buildWheel("tinylib", "1.0", body: "import os\nVALUE = 666\n", into: elsewhere)
        try FileManager.default.removeItem(at: index.appendingPathComponent("packages/\(good.file)"))
        try FileManager.default.copyItem(at: elsewhere.appendingPathComponent(good.file), to: index.appendingPathComponent("packages/\(good.file)"))
        try page("tinylib", [(good.file, good.sha256)])
        let before = try installed()
        let result = try harness.sh("pip install --index-url '\(indexURL)' tinylib==1.0")
        #expect(result.status != 0)
        #expect(result.err.contains("nothing was installed"), "\(result.err)")
        #expect(try installed() == before)
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
        // A later digest different from the --hash is refused (pip's own check and Bouncer's agree).
        try "tinylib==1.0 --hash=sha256:\(String(repeating: "0", count: 64))\n".write(to: harness.file("wrong.txt"), atomically: true, encoding: .utf8)
        let wrong = try harness.sh("pip install --index-url '\(indexURL)' -r wrong.txt")
        #expect(wrong.status != 0)
        #expect(!(try installed()).contains("tinylib==1.0"))
    }

    /// The policy's "archive" limits hold for the wheel check: a wheel of four
    /// entries is refused under "maxEntries": 3 and installs under 4.
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

    /// A real, small, pinned package from PyPI, found through pip's own configuration.
    @Test func realPinnedPackageFromPyPI() throws {
        defer { harness.cleanup() }
        let result = try harness.sh("pip install --disable-pip-version-check six==1.16.0")
        #expect(result.status == 0, "\(result.err)")
        #expect(try installed().contains("six==1.16.0"))
        #expect(try python("import six; print(six.__version__)").out == "1.16.0\n")
        #expect(result.err.contains("six-1.16.0-py2.py3-none-any.whl"), "\(result.err)")
    }
}
