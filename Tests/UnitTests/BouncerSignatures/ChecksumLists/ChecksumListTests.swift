import Testing
import BouncerTestSupport
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools

@Suite struct ChecksumListTests {
    static let abc256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    static let empty256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    static let abc512 = "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"

    func parse(_ text: String) throws(ChecksumListError) -> ChecksumList {
        try ChecksumList.parse(Array(text.utf8), source: "SUMS")
    }

    @Test func gnuTextAndBinaryMarkers() throws {
        let list = try parse("\(Self.abc256)  text.txt\n\(Self.empty256) *binary.bin\n")
        #expect(list.entries.map(\.name) == ["text.txt", "binary.bin"])
        #expect(list.entries[0].digest.hex == Self.abc256)
        #expect(list.entries[1].line == 2)
    }

    @Test func escapedNamesAreUnescaped() throws {
        // coreutils prefixes the line with '\' and escapes '\\', '\n', '\r' in the name.
        let list = try parse("\\\(Self.abc256)  new\\nline\\\\back\\rcr\n")
        #expect(list.entries.first?.name == "new\nline\\back\rcr")
    }

    @Test func bsdFormatIncludingParenthesesInNames() throws {
        let list = try parse("SHA256 (a (1).tar.gz) = \(Self.abc256)\nSHA512 (b) = \(Self.abc512)\n")
        #expect(list.entries.map(\.name) == ["a (1).tar.gz", "b"])
        #expect(list.entries[1].digest.algorithm == .sha512)
    }

    @Test func commentsBlankLinesCRLFAndLeadingBlanks() throws {
        let list = try parse("# made by hand\r\n\r\n   \(Self.abc256)  x\r\n")
        #expect(list.entries.count == 1)
        #expect(list.entries[0].name == "x")
        #expect(list.entries[0].line == 3)
    }

    @Test func malformedLineNamesItsNumber() {
        let first = #expect(throws: ChecksumListError.self) { try parse("\(Self.abc256)  ok\nnot a checksum line\n") }
        guard case .malformedLine(_, let line, _)? = first else { Issue.record("expected a malformed line"); return }
        #expect(line == 2)
        let error = #expect(throws: ChecksumListError.self) { try parse("\(Self.abc256)  ok\n\(Self.abc256.dropLast())  short\n") }
        #expect(error?.description.contains("SUMS:2:") == true)
    }

    @Test func reversedBSDFormIsRefused() {
        // `hex = SHA256 (name)` is not a format any tool writes; refuse instead of guessing.
        #expect(throws: ChecksumListError.self) { try parse("\(Self.abc256) = SHA256 (x)\n") }
    }

