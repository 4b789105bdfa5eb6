import FoundationEssentials

/// Sizes as people write them on a command line or in policy: `1048576`,
/// `512K`, `100M`, `4G`, `1T` (binary multiples; `KiB`, `MB`... accepted
/// and read as the same binary multiples, like curl's `--max-filesize`).
public enum ByteCount {
    public static func parse(_ text: String) -> UInt64? {
        let trimmed = text.trimmingSpaces()
        let digits = trimmed.prefix(while: { $0.isASCII && $0.isNumber })
        guard !digits.isEmpty, let value = UInt64(digits) else { return nil }
        var suffix = trimmed.dropFirst(digits.count).uppercased()
        if suffix.hasSuffix("IB") { suffix.removeLast(2) } else if suffix.hasSuffix("B") { suffix.removeLast() }
        let shift: UInt64
        switch suffix {
        case "": shift = 0
        case "K": shift = 10
        case "M": shift = 20
        case "G": shift = 30
        case "T": shift = 40
        default: return nil
        }
        let (result, overflow) = value.multipliedReportingOverflow(by: 1 << shift)
        return overflow ? nil : result
    }

    /// "1.5 MiB"-style rendering for messages.
    public static func describe(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : NumberText.fixed(value, places: 1) + " " + units[unit]
    }
}
