#if canImport(Glibc)
import Glibc
#endif
/// The few text helpers Bouncer used from Foundation's NSString bridge,
/// written out so the `bouncer` binary links FoundationEssentials only
/// (Foundation proper brings CoreFoundation and 34 MB of ICU data to every
/// shim start-up).
extension StringProtocol {
    /// Without leading and trailing white space as Foundation's `.whitespaces`
    /// has it (CoreFoundation's set: tab and the spaces of Unicode Zs, plus
    /// U+200B), so exactly the same headers and lines are accepted as before.
    public func trimmingSpaces() -> String {
        String(trimming(where: TextSets.isSpace))
    }

    /// Without leading and trailing white space or line breaks
    /// (Foundation's `.whitespacesAndNewlines`: the above plus LF, VT, FF,
    /// CR, NEL, LS and PS).
    public func trimmingWhitespace() -> String {
        String(trimming(where: { TextSets.isSpace($0) || TextSets.isNewline($0) }))
    }

    /// Without leading and trailing characters from `set`.
    public func trimming(_ set: Set<Character>) -> String {
        var slice = Substring(self)
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }

    private func trimming(where drop: (Unicode.Scalar) -> Bool) -> Substring.UnicodeScalarView {
        let scalars = Substring(self).unicodeScalars
        guard let first = scalars.firstIndex(where: { !drop($0) }),
              let last = scalars.lastIndex(where: { !drop($0) }) else { return scalars[scalars.endIndex...] }
        return scalars[first...last]
    }

    /// The first occurrence of an ASCII `needle`, letters compared without case
    /// (HTML tag names: `<a`, `<A`).
    public func firstRange(ignoringASCIICaseOf needle: String) -> Range<Index>? {
        let wanted = Array(needle.utf8).map(TextSets.asciiLowercased)
        guard let head = wanted.first else { return startIndex..<startIndex }
        let bytes = utf8
        var index = bytes.startIndex
        while index != bytes.endIndex {
            if TextSets.asciiLowercased(bytes[index]) == head {
                var probe = index
                var matched = 0
                while matched < wanted.count, probe != bytes.endIndex, TextSets.asciiLowercased(bytes[probe]) == wanted[matched] {
                    matched += 1
                    probe = bytes.index(after: probe)
                }
                if matched == wanted.count { return index..<probe }
            }
            index = bytes.index(after: index)
        }
        return nil
    }

    /// Padded with spaces on the right to `width` characters (never cut).
    public func leftAligned(_ width: Int) -> String {
        count >= width ? String(self) : String(self) + String(repeating: " ", count: width - count)
    }

    /// Padded with spaces on the left to `width` characters (never cut).
    public func rightAligned(_ width: Int) -> String {
        count >= width ? String(self) : String(repeating: " ", count: width - count) + String(self)
    }

    /// The pieces between occurrences of `separator`, empty ones kept
    /// (Foundation's `components(separatedBy:)`).
    public func components(splitAt separator: String) -> [String] {
        split(separator: separator, omittingEmptySubsequences: false).map { String($0) }
    }
}

/// Lines of bytes, for the line-based formats (PEM, OpenPGP armor, signed
/// text).
public enum TextLines {
    /// The lines of `bytes` as ranges, without their terminator (LF, or CRLF:
    /// one CR before the LF is left out); a last line without LF counts if it
    /// is not empty. Line ends are found with memchr: a Debian Release file
    /// has thousands of lines.
    public static func ranges(_ bytes: [UInt8]) -> [Range<Int>] {
        bytes.withUnsafeBufferPointer { buffer in
            var out: [Range<Int>] = []
            guard let base = buffer.baseAddress else { return out }
            let count = buffer.count
            var start = 0
            while start <= count {
                var end = count
                if start < count, let newline = memchr(base + start, 0x0a, count - start) {
                    end = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(newline))
                }
                let stop = end > start && base[end - 1] == 0x0d ? end - 1 : end
                if end < count || stop > start { out.append(start..<stop) }
                start = end + 1
            }
            return out
        }
    }
}

enum TextSets {
    static func asciiLowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
    }

    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x20, 0xA0, 0x1680, 0x2000...0x200B, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }

    static func isNewline(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0A...0x0D, 0x85, 0x2028, 0x2029: true
        default: false
        }
    }
}

public enum NumberText {
    /// `value` with `places` decimals, rounded half away from zero ("%.1f" without `String(format:)`).
    public static func fixed(_ value: Double, places: Int) -> String {
        guard value.isFinite else { return "\(value)" }
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = (abs(value) * scale).rounded(.toNearestOrAwayFromZero)
        guard scaled < 9.0e15 else { return "\(value)" }
        let whole = UInt64(scaled)
        let divisor = UInt64(scale)
        let sign = value.sign == .minus ? "-" : ""  // as printf: "-0.0" for a small negative
        guard places > 0 else { return sign + String(whole) }
        let fraction = String(whole % divisor)
        return sign + String(whole / divisor) + "." + String(repeating: "0", count: places - fraction.count) + fraction
    }

}
