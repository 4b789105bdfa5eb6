#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BouncerBase
import BouncerIO

/// The data a signature covers: bytes in memory, or a file read in chunks
/// (so a multi-gigabyte image is verified in bounded memory). Text
/// signatures (0x01) see it with line endings canonicalised to CRLF.
enum PGPSignedData {
    case bytes([UInt8])
    case file(path: String)
    /// The signed text of a cleartext message, fed from the message itself.
    case cleartext(ClearsignedParts)

    /// One pass over the data: `binary` hashers get the bytes as they are,
    /// `text` hashers their canonical form.
    @discardableResult
    func feed(binary: [Hasher], text: [Hasher]) throws(BouncerError) -> UInt64 {
        var total: UInt64 = 0
        var canonicalizer = TextCanonicalizer()
        func consume(_ chunk: UnsafeRawBufferPointer) {
            total += UInt64(chunk.count)
            for hasher in binary { hasher.update(chunk) }
            guard !text.isEmpty else { return }
            canonicalizer.process(chunk) { piece in for hasher in text { hasher.update(piece) } }
        }
        switch self {
        case .bytes(let bytes):
            bytes.withUnsafeBytes { consume($0) }
        case .cleartext(let parts):
            // Canonical already (ClearsignedParts.feedSignedText): binary and
            // text hashers see the same bytes, with no canonicalising pass.
            return parts.feedSignedText(binary + text)
        case .file(let path):
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw .io("cannot open \(path): \(errnoDescription())") }
            defer { close(fd) }
            let size = 1 << 20
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
            defer { buffer.deallocate() }
            while true {
                let count = read(fd, buffer.baseAddress, size)
                if count == 0 { break }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw .io("cannot read \(path): \(errnoDescription())")
                }
                consume(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            }
        }
        canonicalizer.finish()
        return total
    }
}

/// Canonical text for type 0x01 signatures, streaming, as GnuPG makes it
/// (RFC 9580 §5.2.1.2 says "line endings converted to CRLF"; interop tests
/// pin down GnuPG's reading, which formats.md §2.7 states differently):
/// every line ending in LF loses any CRs before the LF and ends in CRLF; a
/// CR elsewhere is kept; CRs at the very end of the data are dropped.
/// State carries across chunks and output is buffered in bounded pieces,
/// so neither a split CRLF nor a run of a billion CRs changes the result
/// or the memory used.
struct TextCanonicalizer {
    private var pendingCRs = 0
    private var buffer: [UInt8] = []
    private static let flushSize = 1 << 16

    mutating func process(_ chunk: UnsafeRawBufferPointer, sink: ([UInt8]) -> Void) {
        buffer.reserveCapacity(Self.flushSize + 2)
        for byte in chunk {
            switch byte {
            case 0x0d:
                pendingCRs += 1
                continue
            case 0x0a:
                pendingCRs = 0
                buffer.append(0x0d)
            default:
                while pendingCRs > 0 {
                    buffer.append(0x0d)
                    pendingCRs -= 1
                    if buffer.count >= Self.flushSize { sink(buffer); buffer.removeAll(keepingCapacity: true) }
                }
            }
            buffer.append(byte)
            if buffer.count >= Self.flushSize { sink(buffer); buffer.removeAll(keepingCapacity: true) }
        }
        if !buffer.isEmpty { sink(buffer); buffer.removeAll(keepingCapacity: true) }
    }

    /// End of data: trailing CRs are not part of the text.
    mutating func finish() {
        pendingCRs = 0
    }
}
