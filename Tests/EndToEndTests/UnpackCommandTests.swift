import Foundation
import Testing
import BouncerTestSupport

/// `bouncer unpack` as a person runs it: exit codes, messages naming the
/// entry, and a decompression bomb stopped early with bounded memory.
@Suite(.blocking) struct UnpackCommandTests {
    /// ~10 MB of gzip (concatenated members of 1 MiB of zeros each) holding a
    /// tar whose single entry expands to 10 GiB.
    static let bombScript = #"""
import gzip, sys, tarfile
out = sys.argv[1]
size = 10 << 30
info = tarfile.TarInfo("zeros.bin"); info.size = size; info.mtime = 0
def member(data): return gzip.compress(data, compresslevel=9, mtime=0)
chunk = member(b"\0" * (1 << 20))
with open(out, "wb") as f:
    f.write(member(info.tobuf(tarfile.PAX_FORMAT)))
    for _ in range(size >> 20): f.write(chunk)
    f.write(member(b"\0" * 1024))
"""#

    static let smallScript = #"""
import io, sys, tarfile
def add(t, name, data=b"", kind=tarfile.REGTYPE, link=""):
    info = tarfile.TarInfo(name); info.type = kind; info.linkname = link; info.size = len(data)
    t.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
with tarfile.open(sys.argv[1] + "/good.tgz", "w:gz") as t:
    add(t, "package/package.json", b'{"name":"x","version":"1.0.0"}')
    add(t, "package/index.js", b"module.exports = 1\n")
with tarfile.open(sys.argv[1] + "/evil.tgz", "w:gz") as t:
    add(t, "package/index.js", b"ok")
    add(t, "package/lib", kind=tarfile.SYMTYPE, link="../../../../etc")
"""#

    /// many.tgz: five files; case.tgz: README and readme.
    static let limitsScript = #"""
import io, sys, tarfile
def add(t, name, data):
    info = tarfile.TarInfo(name); info.size = len(data); t.addfile(info, io.BytesIO(data))
with tarfile.open(sys.argv[1] + "/many.tgz", "w:gz") as t:
    for i in range(5): add(t, "pkg/f%d.txt" % i, b"%d\n" % i)
with tarfile.open(sys.argv[1] + "/case.tgz", "w:gz") as t:
    add(t, "README", b"1"); add(t, "readme", b"2")
"""#

    static func python(_ script: String, _ arguments: [String]) throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bouncer-e2e-\(UUID().uuidString).py")
        try script.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try BouncerProcess.runProgram("/usr/bin/env", ["python3", file.path] + arguments)
        #expect(result.status == 0, "\(result.err)")
    }

    /// Runs `bouncer ARGS` under GNU time: the result and the peak resident set size in KiB.
    static func runMeasured(_ arguments: [String], cwd: String? = nil) throws -> (result: ProcessResult, peakKiB: Int) {
        let time = "/usr/bin/time"
        try #require(FileManager.default.isExecutableFile(atPath: time), "GNU time (\(time)) is needed to measure peak memory")
        let marker = "bouncer-peak-rss-kib="
        let result = try BouncerProcess.runProgram(time, ["-f", marker + "%M", BouncerProcess.executable] + arguments, cwd: cwd)
        let line = try #require(result.err.split(separator: "\n").last(where: { $0.hasPrefix(marker) }), "no GNU time report in: \(result.err)")
        let peak = try #require(Int(line.dropFirst(marker.count)), "unreadable GNU time report: \(line)")
        return (result, peak)
    }

    /// The "stopped after N unpacked bytes" count from a limit refusal.
    static func unpackedBytes(in message: String) -> UInt64? {
        guard let range = message.range(of: "stopped after ") else { return nil }
        return UInt64(message[range.upperBound...].prefix(while: { $0.isNumber }))
    }

    @Test func gzipBombIsStoppedEarlyWithBoundedMemory() throws {
        let work = try BouncerProcess.temporaryDirectory("bouncer-bomb")
        defer { try? FileManager.default.removeItem(at: work) }
        let bomb = work.appendingPathComponent("bomb.tar.gz").path
        try Self.python(Self.bombScript, [bomb])
        let size = (try FileManager.default.attributesOfItem(atPath: bomb)[.size] as? Int) ?? 0
        #expect(size > 9_000_000 && size < 12_000_000)

        // Peak memory of the bouncer process itself, as the kernel reports it to GNU time.
        let out = work.appendingPathComponent("out").path
        let (result, peak) = try Self.runMeasured(["unpack", bomb, "-C", out], cwd: work.path)
        #expect(result.status == 1, "\(result.err)")
        #expect(result.err.contains("'zeros.bin'"))
        #expect(result.err.contains("--max-ratio"))
        #expect(peak < 128 * 1024, "bouncer peaked at \(peak) KiB unpacking a 10 GiB bomb")
        // Stopped just past the 8 MiB the ratio is not judged in, not 10 GiB later.
        let unpacked = try #require(Self.unpackedBytes(in: result.err), "\(result.err)")
        #expect(unpacked > 8 << 20 && unpacked < 16 << 20, "stopped after \(unpacked) bytes")

        // With the ratio check out of the way, the size cap stops it instead, just past the cap.
        let (capped, cappedPeak) = try Self.runMeasured(["unpack", bomb, "-C", out, "--max-ratio", "1000000", "--max-size", "32M"], cwd: work.path)
        #expect(capped.status == 1, "\(capped.err)")
        #expect(capped.err.contains("'zeros.bin'") && capped.err.contains("--max-size"))
        #expect(cappedPeak < 128 * 1024, "bouncer peaked at \(cappedPeak) KiB")
        let cappedBytes = try #require(Self.unpackedBytes(in: capped.err), "\(capped.err)")
        #expect(cappedBytes > 32 << 20 && cappedBytes < 33 << 20, "stopped after \(cappedBytes) bytes")
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.path) == ["bomb.tar.gz"])
    }

    @Test func exitCodesAndMessages() throws {
        let work = try BouncerProcess.temporaryDirectory("bouncer-unpack-cli")
        defer { try? FileManager.default.removeItem(at: work) }
        try Self.python(Self.smallScript, [work.path])
        let good = work.appendingPathComponent("good.tgz").path
        let evil = work.appendingPathComponent("evil.tgz").path

        let ok = try BouncerProcess.run(["unpack", good, "-C", "out"], cwd: work.path)
        #expect(ok.status == 0, "\(ok.err)")
        #expect(ok.out.contains("unpacked 2 files"))
        #expect(FileManager.default.fileExists(atPath: work.appendingPathComponent("out/package/index.js").path))

        // One-letter names once trapped in Foundation's path splitting.
        let short = try BouncerProcess.run(["unpack", good, "-C", "o"], cwd: work.path)
        #expect(short.status == 0, "\(short.err)")
        #expect(FileManager.default.fileExists(atPath: work.appendingPathComponent("o/package/index.js").path))

        let again = try BouncerProcess.run(["unpack", good, "-C", "out"], cwd: work.path)
        #expect(again.status == 2)
        #expect(again.err.contains("not empty"))

        let refused = try BouncerProcess.run(["unpack", evil, "-C", "evil-out"], cwd: work.path)
        #expect(refused.status == 1)
        #expect(refused.err.contains("'package/lib'"))
        #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("evil-out").path))

        let missing = try BouncerProcess.run(["unpack", "nope.tgz", "-C", "x"], cwd: work.path)
        #expect(missing.status == 3)
        #expect(missing.err.contains("nope.tgz"))

        let directory = try BouncerProcess.run(["unpack", work.path, "-C", "d"], cwd: work.path)
        #expect(directory.status == 3)
        let truncated = work.appendingPathComponent("truncated.tgz")
        try Data(try Data(contentsOf: URL(fileURLWithPath: good)).prefix(60)).write(to: truncated)
        let corrupt = try BouncerProcess.run(["unpack", truncated.path, "-C", "t"], cwd: work.path)
        #expect(corrupt.status == 1)
        #expect(corrupt.err.contains("truncated.tgz"))
        #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("t").path))

        let usage = try BouncerProcess.run(["unpack", good], cwd: work.path)
        #expect(usage.status == 2)
        let badSize = try BouncerProcess.run(["unpack", good, "-C", "y", "--max-size", "lots"], cwd: work.path)
        #expect(badSize.status == 2)

        let piped = try BouncerProcess.run(["unpack", "-", "-C", "from-stdin"], cwd: work.path,
                                           stdin: try Data(contentsOf: URL(fileURLWithPath: good)))
        #expect(piped.status == 0, "\(piped.err)")
        #expect(FileManager.default.fileExists(atPath: work.appendingPathComponent("from-stdin/package/package.json").path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.path).filter { $0.contains("bouncer-tmp") } == [])
    }

    /// --max-entries and --refuse-case-collisions, end to end, with no policy in reach.
    @Test func entryAndCaseFlags() throws {
        let work = try BouncerProcess.temporaryDirectory("bouncer-unpack-flags")
        defer { try? FileManager.default.removeItem(at: work) }
        try Self.python(Self.limitsScript, [work.path])

        let few = try BouncerProcess.run(["unpack", "many.tgz", "-C", "few", "--max-entries", "4"], cwd: work.path)
        #expect(few.status == 1, "\(few.err)")
        #expect(few.err.contains("entry 'pkg/f4.txt' refused: the archive has more than 4 entries"), "\(few.err)")
        #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("few").path))
        let enough = try BouncerProcess.run(["unpack", "many.tgz", "-C", "enough", "--max-entries", "5"], cwd: work.path)
        #expect(enough.status == 0, "\(enough.err)")
        #expect(enough.out.contains("unpacked 5 files"))
        let zero = try BouncerProcess.run(["unpack", "many.tgz", "-C", "zero", "--max-entries", "0"], cwd: work.path)
        #expect(zero.status == 2)
        #expect(zero.err.contains("--max-entries"))

        let collided = try BouncerProcess.run(["unpack", "case.tgz", "-C", "c1", "--refuse-case-collisions"], cwd: work.path)
        #expect(collided.status == 1, "\(collided.err)")
        #expect(collided.err.contains("entry 'readme' refused: its name collides with 'README'"), "\(collided.err)")
        #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("c1").path))
        let both = try BouncerProcess.run(["unpack", "case.tgz", "-C", "c2"], cwd: work.path)
        #expect(both.status == 0, "\(both.err)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("c2").path).sorted() == ["README", "readme"])
    }

    /// The policy's "archive" object applies to `bouncer unpack` when a policy
    /// is found; the flags win over it; without a policy the defaults apply;
    /// a malformed one is a configuration error naming the JSON path.
    @Test func policyArchiveLimitsApplyAndFlagsWin() throws {
        let work = try BouncerProcess.temporaryDirectory("bouncer-unpack-policy")
        defer { try? FileManager.default.removeItem(at: work) }
        try Self.python(Self.limitsScript, [work.path])
        let project = work.appendingPathComponent("project")
        let elsewhere = work.appendingPathComponent("elsewhere")
        for dir in [project, elsewhere] { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: false) }
        try #"{"version": 1, "rules": [], "archive": {"maxEntries": 3, "refuseCaseCollisions": true}}"#
            .write(to: project.appendingPathComponent("policy.json"), atomically: true, encoding: .utf8)
        let many = work.appendingPathComponent("many.tgz").path
        let cased = work.appendingPathComponent("case.tgz").path

        // No policy in reach: the defaults pass both archives.
        let free = try BouncerProcess.run(["unpack", many, "-C", "m"], cwd: elsewhere.path)
        #expect(free.status == 0, "\(free.err)")
        #expect(try BouncerProcess.run(["unpack", cased, "-C", "c"], cwd: elsewhere.path).status == 0)

        // The nearest policy.json (here, from a subdirectory of the project) refuses them.
        let sub = project.appendingPathComponent("sub")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: false)
        let limited = try BouncerProcess.run(["unpack", many, "-C", "m"], cwd: sub.path)
        #expect(limited.status == 1, "\(limited.err)")
        #expect(limited.err.contains("entry 'pkg/f3.txt' refused: the archive has more than 3 entries"), "\(limited.err)")
        #expect(limited.err.contains("archive.maxEntries"), "\(limited.err)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: sub.path) == [])
        let collided = try BouncerProcess.run(["unpack", cased, "-C", "c"], cwd: sub.path)
        #expect(collided.status == 1, "\(collided.err)")
        #expect(collided.err.contains("'readme'") && collided.err.contains("'README'"), "\(collided.err)")

        // --policy and BOUNCER_POLICY name it from anywhere.
        let policyFile = project.appendingPathComponent("policy.json").path
        let named = try BouncerProcess.run(["unpack", many, "-C", "n", "--policy", policyFile], cwd: elsewhere.path)
        #expect(named.status == 1 && named.err.contains("more than 3 entries"), "\(named.err)")
        let fromEnvironment = try BouncerProcess.run(["unpack", many, "-C", "n"], cwd: elsewhere.path, environment: ["BOUNCER_POLICY": policyFile])
        #expect(fromEnvironment.status == 1 && fromEnvironment.err.contains("more than 3 entries"), "\(fromEnvironment.err)")

        // A flag wins over the policy.
        let raised = try BouncerProcess.run(["unpack", many, "-C", "m", "--max-entries", "5"], cwd: sub.path)
        #expect(raised.status == 0, "\(raised.err)")
        #expect(raised.out.contains("unpacked 5 files"))

        // A malformed archive object: exit 2, naming the file and the JSON path, nothing unpacked.
        try #"{"version": 1, "rules": [], "archive": {"maxEntries": "three"}}"#
            .write(to: project.appendingPathComponent("policy.json"), atomically: true, encoding: .utf8)
        let broken = try BouncerProcess.run(["unpack", many, "-C", "b"], cwd: sub.path)
        #expect(broken.status == 2, "\(broken.err)")
        #expect(broken.err.contains("policy.json: $.archive.maxEntries: expected a number, found a string"), "\(broken.err)")
        #expect(!FileManager.default.fileExists(atPath: sub.appendingPathComponent("b").path))
    }

    /// A zip symlink out of DIR is refused from a file (the central directory
    /// says "symlink"); read from a pipe, only the local headers are seen, so
    /// the entry can only become a plain file holding the target's text —
    /// never a link, never anything outside.
    @Test func zipSymlinkEscapeFromAFileAndFromAPipe() throws {
        let work = try BouncerProcess.temporaryDirectory("bouncer-unpack-zip-link")
        defer { try? FileManager.default.removeItem(at: work) }
        try Self.python(#"""
import sys, zipfile
info = zipfile.ZipInfo("lib"); info.create_system = 3; info.external_attr = 0o120777 << 16
with zipfile.ZipFile(sys.argv[1] + "/link.zip", "w") as z:
    z.writestr("ok.txt", "fine")
    z.writestr(info, "../../outside")
"""#, [work.path])
        let fromFile = try BouncerProcess.run(["unpack", "link.zip", "-C", "a"], cwd: work.path)
        #expect(fromFile.status == 1, "\(fromFile.err)")
        #expect(fromFile.err.contains("entry 'lib' refused: symlink target '../../outside' leaves the destination"), "\(fromFile.err)")
        #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("a").path))

        let piped = try BouncerProcess.run(["unpack", "-", "-C", "b"], cwd: work.path,
                                           stdin: try Data(contentsOf: work.appendingPathComponent("link.zip")))
        #expect(piped.status == 0, "\(piped.err)")
        let lib = work.appendingPathComponent("b/lib").path
        let type = try FileManager.default.attributesOfItem(atPath: lib)[.type] as? FileAttributeType
        #expect(type == .typeRegular)
        #expect(try String(contentsOfFile: lib, encoding: .utf8) == "../../outside")
        #expect(!FileManager.default.fileExists(atPath: work.deletingLastPathComponent().appendingPathComponent("outside").path))
    }
}
