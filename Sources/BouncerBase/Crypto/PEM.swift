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
        let begin = "-----BEGIN \(label)-----"
        let end = "-----END \(label)-----"
        var blocks: [Block] = []
        var body: String? = nil
        var beginLine = 0
        var lineNumber = 0
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            let line = rawLine.trimming([" ", "\t", "\r"])
            if line == begin {
                if body != nil { blocks.append(.invalid(line: beginLine, why: "no END line before the next BEGIN line")) }
                body = ""
                beginLine = lineNumber
            } else if line == end {
                if let collected = body {
                    if let der = Base64.decode(collected), !der.isEmpty {
                        blocks.append(.der(der))
                    } else {
                        blocks.append(.invalid(line: beginLine, why: collected.isEmpty ? "the block is empty"
                                               : "the base64 inside is invalid: \(Base64.invalidReason(collected) ?? "it decodes to nothing")"))
                    }
                }
                body = nil
            } else if body != nil {
                body? += line
            }
        }
        if body != nil { blocks.append(.invalid(line: beginLine, why: "no '\(end)' line")) }
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
