import BouncerBase
import BouncerIO
/// OLPC canonical JSON as securesystemslib writes it (formats.md §9.1), the
/// bytes TUF signatures cover: keys sorted by code point, no whitespace,
/// strings escaped only for `"` and `\` (everything else raw UTF-8),
/// integers only. This is not RFC 8785, which escapes control characters
/// and orders keys by UTF-16 units.
public enum CanonicalJSON {
    public struct NotCanonicalisable: Error, Equatable, CustomStringConvertible {
        public let path: String
        public var description: String { "\(path): a non-integer number cannot be canonical JSON" }
    }

    public static func encode(_ value: JSON) throws(NotCanonicalisable) -> [UInt8] {
        var out: [UInt8] = []
        try write(value, to: &out, path: "$")
        return out
    }

    private static func write(_ value: JSON, to out: inout [UInt8], path: String) throws(NotCanonicalisable) {
        switch value {
        case .null: out += Array("null".utf8)
        case .bool(let b): out += Array((b ? "true" : "false").utf8)
        case .integer(let n): out += Array(String(n).utf8)
        case .nonInteger: throw NotCanonicalisable(path: path)
        case .string(let s): writeString(s, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                try write(item, to: &out, path: "\(path)[\(index)]")
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            // UTF-8 byte order is code point order (Python's str sort);
            // Swift's String < compares canonical equivalence, which is not.
            let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (index, key) in keys.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                writeString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                if let member = members[key] { try write(member, to: &out, path: "\(path).\(key)") }
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func writeString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
            out.append(byte)
        }
        out.append(UInt8(ascii: "\""))
    }
}
