import BouncerBase
import BouncerIO
/// The line-based text container that minisign and signify share: an
/// `untrusted comment: ` line, then a base64 line (minisign adds a trusted
/// comment and a second base64 line).
enum SignatureText {
    static let untrustedPrefix = Array("untrusted comment: ".utf8)
    static let trustedPrefix = Array("trusted comment: ".utf8)

    struct Failure: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    /// Splits the way minisign reads lines: cut at `\n`, then drop one trailing
    /// `\r`; a `\r` anywhere else makes the line invalid. A final newline does
    /// not start another line.
    static func lines(_ bytes: [UInt8], limit: Int) throws(Failure) -> [[UInt8]] {
        guard bytes.count <= limit else { throw Failure("larger than \(limit) bytes") }
        var lines = bytes.split(separator: 0x0a, omittingEmptySubsequences: false).map { Array($0) }
        if lines.last?.isEmpty == true { lines.removeLast() }
        for index in lines.indices {
            if lines[index].last == 0x0d { lines[index].removeLast() }
            guard !lines[index].contains(0x0d) else {
                throw Failure("line \(index + 1) contains a carriage return")
            }
        }
        return lines
    }

    /// The text after `prefix`, or nil when the line does not start with it.
    static func after(_ prefix: [UInt8], in line: [UInt8]) -> [UInt8]? {
        line.starts(with: prefix) ? Array(line.dropFirst(prefix.count)) : nil
    }

    /// Strict base64 of exactly `count` bytes.
    static func base64(_ line: [UInt8], count: Int, what: String) throws(Failure) -> [UInt8] {
        guard line.allSatisfy({ $0 < 0x80 }),
              let bytes = Base64.decode(String(decoding: line, as: UTF8.self)) else {
            throw Failure("\(what) is not valid base64")
        }
        guard bytes.count == count else {
            throw Failure("\(what) decodes to \(bytes.count) bytes, expected \(count)")
        }
        return bytes
    }

    /// Upper-case hex, as minisign shows key ids.
    static func upperHex(_ bytes: [UInt8]) -> String {
        Hex.encode(bytes).uppercased()
    }
}
