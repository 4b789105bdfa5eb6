import BouncerBase
import BouncerIO
/// ASCII armor (RFC 9580 §6): `-----BEGIN PGP <LABEL>-----`, optional
/// headers, a blank line, base64, an optional `=CRC24`, the END line.
struct ArmorBlock: Sendable {
    let label: String
    let data: [UInt8]
    /// Line numbers (1-based) of the BEGIN and END lines.
    let beginLine: Int
    let endLine: Int
}

enum Armor {
    static let beginPrefix = Array("-----BEGIN PGP ".utf8)

    /// Whether the bytes start (after whitespace) with an armor BEGIN line.
    static func looksArmored(_ bytes: [UInt8]) -> Bool {
        var index = 0
        while index < bytes.count, isSpace(bytes[index]) { index += 1 }
        return bytes.count - index >= beginPrefix.count && Array(bytes[index..<(index + beginPrefix.count)]) == beginPrefix
    }

    /// CRC-24 as RFC 9580 §6.1 defines it (init 0xB704CE, poly 0x1864CFB).
    static func crc24(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xB704CE
        for byte in bytes {
            crc ^= UInt32(byte) << 16
            for _ in 0..<8 {
                crc <<= 1
                if crc & 0x1000000 != 0 { crc ^= 0x1864CFB }
            }
        }
        return crc & 0xFFFFFF
    }

    /// Splits text into lines without their terminator (LF or CRLF).
    static func lines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        TextLines.ranges(bytes).map { bytes[$0] }
    }

    static func trimmed(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var line = line
        while let last = line.last, isSpace(last) { line = line.dropLast() }
        while let first = line.first, isSpace(first) { line = line.dropFirst() }
        return line
    }

    static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0d || c == 0x0a }

    /// Decodes every armor block in `bytes`. With `strict`, anything but
    /// whitespace outside the blocks is an error (for signatures); key files
    /// may carry comments around their blocks.
    static func decode(_ bytes: [UInt8], source: String, strict: Bool) throws(OpenPGPError) -> [ArmorBlock] {
        try decode(lines: lines(bytes), firstLineNumber: 1, source: source, strict: strict)
    }

    static func decode(lines all: [ArraySlice<UInt8>], firstLineNumber: Int, source: String,
                       strict: Bool) throws(OpenPGPError) -> [ArmorBlock] {
        var blocks: [ArmorBlock] = []
        var index = 0
        while index < all.count {
            let line = trimmed(all[index])
            let lineNumber = firstLineNumber + index
            guard let label = beginLabel(line) else {
                if strict && !line.isEmpty {
                    throw .malformed("\(source) line \(lineNumber): text outside the armor block")
                }
                index += 1
                continue
            }
            index += 1
            // Armor headers ("Key: value") up to the blank line. They are not
            // authenticated, so they are skipped, never interpreted.
            var sawHeaders = false
            while index < all.count {
                let header = trimmed(all[index])
                if header.isEmpty { index += 1; break }
                guard header.firstIndex(of: UInt8(ascii: ":")) != nil, !header.allSatisfy(isBase64Char) else {
                    // No blank line and no header: the body starts here (tolerated).
                    if sawHeaders {
                        throw .malformed("\(source) line \(firstLineNumber + index): expected a blank line after the armor headers")
                    }
                    break
                }
                sawHeaders = true
                index += 1
            }
            var body: [UInt8] = []
            var crc: [UInt8]? = nil
            var endLine: Int? = nil
            while index < all.count {
                let text = trimmed(all[index])
                if text.starts(with: Array("-----END PGP ".utf8)) {
                    guard String(decoding: text, as: UTF8.self) == "-----END PGP \(label)-----" else {
                        throw .malformed("\(source) line \(firstLineNumber + index): END line does not match 'BEGIN PGP \(label)'")
                    }
                    endLine = firstLineNumber + index
                    index += 1
                    break
                }
                if text.first == UInt8(ascii: "=") && text.count == 5 && crc == nil {
                    guard let decoded = Base64.decode(String(decoding: text.dropFirst(), as: UTF8.self)), decoded.count == 3 else {
                        throw .malformed("\(source) line \(firstLineNumber + index): the armor checksum line is not base64")
                    }
                    crc = decoded
                } else {
                    guard crc == nil else {
                        throw .malformed("\(source) line \(firstLineNumber + index): data after the armor checksum")
                    }
                    guard text.allSatisfy(isBase64Char) else {
                        throw .malformed("\(source) line \(firstLineNumber + index): invalid character in the armored data")
                    }
                    body += text
                }
                index += 1
            }
            guard let endLine else {
                throw .malformed("\(source): armor block 'BEGIN PGP \(label)' at line \(lineNumber) has no END line")
            }
            guard let data = Base64.decode(String(decoding: body, as: UTF8.self)) else {
                throw .malformed("\(source): armor block at line \(lineNumber) is not valid base64")
            }
            if let crc {
                let expected = UInt32(crc[0]) << 16 | UInt32(crc[1]) << 8 | UInt32(crc[2])
                guard crc24(data) == expected else {
                    throw .malformed("\(source): armor block at line \(lineNumber) fails its CRC-24 checksum (the data was altered or truncated)")
                }
            }
            blocks.append(ArmorBlock(label: label, data: data, beginLine: lineNumber, endLine: endLine))
        }
        return blocks
    }

    /// `-----BEGIN PGP X-----` → "X".
    static func beginLabel(_ line: ArraySlice<UInt8>) -> String? {
        guard line.starts(with: beginPrefix), line.count > beginPrefix.count + 5,
              line.suffix(5).elementsEqual("-----".utf8) else { return nil }
        let label = line.dropFirst(beginPrefix.count).dropLast(5)
        guard label.allSatisfy({ ($0 >= 0x41 && $0 <= 0x5a) || $0 == 0x20 || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2c || $0 == 0x2f }) else { return nil }
        return String(decoding: label, as: UTF8.self)
    }

    static func isBase64Char(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39)
            || c == UInt8(ascii: "+") || c == UInt8(ascii: "/") || c == UInt8(ascii: "=")
    }
}
