/// Text as Python's `str` methods read it, for files Python tools parse
/// (requirement files, a wheel's entry_points.txt): a reader that split or
/// stripped less than Python let the tool see a line Bouncer did not.
public enum PythonText {
    /// Python's `str.isspace` (what `\s` and `strip()` take):
    /// Unicode white space and the file, group, record and unit separators.
    public static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace || (0x1C...0x1F).contains(scalar.value)
    }

    /// `str.strip()`.
    public static func stripped(_ text: some StringProtocol) -> String {
        let scalars = Substring(text).unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }), let last = scalars.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(scalars[first...last])
    }

    /// The lines `str.splitlines()` gives: split at LF, VT, FF, CR (a CR LF
    /// pair is one break), the file, group and record separators, NEL, LS and PS.
    public static func splitLines(_ text: String) -> [String] {
        let breaks: Set<UInt32> = [0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029]
        var lines: [String] = []
        var current = String.UnicodeScalarView()
        var scalars = text.unicodeScalars.makeIterator()
        var carried: Unicode.Scalar? = nil
        while let scalar = carried ?? scalars.next() {
            carried = nil
            guard breaks.contains(scalar.value) else { current.append(scalar); continue }
            lines.append(String(current))
            current = String.UnicodeScalarView()
            if scalar.value == 0x0D, let next = scalars.next(), next.value != 0x0A { carried = next }
        }
        if !current.isEmpty { lines.append(String(current)) }
        return lines
    }
}