    @Test func sameNameTwiceWithDifferentDigestsIsAmbiguous() {
        let error = #expect(throws: ChecksumListError.self) {
            try parse("\(Self.abc256)  x\n\(Self.empty256)  x\n")
        }
        #expect(error?.code == "checksums-ambiguous")
        #expect(error?.description.contains("lines 1 and 2") == true)
    }

    @Test func sameNameTwiceWithTheSameDigestIsFine() throws {
        let list = try parse("\(Self.abc256)  x\nSHA256 (x) = \(Self.abc256)\n")
        #expect(list.entries.count == 2)
    }

    @Test func emptyListIsRefused() {
        #expect(throws: ChecksumListError.empty(source: "SUMS")) { try parse("# nothing\n\n") }
    }

    @Test func checkFindsMatchesAndRefusals() throws {
        let list = try parse("\(Self.abc256)  abc\nMD5 (weak) = 900150983cd24fb0d6963f7d28e17f72\n")
        let abc = Hasher.digest(Array("abc".utf8), .sha256)
        let other = Hasher.digest(Array("abd".utf8), .sha256)
        guard case .success(let listed) = ChecksumListCheck.check(name: "abc", actual: [.sha256: abc], list: list) else {
            Issue.record("abc should be listed"); return
        }
        #expect(listed.line == 1)
        guard case .failure(.mismatch(_, _, let line, _, _)) = ChecksumListCheck.check(name: "abc", actual: [.sha256: other], list: list)
        else { Issue.record("a different digest must be a mismatch"); return }
        #expect(line == 1)
        #expect(ChecksumListCheck.check(name: "missing", actual: [.sha256: abc], list: list)
                == .failure(.notListed(name: "missing", list: "SUMS")))
        guard case .failure(.onlyWeakDigests) = ChecksumListCheck.check(name: "weak", actual: [:], list: list) else {
            Issue.record("md5-only entries must never pass"); return
        }
    }

    @Test func everyStrongEntryMustMatch() throws {
        // sha256 matches but the sha512 line for the same name does not: refused.
        let list = try parse("\(Self.abc256)  abc\nSHA512 (abc) = \(String(repeating: "0", count: 128))\n")
        let actual: [HashAlgorithm: Digest] = [.sha256: Hasher.digest(Array("abc".utf8), .sha256),
                                               .sha512: Hasher.digest(Array("abc".utf8), .sha512)]
        guard case .failure(.mismatch(_, _, let line, _, _)) = ChecksumListCheck.check(name: "abc", actual: actual, list: list)
        else { Issue.record("the sha512 mismatch must refuse"); return }
        #expect(line == 2)
    }

    @Test func unsafeLocalNames() {
        #expect(ChecksumListCheck.isSafeLocalName("dir/file.tar.gz"))
        #expect(!ChecksumListCheck.isSafeLocalName("/etc/passwd"))
        #expect(!ChecksumListCheck.isSafeLocalName("../outside"))
        #expect(!ChecksumListCheck.isSafeLocalName("a/../../b"))
        #expect(ChecksumListCheck.isSafeLocalName("..hidden"))
    }

    @Test func hostileBytesNeverCrash() {
        // Random and truncated inputs: a clean error or a list, never a trap.
        let seeds: [[UInt8]] = [[0xff, 0xfe, 0x00], Array("SHA256 (".utf8), Array("SHA256 (x) =".utf8),
                                Array("\\".utf8), Array(Self.abc256.utf8) + [0x20, 0x2a], [0x0a, 0x0d, 0x0a]]
        for seed in seeds {
            _ = try? ChecksumList.parse(seed, source: "fuzz")
        }
        var generator = TestRandom.generator()
        for _ in 0..<2000 {
            let length = Int.random(in: 0..<120, using: &generator)
            let alphabet = Array("0123456789abcdefSHA() =*\\\n\r /.x".utf8)
            let bytes = (0..<length).map { _ in alphabet.randomElement(using: &generator) ?? 0x20 }
            _ = try? ChecksumList.parse(bytes, source: "fuzz")
        }
    }
}

