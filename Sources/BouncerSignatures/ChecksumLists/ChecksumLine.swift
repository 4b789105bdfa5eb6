import BouncerBase
import BouncerIO
/// Writing lines in the GNU coreutils format (formats.md §1.1).
public enum ChecksumLine {
    /// `<hex>  <name>`, with coreutils' escaping: when the name holds `\`,
    /// LF or CR, the line starts with `\` and those become `\\`, `\n`, `\r`.
    public static func format(digest: Digest, name: String, sri: Bool = false) -> String {
        let value = sri ? digest.sri : digest.hex
        let (escaped, needsEscape) = escape(name)
        return (needsEscape ? "\\" : "") + value + "  " + escaped
    }

    static func escape(_ name: String) -> (String, Bool) {
        guard name.utf8.contains(where: { $0 == 0x5c || $0 == 0x0a || $0 == 0x0d }) else { return (name, false) }
        var out = ""
        for scalar in name.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return (out, true)
    }
}
