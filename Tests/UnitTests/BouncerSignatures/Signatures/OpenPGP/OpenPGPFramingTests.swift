import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools
import BouncerTestSupport

@Suite struct OpenPGPFramingTests {
    @Test func crc24Vectors() {
        // CRC-24/OPENPGP: the empty input leaves the init value; "123456789" is the catalogue check value.
        #expect(Armor.crc24([]) == 0xB704CE)
        #expect(Armor.crc24(Array("123456789".utf8)) == 0x21CF02)
    }

    @Test func oldAndNewLengths() throws {
        let old1 = try PGPPacket.parse([0x88, 0x02, 0xAA, 0xBB], what: "t")
        #expect(old1.count == 1 && old1[0].tag == 2 && old1[0].body == [0xAA, 0xBB])
        let old2 = try PGPPacket.parse([0x89, 0x00, 0x01, 0xCC], what: "t")
        #expect(old2[0].tag == 2 && old2[0].body == [0xCC])
        let old4 = try PGPPacket.parse([0x8A, 0, 0, 0, 1, 0xDD], what: "t")
        #expect(old4[0].body == [0xDD])
        // New format, two-octet length: 192..8383.
        let body = [UInt8](repeating: 7, count: 200)
        let new2 = try PGPPacket.parse([0xC2, 192, 8] + body, what: "t")
        #expect(new2[0].tag == 2 && new2[0].body.count == 200)
        let new5 = try PGPPacket.parse([0xCD, 0xFF, 0, 0, 0, 3, 1, 2, 3], what: "t")
        #expect(new5[0].tag == 13 && new5[0].body == [1, 2, 3])
        #expect(new5[0].offset == 0)
        let two = try PGPPacket.parse([0x88, 0x01, 0x00, 0xCD, 0x01, 0x41], what: "t")
        #expect(two.map(\.offset) == [0, 3])
    }

    @Test func partialLengths() throws {
        // Literal data (tag 11): a 512-byte partial chunk, then a final 3-byte chunk.
        let chunk = [UInt8](repeating: 1, count: 512)
        let packets = try PGPPacket.parse([0xCB, 0xE9] + chunk + [3, 9, 9, 9], what: "t")
        #expect(packets[0].tag == 11 && packets[0].body.count == 515)
        // Partial lengths are not allowed for signatures, nor below 512 for the first chunk.
        #expect(throws: OpenPGPError.self) { try PGPPacket.parse([0xC2, 0xE9] + chunk + [0], what: "t") }
        #expect(throws: OpenPGPError.self) { try PGPPacket.parse([0xCB, 0xE1, 1, 2, 0], what: "t") }
    }

    @Test func hostileFraming() {
        func message(_ bytes: [UInt8]) -> String {
            do { _ = try PGPPacket.parse(bytes, what: "sig"); return "parsed" } catch { return error.description }
        }
        #expect(message([0x41]).contains("not a packet header"))
        #expect(message([0x88]).contains("runs past the end"))
        #expect(message([0x88, 0x05, 1, 2]).contains("declares 5 bytes but only 2 remain"))
        #expect(message([0xC2, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]).contains("declares 4294967295 bytes"))
        #expect(message([0x8B, 1, 2]).contains("indeterminate length"))
        #expect(message([0xC2, 0xC5]).contains("runs past the end"))
    }

    @Test func signaturePacketErrors() {
        func message(_ body: [UInt8]) -> String {
            do { _ = try PGPSignature.parse(body, offset: 0, what: "sig"); return "parsed" } catch { return error.description }
        }
        #expect(message([3, 0]).contains("signature version 3 is not supported"))
        #expect(message([4, 0, 1, 8, 0xFF, 0xFF]).contains("hashed subpacket area declares 65535 bytes"))
        #expect(message([4, 0, 1, 8, 0, 1, 0, 0, 0, 0xAB, 0xCD, 0, 8, 1]).contains("subpacket of length 0"))
        #expect(message([4, 0, 1, 8, 0, 0, 0, 0, 0xAB, 0xCD, 0x08, 0x00]).contains("RSA signature value"))
        // v6: u32 areas, salt.
        #expect(message([6, 0, 27, 8, 0xFF, 0xFF, 0xFF, 0xFF]).contains("declares 4294967295 bytes"))
    }