@Suite struct EncodingTests {
    @Test func base64RoundTripsAndIsStrict() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
            #expect(Base64.decode(Base64.encode(bytes, alphabet: .urlSafe, padding: false), alphabet: .urlSafe, padding: false) == bytes)
        }
        #expect(Base64.encode(Array("foobar".utf8)) == "Zm9vYmFy") // RFC 4648 §10
        #expect(Base64.encode(Array("fo".utf8)) == "Zm8=")
        #expect(Base64.decode("Zm8") == nil, "missing padding")
        #expect(Base64.decode("Zm9=") == nil, "non-zero trailing bits")
        #expect(Base64.decode("Zm 8=") == nil)
        #expect(Base64.decode("-_8=") == nil, "url-safe characters in standard base64")
    }

    /// The reason a strict decode refuses, for error messages: each kind of
    /// refusal names itself, and text that decodes has no reason.
    @Test func base64RefusalsSayWhy() {
        for valid in ["", "Zm8=", "Zm9vYmFy", "Zg=="] { #expect(Base64.invalidReason(valid) == nil, "\(valid)") }
        #expect(Base64.invalidReason("-_8=", alphabet: .urlSafe, padding: true) == nil)
        let cases: [(String, Base64.Alphabet, Bool, String)] = [
            ("Zm9=", .standard, true, "the last character '9' carries non-zero unused bits"),
            ("Zm 8=", .standard, true, "byte 0x20 at offset 2 is not a base64 character"),
            ("Zm*8", .standard, true, "'*' at offset 2 is not a base64 character"),
            ("-_8=", .standard, true, "'-' at offset 0 is not a base64 character"),
            ("Zm8", .standard, true, "length 3 is not a multiple of 4"),
            ("Zm8=", .standard, false, "padding '=' is not allowed here"),
            ("Z===", .standard, true, "3 padding characters"),
            ("Zm9vY", .standard, false, "5 base64 characters cannot encode whole bytes"),
            ("Zm=v", .standard, true, "'=' at offset 2 is not a base64 character"),
        ]
        for (text, alphabet, padding, reason) in cases {
            #expect(Base64.decode(text, alphabet: alphabet, padding: padding) == nil, "\(text)")
            let said = Base64.invalidReason(text, alphabet: alphabet, padding: padding)
            #expect(said?.contains(reason) == true, "\(text): \(said ?? "nil")")
        }
    }

    @Test func sriParsesSeveralHashesAndTheStrongestWins() throws {
        let data = Array("hello".utf8)
        let s256 = Hasher.digest(data, .sha256)
        let s512 = Hasher.digest(data, .sha512)
        let sri = try SubresourceIntegrity(parsing: "sha1-qvTGHdzF6KLavt4PO0gs2a6pQ00= \(s256.sri) \(s512.sri)?opt foo-bar")
        #expect(sri.strongest == [s512])
        #expect(sri.ignoredTokens == ["foo-bar"])
        #expect(sri.isSatisfied(by: [.sha512: s512, .sha256: s256]))
        let wrong512 = Hasher.digest(Array("other".utf8), .sha512)
        // A matching sha256 does not rescue a mismatching sha512: the strongest decides.
        #expect(!sri.isSatisfied(by: [.sha512: wrong512, .sha256: s256]))
        #expect(s512.sri.hasPrefix("sha512-"))
    }

    @Test func sriWithOnlyWeakHashesPinsNothing() throws {
        let sri = try SubresourceIntegrity(parsing: "sha1-qvTGHdzF6KLavt4PO0gs2a6pQ00=")
        #expect(sri.strongest.isEmpty)
        #expect(!sri.isSatisfied(by: [.sha1: Hasher.digest(Array("hello".utf8), .sha1)]))
    }

    @Test func sriRejectsMalformedTokens() {
        #expect(throws: SRIParseError.self) { try SubresourceIntegrity(parsing: "sha256-notbase64!") }
        #expect(throws: SRIParseError.self) { try SubresourceIntegrity(parsing: "sha256-Zm8=") }
        #expect(throws: SRIParseError.self) { try SubresourceIntegrity(parsing: "   ") }
    }

    @Test func digestParsing() throws {
        let hex = ChecksumListTests.abc256
        #expect(try Digest(parsing: "sha256:" + hex).hex == hex)
        #expect(try Digest(parsing: hex).algorithm == .sha256)
        #expect(try Digest(parsing: "sha256:" + hex.uppercased()).hex == hex)
        #expect(throws: DigestParseError.self) { try Digest(parsing: "sha256:" + hex.dropLast()) }
        #expect(throws: DigestParseError.self) { try Digest(parsing: "sha512:" + hex) }
        #expect(throws: DigestParseError.self) { try Digest(parsing: "crc32:deadbeef") }
        #expect(!HashAlgorithm.md5.isEvidence && !HashAlgorithm.sha1.isEvidence && HashAlgorithm.sha384.isEvidence)
    }

    @Test func redactionHidesCredentials() {
        #expect(Redaction.url("https://user:pw@example.test/a?token=t1&x=1#f") == "https://example.test/a?token=REDACTED&x=1#f")
        #expect(Redaction.url("https://example.test/a?X-Amz-Signature=abc") == "https://example.test/a?X-Amz-Signature=REDACTED")
        #expect(Redaction.url("https://example.test/p@th") == "https://example.test/p@th")
    }

    @Test func byteCounts() {
        #expect(ByteCount.parse("1048576") == 1 << 20)
        #expect(ByteCount.parse("512K") == 512 << 10)
        #expect(ByteCount.parse("100MiB") == 100 << 20)
        #expect(ByteCount.parse("4G") == 4 << 30)
        #expect(ByteCount.parse("4x") == nil)
        #expect(ByteCount.parse("") == nil)
        #expect(ByteCount.parse("99999999999999999999T") == nil)
        #expect(ByteCount.parse("20000000T") == nil, "overflow is refused, not wrapped")
    }
}
