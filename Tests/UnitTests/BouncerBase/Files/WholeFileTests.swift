import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import BouncerBase

/// WholeFile reads to the end whatever `fstat` says: a pipe (standard input)
/// and a /proc file report no size and hand their bytes over a read at a time.
@Suite struct WholeFileTests {
    /// 300 KB written in pieces, a little at a time: every byte is read (it stopped after
    /// the first 64 KiB-or-less that one read returned, cutting a Dockerfile or a `-d @-`
    /// body on standard input short, and a long /proc/net/tcp after its first page).
    @Test func aPipeIsReadToItsEnd() throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        let (readEnd, writeEnd) = (ends[0], ends[1])
        let expected = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let writer = Thread {
            var offset = 0
            while offset < expected.count {
                let piece = min(7_000, expected.count - offset)
                let written = expected[offset..<(offset + piece)].withUnsafeBytes { write(writeEnd, $0.baseAddress, piece) }
                if written <= 0 { break }
                offset += written
                usleep(500)
            }
            close(writeEnd)
        }
        writer.start()
        defer { close(readEnd) }
        let read = WholeFile.contents(fd: readEnd, limit: 1 << 20)
        guard case .success(let bytes) = read else { Issue.record("read failed: \(read)"); return }
        #expect(bytes.count == expected.count)
        #expect(bytes == expected)
    }

    @Test func aProcFileIsReadPastItsFirstPage() throws {
        // /proc/self/maps of a Swift process runs to several pages; its last line ends the text.
        guard case .success(let bytes) = WholeFile.contents("/proc/self/maps", limit: 16 << 20) else {
            Issue.record("cannot read /proc/self/maps"); return
        }
        #expect(bytes.count > 8192, "\(bytes.count) bytes")
        #expect(bytes.last == UInt8(ascii: "\n"))
    }

    @Test func theLimitHolds() throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        let data = [UInt8](repeating: 7, count: 10_000)
        _ = data.withUnsafeBytes { write(ends[1], $0.baseAddress, $0.count) }
        close(ends[1])
        defer { close(ends[0]) }
        guard case .failure(.tooLarge) = WholeFile.contents(fd: ends[0], limit: 4_000) else {
            Issue.record("10,000 bytes over a 4,000-byte limit were not refused"); return
        }
    }
}
