import Testing
import BouncerBase

/// The table-driven decoder against a plain one written from RFC 4648: on
/// every text, both accept or both refuse, and accepted texts give the same
/// bytes. The texts are random strings over the alphabet, '=', a space,
/// CR/LF and the other alphabet's two characters, so every refusal path
/// (length, padding placement, foreign characters, non-zero unused bits) is hit.
@Suite struct Base64DecoderTests {
    static let standard = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    static let urlSafe = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func reference(_ text: [UInt8], alphabet: Base64.Alphabet, padding: Bool) -> [UInt8]? {
        let table = alphabet == .standard ? standard : urlSafe
        var chars = text
        if padding {
            guard chars.count % 4 == 0 else { return nil }
            if chars.last == UInt8(ascii: "=") { chars.removeLast() }
            if chars.last == UInt8(ascii: "=") { chars.removeLast() }
        }
        var bits: [UInt8] = []
        for c in chars {
            guard let value = table.firstIndex(of: c) else { return nil }
            for shift in stride(from: 5, through: 0, by: -1) { bits.append(UInt8(value >> shift & 1)) }
        }
        guard chars.count % 4 != 1 else { return nil }
        let whole = bits.count / 8 * 8
        guard bits[whole...].allSatisfy({ $0 == 0 }) else { return nil }   // canonical: unused bits zero
        return stride(from: 0, to: whole, by: 8).map { start in bits[start..<start + 8].reduce(0) { $0 << 1 | $1 } }
    }

    @Test func agreesWithAPlainDecoderOnRandomTexts() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 33 }
        let extra = Array("=  -_+/\r\n".utf8)
        var accepted = 0, refused = 0
        for round in 0..<20_000 {
            let length = Int(next() % 14)
            let text: [UInt8] = (0..<length).map { _ in
                next() % 8 == 0 ? extra[Int(next()) % extra.count] : Self.standard[Int(next() % 64)]
            }
            // Half the texts are real encodings, so acceptance is exercised as much as refusal.
            let input = round % 2 == 0 ? text : Array(Base64.encode(text).utf8)
            for alphabet in [Base64.Alphabet.standard, .urlSafe] {
                for padding in [true, false] {
                    let expected = Self.reference(input, alphabet: alphabet, padding: padding)
                    let got = Base64.decode(String(decoding: input, as: UTF8.self), alphabet: alphabet, padding: padding)
                    #expect(got == expected, "\(String(decoding: input, as: UTF8.self)) \(alphabet) padding \(padding)")
                    #expect(Base64.decode(utf8: input, alphabet: alphabet, padding: padding) == expected)
                    if expected == nil { refused += 1 } else { accepted += 1 }
                }
            }
        }
        #expect(accepted > 10_000 && refused > 10_000, "accepted \(accepted), refused \(refused)")
    }
}
