import CArchive
import CArchiveShims
import BouncerBase

/// Compressed indexes (Packages.gz / .xz / .lz4 / .bz2 / .zst) read through
/// libarchive's filters with its "raw" format: one stream, no archive.
public enum CompressedIndex {
    /// Whether the bytes start with a compression magic number.
    public static func isCompressed(_ bytes: [UInt8]) -> Bool {
        let magics: [[UInt8]] = [
            [0x1F, 0x8B],                         // gzip
            [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00], // xz
            [0x04, 0x22, 0x4D, 0x18],             // lz4 frame
            [0x42, 0x5A, 0x68],                   // bzip2
            [0x28, 0xB5, 0x2F, 0xFD],             // zstd
        ]
        return magics.contains { bytes.starts(with: $0) }
    }

    /// Decompresses a whole stream, refusing output beyond `limit` bytes
    /// (a decompression bomb is the evidence's fault).
    public static func decompress(_ bytes: [UInt8], source: String, limit: Int = 1 << 30) throws(DecompressionError) -> [UInt8] {
        guard let archive = archive_read_new() else {
            throw DecompressionError(source: source, why: bouncer_archive_load_error().map { String(cString: $0) } ?? "libarchive is out of memory")
        }
        defer { archive_read_free(archive) }
        archive_read_support_filter_all(archive)
        archive_read_support_format_raw(archive)
        func failure() -> DecompressionError {
            let message = archive_error_string(archive).map { String(cString: $0) } ?? "unknown libarchive error"
            return DecompressionError(source: source, why: message)
        }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        // libarchive reads the input in place: everything happens inside this scope.
        let result: DecompressionError? = bytes.withUnsafeBytes { input -> DecompressionError? in
            guard archive_read_open_memory(archive, input.baseAddress, input.count) == ARCHIVE_OK else { return failure() }
            var entry: OpaquePointer? = nil
            guard archive_read_next_header(archive, &entry) == ARCHIVE_OK else { return failure() }
            guard archive_filter_count(archive) > 1 else {
                return DecompressionError(source: source, why: "not a compressed stream")
            }
            while true {
                let count = chunk.withUnsafeMutableBytes { archive_read_data(archive, $0.baseAddress, $0.count) }
                if count == 0 { return nil }
                if count < 0 { return failure() }
                guard output.count + count <= limit else {
                    return DecompressionError(source: source, why: "decompressed size exceeds \(limit) bytes")
                }
                output.append(contentsOf: chunk[0..<count])
            }
        }
        if let result { throw result }
        return output
    }
}

/// A compressed stream that could not be read (corrupt, truncated, or over
/// its limit): the evidence's fault, exit 1.
public struct DecompressionError: BouncerFailure, Equatable {
    public let source: String
    public let why: String

    public var family: ErrorFamily { .evidence }
    public var code: String { "decompression" }
    public var description: String { "\(source): cannot decompress: \(why)" }
}
