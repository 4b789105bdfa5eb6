/// PEM (RFC 7468) blocks: `-----BEGIN <label>-----`, base64 lines, `-----END <label>-----`.
public enum PEM {
    /// One `-----BEGIN <label>-----` block: its DER body, or why it has none.
    public enum Block: Equatable, Sendable {
        case der([UInt8])
        /// The BEGIN line (1-based) and what is wrong with the base64 inside.
        case invalid(line: Int, why: String)
    }

    /// The DER bodies of every block with this label, in order. Malformed
    /// blocks are skipped (see `blocks` for why a block is malformed).
    public static func decode(_ text: String, label: String) -> [[UInt8]] {
        blocks(text, label: label).compactMap { if case .der(let der) = $0 { der } else { nil } }
    }

    /// Every block with this label, in order, malformed ones included, so a
    /// caller can say "the block is there but its base64 is invalid" rather
    /// than "no block found".
    public static func blocks(_ text: String, label: String) -> [Block] {
        // Over the bytes: every marker and base64 character is ASCII, and a
        // line ends at LF (any CR left before it is trimmed with the blanks).
        let begin = Array("-----BEGIN \(label)-----".utf8)
        let end = Array("-----END \(label)-----".utf8)
        let bytes = Array(text.utf8)
        func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D }
        var blocks: [Block] = []
        var body: [UInt8]? = nil
        var beginLine = 0
        for (index, range) in TextLines.ranges(bytes).enumerated() {
            let lineNumber = index + 1
            var first = range.lowerBound, last = range.upperBound
            while first < last, isBlank(bytes[first]) { first += 1 }
            while last > first, isBlank(bytes[last - 1]) { last -= 1 }
            let line = bytes[first..<last]
            if line.elementsEqual(begin) {
                if body != nil { blocks.append(.invalid(line: beginLine, why: "no END line before the next BEGIN line")) }
                body = []
                beginLine = lineNumber
            } else if line.elementsEqual(end) {
                if let collected = body {
                    if let der = Base64.decode(utf8: collected), !der.isEmpty {
                        blocks.append(.der(der))
                    } else {
                        let shown = String(decoding: collected, as: UTF8.self)
                        blocks.append(.invalid(line: beginLine, why: collected.isEmpty ? "the block is empty"
                                               : "the base64 inside is invalid: \(Base64.invalidReason(shown) ?? "it decodes to nothing")"))
                    }
                }
                body = nil
            } else if body != nil {
                body?.append(contentsOf: line)
            }
        }
        if body != nil { blocks.append(.invalid(line: beginLine, why: "no '\(String(decoding: end, as: UTF8.self))' line")) }
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
