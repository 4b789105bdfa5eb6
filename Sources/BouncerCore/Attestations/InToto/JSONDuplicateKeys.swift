/// Finds a repeated member name in any JSON object. Parsers differ on which
/// duplicate wins, so a signed statement with duplicates is ambiguous and is
/// refused (formats.md §6.2). A single forward scan, depth-bounded, no
/// recursion; it assumes the bytes are otherwise valid JSON (checked later).
enum JSONDuplicateKeys {
    static let maxDepth = 256

    /// The first duplicated key as `path.key`, or nil when there is none.
    /// Throws nothing: a malformed document is left to the real parser.
    static func first(in bytes: [UInt8]) -> String? {
        // For each open container: nil for arrays, the keys seen for objects.
        var stack: [Set<[UInt8]>?] = []
        var names: [String] = []
        var expectingKey = false
        var index = 0
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "{"):
                guard stack.count < maxDepth else { return nil }
                stack.append([])
                names.append("")
                expectingKey = true
                index += 1
            case UInt8(ascii: "["):
                guard stack.count < maxDepth else { return nil }
                stack.append(nil)
                names.append("")
                expectingKey = false
                index += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if !stack.isEmpty { stack.removeLast(); names.removeLast() }
                expectingKey = false
                index += 1
            case UInt8(ascii: ","):
                // After a comma inside an object, the next string is a key.
                if let top = stack.last { expectingKey = top != nil }
                index += 1
            case UInt8(ascii: "\""):
                var end = index + 1
                var raw: [UInt8] = []
                while end < count, bytes[end] != UInt8(ascii: "\"") {
                    if bytes[end] == UInt8(ascii: "\\"), end + 1 < count {
                        raw.append(bytes[end]); end += 1
                    }
                    raw.append(bytes[end])
                    end += 1
                }
                if expectingKey, let last = stack.indices.last, stack[last] != nil {
                    // Escapes are compared as written: "\u0061" and "a" count as different
                    // here, but JSONSerialization then sees a duplicate; decode simple escapes.
                    let key = unescaped(raw)
                    if stack[last]?.contains(key) == true {
                        return names.joined(separator: ".") + "." + String(decoding: key, as: UTF8.self)
                    }
                    stack[last]?.insert(key)
                    names[last] = String(decoding: key, as: UTF8.self)
                    expectingKey = false
                }
                index = end + 1
            default:
                index += 1
            }
        }
        return nil
    }

    /// Decodes \uXXXX (BMP) and the one-letter escapes, so spelled-differently
    /// duplicates are still caught.
    private static func unescaped(_ raw: [UInt8]) -> [UInt8] {
        guard raw.contains(UInt8(ascii: "\\")) else { return raw }
        var out: [UInt8] = []
        var i = 0
        while i < raw.count {
            if raw[i] == UInt8(ascii: "\\"), i + 1 < raw.count {
                let c = raw[i + 1]
                if c == UInt8(ascii: "u"), i + 5 < raw.count,
                   let value = UInt32(String(decoding: raw[(i + 2)...(i + 5)], as: UTF8.self), radix: 16),
                   let scalar = Unicode.Scalar(value) {
                    out += Array(String(Character(scalar)).utf8)
                    i += 6
                    continue
                }
                switch c {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                default: out.append(c)
                }
                i += 2
            } else {
                out.append(raw[i])
                i += 1
            }
        }
        return out
    }
}
