import Foundation
import Testing
import BouncerBase
import BouncerSigstore
import BouncerTestSupport

/// The text helpers that replaced Foundation's NSString bridge (so the
/// `bouncer` binary links FoundationEssentials only), checked against
/// Foundation itself: the same inputs must give the same answers.
@Suite struct TextTests {
    static let samples = ["SHA256", " SHA256", "\tSHA512 \t", "\u{00A0}SHA256\u{3000}", " SHA 256 ", "", " ", "SHA256\n",
                          "\u{200B}SHA1", "\r\nvalue\r\n", "\u{85}x\u{2028}", "\u{0B}\u{0C}y", "é\u{301} ", " \u{1680}z\u{202F}"]

    /// `ours` against Foundation's trim by `set`, on the samples and on every BMP scalar around text.
    func expectSameTrim(_ ours: (String) -> String, as set: CharacterSet) {
        for text in Self.samples {
            #expect(ours(text) == text.trimmingCharacters(in: set), "\(Array(text.unicodeScalars))")
        }
        for value in UInt32(0)...0xFFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let text = "\(scalar)x\(scalar)"
            #expect(ours(text) == text.trimmingCharacters(in: set), "U+\(String(value, radix: 16))")
        }
    }

    @Test func trimmingSpacesMatchesFoundationsWhitespaces() {
        expectSameTrim({ $0.trimmingSpaces() }, as: .whitespaces)
    }

    @Test func trimmingWhitespaceMatchesFoundationsWhitespacesAndNewlines() {
        expectSameTrim({ $0.trimmingWhitespace() }, as: .whitespacesAndNewlines)
    }

    @Test func trimmingASetAndSplitting() {
        #expect(" \"quoted\" ".trimming([" ", "\""]) == "quoted")
        #expect("''".trimming(["'"]) == "")
        #expect("a==b==".components(splitAt: "==") == "a==b==".components(separatedBy: "=="))
        #expect("".components(splitAt: ",") == "".components(separatedBy: ","))
        #expect(",a,,b,".components(splitAt: ",") == ",a,,b,".components(separatedBy: ","))
        #expect("ab".leftAligned(4) == "ab  " && "ab".rightAligned(4) == "  ab" && "abcde".leftAligned(4) == "abcde")
    }

    @Test func fixedDecimalsMatchPrintf() {
        var random = TestRandom.generator()
        var values: [Double] = [0, 0.05, 0.15, 0.25, 1.45, 1023.95, 1024, 99.99, 5e-7, 123456.789, -0.04, -2.5]
        for _ in 0..<2000 { values.append(Double(random.next() % 10_000_000) / 1000) }
        for value in values {
            for places in 0...2 {
                // printf rounds the binary value half to even; the helper half away
                // from zero: they may differ only on an exact binary tie.
                let expected = String(format: "%.\(places)f", value)
                let got = NumberText.fixed(value, places: places)
                let scaled = value * pow(10, Double(places))
                if scaled - scaled.rounded(.down) != 0.5 {
                    #expect(got == expected, "\(value) with \(places) places")
                }
            }
        }
    }

    @Test func anOriginIsSchemeHostAndPortWithoutCredentials() {
        #expect(URLParts.origin("https://User:Secret@Files.Example:8443/a/b?c#d") == "https://files.example:8443")
        #expect(URLParts.origin("http://127.0.0.1:8080") == "http://127.0.0.1:8080")
        #expect(URLParts.origin("http://[::1]:80/x") == "http://[::1]:80")
        #expect(URLParts.origin("https://host?q") == "https://host")
        #expect(URLParts.origin("not a url") == "")
    }

    @Test func aPortIsTheOneWrittenElseTheSchemes() {
        #expect(URLParts.port("http://127.0.0.1:8731/npm/") == 8731)
        #expect(URLParts.port("https://user:p:w@host:8443/x") == 8443)
        #expect(URLParts.port("http://[::1]:9000/") == 9000)
        #expect(URLParts.port("http://[::1]/") == 80)
        #expect(URLParts.port("HTTPS://host/") == 443)
        #expect(URLParts.port("http://host:99999/") == 80)
        #expect(URLParts.port("not a url") == 80)
    }

    @Test func strictPercentDecodingMatchesFoundation() {
        for text in ["a%20b", "%2F%2f", "plain", "%", "%4", "%zz", "%C3%A9", "%C3", "%FF", "100%25", "%00", "a%2", "%e2%82%ac"] {
            #expect(URLParts.percentDecodedStrictly(text) == text.removingPercentEncoding, "\(text)")
        }
    }

    @Test func literalPatternsMatchOnlyThemselves() throws {
        for text in ["https://github.com/o/r/", "a.b*c+d?e(f)g[h]i{j}k|l^m$n\\o", "x-y_z~"] {
            let pattern = IdentityPolicy.Matcher.literalPattern(text)
            #expect(try IdentityPolicy.Matcher.regex(pattern).matches(text))
            #expect(try !IdentityPolicy.Matcher.regex(pattern).matches(text + "x"))
            // The same pattern means the same to ICU (Foundation's engine).
            let icu = try NSRegularExpression(pattern: "^(?:" + pattern + ")$")
            #expect(icu.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil)
        }
        #expect(try !IdentityPolicy.Matcher.regex(IdentityPolicy.Matcher.literalPattern("a.c")).matches("abc"))
    }

    /// Identity regexps as policies write them: the Swift engine that replaced
    /// NSRegularExpression (ICU) gives the same whole-value verdicts.
    @Test func identityRegexpsAgreeWithICU() throws {
        let patterns = ["https://github\\.com/o/r/.*", "https://github\\.com/o/r/\\.github/workflows/[^/]+@refs/tags/v[0-9]+(\\.[0-9]+)*",
                        "^https://token\\.actions\\.githubusercontent\\.com$", ".+@example\\.(com|org)", "(?i)HTTPS://GITHUB\\.COM/.*",
                        "https://gitlab\\.com/group/[a-z-]+//\\.gitlab-ci\\.yml@refs/heads/main", "\\w+@\\w+\\.com", "a|ab", "\\d{2,3}"]
        let values = ["https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1", "https://github.com/o/r/", "https://github.com/o/rr",
                      "https://token.actions.githubusercontent.com", "https://token.actions.githubusercontent.com\n", "me@example.com",
                      "me@example.net", "HTTPS://github.com/x", "https://gitlab.com/group/pro-ject//.gitlab-ci.yml@refs/heads/main",
                      "ab", "a", "12", "1234", "user_1@host.com", "é@example.org", ""]
        for pattern in patterns {
            let icu = try NSRegularExpression(pattern: "\\A(?:" + pattern + ")\\z")
            for value in values {
                let whole = NSRange(value.startIndex..<value.endIndex, in: value)
                let expected = icu.firstMatch(in: value, options: [.anchored], range: whole)?.range == whole
                #expect(try IdentityPolicy.Matcher.regex(pattern).matches(value) == expected, "/\(pattern)/ on '\(value)'")
            }
        }
        #expect(throws: SigstoreError.self) { try IdentityPolicy.Matcher.regex("(unclosed").matches("x") }
    }
}
