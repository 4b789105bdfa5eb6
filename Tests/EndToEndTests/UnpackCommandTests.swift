import Foundation
import Testing
import BouncerTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `bouncer unpack` as a person runs it: exit codes, messages naming the
/// entry, and a decompression bomb stopped early with bounded memory.
@Suite struct UnpackCommandTests {
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

    static func python(_ script: String, _ arguments: [String]) throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bouncer-e2e-\(UUID().uuidString).py")
        try script.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try BouncerProcess.runProgram("/usr/bin/env", ["python3", file.path] + arguments)
        #expect(result.status == 0, "\(result.err)")
    }

    @Test func gzipBombIsStoppedEarlyWithBoundedMemory() throws {
        let work = try BouncerProcess.temporaryDirectory("bouncer-bomb")
        defer { try? FileManager.default.removeItem(at: work) }
        let bomb = work.appendingPathComponent("bomb.tar.gz").path
        try Self.python(Self.bombScript, [bomb])
        let size = (try FileManager.default.attributesOfItem(atPath: bomb)[.size] as? Int) ?? 0
        #expect(size > 9_000_000 && size < 12_000_000)

        let out = work.appendingPathComponent("out").path
        let result = try BouncerProcess.run(["unpack", bomb, "-C", out])
        #expect(result.status == 1, "\(result.err)")
        #expect(result.err.contains("'zeros.bin'"))
        #expect(result.err.contains("--max-ratio"))
        var usage = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &usage)
        #expect(usage.ru_maxrss < 512 * 1024, "a child used \(usage.ru_maxrss) KiB")

        // With the ratio check out of the way, the size cap stops it instead.
        let capped = try BouncerProcess.run(["unpack", bomb, "-C", out, "--max-ratio", "1000000", "--max-size", "32M"])
        #expect(capped.status == 1, "\(capped.err)")
        #expect(capped.err.contains("'zeros.bin'") && capped.err.contains("--max-size"))
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
}
