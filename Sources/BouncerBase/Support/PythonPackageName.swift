/// Python package names as PEP 503 compares them: lower case, every run of
/// `-`, `_` and `.` as one `-` (`Foo.Bar_baz` and `foo-bar-baz` are the same
/// project). Used wherever a name from a tool, an index or an attestation is
/// matched against another.
public enum PythonPackageName {
    /// The source archives pip takes a file for by its name (pip's `ARCHIVE_EXTENSIONS`, wheels aside).
    public static let sdistSuffixes = [".tar.gz", ".tgz", ".zip", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tlz", ".tar.lz", ".tar.lzma", ".tar"]

    public static func normalised(_ name: String) -> String {
        var out = ""
        var lastWasSeparator = false
        for character in name.lowercased() {
            if character == "-" || character == "_" || character == "." {
                if !lastWasSeparator { out.append("-") }
                lastWasSeparator = true
            } else {
                out.append(character)
                lastWasSeparator = false
            }
        }
        return out
    }

    /// The version of an exact pin (`name==1.2.post3`, `2!1.0+local`) as the
    /// pip shim hands it to its proxy: ASCII letters, digits, `.`, `!`, `+`.
    public static func isExactVersion(_ version: Substring) -> Bool {
        !version.isEmpty && version.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "!" || $0 == "+") }
    }

    /// A project name as PEP 508 allows it (letters, digits, `.`, `_`, `-`; alphanumeric at both ends).
    public static func isValid(_ name: String) -> Bool {
        guard let first = name.first, let last = name.last, first.isASCII, last.isASCII,
              first.isLetter || first.isNumber, last.isLetter || last.isNumber, name.count <= 200 else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") }
    }
}
