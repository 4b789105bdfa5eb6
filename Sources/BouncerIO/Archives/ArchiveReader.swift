import CArchive
import CArchiveShims
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase

/// Streams the entries of an archive through libarchive with bounded memory:
/// headers one at a time, data in blocks. Only the formats Bouncer needs are
/// enabled (tar in its ustar/pax/GNU forms, zip, ar) with the gzip, xz,
/// bzip2, zstd and lz4 filters; anything else is "not a readable archive".
///
/// Every data byte handed out is counted against `ArchiveLimits`, so both
/// unpacking and inspection stop a decompression bomb early.
public final class ArchiveReader {
    public let name: String
    public let limits: ArchiveLimits
    private let archive: OpaquePointer
    private var ownedFD: Int32 = -1
    private var stream: StreamContext?
    public private(set) var entryCount = 0
    public private(set) var totalBytes: UInt64 = 0
    private var current: ArchiveEntry?
    /// The full length of the current entry when it is a sparse file, whose
    /// last hole libarchive does not report as a block.
    private var sparseLength: Int64?
    /// A regular file's descriptor and size, for checking a zip's structure (ZipStructure).
    private var seekableFile: (fd: Int32, size: Int64)?
    /// A zip's entry names as its central directory stores them, once checked.
    private var storedNames: Set<String>?
    /// How many entries a zip's central directory holds, once checked.
    private var storedCount: Int?
    /// Where each tar entry's header chain lies in the uncompressed stream.
    private var headerChains: [Range<Int64>] = []
    /// What npm's tar reader alone would read otherwise (TarTrailer), known at the end: the
    /// inspector refuses it for an npm package.
    public private(set) var npmOnlyProblems: [ArchiveError] = []

