#if canImport(Glibc)
import Glibc
#endif
import BouncerBase

/// A zip archive's structure, checked so that libarchive (which Bouncer
/// inspects with) and Python's zipfile (which pip and uv install with) read
/// the same entries with the same bytes, and its entry names as stored.
///
/// The two readers differ where a zip is ambiguous, and a hostile wheel uses
/// that to show Bouncer one archive and pip another:
/// - libarchive turns `\` into `/` in a DOS-made name without `/`; Python
///   keeps it (`x\evil.pth` is a top-level `.pth` to pip): such names are refused;
/// - Python finds the ZIP64 end record right before its locator, libarchive
///   where the locator points;
/// - Python reads an entry by the central directory's method and sizes,
///   libarchive by the local header's;
/// - Python reads entries until the directory's bytes end, libarchive as many
///   as the end record counts.
/// So the end record must be the last one and end the file, a ZIP64 locator
/// must point at the record before it, the directory must start where both
/// look for it and hold exactly the counted entries, and each local header
/// must agree with its directory entry (name, flags, method, and CRC and sizes
/// unless a data descriptor follows). Tools that write wheels write all this.
enum ZipStructure {
    static let endRecordSize = 22
    static let zip64LocatorSize = 20
    static let zip64EndRecordSize = 56
    /// A larger central directory is refused rather than read into memory.
    static let maxDirectoryBytes = 64 << 20

    enum Failure: Error, Equatable { case noEndRecord, bad(String) }

    struct Entry: Equatable {
        var name: [UInt8]
        var flags: UInt16
        var method: UInt16
        var crc: UInt32
        var compressedSize: UInt32
        var size: UInt32
        var localOffset: UInt32
    }

    /// The central directory's entries of the zip in the regular file `fd` of `size` bytes, once its structure is checked.
    static func entries(fd: Int32, size: Int64) -> Result<[Entry], Failure> {
        do throws(Failure) {
            let tailCount = Int(min(size, Int64(endRecordSize + 0xFFFF + zip64LocatorSize + zip64EndRecordSize)))
            let tailOffset = size - Int64(tailCount)
            guard let tail = read(fd, at: tailOffset, count: tailCount) else { throw .bad("cannot read the end of the archive") }
            let found = try directory(tail: tail, tailOffset: tailOffset)
            guard let bytes = read(fd, at: found.start, count: found.count) else { throw .bad("cannot read the central directory") }
            let parsed = try entries(bytes)
            guard parsed.count == found.entries else {
                throw .bad("the end record counts \(found.entries) entries, the central directory holds \(parsed.count)")
            }
            for entry in parsed {
                try checkLocalHeader(entry, fd: fd, at: Int64(entry.localOffset) + found.shift, before: found.start)
            }
            return .success(parsed)
        } catch {
            return .failure(error)
        }
    }

    /// Where the central directory starts, its length, its entry count, and how far data
    /// before the archive shifts every stated offset (both readers add it).
    static func directory(tail: [UInt8], tailOffset: Int64) throws(Failure) -> (start: Int64, count: Int, entries: Int, shift: Int64) {
        let signature: [UInt8] = [0x50, 0x4B, 0x05, 0x06]
        // Python takes the last end record in its window, libarchive the last one that ends the file.
        guard let end = lastIndex(of: signature, in: tail[...]) else { throw .noEndRecord }
        guard end + endRecordSize <= tail.count, end + endRecordSize + Int(le16(tail, end + 20)) == tail.count else {
            throw .bad("the last end-of-central-directory record does not end the file")
        }
        if lastIndex(of: signature, in: tail[..<end]) != nil {
            throw .bad("more than one end-of-central-directory record")
        }
        var directorySize = UInt64(le32(tail, end + 12))
        var statedStart = UInt64(le32(tail, end + 16))
        var entries = UInt64(le16(tail, end + 10))
        var endStart = end
        var zip64 = false
        let locator = end - zip64LocatorSize
        if locator >= 0, tail[locator..<locator + 4].elementsEqual([0x50, 0x4B, 0x06, 0x07]) {
            let record = locator - zip64EndRecordSize
            guard record >= 0, tail[record..<record + 4].elementsEqual([0x50, 0x4B, 0x06, 0x06]) else {
                throw .bad("a ZIP64 locator without its end record right before it")
            }
            // libarchive reads the record where the locator points, Python right before the locator.
            guard le64(tail, locator + 8) == UInt64(tailOffset) + UInt64(record), le64(tail, record + 4) == UInt64(zip64EndRecordSize - 12) else {
                throw .bad("the ZIP64 locator does not point at the ZIP64 end record before it")
            }
            directorySize = le64(tail, record + 40)
            statedStart = le64(tail, record + 48)
            entries = le64(tail, record + 32)
            endStart = record
            zip64 = true
        }
        guard directorySize <= UInt64(maxDirectoryBytes) else {
            throw .bad("a central directory of \(directorySize) bytes (Bouncer reads at most \(maxDirectoryBytes))")
        }
        let start = tailOffset + Int64(endStart) - Int64(directorySize)
        guard start >= 0, statedStart <= UInt64(start) else { throw .bad("the central directory would start before the file") }
        let shift = start - Int64(statedStart)
        // libarchive adds no shift to ZIP64 offsets.
        guard !zip64 || shift == 0 else { throw .bad("data before a ZIP64 archive") }
        return (start, Int(directorySize), Int(min(entries, UInt64(Int.max))), shift)
    }

