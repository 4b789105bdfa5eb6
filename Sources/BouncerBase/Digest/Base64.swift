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
        var text = text
        return text.withUTF8 { decode(utf8: $0, alphabet: alphabet, padding: padding) }
    }

    /// As above, on the text's UTF-8 bytes.
    public static func decode(utf8 bytes: [UInt8], alphabet: Alphabet = .standard, padding: Bool = true) -> [UInt8]? {
        bytes.withUnsafeBufferPointer { decode(utf8: $0, alphabet: alphabet, padding: padding) }
    }

    // Each byte's 6-bit value, 0xFF for a byte outside the alphabet ('=' included).
    private static let standardValues = values(of: standard)
    private static let urlSafeValues = values(of: urlSafe)

    private static func values(of alphabet: [UInt8]) -> [UInt8] {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(value) }
        return table
    }

    static func decode(utf8 chars: UnsafeBufferPointer<UInt8>, alphabet: Alphabet, padding: Bool) -> [UInt8]? {
        let pad = UInt8(ascii: "=")
        var count = chars.count
        if padding {
            guard count % 4 == 0 else { return nil }
            var pads = 0
            while pads < 2, count > 0, chars[count - 1] == pad { count -= 1; pads += 1 }
        } else if chars.contains(pad) {
            return nil
        }
        guard count % 4 != 1 else { return nil }
        let table = alphabet == .standard ? standardValues : urlSafeValues
        var valid = true
        // One pass, four characters to three bytes; every index below is under
        // `count`, which is at most the buffer's length.
        let out = table.withUnsafeBufferPointer { table in
            [UInt8](unsafeUninitializedCapacity: count / 4 * 3 + 2) { out, written in
                var index = 0, at = 0
                while index + 4 <= count {
                    let a = table[Int(chars[index])], b = table[Int(chars[index + 1])]
                    let c = table[Int(chars[index + 2])], d = table[Int(chars[index + 3])]
                    guard (a | b | c | d) & 0x80 == 0 else { valid = false; written = 0; return }
                    let n = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                    out[at] = UInt8(n >> 16 & 0xff); out[at + 1] = UInt8(n >> 8 & 0xff); out[at + 2] = UInt8(n & 0xff)
                    at += 3
                    index += 4
                }
                // 0, 2 or 3 characters left (1 was refused above); the unused
                // low bits of the last one must be zero.
                let rest = count - index
                if rest > 0 {
                    let a = table[Int(chars[index])], b = table[Int(chars[index + 1])]
                    let c = rest == 3 ? table[Int(chars[index + 2])] : 0
                    guard (a | b | c) & 0x80 == 0, rest == 3 ? c & 0x03 == 0 : b & 0x0f == 0 else {
                        valid = false; written = 0; return
                    }
                    out[at] = a << 2 | b >> 4
                    at += 1
                    if rest == 3 {
                        out[at] = (b & 0x0f) << 4 | c >> 2
                        at += 1
                    }
                }
                written = at
            }
        }
        return valid ? out : nil
    }
}