    @Test func armor() throws {
        let data: [UInt8] = [0x88, 0x01, 0x00]
        let crc = Armor.crc24(data)
        let crcText = Base64.encode([UInt8(crc >> 16), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)])
        let text = "-----BEGIN PGP SIGNATURE-----\nComment: x\n\n\(Base64.encode(data))\n=\(crcText)\n-----END PGP SIGNATURE-----\n"
        let blocks = try Armor.decode(Array(text.utf8), source: "a", strict: true)
        #expect(blocks.count == 1 && blocks[0].data == data && blocks[0].label == "SIGNATURE")
        let badCRC = text.replacingOccurrences(of: "=\(crcText)", with: "=AAAA")
        #expect(throws: OpenPGPError.self) { try Armor.decode(Array(badCRC.utf8), source: "a", strict: true) }
        #expect(throws: OpenPGPError.self) { try Armor.decode(Array((text + "junk\n").utf8), source: "a", strict: true) }
        let mismatched = text.replacingOccurrences(of: "END PGP SIGNATURE", with: "END PGP MESSAGE")
        #expect(throws: OpenPGPError.self) { try Armor.decode(Array(mismatched.utf8), source: "a", strict: true) }
        // No CRC line is fine (RFC 9580 producers omit it).
        let noCRC = text.replacingOccurrences(of: "=\(crcText)\n", with: "")
        #expect(try Armor.decode(Array(noCRC.utf8), source: "a", strict: true)[0].data == data)
    }

    @Test func canonicalText() {
        // What GnuPG hashes for --textmode (each pair checked against gpg by hand
        // and by OpenPGPInteropTests.largeFileStreaming).
        let cases: [(String, String)] = [
            ("a\nb\r\nc\rd\n", "a\r\nb\r\nc\rd\r\n"),
            ("xx\r", "xx"),
            ("a\r\r\nb", "a\r\nb"),
            ("a\r\rb", "a\r\rb"),
            ("ab \n", "ab \r\n"),
        ]
        for (input, output) in cases {
            #expect(PGPDataVerifier.canonicalText(Array(input.utf8)) == Array(output.utf8), "\(input.debugDescription)")
        }
        // Chunked: a CRLF split across two chunks is not doubled.
        var canonicalizer = TextCanonicalizer()
        var out: [UInt8] = []
        Array("x\r".utf8).withUnsafeBytes { canonicalizer.process($0) { out += $0 } }
        Array("\ny\n".utf8).withUnsafeBytes { canonicalizer.process($0) { out += $0 } }
        canonicalizer.finish()
        #expect(out == Array("x\r\ny\r\n".utf8))
        // A long run of CRs is emitted in bounded pieces.
        var pieces: [Int] = []
        let crs = [UInt8](repeating: 0x0d, count: 200_000) + [0x41]
        crs.withUnsafeBytes { canonicalizer.process($0) { pieces.append($0.count) } }
        #expect(pieces.reduce(0, +) == 200_001 && pieces.max() ?? 0 <= 1 << 16)
        #expect(PGPDataVerifier.canonicalText([]) == [])
    }
}

@Suite struct CleartextFrameworkTests {
    static let signature = "-----BEGIN PGP SIGNATURE-----\n\niAEA\n-----END PGP SIGNATURE-----\n"

    func parse(_ text: String) throws(OpenPGPError) -> ClearsignedParts {
        try ClearsignedParts.parse(Array(text.utf8), source: "msg")
    }

    @Test func rebuildsTheSignedText() throws {
        let parts = try parse("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256, SHA512\n\nfirst  \t\n- -dashed\n- plain escaped\n\nlast\n" + Self.signature)
        #expect(parts.announced == [8, 10])
        #expect(parts.signedText == Array("first\r\n-dashed\r\nplain escaped\r\n\r\nlast".utf8))
        #expect(parts.text == Array("first\n-dashed\nplain escaped\n\nlast\n".utf8))
        #expect(parts.signature == [0x88, 0x01, 0x00])
    }

