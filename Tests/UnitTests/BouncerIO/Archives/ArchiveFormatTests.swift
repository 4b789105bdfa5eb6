import Foundation
import Testing
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools
import BouncerTestSupport

/// Benign archives in every format Bouncer reads unpack to the same tree,
/// with setuid, setgid and sticky bits dropped.
@Suite(.blocking) struct ArchiveFormatTests {
    @Test(arguments: ["tree.tar", "tree-gnu.tar", "tree.tar.xz", "tree.tar.bz2"])
    func unpacksTheTree(_ name: String) throws {
        let work = try BouncerProcess.temporaryDirectory("bouncer-unpack")
        defer { try? FileManager.default.removeItem(at: work) }
        try checkTree(try ArchiveFixtures.path(name), work: work, long: true)
    }

    @Test func unpacksUstarGzip() throws {
        let work = try BouncerProcess.temporaryDirectory("bouncer-unpack")
        defer { try? FileManager.default.removeItem(at: work) }
        try checkTree(try ArchiveFixtures.path("tree-ustar.tgz"), work: work, long: false)
    }

    @Test(arguments: [("zstd", "zst"), ("lz4", "lz4")])
    func unpacksZstdAndLz4(_ tool: (String, String)) throws {
        let work = try BouncerProcess.temporaryDirectory("bouncer-unpack")
        defer { try? FileManager.default.removeItem(at: work) }
        let compressed = work.appendingPathComponent("tree.tar.\(tool.1)").path
        let input = try ArchiveFixtures.path("tree.tar")
        let arguments = tool.0 == "zstd" ? ["zstd", "-q", input, "-o", compressed] : ["lz4", "-q", "-z", input, compressed]
        let made = try BouncerProcess.runProgram("/usr/bin/env", arguments)
        guard made.status == 0 else {
            print("NOTICE: \(tool.0) tool unavailable, .tar.\(tool.1) test skipped: \(made.err)")
            return
        }
        try checkTree(compressed, work: work, long: true)
        let reader = try ArchiveReader(path: compressed)
        _ = try reader.next()
        #expect(reader.compression == tool.0)
    }

    @Test func unpacksZipAndAr() throws {
        let work = try BouncerProcess.temporaryDirectory("bouncer-unpack")
        defer { try? FileManager.default.removeItem(at: work) }
        let zipOut = work.appendingPathComponent("zip").path
        _ = try SafeExtractor.unpack(try ArchiveReader(path: try ArchiveFixtures.path("tree.zip")), into: zipOut)
        #expect(try String(contentsOfFile: zipOut + "/top/sub/deep.txt", encoding: .utf8) == "deep\n")
        let debOut = work.appendingPathComponent("deb").path
        let summary = try SafeExtractor.unpack(try ArchiveReader(path: try ArchiveFixtures.path("tree.deb")), into: debOut)
        #expect(summary.files == 2)
        #expect(try String(contentsOfFile: debOut + "/debian-binary", encoding: .utf8) == "2.0\n")
    }

    @Test func wideTreeWithHardlinksAcrossDirectories() throws {
        let work = try BouncerProcess.temporaryDirectory("bouncer-unpack")
        defer { try? FileManager.default.removeItem(at: work) }
        let out = work.appendingPathComponent("out").path
        let summary = try SafeExtractor.unpack(try ArchiveReader(path: try ArchiveFixtures.path("wide.tar")), into: out)
        #expect(summary.files == 301 && summary.hardlinks == 300)
        for i in [0, 1, 150, 298, 299] {
            let link = out + String(format: "/d%03d/link", i)
            #expect(try String(contentsOfFile: link, encoding: .utf8) == "\(299 - i)")
        }
    }

    /// Directories get their modes only once the tree is in place (read-only ones included).
    @Test func readOnlyDirectoriesKeepTheirModes() throws {
        let work = try BouncerProcess.temporaryDirectory("bouncer-unpack")
        let out = work.appendingPathComponent("out").path
        defer {
            for path in [out + "/ro/sub", out + "/ro"] { chmod(path, 0o700) }
            try? FileManager.default.removeItem(at: work)
        }
        _ = try SafeExtractor.unpack(try ArchiveReader(path: try ArchiveFixtures.path("readonly.tar")), into: out)
        let mode = { (path: String) in (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1 }
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let umaskLine = status.split(separator: "\n").first { $0.hasPrefix("Umask:") }
        let mask = umaskLine.flatMap { Int($0.dropFirst(6).trimmingCharacters(in: .whitespaces), radix: 8) } ?? 0o022
        #expect(mode(out + "/ro") == 0o555 & ~mask)
        #expect(mode(out + "/ro/sub") == 0o500 & ~mask)
        #expect(mode(out + "/ro/sub/f") == 0o444 & ~mask)
    }

    /// GNU sparse files: holes (a trailing one included) come back as holes of
    /// the right length, and count toward the limits like written bytes.
    @Test func sparseFilesKeepTheirLengthAndHolesCount() throws {
        let work = try BouncerProcess.temporaryDirectory("bouncer-sparse")
        defer { try? FileManager.default.removeItem(at: work) }
        let src = work.appendingPathComponent("src")
        try FileManager.default.createDirectory(at: src, withIntermediateDirectories: false)
        let made = try BouncerProcess.runProgram("/bin/sh", ["-c",
            "truncate -s 16M f && printf end >> f && printf x > g && truncate -s 12M g && tar --sparse -cf ../sparse.tar f g"],
            cwd: src.path)
        guard made.status == 0 else {
            print("NOTICE: sparse tar test skipped: GNU tar --sparse unavailable: \(made.err)")
            return
        }
        let archive = work.appendingPathComponent("sparse.tar").path
        let refused = #expect(throws: ArchiveError.self) {
            try SafeExtractor.unpack(try ArchiveReader(path: archive), into: work.appendingPathComponent("o").path)
        }
        #expect(refused?.code == "archive-ratio-exceeded")

        var limits = ArchiveLimits()
        limits.maxRatio = 1_000_000
        let out = work.appendingPathComponent("o").path
        let summary = try SafeExtractor.unpack(try ArchiveReader(path: archive, limits: limits), into: out,
                                               options: UnpackOptions(limits: limits))
        #expect(summary.bytes == (16 << 20) + 3 + (12 << 20))
        for name in ["f", "g"] {
            let original = try Data(contentsOf: src.appendingPathComponent(name))
            let copy = try Data(contentsOf: URL(fileURLWithPath: out + "/" + name))
            #expect(copy == original, "\(name) differs")
            var info = stat()
            #expect(stat(out + "/" + name, &info) == 0)
            #expect(info.st_blocks * 512 < 1 << 20, "\(name) was written out instead of left sparse")
        }
    }

