import BouncerBase
import BouncerIO
/// A bounds-checked reader for the SSH wire encoding (RFC 4251 §5): `byte`,
/// `uint32`, `string` (u32 length || bytes) and `mpint`. Every read checks
/// the remaining length first, so a huge declared length is an error, never
/// an allocation or a trap.
struct SSHWireReader {
    struct Failure: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { offset >= bytes.count }
    private var remaining: Int { bytes.count - offset }

    mutating func raw(_ count: Int, _ what: String) throws(Failure) -> [UInt8] {
        guard count >= 0, count <= remaining else {
            throw Failure("\(what): needs \(count) bytes, only \(remaining) left")
        }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    mutating func byte(_ what: String) throws(Failure) -> UInt8 {
        try raw(1, what)[0]
    }

    mutating func uint32(_ what: String) throws(Failure) -> UInt32 {
        try raw(4, what).reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func string(_ what: String) throws(Failure) -> [UInt8] {
        let length = try uint32("\(what) length")
        guard length <= UInt32(remaining) else {
            throw Failure("\(what): declared length \(length) is past the end (\(remaining) bytes left)")
        }
        return try raw(Int(length), what)
    }

    /// A string that must be printable ASCII (algorithm names, namespaces).
    mutating func name(_ what: String) throws(Failure) -> String {
        let value = try string(what)
        guard value.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) else {
            throw Failure("\(what) is not printable ASCII")
        }
        return String(decoding: value, as: UTF8.self)
    }

    /// A non-negative `mpint`, returned as its big-endian magnitude without
    /// leading zero bytes.
    mutating func mpint(_ what: String) throws(Failure) -> [UInt8] {
        let value = try string(what)
        if let first = value.first, first & 0x80 != 0 { throw Failure("\(what) is negative") }
        return Array(value.drop(while: { $0 == 0 }))
    }

    func expectEnd(_ what: String) throws(Failure) {
        guard isAtEnd else { throw Failure("\(remaining) unexpected bytes after \(what)") }
    }

    /// Encodes `bytes` as an SSH `string`.
    static func encodeString(_ bytes: [UInt8]) -> [UInt8] {
        let n = UInt32(truncatingIfNeeded: bytes.count)
        return [UInt8(n >> 24 & 0xff), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + bytes
    }
}
