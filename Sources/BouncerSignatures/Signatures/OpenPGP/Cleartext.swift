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

    /// Feeds `signedText` to the hashers line by line, without building it.
    /// It is already canonical text (CRLF line breaks, no other CR), so text
    /// (0x01) signatures hash exactly these bytes.
    func feedSignedText(_ hashers: [Hasher]) -> UInt64 {
        var total: UInt64 = 0
        message.withUnsafeBytes { all in
            let crlf: [UInt8] = [0x0d, 0x0a]
            crlf.withUnsafeBytes { crlf in
                for (index, line) in lines.enumerated() {
                    let piece = UnsafeRawBufferPointer(rebasing: all[line])
                    for hasher in hashers {
                        if index > 0 { hasher.update(crlf) }
                        hasher.update(piece)
                    }
                    total += UInt64(piece.count + (index > 0 ? 2 : 0))
                }
            }
        }
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
        let all = Armor.lines(bytes)
        var index = 0
        while index < all.count, Armor.trimmed(all[index]).isEmpty { index += 1 }
        guard index < all.count, stripTrailing(all[index]).elementsEqual(begin) else {
            throw .cleartext("\(source) line \(index + 1): expected '-----BEGIN PGP SIGNED MESSAGE-----' (no text may precede it)")
        }
        index += 1
        var announced: Set<UInt8>? = nil
        while true {
            guard index < all.count else { throw .cleartext("\(source): the message ends inside its header block") }
            let line = stripTrailing(all[index])
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
        var lines: [Range<Int>] = []
        var signatureStart: Int? = nil
        while index < all.count {
            let raw = all[index]
            if stripTrailing(raw).elementsEqual(signatureBegin) { signatureStart = index; break }
            var line = raw
            if line.first == UInt8(ascii: "-") {
                guard line.starts(with: [UInt8(ascii: "-"), 0x20]) else {
                    throw .cleartext("\(source) line \(index + 1): a line starting with '-' must be dash-escaped ('- ')")
                }
                line = line.dropFirst(2)
            }
            guard !line.contains(0x0d) else {
                throw .cleartext("\(source) line \(index + 1): a bare carriage return inside the signed text is ambiguous")
            }
            lines.append(stripTrailing(line).indices)
            index += 1
        }
        guard let signatureStart else {
            throw .cleartext("\(source): no '-----BEGIN PGP SIGNATURE-----' after the signed text")
        }
        // From the signature block to the end: one armor block and nothing
        // else, so no unsigned text can ride along after the signature.
        let blocks: [ArmorBlock]
        do {
            blocks = try Armor.decode(lines: Array(all[signatureStart...]), firstLineNumber: signatureStart + 1,
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
