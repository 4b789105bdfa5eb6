/// PEM (RFC 7468) blocks: `-----BEGIN <label>-----`, base64 lines, `-----END <label>-----`.
public enum PEM {
    /// The DER bodies of every block with this label, in order. Malformed
    /// blocks are skipped (callers report "no block found").
    public static func decode(_ text: String, label: String) -> [[UInt8]] {
        let begin = "-----BEGIN \(label)-----"
        let end = "-----END \(label)-----"
        var blocks: [[UInt8]] = []
        var body: String? = nil
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = rawLine.trimmingCharacters(in: [" ", "\t", "\r"])
            if line == begin {
                body = ""
            } else if line == end {
                if let collected = body, let der = Base64.decode(collected), !der.isEmpty { blocks.append(der) }
                body = nil
            } else if body != nil {
                body? += line
            }
        }
        return blocks
    }

    public static func encode(_ der: [UInt8], label: String) -> String {
        let b64 = Array(Base64.encode(der).utf8)
        var lines: [String] = ["-----BEGIN \(label)-----"]
        var index = 0
        while index < b64.count {
            lines.append(String(decoding: b64[index..<min(index + 64, b64.count)], as: UTF8.self))
            index += 64
        }
        lines.append("-----END \(label)-----")
        return lines.joined(separator: "\n") + "\n"
    }
}

extension Substring {
    func trimmingCharacters(in set: Set<Character>) -> String {
        var slice = self[...]
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
