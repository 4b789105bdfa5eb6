import BouncerBase

/// The `Requires-Dist` fields of a wheel's core metadata (`*.dist-info/METADATA`,
/// or the PEP 658 `.metadata` file an index serves beside it), read as pip
/// reads them: the header section only, folded lines unfolded.
public enum WheelMetadata {
    /// Each `Requires-Dist` requirement as either of pip's metadata readers
    /// takes it, whitespace-trimmed: the value unfolded (importlib.metadata),
    /// and, when it holds a fold or another line break `str.splitlines` knows,
    /// each piece too (pkg_resources, pip's reader on Python 3.10 and older,
    /// splits there: a folded `victimdep` / ` evil @ URL` was the requirement
    /// `evil @ URL` to it, fetched past the proxy; red team, round 7).
    public static func requirements(_ bytes: [UInt8]) -> [String] {
        values(of: "requires-dist", in: bytes, fold: "\n").flatMap { value -> [String] in
            // Each piece as Python's str.strip() leaves it (U+001F too: `\u{1F}x @ URL` was `x @ URL`).
            let pieces = PythonText.splitLines(value).map(PythonText.stripped).filter { !$0.isEmpty }
            let unfolded = pieces.joined(separator: " ")
            return pieces.count > 1 ? [unfolded] + pieces : [unfolded]
        }
    }

    /// Each value of one header field (`name` lower-cased), whitespace-trimmed;
    /// a folded line joined to the one before with `fold`.
    public static func values(of name: String, in bytes: [UInt8], fold: String = " ") -> [String] {
        var values: [String] = []
        var current: String? = nil
        func finish() {
            if let field = current, let colon = field.firstIndex(of: ":"),
               field[..<colon].trimmingSpaces().lowercased() == name {
                values.append(String(field[field.index(after: colon)...]).trimmingSpaces())
            }
            current = nil
        }
        for raw in lines(bytes) {
            let line = String(decoding: raw, as: UTF8.self)
            if line.isEmpty { break }   // the body (the description) starts here
            if let first = line.utf8.first, first == 0x20 || first == 0x09 {
                // A folded line continues the field before it (RFC 822, as Python's email parser reads it).
                current = current.map { $0 + fold + line.trimmingSpaces() }
                continue
            }
            finish()
            current = line
        }
        finish()
        return values
    }

    /// Lines as Python's email parser splits them: at CRLF, a lone CR or LF
    /// (a CR alone hid `Requires-Dist` inside the field before it).
    static func lines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x0A || byte == 0x0D {
                lines.append(bytes[start..<index])
                index += byte == 0x0D && index + 1 < bytes.count && bytes[index + 1] == 0x0A ? 2 : 1
                start = index
            } else {
                index += 1
            }
        }
        lines.append(bytes[start..<bytes.count])
        return lines
    }

    /// The requirement lines of an egg-info style `requires.txt` (`[extra]` section headers and
    /// comments left out), which pip adds as `Requires-Dist` when METADATA names none.
    public static func eggRequirements(_ bytes: [UInt8]) -> [String] {
        lines(bytes).map { String(decoding: $0, as: UTF8.self).trimmingSpaces() }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") && !$0.hasPrefix("[") }
    }

    /// The requirements that name where to get them (PEP 508's `name [extras] @ URL`):
    /// pip fetches such a URL itself, from wherever it points, past any index.
    public static func directReferences(_ bytes: [UInt8]) -> [String] {
        requirements(bytes).filter(isDirectReference)
    }

    /// The project name a requirement starts with (PEP 508: letters, digits, `._-`).
    public static func projectName(_ requirement: String) -> Substring {
        requirement.drop { $0 == " " || $0 == "\t" }.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") }
    }

    public static func isDirectReference(_ requirement: String) -> Bool {
        var rest = requirement[projectName(requirement).endIndex...]
        rest = rest.drop { $0 == " " || $0 == "\t" }
        if rest.first == "[", let close = rest.firstIndex(of: "]") { rest = rest[rest.index(after: close)...] }
        rest = rest.drop { $0 == " " || $0 == "\t" }
        return rest.first == "@"
    }
}
