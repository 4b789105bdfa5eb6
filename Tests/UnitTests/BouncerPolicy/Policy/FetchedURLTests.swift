import Testing
@testable import BouncerPolicy

/// A plain URL as libcurl requests it, for the policy to read: what a red-team
/// pass got past a `files/**` rule and a `*` host exception is read as the
/// request that is sent.
@Suite struct FetchedURLTests {
    @Test func dotSegmentsAndTheHostsEndAreReadAsLibcurlSendsThem() throws {
        let cases = [
            ("http://h:1/files/../private/evil.sh", "http://h:1/private/evil.sh"),
            ("http://h/legacy/./a/../b", "http://h/legacy/b"),
            ("http://h/a/..", "http://h/"),
            ("http://localhost:18080?.0.0.1:18080/legacy/evil.sh", "http://localhost:18080/?.0.0.1:18080/legacy/evil.sh"),
            ("http://localhost:18080#.0.0.1/legacy/x", "http://localhost:18080/#.0.0.1/legacy/x"),
            ("HTTPS://H/Files/x.tgz", "https://H/Files/x.tgz"),
            ("https://h/plain/file-1.2.tar.gz?x=../y", "https://h/plain/file-1.2.tar.gz?x=../y"),
            ("https://h/api/v4/projects/group%2Fproject/packages/generic/p/1.0/a.tgz", "https://h/api/v4/projects/group%2Fproject/packages/generic/p/1.0/a.tgz"),
            ("https://h", "https://h"),
            ("https://user:pw@h/a/../b", "https://user:pw@h/b"),
        ]
        for (given, expected) in cases {
            #expect(try FetchedURL.canonical(given) == expected, "\(given)")
        }
        let glob = Glob("http://*.0.0.1:18080/legacy/**")
        #expect(!glob.matches(try FetchedURL.canonical("http://localhost:18080?.0.0.1:18080/legacy/evil.sh")))
        #expect(!Glob("http://h:1/files/**").matches(try FetchedURL.canonical("http://h:1/files/../private/evil.sh")))
    }

    @Test func encodedDotSegmentsAreRefused() {
        for url in ["http://h/files/%2e%2e/private/x", "http://h/files/%2E./x", "http://h/files/..%2fprivate/x", "http://h/files/..%5Cprivate",
                    "http://h/files/..\\private\\x", "http://h/files/%2e/x"] {
            #expect(throws: FetchedURL.Ambiguous.self, "\(url)") { try FetchedURL.canonical(url) }
        }
    }
}
