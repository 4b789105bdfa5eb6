import BouncerBase

/// The `Requires-Dist` fields of a wheel's core metadata (`*.dist-info/METADATA`,
/// or the PEP 658 `.metadata` file an index serves beside it), read as pip
/// reads them: the header section only, folded lines unfolded.
public enum WheelMetadata {
    /// Each `Requires-Dist` value, whitespace-trimmed.
    public static func requirements(_ bytes: [UInt8]) -> [String] {
        var values: [String] = []
        var current: String? = nil
        func finish() {
            if let field = current, let colon = field.firstIndex(of: ":"),
               field[..<colon].trimmingSpaces().lowercased() == "requires-dist" {
                values.append(String(field[field.index(after: colon)...]).trimmingSpaces())
            }
            current = nil
        }
        // Lines split as bytes: in a Swift String "\r\n" is one Character, not a "\n".
        for raw in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            let line = String(decoding: raw.last == 0x0D ? raw.dropLast() : raw, as: UTF8.self)
            if line.isEmpty { break }   // the body (the description) starts here
            if let first = line.utf8.first, first == 0x20 || first == 0x09 {
                // A folded line continues the field before it (RFC 822, as Python's email parser reads it).
                current = current.map { $0 + " " + line.trimmingSpaces() }
                continue
            }
            finish()
            current = line
        }
        finish()
        return values
    }

    /// The requirements that name where to get them (PEP 508's `name [extras] @ URL`):
    /// pip fetches such a URL itself, from wherever it points, past any index.
    public static func directReferences(_ bytes: [UInt8]) -> [String] {
        requirements(bytes).filter(isDirectReference)
    }

    static func isDirectReference(_ requirement: String) -> Bool {
        var rest = Substring(requirement)
        rest = rest.drop { $0 == " " || $0 == "\t" }
        rest = rest.drop { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") }
        rest = rest.drop { $0 == " " || $0 == "\t" }
        if rest.first == "[", let close = rest.firstIndex(of: "]") { rest = rest[rest.index(after: close)...] }
        rest = rest.drop { $0 == " " || $0 == "\t" }
        return rest.first == "@"
    }
}
