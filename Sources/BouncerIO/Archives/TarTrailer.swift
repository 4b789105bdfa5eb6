import CArchive
import CArchiveShims
#if canImport(Glibc)
import Glibc
#endif

/// A second read of a tar file, through the same filters as one raw stream,
/// for what libarchive's tar reader stops at but npm's and yarn's read on past.
enum TarTrailer {
    /// Zeros after the end marker are record padding (GNU tar pads to 10 KiB); far more is no tar's.
    static let maxPadding: Int64 = 1 << 20

    /// Refuses unless every byte of the uncompressed stream from `end` (where
    /// libarchive's tar reader stopped, after one or two zero blocks) is zero:
    /// npm's and yarn's readers go on past a lone zero block, so entries after
    /// one were installed without Bouncer seeing them (red team).
    static func check(fd: Int32, name: String, end: Int64) throws(ArchiveError) {
        guard let raw = archive_read_new() else { throw .io(bouncer_archive_load_error().map { String(cString: $0) } ?? "libarchive: out of memory") }
        defer { archive_read_free(raw) }
        ArchiveReader.enableFilters(raw)
        archive_read_support_format_raw(raw)
        func failure() -> ArchiveError {
            .unreadable(archive: name, entry: nil, reason: "tar structure: cannot read the stream again: " + (archive_error_string(raw).map { String(cString: $0) } ?? "unknown libarchive error"))
        }
        let source = PreadSource(fd: fd)
        try withExtendedLifetime(source) { () throws(ArchiveError) in
            guard archive_read_open(raw, Unmanaged.passUnretained(source).toOpaque(), nil, preadRead, nil) == ARCHIVE_OK else { throw failure() }
            var entry: OpaquePointer? = nil
            guard archive_read_next_header(raw, &entry) == ARCHIVE_OK else { throw failure() }
            while true {
                var buffer: UnsafeRawPointer? = nil
                var size = 0
                var offset: Int64 = 0
                let status = archive_read_data_block(raw, &buffer, &size, &offset)
                if status == ARCHIVE_EOF { return }
                guard status == ARCHIVE_OK, offset >= 0, size >= 0 else { throw failure() }
                guard let buffer, size > 0 else { continue }
                let blockEnd = offset + Int64(size)
                guard blockEnd > end else { continue }
                let bytes = UnsafeRawBufferPointer(start: buffer, count: size)
                let from = Int(max(0, end - offset))
                if let index = bytes[from...].firstIndex(where: { $0 != 0 }) {
                    throw .unreadable(archive: name, entry: nil, reason: "tar structure: a non-zero byte at offset \(offset + Int64(index)) of the uncompressed tar, after the zero blocks that end it for libarchive (at offset \(end)): npm's and yarn's tar readers read on past a zero block, so they would install entries Bouncer does not see")
                }
                if blockEnd - end > maxPadding {
                    throw .unreadable(archive: name, entry: nil, reason: "tar structure: more than \(maxPadding) bytes of zeros after the end of the archive at offset \(end)")
                }
            }
        }
    }
}

/// Reads a file from its start with pread, leaving the descriptor's offset alone.
private final class PreadSource {
    let fd: Int32
    var offset: Int64 = 0
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 128 << 10, alignment: 16)
    init(fd: Int32) { self.fd = fd }
    deinit { buffer.deallocate() }
}

private let preadRead: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, UnsafeMutablePointer<UnsafeRawPointer?>?) -> la_ssize_t = { _, context, out in
    guard let context, let out else { return -1 }
    let source = Unmanaged<PreadSource>.fromOpaque(context).takeUnretainedValue()
    let count = pread(source.fd, source.buffer.baseAddress, source.buffer.count, off_t(source.offset))
    guard count >= 0 else { return -1 }
    source.offset += Int64(count)
    out.pointee = UnsafeRawPointer(source.buffer.baseAddress)
    return la_ssize_t(count)
}