    @Test func refusesHostileFraming() {
        let body = "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nabc  def\n"
        func reason(_ text: String) -> String {
            do { _ = try parse(text); return "parsed" } catch { return error.description }
        }
        #expect(reason("injected\n" + body + Self.signature).contains("no text may precede"))
        #expect(reason(body + Self.signature + "SHA256:\n deadbeef 1 evil\n").contains("text outside the armor block"))
        // A second signed block after the first: never silently ignored.
        #expect(reason(body + Self.signature + body + Self.signature) != "parsed")
        #expect(reason(body.replacingOccurrences(of: "Hash: SHA256", with: "Hash: SHA256\nComment: hi") + Self.signature).contains("only 'Hash:' headers"))
        #expect(reason(body + "-not escaped\n" + Self.signature).contains("must be dash-escaped"))
        #expect(reason(body).contains("no '-----BEGIN PGP SIGNATURE-----'"))
        #expect(reason(body.replacingOccurrences(of: "SHA256", with: "WHIRLPOOL") + Self.signature).contains("unknown hash"))
        #expect(reason(body + "a\rb\n" + Self.signature).contains("bare carriage return"))
        #expect(reason(body + "-\n" + Self.signature).contains("line 5: a line starting with '-' must be dash-escaped"))
    }

    /// Line splitting (TextLines, memchr) against a plain byte-by-byte splitter, on
    /// random texts of LF, CR, spaces, dashes and letters.
    @Test func linesAgreeWithAPlainSplitter() {
        func plain(_ bytes: [UInt8]) -> [Range<Int>] {
            var out: [Range<Int>] = []
            var start = 0
            while start <= bytes.count {
                var end = start
                while end < bytes.count, bytes[end] != 0x0a { end += 1 }
                let stop = end > start && bytes[end - 1] == 0x0d ? end - 1 : end
                if end < bytes.count || stop > start { out.append(start..<stop) }
                start = end + 1
            }
            return out
        }
        var random = TestRandom.generator()
        let alphabet: [UInt8] = [0x0a, 0x0a, 0x0d, 0x20, 0x09, 0x2d, 0x61, 0x62]
        for _ in 0..<2_000 {
            let text = (0..<Int.random(in: 0...40, using: &random)).map { _ in alphabet.randomElement(using: &random) ?? 0x61 }
            #expect(TextLines.ranges(text) == plain(text), "\(text)")
            #expect(Armor.lines(text).map(Array.init) == plain(text).map { Array(text[$0]) })
        }
    }

    /// The text spans several of the 64 KiB pieces the hashers are fed in:
    /// the digest is that of `signedText`, and a refusal deep in the text
    /// still names its line.
    @Test func longTextsHashAsOneAndKeepLineNumbers() throws {
        var body = ""
        for index in 0..<9_000 { body += index % 7 == 0 ? "- -dash \(index)  \n" : "line \(index) of the signed text\t\n" }
        let parts = try parse("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n" + body + Self.signature)
        #expect(parts.lines.count == 9_000 && parts.signedText.count > 3 << 16)
        let (fed, whole) = (Hasher(.sha256), Hasher(.sha256))
        #expect(parts.feedSignedText([fed]) == UInt64(parts.signedText.count))
        whole.update(parts.signedText)
        #expect(fed.finalize() == whole.finalize())
        do {
            _ = try parse("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n" + body + "a\rb\n" + Self.signature)
            Issue.record("a bare CR after 9,000 lines was accepted")
        } catch {
            #expect(error.description.contains("line 9004: a bare carriage return"))
        }
    }
}

@Suite struct OpenPGPDateTests {
    @Test func utcDates() {
        #expect(PGPCertificateCheck.date(0) == "1970-01-01T00:00:00Z")
        #expect(PGPCertificateCheck.date(951_782_400) == "2000-02-29T00:00:00Z")
        #expect(PGPCertificateCheck.date(1_767_225_599) == "2025-12-31T23:59:59Z")
        #expect(PGPCertificateCheck.date(UInt32.max) == "2106-02-07T06:28:15Z")
    }
}