    /// The central directory's file headers, in order, filling it exactly.
    static func entries(_ bytes: [UInt8]) throws(Failure) -> [Entry] {
        var found: [Entry] = []
        var at = 0
        while at < bytes.count {
            guard at + 46 <= bytes.count, bytes[at..<at + 4].elementsEqual([0x50, 0x4B, 0x01, 0x02]) else {
                throw .bad("no file header at byte \(at) of the central directory")
            }
            let nameLength = Int(le16(bytes, at + 28))
            let next = at + 46 + nameLength + Int(le16(bytes, at + 30)) + Int(le16(bytes, at + 32))
            guard next <= bytes.count else { throw .bad("a file header past the end of the central directory") }
            try checkExtras(bytes[at + 46 + nameLength ..< at + 46 + nameLength + Int(le16(bytes, at + 30))], name: bytes[at + 46 ..< at + 46 + nameLength])
            let entry = Entry(name: Array(bytes[at + 46 ..< at + 46 + nameLength]), flags: le16(bytes, at + 8), method: le16(bytes, at + 10),
                              crc: le32(bytes, at + 16), compressedSize: le32(bytes, at + 20), size: le32(bytes, at + 24),
                              localOffset: le32(bytes, at + 42))
            if entry.compressedSize == 0xFFFF_FFFF || entry.size == 0xFFFF_FFFF || entry.localOffset == 0xFFFF_FFFF {
                throw .bad("'\(String(decoding: entry.name, as: UTF8.self))' is a ZIP64 entry (4 GiB or past it), which Bouncer does not read")
            }
            found.append(entry)
            at = next
        }
        return found
    }

    /// Whether a folder entry (its name ends in `/`) carries bytes. libarchive
    /// makes it a folder and reads none; pip reads a `.dist-info` member by its
    /// name with the `/` dropped (`PurePosixPath`), so `METADATA/` holding
    /// bytes was METADATA to pip and no file to Bouncer (red team). Jar tools
    /// deflate a folder to the 2-byte empty stream, which decodes to nothing.
    static func folderCarriesData(_ entry: Entry) -> Bool {
        guard entry.name.last == UInt8(ascii: "/") else { return false }
        return entry.size > 0 || entry.compressedSize > (entry.method == 8 ? 2 : 0)
    }

    /// The entry's local header agrees with its directory entry, so both readers read the same bytes.
    static func checkLocalHeader(_ entry: Entry, fd: Int32, at offset: Int64, before directory: Int64) throws(Failure) {
        let shown = String(decoding: entry.name, as: UTF8.self)
        guard offset + 30 + Int64(entry.name.count) <= directory,
              let header = read(fd, at: offset, count: 30 + entry.name.count),
              header[0..<4].elementsEqual([0x50, 0x4B, 0x03, 0x04]) else {
            throw .bad("'\(shown)': no local header where the central directory says")
        }
        guard Array(header[30...]) == entry.name, Int(le16(header, 26)) == entry.name.count else {
            throw .bad("'\(shown)': the local header names another file")
        }
        let extraLength = Int(le16(header, 28))
        if extraLength > 0 {
            guard let extra = read(fd, at: offset + 30 + Int64(entry.name.count), count: extraLength) else { throw .bad("'\(shown)': cannot read its local extra field") }
            try checkExtras(extra[...], name: entry.name[...])
        }
        let flags = le16(header, 6)
        // Encryption, data descriptor, UTF-8 names: how each reader reads the entry.
        guard flags & 0x0809 == entry.flags & 0x0809, le16(header, 8) == entry.method else {
            throw .bad("'\(shown)': the local header and the central directory disagree on how it is stored")
        }
        // With a data descriptor the local header may leave CRC and sizes 0; libarchive reads any other
        // value it states (and only warns), Python the directory's: they must agree then too.
        let local = (le32(header, 14), le32(header, 18), le32(header, 22))
        let deferred = flags & 0x0008 != 0 && local == (0, 0, 0)
        guard deferred || local == (entry.crc, entry.compressedSize, entry.size) else {
            throw .bad("'\(shown)': the local header and the central directory disagree on its CRC or sizes")
        }
    }

    /// Refuses the Unicode path and comment extra fields (0x7075, 0x6375): Python 3.12 renames an
    /// entry by the central directory's, libarchive by the local header's, so one file had two names.
    static func checkExtras(_ extra: ArraySlice<UInt8>, name: ArraySlice<UInt8>) throws(Failure) {
        var at = extra.startIndex
        while at + 4 <= extra.endIndex {
            let id = UInt16(extra[at]) | UInt16(extra[at + 1]) << 8
            let size = Int(UInt16(extra[at + 2]) | UInt16(extra[at + 3]) << 8)
            if id == 0x7075 || id == 0x6375 {
                throw .bad("'\(String(decoding: name, as: UTF8.self))': a Unicode path or comment extra field, which Python and libarchive apply from different headers")
            }
            at += 4 + size
        }
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

    private static func lastIndex(of needle: [UInt8], in bytes: ArraySlice<UInt8>) -> Int? {
        guard bytes.count >= needle.count else { return nil }
        var index = bytes.endIndex - needle.count
        while index >= bytes.startIndex {
            if bytes[index..<index + needle.count].elementsEqual(needle) { return index }
            index -= 1
        }
        return nil
    }

    private static func le16(_ bytes: [UInt8], _ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
    private static func le32(_ bytes: [UInt8], _ at: Int) -> UInt32 { UInt32(le16(bytes, at)) | UInt32(le16(bytes, at + 2)) << 16 }
    private static func le64(_ bytes: [UInt8], _ at: Int) -> UInt64 { UInt64(le32(bytes, at)) | UInt64(le32(bytes, at + 4)) << 32 }
}
