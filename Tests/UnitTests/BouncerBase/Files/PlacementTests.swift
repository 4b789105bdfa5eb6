import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import BouncerBase
import BouncerTestSupport

/// Where the tools write `-o FILE`, verified bytes go, without replacing what
/// is not a regular file (a red-team pass turned /dev/null into a regular
/// file as root, and a FIFO's reader got nothing): a FIFO is written into, a
/// symbolic link is written through (the link kept), and a regular file is
/// replaced whole.
@Suite struct PlacementTests {
    let dir: URL
    let source: String

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("bouncer-placement-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        source = dir.appendingPathComponent("verified").path
        try "verified bytes\n".write(toFile: source, atomically: true, encoding: .utf8)
    }

    func kind(_ path: String) -> mode_t {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & S_IFMT : 0
    }

    func permissions(_ path: String) -> mode_t {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o7777 : 0
    }

    /// A replaced file keeps its permissions, as curl and wget keep them when
    /// they write into it (`curl -o run.sh` over an executable script), but not
    /// a set-user-ID bit; a new file gets the usual 0666 less the umask.
    @Test func aReplacedFileKeepsItsPermissions() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        for (mode, name) in [(Placement.Mode.copy, "copied"), (.move, "moved")] {
            let target = dir.appendingPathComponent(name).path
            try "old\n".write(toFile: target, atomically: true, encoding: .utf8)
            #expect(chmod(target, 0o751) == 0)
            let given = dir.appendingPathComponent("given-\(name)").path
            try "verified bytes\n".write(toFile: given, atomically: true, encoding: .utf8)
            try Placement.place(given, at: target, mode: mode)
            #expect(try String(contentsOfFile: target, encoding: .utf8) == "verified bytes\n")
            #expect(permissions(target) == 0o751, "\(name): \(String(permissions(target), radix: 8))")
        }
        let privileged = dir.appendingPathComponent("privileged").path
        try "old\n".write(toFile: privileged, atomically: true, encoding: .utf8)
        #expect(chmod(privileged, 0o4755) == 0)
        try Placement.place(source, at: privileged, mode: .copy)
        #expect(permissions(privileged) == 0o755)
        // (The umask read from a file made the usual way: setting it would touch every test running meanwhile.)
        let probe = dir.appendingPathComponent("probe").path
        let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0o666)
        #expect(fd >= 0)
        close(fd)
        let fresh = dir.appendingPathComponent("fresh").path
        try Placement.place(source, at: fresh, mode: .copy)
        #expect(permissions(fresh) == permissions(probe))
    }

    @Test func aFifoIsWrittenIntoNotReplaced() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let received = Locked<[UInt8]?>(nil)
        let reader = Thread {
            var bytes: [UInt8] = []
            let fd = open(fifo, O_RDONLY)
            var buffer = [UInt8](repeating: 0, count: 4096)
            while fd >= 0 {
                let count = read(fd, &buffer, buffer.count)
                if count <= 0 { break }
                bytes += buffer[0..<count]
            }
            if fd >= 0 { close(fd) }
            received.withLock { $0 = bytes }
        }
        reader.start()
        try Placement.place(source, at: fifo, mode: .copy)
        #expect(kind(fifo) == S_IFIFO, "the FIFO was replaced")
        // Bounded: with the FIFO replaced, the reader may wait on it for ever.
        for _ in 0..<1000 where received.withLock({ $0 }) == nil { usleep(10_000) }
        #expect(received.withLock { $0 } == Array("verified bytes\n".utf8))
    }

    @Test func aLinkIsWrittenThroughAndKept() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("target").path
        try "old\n".write(toFile: target, atomically: true, encoding: .utf8)
        let link = dir.appendingPathComponent("link").path
        #expect(symlink(target, link) == 0)
        try Placement.place(source, at: link, mode: .copy)
        #expect(kind(link) == S_IFLNK, "the link was replaced")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "verified bytes\n")

        // A link leading nowhere yet: the file it names is made.
        let dangling = dir.appendingPathComponent("dangling").path
        let absent = dir.appendingPathComponent("absent").path
        #expect(symlink(absent, dangling) == 0)
        try Placement.place(source, at: dangling, mode: .copy)
        #expect(kind(dangling) == S_IFLNK)
        #expect(try String(contentsOfFile: absent, encoding: .utf8) == "verified bytes\n")

        // An open descriptor's name: written into, so the descriptor sees the bytes (a rename had
        // left it on the old file; red team, round 2).
        let opened = dir.appendingPathComponent("opened").path
        let fd = open(opened, O_RDWR | O_CREAT | O_TRUNC, 0o644)
        #expect(fd >= 0)
        defer { close(fd) }
        var before = stat()
        _ = fstat(fd, &before)
        try Placement.place(source, at: "/proc/self/fd/\(fd)", mode: .copy)
        var after = stat()
        _ = stat(opened, &after)
        #expect(after.st_ino == before.st_ino, "the file was replaced")
        #expect(try String(contentsOfFile: opened, encoding: .utf8) == "verified bytes\n")

        // A regular file is replaced whole, as before.
        let plain = dir.appendingPathComponent("plain").path
        try "old\n".write(toFile: plain, atomically: true, encoding: .utf8)
        try Placement.place(source, at: plain, mode: .copy)
        let replaced = try String(contentsOfFile: plain, encoding: .utf8)
        #expect(kind(plain) == S_IFREG && replaced == "verified bytes\n")
    }
}