    /// Read from a byte source while hashing it: one pass gives entries and digest.
    @Test func readsFromAStreamWhileHashing() throws {
        let path = try ArchiveFixtures.path("tree.tar.xz")
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let source = HashingByteSource(ChunkSource(bytes))
        let reader = try ArchiveReader(source: source, name: "stream")
        var names: [String] = []
        while let entry = try reader.next() { names.append(entry.path) }
        try source.drain()
        #expect(names.contains("top/hello.txt"))
        #expect(source.hasher.finalize()[.sha256] == Hasher.digest(bytes, .sha256))
    }

    /// A download that breaks mid-way is an I/O failure (exit 3), not a bad archive.
    @Test func failingStreamIsAnIOError() throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: try ArchiveFixtures.path("tree.tar"))))
        let error = #expect(throws: ArchiveError.self) {
            let reader = try ArchiveReader(source: FailingSource(ChunkSource(Array(bytes.prefix(1500)))), name: "download")
            while let _ = try reader.next() { try reader.readContiguous { _ in } }
        }
        #expect(error?.code == "io")
        #expect(error?.family.exitCode == 3)
    }

    @Test func notAnArchiveIsUnreadable() throws {
        let work = try BouncerProcess.temporaryDirectory("bouncer-unpack")
        defer { try? FileManager.default.removeItem(at: work) }
        let file = work.appendingPathComponent("junk.tar.gz")
        try Data((0..<5000).map { UInt8(truncatingIfNeeded: $0 * 7) }).write(to: file)
        #expect(throws: ArchiveError.self) {
            let reader = try ArchiveReader(path: file.path)
            while try reader.next() != nil {}
        }
    }

    private func checkTree(_ archive: String, work: URL, long: Bool) throws {
        let out = work.appendingPathComponent("out").path
        let summary = try SafeExtractor.unpack(try ArchiveReader(path: archive), into: out)
        #expect(summary.symlinks == 1)
        #expect(summary.hardlinks == 1)
        let fm = FileManager.default
        #expect(try String(contentsOfFile: out + "/top/hello.txt", encoding: .utf8) == "hello\n")
        #expect(try String(contentsOfFile: out + "/top/again", encoding: .utf8) == "hello\n")
        #expect(try fm.destinationOfSymbolicLink(atPath: out + "/top/link") == "hello.txt")
        let runMode = try fm.attributesOfItem(atPath: out + "/top/run.sh")[.posixPermissions] as? Int
        #expect(runMode.map { $0 & 0o7000 } == 0, "setuid/setgid kept: \(String(describing: runMode))")
        #expect(runMode.map { $0 & 0o100 } == 0o100)
        let stickyMode = try fm.attributesOfItem(atPath: out + "/top/sticky")[.posixPermissions] as? Int
        #expect(stickyMode.map { $0 & 0o7022 } == 0, "sticky or world-writable kept: \(String(describing: stickyMode))")
        if long {
            #expect(fm.fileExists(atPath: out + "/top/" + String(repeating: "long", count: 40) + "/name.txt"))
        }
        #expect(try fm.contentsOfDirectory(atPath: work.path).filter { $0.contains("bouncer-tmp") } == [])
    }
}

/// Hands out bytes in small uneven chunks, like a network stream.
final class ChunkSource: ArchiveByteSource {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = min(buffer.count, bytes.count - offset, 777)
        guard count > 0 else { return 0 }
        bytes[offset..<offset + count].withUnsafeBytes { buffer.copyMemory(from: $0) }
        offset += count
        return count
    }
}

/// Passes bytes on, then fails like a dropped connection.
final class FailingSource: ArchiveByteSource {
    struct Dropped: Error {}
    private let upstream: ArchiveByteSource

    init(_ upstream: ArchiveByteSource) { self.upstream = upstream }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = try upstream.read(into: buffer)
        if count == 0 { throw Dropped() }
        return count
    }
}
