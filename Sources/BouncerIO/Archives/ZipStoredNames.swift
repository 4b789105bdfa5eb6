#if canImport(Glibc)
import Glibc
#endif
import BouncerBase

/// The entry names of a zip archive as its central directory stores them,
/// byte for byte. libarchive rewrites `\` to `/` in the name of an entry
/// made on MS-DOS whose name has no `/`, while Python's zipfile (pip, uv)
/// keeps the backslash as part of the name: `x\evil.pth` is a file in a
/// folder to Bouncer and a top-level `.pth` to the installer. Reading the
/// stored names lets the reader refuse what the two would read apart.
///
/// The central directory is found as Python's zipfile finds it: the last
/// end record in the file's final 64 KiB + 22 bytes, the ZIP64 end record
/// right before its locator, and the directory right before the end records
/// (data prepended to the archive shifts every offset alike).
enum ZipStoredNames {
    static let endRecordSize = 22
    static let zip64LocatorSize = 20
    static let zip64EndRecordSize = 56
    /// A larger central directory is refused rather than read into memory.
    static let maxDirectoryBytes = 64 << 20

    enum Failure: Error, Equatable { case noEndRecord, badDirectory(String) }

    /// The stored names of the zip in the regular file `fd` of `size` bytes.
    static func names(fd: Int32, size: Int64) -> Result<[[UInt8]], Failure> {
        let tailCount = Int(min(size, Int64(endRecordSize + 0xFFFF + zip64LocatorSize + zip64EndRecordSize)))
        guard let tail = read(fd, at: size - Int64(tailCount), count: tailCount) else { return .failure(.badDirectory("cannot read the end of the archive")) }
        let located: (start: Int64, count: Int)
        switch directory(tail: tail, tailOffset: size - Int64(tailCount)) {
        case .success(let found): located = found
        case .failure(let failure): return .failure(failure)
        }
        guard let bytes = read(fd, at: located.start, count: located.count) else { return .failure(.badDirectory("cannot read the central directory")) }
        return entries(bytes)
    }

    /// Where the central directory sits and how long it is, from the file's tail.
    static func directory(tail: [UInt8], tailOffset: Int64) -> Result<(start: Int64, count: Int), Failure> {
        guard let end = lastIndex(of: [0x50, 0x4B, 0x05, 0x06], in: tail), end + endRecordSize <= tail.count else { return .failure(.noEndRecord) }
        var directorySize = UInt64(le32(tail, end + 12))
        var endStart = end
        // ZIP64: the locator sits right before the end record, the ZIP64 end record right before the locator.
        let locator = end - zip64LocatorSize
        if locator >= 0, tail[locator..<locator + 4].elementsEqual([0x50, 0x4B, 0x06, 0x07]) {
            let record = locator - zip64EndRecordSize
            guard record >= 0, tail[record..<record + 4].elementsEqual([0x50, 0x4B, 0x06, 0x06]) else {
                return .failure(.badDirectory("ZIP64 locator without its end record"))
            }
            directorySize = le64(tail, record + 40)
            endStart = record
        }
        guard directorySize <= UInt64(maxDirectoryBytes) else {
            return .failure(.badDirectory("a central directory of \(directorySize) bytes (Bouncer reads at most \(maxDirectoryBytes))"))
        }
        let start = tailOffset + Int64(endStart) - Int64(directorySize)
        guard start >= 0 else { return .failure(.badDirectory("the central directory would start before the file")) }
        return .success((start, Int(directorySize)))
    }

    /// The names of the central directory's file headers, in order.
    static func entries(_ bytes: [UInt8]) -> Result<[[UInt8]], Failure> {
        var names: [[UInt8]] = []
        var at = 0
        while at + 46 <= bytes.count {
            guard bytes[at..<at + 4].elementsEqual([0x50, 0x4B, 0x01, 0x02]) else {
                return .failure(.badDirectory("no file header at byte \(at) of the central directory"))
            }
            let nameLength = Int(le16(bytes, at + 28))
            let rest = nameLength + Int(le16(bytes, at + 30)) + Int(le16(bytes, at + 32))
            guard at + 46 + nameLength <= bytes.count else { return .failure(.badDirectory("a name past the end of the central directory")) }
            names.append(Array(bytes[at + 46 ..< at + 46 + nameLength]))
            at += 46 + rest
        }
        return .success(names)
    }

    private static func read(_ fd: Int32, at offset: Int64, count: Int) -> [UInt8]? {
        guard offset >= 0, count >= 0 else { return nil }
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let got = bytes.withUnsafeMutableBytes { buffer in
                pread(fd, buffer.baseAddress.map { $0 + done }, count - done, off_t(offset) + off_t(done))
            }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { return nil }
            done += got
        }
        return bytes
    }

    private static func lastIndex(of needle: [UInt8], in bytes: [UInt8]) -> Int? {
        guard bytes.count >= needle.count else { return nil }
        var index = bytes.count - needle.count
        while index >= 0 {
            if bytes[index..<index + needle.count].elementsEqual(needle) { return index }
            index -= 1
        }
        return nil
    }

    private static func le16(_ bytes: [UInt8], _ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
    private static func le32(_ bytes: [UInt8], _ at: Int) -> UInt32 { UInt32(le16(bytes, at)) | UInt32(le16(bytes, at + 2)) << 16 }
    private static func le64(_ bytes: [UInt8], _ at: Int) -> UInt64 { UInt64(le32(bytes, at)) | UInt64(le32(bytes, at + 4)) << 32 }
}
