#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerIO
/// The cleartext signature framework (RFC 9580 §7). Parsing is strict: only
/// `Hash:` headers, nothing but whitespace outside the signed block, every
/// line starting with '-' dash-escaped. What comes out is exactly the text
/// the signature covers, so downstream code never sees unsigned bytes.
struct ClearsignedParts {
    /// Hash algorithm ids announced by `Hash:` headers (nil when absent).
    let announced: Set<UInt8>?
    /// The message as given; `lines` point into it (no copy per line).
    let message: [UInt8]
    /// The signed lines as ranges of `message`, dash-escapes removed and
    /// trailing blanks stripped. None holds a CR or LF.
    let lines: [Range<Int>]
    /// The signature block's decoded bytes.
    let signature: [UInt8]

    /// What the signature hashes: the lines joined by CRLF, no final line break.
    var signedText: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(lines.reduce(0) { $0 + $1.count + 2 })
        for (index, line) in lines.enumerated() {
            if index > 0 { out += [0x0d, 0x0a] }
            out += message[line]
        }
        return out
    }

    /// The same lines joined by LF with a final LF: the text to parse.
    var text: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(lines.reduce(0) { $0 + $1.count + 1 })
        for line in lines { out += message[line]; out.append(0x0a) }
        return out
    }

    /// Feeds `signedText` to the hashers without building all of it. It is
    /// already canonical text (CRLF line breaks, no other CR), so text (0x01)
    /// signatures hash exactly these bytes. Lines are gathered into 64 KiB
    /// pieces: one hash update per piece, not two per line.
    func feedSignedText(_ hashers: [Hasher]) -> UInt64 {
        let pieceSize = 1 << 16
        var total: UInt64 = 0
        var piece: [UInt8] = []
        piece.reserveCapacity(pieceSize + 2)
        func flush() {
            piece.withUnsafeBytes { bytes in for hasher in hashers { hasher.update(bytes) } }
            total += UInt64(piece.count)
            piece.removeAll(keepingCapacity: true)
        }
        message.withUnsafeBufferPointer { all in
            for (index, line) in lines.enumerated() {
                if index > 0 { piece.append(0x0d); piece.append(0x0a) }
                piece.append(contentsOf: UnsafeBufferPointer(rebasing: all[line]))
                if piece.count >= pieceSize { flush() }
            }
        }
        flush()
        return total
    }

    static let begin = Array("-----BEGIN PGP SIGNED MESSAGE-----".utf8)
    static let signatureBegin = Array("-----BEGIN PGP SIGNATURE-----".utf8)

    /// Whether a BEGIN PGP SIGNED MESSAGE line appears at the start of any
    /// line: text injected before it must reach the parser and be refused,
    /// not make the file look like an unsigned list.
    static func looksClearsigned(_ bytes: [UInt8]) -> Bool {
        var start = 0
        while start < bytes.count {
            if bytes[start...].starts(with: begin) { return true }
            guard let newline = bytes[start...].firstIndex(of: 0x0a) else { return false }
            start = newline + 1
        }
        return false
    }

    static func parse(_ bytes: [UInt8], source: String) throws(OpenPGPError) -> ClearsignedParts {
        let ranges = TextLines.ranges(bytes)
        var index = 0
        while index < ranges.count, Armor.trimmed(bytes[ranges[index]]).isEmpty { index += 1 }
        guard index < ranges.count, stripTrailing(bytes[ranges[index]]).elementsEqual(begin) else {
            throw .cleartext("\(source) line \(index + 1): expected '-----BEGIN PGP SIGNED MESSAGE-----' (no text may precede it)")
        }
        index += 1
        var announced: Set<UInt8>? = nil
        while true {
            guard index < ranges.count else { throw .cleartext("\(source): the message ends inside its header block") }
            let line = stripTrailing(bytes[ranges[index]])
            index += 1
            if line.isEmpty { break }
            guard line.starts(with: Array("Hash:".utf8)) else {
                throw .cleartext("\(source) line \(index): only 'Hash:' headers are allowed in a signed message, found '\(printable(line))'")
            }
            for name in String(decoding: line.dropFirst(5), as: UTF8.self).split(separator: ",") {
                let trimmed = name.trimmingSpaces()
                guard let id = hashID(trimmed) else {
                    throw .cleartext("\(source) line \(index): unknown hash '\(trimmed.prefix(40))' in the 'Hash:' header")
                }
                announced = (announced ?? []).union([id])
            }
        }
        // The signed text, a line at a time over the buffer (a Release file
        // has thousands): slices of the array would each retain it.
        enum Body { case signatureAt(Int), notDashEscaped(Int), carriageReturn(Int), noSignature }
        var lines: [Range<Int>] = []
        lines.reserveCapacity(ranges.count - index)
        let body: Body = bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return .noSignature }
            while index < ranges.count {
                var line = ranges[index]
                if !line.isEmpty, base[line.lowerBound] == UInt8(ascii: "-") {
                    if stripTrailing(bytes[line]).elementsEqual(signatureBegin) { return .signatureAt(index) }
                    guard line.count >= 2, base[line.lowerBound + 1] == 0x20 else { return .notDashEscaped(index) }
                    line = line.lowerBound + 2 ..< line.upperBound
                }
                if !line.isEmpty, memchr(base + line.lowerBound, 0x0d, line.count) != nil { return .carriageReturn(index) }
                var end = line.upperBound
                while end > line.lowerBound, base[end - 1] == 0x20 || base[end - 1] == 0x09 { end -= 1 }
                lines.append(line.lowerBound..<end)
                index += 1
            }
            return .noSignature
        }
        let signatureStart: Int
        switch body {
        case .signatureAt(let at): signatureStart = at
        case .notDashEscaped(let at):
            throw .cleartext("\(source) line \(at + 1): a line starting with '-' must be dash-escaped ('- ')")
        case .carriageReturn(let at):
            throw .cleartext("\(source) line \(at + 1): a bare carriage return inside the signed text is ambiguous")
        case .noSignature:
            throw .cleartext("\(source): no '-----BEGIN PGP SIGNATURE-----' after the signed text")
        }
        // From the signature block to the end: one armor block and nothing
        // else, so no unsigned text can ride along after the signature.
        let blocks: [ArmorBlock]
        do {
            blocks = try Armor.decode(lines: ranges[signatureStart...].map { bytes[$0] }, firstLineNumber: signatureStart + 1,
                                      source: source, strict: true)
        } catch {
            throw .cleartext(error.description)
        }
        guard blocks.count == 1, blocks[0].label == "SIGNATURE" else {
            throw .cleartext("\(source): expected exactly one signature block after the signed text, found \(blocks.count) armor blocks")
        }
        return ClearsignedParts(announced: announced, message: bytes, lines: lines, signature: blocks[0].data)
    }

    /// Removes trailing spaces and tabs (RFC 9580 §7.2).
    static func stripTrailing(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var line = line
        while let last = line.last, last == 0x20 || last == 0x09 { line = line.dropLast() }
        return line
    }

    static func hashID(_ name: String) -> UInt8? {
        switch name.uppercased() {
        case "MD5": 1
        case "SHA1": 2
        case "RIPEMD160": 3
        case "SHA256": 8
        case "SHA384": 9
        case "SHA512": 10
        case "SHA224": 11
        case "SHA3-256": 12
        case "SHA3-512": 14
        default: nil
        }
    }

    static func printable(_ line: ArraySlice<UInt8>) -> String {
        String(decoding: line.prefix(60).map { $0 >= 0x20 && $0 < 0x7f ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }
}
