import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools
import BouncerTestSupport

/// OLPC canonical JSON (formats.md §9.1) and the strict parser under it.
@Suite struct TUFCanonicalJSONTests {
    func canonical(_ text: String) throws -> String {
        String(decoding: try CanonicalJSON.encode(try JSON.parse(Array(text.utf8))), as: UTF8.self)
    }

    @Test func keysAreSortedByCodePointWithoutWhitespace() throws {
        #expect(try canonical(#"{ "b": 1, "a": 2, "B": 3, "_type": 4 }"#) == #"{"B":3,"_type":4,"a":2,"b":1}"#)
        // U+00E9 sorts after "z" by code point; so does U+1F600 after U+FFFD.
        #expect(try canonical(#"{"é":1,"z":2,"😀":3,"\uFFFD":4}"#) == "{\"z\":2,\"é\":1,\"\u{FFFD}\":4,\"😀\":3}")
        // Nested objects too; array order is kept.
        #expect(try canonical(#"{"x":[3,1,{"d":null,"c":true}],"w":false}"#) == #"{"w":false,"x":[3,1,{"c":true,"d":null}]}"#)
    }

    @Test func onlyQuoteAndBackslashAreEscaped() throws {
        let out = try CanonicalJSON.encode(try JSON.parse(Array(#"{"s":"a\"b\\c\nd\te\u0001f\/g é"}"#.utf8)))
        // Newline, tab and U+0001 go out raw; "\/" is just "/"; é is raw UTF-8 (C3 A9).
        var expected = Array(#"{"s":"a\"b\\c"#.utf8)
        expected += [0x0A, UInt8(ascii: "d"), 0x09, UInt8(ascii: "e"), 0x01, UInt8(ascii: "f"), UInt8(ascii: "/"), UInt8(ascii: "g"), 0x20, 0xC3, 0xA9]
        expected += Array(#""}"#.utf8)
        #expect(out == expected)
    }

    @Test func integersOnly() throws {
        #expect(try canonical("[0,-1,9223372036854775807,-9223372036854775808,-0]") == "[0,-1,9223372036854775807,-9223372036854775808,0]")
        for float in ["1.0", "1e3", "-2.5E-1"] {
            #expect(throws: CanonicalJSON.NotCanonicalisable.self) { try canonical("{\"n\":\(float)}") }
        }
        // A float outside what is canonicalised parses fine.
        #expect(try JSON.parse(Array("[1.5]".utf8)) == .array([.nonInteger("1.5")]))
        #expect(throws: JSON.ParseError.self) { try JSON.parse(Array("9223372036854775808".utf8)) }
    }

    @Test func theParserIsStrict() {
        for bad in [#"{"a":1,"a":2}"#, #"{"a":1,}"#, "[01]", "[1] x", #"["\uD800"]"#, #"["\uDC00x"]"#, "\"a\u{01}\"", "[tru]",
                    #"{"\u00e9":1,"e\u0301":2}"#, String(repeating: "[", count: 100) + String(repeating: "]", count: 100)] {
            #expect(throws: JSON.ParseError.self, "\(bad)") { try JSON.parse(Array(bad.utf8)) }
        }
        // Invalid UTF-8 inside a string.
        #expect(throws: JSON.ParseError.self) { try JSON.parse([0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: JSON.ParseError.self) { try JSON.parse([0x22, 0xED, 0xA0, 0x80, 0x22]) }
        // A surrogate pair escape is one code point.
        #expect((try? JSON.parse(Array(#""\uD83D\uDE00""#.utf8))) == .string("😀"))
    }

    /// A fact from real data: in Sigstore's first root, each keyid is the
    /// sha256 of the canonical JSON of its key object (formats.md §9.1).
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)")) func keyidsOfTheFirstSigstoreRootAreHashesOfCanonicalKeys() throws {
        guard let root = Corpus.rootOrNotice("TUFCanonicalJSONTests") else { return }
        let path = root.appendingPathComponent("tuf/root-signing__production-repo/metadata/root_history/1.root.json")
        let json = try JSON.parse([UInt8](try Data(contentsOf: path)))
        guard case .object(let keys)? = json["signed"]?["keys"] else { Issue.record("no keys"); return }
        #expect(keys.count == 5)
        for (keyid, key) in keys {
            #expect(Hasher.digest(try CanonicalJSON.encode(key), .sha256).hex == keyid)
        }
    }
}
