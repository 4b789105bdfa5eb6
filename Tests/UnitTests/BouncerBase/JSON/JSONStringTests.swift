import Testing
import BouncerBase

/// Strings take a fast path when they hold no escape; both paths must read
/// the same text and refuse the same way, at the same place.
@Suite struct JSONStringTests {
    func parse(_ text: String) throws(JSON.ParseError) -> JSON { try JSON.parse(Array(text.utf8)) }

    @Test func plainAndEscapedStringsReadTheSame() throws {
        #expect(try parse(#"["abc", "", "é€😀", "a\"b", "a\\b\/c", "\u00e9\ud83d\ude00x", "tab\there"]"#)
                == .array([.string("abc"), .string(""), .string("é€😀"), .string("a\"b"), .string("a\\b/c"),
                           .string("é😀x"), .string("tab\there")]))
        let long = String(repeating: "QUJD", count: 5000)
        #expect(try parse("{\"k\":\"\(long)\"}") == .object(["k": .string(long)]))
    }

    @Test func refusalsNameThePlace() {
        let cases: [([UInt8], Int, String)] = [
            (Array("\"abc".utf8), 4, "unterminated string"),
            (Array("\"ab\u{01}c\"".utf8), 3, "control character in a string"),
            ([0x22, 0x61, 0xC3, 0x28, 0x22], 5, "invalid UTF-8 in a string"),          // bad continuation, plain path
            ([0x22, 0x5C, 0x6E, 0xED, 0xA0, 0x80, 0x22], 7, "invalid UTF-8 in a string"), // encoded surrogate, escape path
            (Array("\"a\\qb\"".utf8), 4, "unknown escape"),
            (Array("\"\\ud800\"".utf8), 7, "lone surrogate"),
        ]
        for (bytes, offset, why) in cases {
            do {
                _ = try JSON.parse(bytes)
                Issue.record("accepted \(bytes)")
            } catch {
                #expect(error.why == why && error.offset == offset, "\(bytes): \(error.offset) \(error.why)")
            }
        }
    }
}
