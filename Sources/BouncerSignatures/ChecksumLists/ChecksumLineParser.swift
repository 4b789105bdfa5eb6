import BouncerBase
import BouncerIO
/// Parses one non-empty, non-comment line of a checksum list.
///
/// GNU form:  `[\]<hex><SP><SP or *><name>`
/// BSD form:  `[\]<ALG> (<name>) = <hex>` (also OpenSSL's `ALG(<name>)= <hex>`)
///
/// BSD "reversed" lines (`<hex> <name>` with a single space) are refused:
/// coreutils' mixing rules for them allow renaming tricks (formats.md §1.1).
enum ChecksumLineParser {
    typealias Line = ArraySlice<UInt8>

    static func parse(_ input: Line, lineNumber: Int, source: String) throws(ChecksumListError) -> ChecksumList.Entry {
        func malformed(_ why: String) -> ChecksumListError {
            .malformedLine(source: source, line: lineNumber, why: why)
        }
        var line = input
        let escaped = line.first == UInt8(ascii: "\\")
        if escaped { line = line.dropFirst() }
        guard let first = line.first else { throw malformed("nothing after the escape marker") }

        let isHex = Self.isHexDigit(first)
        let (algorithmName, hexBytes, rawName): (String?, Line, Line)
        if isHex, let parsed = gnu(line) {
            (algorithmName, hexBytes, rawName) = (nil, parsed.hex, parsed.name)
        } else if let parsed = bsd(line) {
            (algorithmName, hexBytes, rawName) = (parsed.algorithm, parsed.hex, parsed.name)
        } else {
            throw malformed("expected '<hex>  <name>' or '<ALGORITHM> (<name>) = <hex>'")
        }

        let hex = String(decoding: hexBytes, as: UTF8.self)
        let algorithm: HashAlgorithm
        if let algorithmName {
            guard let named = HashAlgorithm(name: algorithmName) else {
                throw malformed("unsupported algorithm '\(algorithmName)' (expected SHA256, SHA384 or SHA512)")
            }
            algorithm = named
        } else {
            guard let inferred = HashAlgorithm.forHexLength(hexBytes.count) else {
                throw malformed("a digest of \(hexBytes.count) hex digits matches no supported algorithm")
            }
            algorithm = inferred
        }
        let digest: Digest
        do {
            digest = try Digest(algorithm: algorithm, hex: hex)
        } catch {
            throw malformed(error.description)
        }

        let nameBytes: [UInt8]
        if escaped {
            guard let unescaped = unescape(rawName) else {
                throw malformed("invalid backslash escape in the file name")
            }
            nameBytes = unescaped
        } else {
            nameBytes = Array(rawName)
        }
        guard !nameBytes.isEmpty else { throw malformed("empty file name") }
        guard !nameBytes.contains(0) else { throw malformed("NUL byte in the file name") }
        guard let name = String(validating: nameBytes, as: UTF8.self) else {
            throw malformed("file name is not valid UTF-8")
        }
        return ChecksumList.Entry(name: name, digest: digest, line: lineNumber)
    }

    /// `<hex><SP><mode><name>`; the mode is ' ' (text) or '*' (binary) and does
    /// not change the digest. The whole rest of the line is the name.
    private static func gnu(_ line: Line) -> (hex: Line, name: Line)? {
        var index = line.startIndex
        while index < line.endIndex, isHexDigit(line[index]) { index += 1 }
        let hex = line[line.startIndex..<index]
        guard index + 2 <= line.endIndex, line[index] == 0x20,
              line[index + 1] == 0x20 || line[index + 1] == UInt8(ascii: "*") else { return nil }
        return (hex, line[(index + 2)...])
    }

    /// `ALG (name) = hex`: the name runs to the LAST ')' on the line, since
    /// names may themselves contain ") = ".
    private static func bsd(_ line: Line) -> (algorithm: String, hex: Line, name: Line)? {
        guard let open = line.firstIndex(of: UInt8(ascii: "(")) else { return nil }
        var algorithmEnd = open
        if algorithmEnd > line.startIndex, line[algorithmEnd - 1] == 0x20 { algorithmEnd -= 1 }
        let algorithm = line[line.startIndex..<algorithmEnd]
        guard !algorithm.isEmpty, algorithm.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "-") }),
              let close = line.lastIndex(of: UInt8(ascii: ")")), close > open else { return nil }
        var index = close + 1
        while index < line.endIndex, line[index] == 0x20 || line[index] == 0x09 { index += 1 }
        guard index < line.endIndex, line[index] == UInt8(ascii: "=") else { return nil }
        index += 1
        while index < line.endIndex, line[index] == 0x20 || line[index] == 0x09 { index += 1 }
        let hex = line[index...]
        guard !hex.isEmpty, hex.allSatisfy(isHexDigit) else { return nil }
        return (String(decoding: algorithm, as: UTF8.self), hex, line[(open + 1)..<close])
    }

    /// coreutils' escapes: `\\`, `\n`, `\r`. Anything else, or a lone trailing
    /// backslash, is an error.
    static func unescape(_ name: Line) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(name.count)
        var index = name.startIndex
        while index < name.endIndex {
            let byte = name[index]
            if byte != UInt8(ascii: "\\") {
                out.append(byte)
                index += 1
                continue
            }
            guard index + 1 < name.endIndex else { return nil }
            switch name[index + 1] {
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "n"): out.append(0x0a)
            case UInt8(ascii: "r"): out.append(0x0d)
            default: return nil
            }
            index += 2
        }
        return out
    }

    static func isHexDigit(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
    }

    private static func isAlphanumeric(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
    }
}