    /// Reads the archive file at `path`. A file that cannot be opened is an I/O error.
    public convenience init(path: String, limits: ArchiveLimits = .defaults) throws(ArchiveError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io("cannot open \(path): \(errnoDescription())") }
        var info = stat()
        if fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw .io("cannot read \(path): it is a directory")
        }
        do {
            try self.init(fd: fd, name: path, limits: limits)
        } catch {
            close(fd)
            throw error
        }
        ownedFD = fd
    }

    /// Reads from an open descriptor (a file or a pipe); the caller keeps ownership.
    public init(fd: Int32, name: String, limits: ArchiveLimits = .defaults) throws(ArchiveError) {
        self.name = name
        self.limits = limits
        guard let archive = archive_read_new() else { throw .io(bouncer_archive_load_error().map { String(cString: $0) } ?? "libarchive: out of memory") }
        self.archive = archive
        var info = stat()
        let seekable = fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
        if seekable { seekableFile = (fd, Int64(info.st_size)) }
        Self.enableFormats(archive, seekable: seekable)
        guard archive_read_open_fd(archive, fd, 128 << 10) == ARCHIVE_OK else {
            let reason = Self.errorString(archive)
            throw .unreadable(archive: name, entry: nil, reason: reason)
        }
    }

    /// Reads from a byte source as it produces data (not seekable: zip is read
    /// from its local headers, since the central directory comes last).
    public init(source: ArchiveByteSource, name: String, limits: ArchiveLimits = .defaults) throws(ArchiveError) {
        self.name = name
        self.limits = limits
        guard let archive = archive_read_new() else { throw .io(bouncer_archive_load_error().map { String(cString: $0) } ?? "libarchive: out of memory") }
        self.archive = archive
        Self.enableFormats(archive, seekable: false)
        let context = StreamContext(source)
        stream = context
        let status = archive_read_open(archive, Unmanaged.passUnretained(context).toOpaque(), nil, streamRead, nil)
        guard status == ARCHIVE_OK else {
            if let failure = context.failure { throw .io("\(name): cannot read input: \(failure)") }
            throw .unreadable(archive: name, entry: nil, reason: Self.errorString(archive))
        }
    }

    // Also runs when an initializer throws after `archive` is set, so the
    // failure paths above must not free it themselves.
    deinit {
        archive_read_free(archive)
        if ownedFD >= 0 { close(ownedFD) }
    }

    static func enableFilters(_ archive: OpaquePointer) {
        archive_read_support_filter_gzip(archive)
        archive_read_support_filter_bzip2(archive)
        archive_read_support_filter_xz(archive)
        archive_read_support_filter_lzma(archive)
        archive_read_support_filter_zstd(archive)
        archive_read_support_filter_lz4(archive)
    }

    private static func enableFormats(_ archive: OpaquePointer, seekable: Bool) {
        enableFilters(archive)
        archive_read_support_format_tar(archive)
        archive_read_support_format_gnutar(archive)
        archive_read_support_format_ar(archive)
        // The seekable reader trusts the central directory, which is what
        // pip and the JVM read; a stream only has the local headers.
        if seekable {
            archive_read_support_format_zip_seekable(archive)
        } else {
            archive_read_support_format_zip_streamable(archive)
        }
    }

    /// The next entry header, or nil at the end of the archive. Counts the
    /// entry against `maxEntries`; unread data of the previous entry is skipped.
    public func next() throws(ArchiveError) -> ArchiveEntry? {
        // Where a tar entry's headers start: after the previous entry's data, which
        // libarchive would skip first anyway (only then: skipping in another state is fatal).
        if container == .tar, entryCount > 0 { archive_read_data_skip(archive) }
        let chainStart = archive_filter_bytes(archive, 0)
        var pointer: OpaquePointer? = nil
        let status = archive_read_next_header(archive, &pointer)
        if status == ARCHIVE_EOF {
            // Every entry Python's zipfile sees must have been read (libarchive can find none).
            if container == .zip, let file = seekableFile {
                let stored: Int
                if let counted = storedCount { stored = counted } else { stored = try screenStoredNames(file) }
                guard stored == entryCount else {
                    throw .unreadable(archive: name, entry: nil, reason: "zip structure: libarchive read \(entryCount) entries where the central directory holds \(stored) (Bouncer and the installer could read different files)")
                }
            }
            // What follows libarchive's end of a tar must be padding (TarTrailer). A pipe
            // cannot be read twice; the gate always reads files.
            if container == .tar, let file = seekableFile {
                let end = archive_filter_bytes(archive, 0)
                npmOnlyProblems = try TarTrailer.check(fd: file.fd, name: name, end: end, chains: headerChains + [chainStart..<end])
            }
            return nil
        }
        guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let pointer else {
            let error = failure(entry: nil, fallback: "corrupt entry header")
            // The header that failed has no name yet: say where it sits instead.
            if case .unreadable(let archive, nil, let reason) = error, let previous = current?.path {
                throw .unreadable(archive: archive, entry: nil, reason: "\(reason) (after entry '\(quoted(previous))')")
            }
            throw error
        }
        if entryCount == 0, container == .zip, let file = seekableFile { storedCount = try screenStoredNames(file) }
        let entry = Self.copy(pointer)
        // Every header libarchive read, which TarTrailer reads again for what node-tar reads otherwise.
        let chainEnd = archive_filter_bytes(archive, 0)
        if container == .tar, seekableFile != nil, chainEnd - chainStart >= 512 { headerChains.append(chainStart..<chainEnd) }
        // libarchive names each entry as stored, or it read something Python's zipfile does not
        // (a directory per the attributes gets a `/` added; a name decoded from another charset).
        if let storedNames, !storedNames.contains(entry.path) {
            throw .unreadable(archive: name, entry: entry.path, reason: "zip structure: libarchive reads this entry under a name the central directory does not store (Bouncer and the installer could read different files)")
        }
        current = entry
        sparseLength = archive_entry_sparse_count(pointer) > 0 ? entry.size : nil
        entryCount += 1
        if entryCount > limits.maxEntries { throw .tooManyEntries(limit: limits.maxEntries, entry: entry.path) }
        return entry
    }

    /// Streams the current entry's data to `body` as (bytes, offset) blocks.
    /// Offsets can skip ahead over holes of sparse files, and an empty block
    /// may mark the end of a trailing hole; holes count toward the limits
    /// like written bytes (a sparse file is a classic bomb).
    public func readBlocks(_ body: (UnsafeRawBufferPointer, Int64) throws(ArchiveError) -> Void) throws(ArchiveError) {
        let entryName = current?.path ?? "?"
        var end: Int64 = 0
        while true {
            var buffer: UnsafeRawPointer? = nil
            var size = 0
            var offset: Int64 = 0
            let status = archive_read_data_block(archive, &buffer, &size, &offset)
            if status == ARCHIVE_EOF {
                // A trailing hole: report the length as an empty block at the end.
                if let length = sparseLength, length > end {
                    try account(UInt64(length - end), entry: entryName)
                    try body(UnsafeRawBufferPointer(start: nil, count: 0), length)
                }
                return
            }
            // A zip entry's wrong CRC or size is only a warning to libarchive, which hands out the
            // whole stream, while Python cuts it to the stated size: refused, not read past.
            guard status == ARCHIVE_OK || (status == ARCHIVE_WARN && container != .zip) else {
                throw failure(entry: entryName, fallback: "corrupt data")
            }
            guard offset >= 0, size >= 0 else {
                throw .unreadable(archive: name, entry: entryName, reason: "negative data offset")
            }
            let blockEnd = offset.addingReportingOverflow(Int64(size))
            guard !blockEnd.overflow else { throw .unreadable(archive: name, entry: entryName, reason: "data offset overflows") }
            if blockEnd.partialValue > end {
                try account(UInt64(blockEnd.partialValue - end), entry: entryName)
                end = blockEnd.partialValue
            }
            if size > 0, let buffer {
                try body(UnsafeRawBufferPointer(start: buffer, count: size), offset)
            } else if size == 0 {
                try body(UnsafeRawBufferPointer(start: nil, count: 0), offset)
            }
        }
    }

    /// Streams the data contiguously, holes filled with zeros (for hashing).
    public func readContiguous(_ body: (UnsafeRawBufferPointer) throws(ArchiveError) -> Void) throws(ArchiveError) {
        var position: Int64 = 0
        let zeros = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        zeros.initializeMemory(as: UInt8.self, repeating: 0)
        defer { zeros.deallocate() }
        try readBlocks { (block, offset) throws(ArchiveError) in
            while position < offset {
                let gap = Int(min(Int64(zeros.count), offset - position))
                try body(UnsafeRawBufferPointer(rebasing: zeros[0..<gap]))
                position += Int64(gap)
            }
            if block.count > 0 {
                try body(block)
                position = offset + Int64(block.count)
            }
        }
    }

    /// Compressed bytes consumed so far from the input.
    public var compressedBytes: UInt64 { UInt64(max(0, archive_filter_bytes(archive, -1))) }

    /// The outermost compression, e.g. "gzip", or "none".
    public var compression: String {
        guard let text = archive_filter_name(archive, 0) else { return "none" }
        return String(cString: text)
    }

    /// Every compression layer, e.g. ["gzip"]; empty for an uncompressed archive.
    public var filters: [String] {
        (0..<max(0, archive_filter_count(archive))).compactMap { index in
            archive_filter_name(archive, index).map { String(cString: $0) }
        }.filter { $0 != "none" }
    }

    public enum Container: String, Sendable { case tar, zip, ar, other }

    /// The container family (known after the first header).
    public var container: Container {
        switch archive_format(archive) & ARCHIVE_FORMAT_BASE_MASK {
        case ARCHIVE_FORMAT_TAR: .tar
        case ARCHIVE_FORMAT_ZIP: .zip
        case ARCHIVE_FORMAT_AR: .ar
        default: .other
        }
    }

    /// The container format, e.g. "POSIX pax interchange format" (known after the first header).
    public var formatName: String {
        guard let text = archive_format_name(archive) else { return "unknown" }
        return String(cString: text)
    }

    /// Refuses, before any entry is handed out, a zip that libarchive and
    /// Python's zipfile (pip, uv) would read apart (ZipStructure), or whose
    /// stored names hold a backslash or NUL: libarchive turns a DOS-made
    /// `x\y.pth` into `x/y.pth`, which pip installs as the top-level `x\y.pth`;
    /// or that holds a folder entry carrying bytes (ZipStructure.folderCarriesData).
    /// (A zip read from a pipe has no central directory to read here; the
    /// gate always reads files.)
    private func screenStoredNames(_ file: (fd: Int32, size: Int64)) throws(ArchiveError) -> Int {
        switch ZipStructure.entries(fd: file.fd, size: file.size) {
        case .failure(.noEndRecord):
            throw .unreadable(archive: name, entry: nil, reason: "no end of central directory record")
        case .failure(.bad(let why)):
            throw .unreadable(archive: name, entry: nil, reason: "zip structure: \(why) (Bouncer and the installer could read different files)")
        case .success(let entries):
            for entry in entries {
                let stored = entry.name
                let shown = String(decoding: stored, as: UTF8.self)
                if stored.contains(UInt8(ascii: "\\")) { throw .unsafePath(entry: shown, reason: "backslash in path") }
                if stored.contains(0) { throw .unsafePath(entry: shown, reason: "NUL byte in path") }
                if ZipStructure.folderCarriesData(entry) {
                    throw .unsafePath(entry: shown, reason: "a folder entry (its name ends in '/') carrying \(entry.size) bytes (\(entry.compressedSize) compressed): "
                        + "Bouncer reads an empty folder where Python's zipfile reads the bytes, which pip takes for the file '\(quoted(String(shown.dropLast())))' in a .dist-info folder")
                }
            }
            storedNames = Set(entries.map { String(decoding: $0.name, as: UTF8.self) })
            return entries.count
        }
    }

    private func account(_ bytes: UInt64, entry: String) throws(ArchiveError) {
        let (sum, overflow) = totalBytes.addingReportingOverflow(bytes)
        totalBytes = overflow ? UInt64.max : sum
        if totalBytes > limits.maxTotalBytes { throw .tooLarge(limit: limits.maxTotalBytes, entry: entry, unpacked: totalBytes) }
        if totalBytes > limits.ratioGraceBytes {
            let compressed = compressedBytes
            if Double(totalBytes) > limits.maxRatio * Double(max(compressed, 1)) {
                throw .ratioExceeded(limit: limits.maxRatio, entry: entry, unpacked: totalBytes, compressed: compressed)
            }
        }
    }

    private func failure(entry: String?, fallback: String) -> ArchiveError {
        if let streamFailure = stream?.failure {
            return .io("\(name): cannot read input: \(streamFailure)")
        }
        let message = Self.errorString(archive)
        // libarchive reports read(2) failures with an errno of its own.
        let number = archive_errno(archive)
        if number == EIO || number == EBADF || number == EISDIR {
            return .io("\(name): \(message)")
        }
        return .unreadable(archive: name, entry: entry, reason: message.isEmpty ? fallback : message)
    }

    private static func errorString(_ archive: OpaquePointer) -> String {
        guard let text = archive_error_string(archive) else { return "unknown libarchive error" }
        return String(cString: text)
    }

    private static func copy(_ pointer: OpaquePointer) -> ArchiveEntry {
        let (path, valid) = text(archive_entry_pathname_utf8(pointer), archive_entry_pathname(pointer))
        var entry = ArchiveEntry(path: path, kind: kind(archive_entry_filetype(pointer)))
        entry.nameIsUTF8 = valid
        entry.mode = UInt32(archive_entry_mode(pointer)) & 0o7777
        if archive_entry_size_is_set(pointer) != 0 { entry.size = archive_entry_size(pointer) }
        if archive_entry_mtime_is_set(pointer) != 0 { entry.modificationTime = Int64(archive_entry_mtime(pointer)) }
        entry.isEncrypted = archive_entry_is_encrypted(pointer) != 0
        if archive_entry_hardlink(pointer) != nil || archive_entry_hardlink_utf8(pointer) != nil {
            entry.kind = .hardlink
            entry.linkTarget = text(archive_entry_hardlink_utf8(pointer), archive_entry_hardlink(pointer)).0
        } else if entry.kind == .symlink {
            entry.linkTarget = text(archive_entry_symlink_utf8(pointer), archive_entry_symlink(pointer)).0
        }
        return entry
    }

    /// Prefers the UTF-8 form; falls back to the raw bytes, decoded lossily
    /// (and flagged) when they are not UTF-8.
    private static func text(_ utf8: UnsafePointer<CChar>?, _ raw: UnsafePointer<CChar>?) -> (String, Bool) {
        if let utf8, let decoded = String(validatingCString: utf8) { return (decoded, true) }
        guard let raw else { return ("", true) }
        if let decoded = String(validatingCString: raw) { return (decoded, true) }
        return (String(cString: raw), false)
    }

    private static func kind(_ type: mode_t) -> ArchiveEntry.Kind {
        // The AE_IF* macros carry a cast, so Swift cannot import them; values from archive_entry.h.
        switch UInt32(type) & 0o170000 {
        case 0o100000: .file
        case 0o040000: .directory
        case 0o120000: .symlink
        case 0o020000: .characterDevice
        case 0o060000: .blockDevice
        case 0o010000: .fifo
        case 0o140000: .socket
        default: .unknown
        }
    }
}

/// Holds the byte source and its buffer for the C read callback.
private final class StreamContext {
    let source: ArchiveByteSource
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 128 << 10, alignment: 16)
    var failure: Error?

    init(_ source: ArchiveByteSource) { self.source = source }
    deinit { buffer.deallocate() }
}

private let streamRead: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, UnsafeMutablePointer<UnsafeRawPointer?>?) -> la_ssize_t = { _, context, out in
    guard let context, let out else { return -1 }
    let stream = Unmanaged<StreamContext>.fromOpaque(context).takeUnretainedValue()
    do {
        let count = try stream.source.read(into: stream.buffer)
        out.pointee = UnsafeRawPointer(stream.buffer.baseAddress)
        return la_ssize_t(max(0, min(count, stream.buffer.count)))
    } catch {
        stream.failure = error
        return -1
    }
}
