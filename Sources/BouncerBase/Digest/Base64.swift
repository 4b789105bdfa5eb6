/// RFC 4648 base64, standard and URL-safe alphabets. Decoding is strict:
/// padding must be right and no character outside the alphabet is accepted
/// (whitespace included), so one digest has exactly one accepted spelling
/// apart from the unused low bits, which must be zero.
public enum Base64 {
    private static let standard = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let urlSafe = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    public enum Alphabet: Sendable { case standard, urlSafe }

    public static func encode(_ bytes: [UInt8], alphabet: Alphabet = .standard, padding: Bool = true) -> String {
        let table = alphabet == .standard ? standard : urlSafe
        var out = [UInt8]()
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= bytes.count {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            out.append(table[Int(n >> 18 & 63)]); out.append(table[Int(n >> 12 & 63)])
            out.append(table[Int(n >> 6 & 63)]); out.append(table[Int(n & 63)])
            index += 3
        }
        let rest = bytes.count - index
        if rest == 1 {
            let n = UInt32(bytes[index]) << 16
            out.append(table[Int(n >> 18 & 63)]); out.append(table[Int(n >> 12 & 63)])
            if padding { out.append(UInt8(ascii: "=")); out.append(UInt8(ascii: "=")) }
        } else if rest == 2 {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            out.append(table[Int(n >> 18 & 63)]); out.append(table[Int(n >> 12 & 63)])
            out.append(table[Int(n >> 6 & 63)])
            if padding { out.append(UInt8(ascii: "=")) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Why `decode` refuses `text` (nil when it would decode): the first
    /// character outside the alphabet and its offset, a length that cannot be
    /// base64, misplaced padding, or a last character whose unused low bits are
    /// not zero (a non-canonical encoding, refused because two texts would
    /// then decode to the same bytes).
    public static func invalidReason(_ text: String, alphabet: Alphabet = .standard, padding: Bool = true) -> String? {
        guard decode(text, alphabet: alphabet, padding: padding) == nil else { return nil }
        let chars = Array(text.utf8)
        let table = Set(alphabet == .standard ? standard : urlSafe)
        let pad = UInt8(ascii: "=")
        var dataEnd = chars.count
        while dataEnd > 0, chars[dataEnd - 1] == pad { dataEnd -= 1 }
        for (offset, c) in chars.enumerated() where !table.contains(c) {
            if c == pad, offset >= dataEnd { continue }
            let shown = c >= 0x21 && c < 0x7f ? "'\(Character(Unicode.Scalar(c)))'" : "byte 0x" + Hex.encode([c])
            return "\(shown) at offset \(offset) is not a base64 character"
        }
        let pads = chars.count - dataEnd
        if !padding, pads > 0 { return "padding '=' is not allowed here" }
        if pads > 2 { return "\(pads) padding characters (at most 2)" }
        if dataEnd % 4 == 1 { return "\(dataEnd) base64 characters cannot encode whole bytes" }
        if padding, chars.count % 4 != 0 { return "length \(chars.count) is not a multiple of 4" }
        if let last = chars[..<dataEnd].last {
            return "the last character '\(Character(Unicode.Scalar(last)))' carries non-zero unused bits (a non-canonical encoding)"
        }
        return "not base64"
    }

    /// Decodes; `padding: true` requires `=` padding to a multiple of 4,
    /// `false` forbids it. Returns nil on any deviation.
    public static func decode(_ text: String, alphabet: Alphabet = .standard, padding: Bool = true) -> [UInt8]? {
        var chars = Array(text.utf8)
        if padding {
            guard chars.count % 4 == 0 else { return nil }
            var pads = 0
            while pads < 2, chars.last == UInt8(ascii: "=") { chars.removeLast(); pads += 1 }
        } else if chars.contains(UInt8(ascii: "=")) {
            return nil
        }
        guard chars.count % 4 != 1 else { return nil }
        let (c62, c63): (UInt8, UInt8) = alphabet == .standard
            ? (UInt8(ascii: "+"), UInt8(ascii: "/")) : (UInt8(ascii: "-"), UInt8(ascii: "_"))
        var values = [UInt8]()
        values.reserveCapacity(chars.count)
        for c in chars {
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): values.append(c - 65)
            case UInt8(ascii: "a")...UInt8(ascii: "z"): values.append(c - 97 + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): values.append(c - 48 + 52)
            case c62: values.append(62)
            case c63: values.append(63)
            default: return nil
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(values.count * 3 / 4)
        var index = 0
        while index + 4 <= values.count {
            let n = UInt32(values[index]) << 18 | UInt32(values[index + 1]) << 12
                | UInt32(values[index + 2]) << 6 | UInt32(values[index + 3])
            out.append(UInt8(n >> 16 & 0xff)); out.append(UInt8(n >> 8 & 0xff)); out.append(UInt8(n & 0xff))
            index += 4
        }
        let rest = values.count - index
        if rest == 2 {
            guard values[index + 1] & 0x0f == 0 else { return nil }
            out.append(values[index] << 2 | values[index + 1] >> 4)
        } else if rest == 3 {
            guard values[index + 2] & 0x03 == 0 else { return nil }
            out.append(values[index] << 2 | values[index + 1] >> 4)
            out.append((values[index + 1] & 0x0f) << 4 | values[index + 2] >> 2)
        }
        return out
    }
}
