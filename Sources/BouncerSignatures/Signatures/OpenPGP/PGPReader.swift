import BouncerBase
import BouncerIO
/// A bounds-checked big-endian reader over bytes from outside. Every read
/// checks the remaining length first, so no input can trap or over-allocate.
struct PGPReader {
    private let bytes: [UInt8]
    private(set) var position: Int
    let end: Int
    /// Offset of `bytes[0]` in the enclosing input, for messages.
    let baseOffset: Int
    /// What is being read ("signature packet at offset 12"), for messages.
    let context: String

    init(_ bytes: [UInt8], context: String, baseOffset: Int = 0) {
        self.bytes = bytes
        self.position = 0
        self.end = bytes.count
        self.baseOffset = baseOffset
        self.context = context
    }

    var remaining: Int { end - position }
    var isAtEnd: Bool { position >= end }
    /// The absolute offset of the next byte.
    var offset: Int { baseOffset + position }

    func truncated(_ what: String) -> OpenPGPError {
        .malformed("\(context): \(what) runs past the end (offset \(offset), \(remaining) bytes left)")
    }

    mutating func u8(_ what: String = "octet") throws(OpenPGPError) -> UInt8 {
        guard position < end else { throw truncated(what) }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func u16(_ what: String = "2-octet field") throws(OpenPGPError) -> Int {
        guard remaining >= 2 else { throw truncated(what) }
        defer { position += 2 }
        return Int(bytes[position]) << 8 | Int(bytes[position + 1])
    }

    mutating func u32(_ what: String = "4-octet field") throws(OpenPGPError) -> UInt32 {
        guard remaining >= 4 else { throw truncated(what) }
        defer { position += 4 }
        return UInt32(bytes[position]) << 24 | UInt32(bytes[position + 1]) << 16
            | UInt32(bytes[position + 2]) << 8 | UInt32(bytes[position + 3])
    }

    mutating func take(_ count: Int, _ what: String) throws(OpenPGPError) -> [UInt8] {
        guard count >= 0, count <= remaining else {
            throw .malformed("\(context): \(what) declares \(count) bytes but only \(remaining) remain (offset \(offset))")
        }
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }

    mutating func rest() -> [UInt8] {
        defer { position = end }
        return Array(bytes[position..<end])
    }

    /// An MPI: a 2-octet bit count and the big-endian magnitude. The bit count
    /// is taken leniently (many producers get it wrong) but must fit the input.
    mutating func mpi(_ what: String) throws(OpenPGPError) -> [UInt8] {
        let bits = try u16("\(what) bit count")
        return try take((bits + 7) / 8, what)
    }
}
