import Foundation
import Testing
import BouncerBase
@testable import BouncerServe

/// The guesses behind `bouncer serve --verify-ahead` (which file a client
/// fetches next, what a wheel requires) and the byte-level helpers the index
/// pages go through, checked against what they replaced.
struct VerifyAheadTests {
    func file(_ name: String, metadata: Bool = false, sha256: String? = nil) -> IndexFile {
        var file = IndexFile(filename: name, url: "https://files.test/" + name, hashes: sha256.map { ["sha256": $0] } ?? [:])
        if metadata { file.coreMetadata = ["sha256": String(repeating: "0", count: 64)] }
        return file
    }

    @Test func releaseNumbersOrderAsPEP440() throws {
        func number(_ text: String) throws -> ReleaseNumber { try #require(ReleaseNumber(text), "\(text)") }
        #expect(try number("1.0") == number("1.0.0"))
        #expect(try number("1.9") < number("1.10"))
        #expect(try number("3.0") < number("2!0.1"))
        #expect(try number("1.0") < number("1.0.post1"))
        #expect(try number("1.0.post1") < number("1.0.1"))
        for unparsed in ["1.0rc1", "1.0.dev0", "1.0+local", "abc", "", "1..0", "１.0"] {
            #expect(ReleaseNumber(unparsed) == nil, "\(unparsed)")
        }
    }

    @Test func theLikelyPickIsTheNewestReleasesOnlyUniversalWheel() {
        let offered = [file("a-1.0-py3-none-any.whl"), file("a-2.0-py3-none-any.whl"), file("a-2.0rc1-py3-none-any.whl")]
        #expect(RegistryProxy.likelyPick(offered, project: "a")?.filename == "a-2.0-py3-none-any.whl")
        // Several files for the newest release (platform wheels, an sdist): no guess.
        #expect(RegistryProxy.likelyPick(offered + [file("a-2.0.tar.gz")], project: "a") == nil)
        #expect(RegistryProxy.likelyPick([file("a-2.0-cp311-cp311-manylinux_2_17_x86_64.whl")], project: "a") == nil)
        // With PEP 658 metadata on the page, pip asks for that first, and the metadata request names the wheel.
        #expect(RegistryProxy.likelyPick([file("a-2.0-py3-none-any.whl", metadata: true)], project: "a") == nil)
    }

    /// pip's User-Agent says CPython 3.11 on x86_64 Linux with glibc 2.36: of a release's wheels,
    /// the one `packaging.tags` ranks first for it is the one verified ahead.
    @Test func aClientsPlatformPicksItsWheel() throws {
        let agent = #"pip/23.2.1 {"ci":null,"cpu":"x86_64","distro":{"id":"bookworm","libc":{"lib":"glibc","version":"2.36"},"name":"Debian GNU/Linux","version":"12"},"implementation":{"name":"CPython","version":"3.11.7"},"installer":{"name":"pip","version":"23.2.1"},"python":"3.11.7","system":{"name":"Linux","release":"6.1.0"}}"#
        let platform = try #require(ClientPlatform(userAgent: agent))
        #expect(platform == ClientPlatform(major: 3, minor: 11, arch: "x86_64", glibcMinor: 36))
        for other in ["curl/8.0", "pip/23 {}", agent.replacingOccurrences(of: "glibc", with: "musl"),
                      agent.replacingOccurrences(of: #""name":"CPython""#, with: #""name":"PyPy""#)] {
            #expect(ClientPlatform(userAgent: other) == nil, "\(other)")
        }
        func rank(_ file: String) -> Int? { platform.priority(wheel: file) }
        let native = "c-3.5-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
        #expect(rank(native) != nil)
        #expect(try #require(rank(native)) < #require(rank("c-3.5-cp311-abi3-manylinux_2_17_x86_64.whl")))
        #expect(try #require(rank("c-3.5-cp311-cp311-manylinux_2_28_x86_64.whl")) < #require(rank(native)))
        #expect(try #require(rank("c-3.5-cp39-abi3-linux_x86_64.whl")) < #require(rank("c-3.5-py3-none-manylinux1_x86_64.whl")))
        #expect(try #require(rank("c-3.5-py3-none-manylinux1_x86_64.whl")) < #require(rank("c-3.5-py3-none-any.whl")))
        for incompatible in ["c-3.5-cp311-cp311-manylinux_2_38_x86_64.whl", "c-3.5-cp311-cp311-musllinux_1_1_x86_64.whl",
                             "c-3.5-cp310-cp310-manylinux_2_17_x86_64.whl", "c-3.5-cp311-cp311-manylinux_2_17_aarch64.whl",
                             "c-3.5-cp311-cp311-win_amd64.whl", "c-3.5-py2-none-any.whl", "c-3.5.tar.gz"] {
            #expect(rank(incompatible) == nil, "\(incompatible)")
        }
        let release = ["c-3.5-cp310-cp310-manylinux_2_17_x86_64.whl", native, "c-3.5-cp311-cp311-musllinux_1_1_x86_64.whl",
                       "c-3.5-cp311-cp311-win_amd64.whl", "c-3.5-py3-none-any.whl", "c-3.4-cp311-cp311-manylinux_2_28_x86_64.whl"].map { file($0) }
        #expect(RegistryProxy.likelyPick(release, project: "c", platform: platform)?.filename == native)
        #expect(RegistryProxy.likelyPick(release, project: "c") == nil, "without the client's platform, no guess among platform wheels")
    }

    @Test func anExpectedPinPicksTheFileItsHashNames() throws {
        let linux = file("a-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", sha256: String(repeating: "1", count: 64))
        let mac = file("a-1.0-cp311-cp311-macosx_11_0_arm64.whl", sha256: String(repeating: "2", count: 64))
        let newer = file("a-2.0-py3-none-any.whl")
        let pinned = try #require(PyPISources.ExpectedProject("a==1.0"))
        let stated = [try Digest(algorithm: .sha256, hex: String(repeating: "2", count: 64))]
        #expect(RegistryProxy.expectedPick([linux, mac, newer], project: pinned, stated: stated)?.filename == mac.filename)
        #expect(RegistryProxy.expectedPick([linux, mac, newer], project: pinned, stated: []) == nil)
        // Once the client's platform is known, its wheel; none when nothing fits it.
        let x86 = ClientPlatform(major: 3, minor: 11, arch: "x86_64", glibcMinor: 36)
        #expect(RegistryProxy.expectedPick([linux, mac, newer], project: pinned, stated: [], platform: x86)?.filename == linux.filename)
        let arm = ClientPlatform(major: 3, minor: 11, arch: "aarch64", glibcMinor: 36)
        #expect(RegistryProxy.expectedPick([linux, mac, newer], project: pinned, stated: [], platform: arm) == nil)
        // The stated digest still wins over the platform's preference.
        #expect(RegistryProxy.expectedPick([linux, mac, newer], project: pinned, stated: stated, platform: x86)?.filename == mac.filename)
        let unpinned = try #require(PyPISources.ExpectedProject("A_"+"b"))
        #expect(unpinned.name == "a-b" && unpinned.version == nil)
        for bad in ["a==", "a==1==2", "not a name", "a==1.0;x", "a==１.0"] { #expect(PyPISources.ExpectedProject(bad) == nil, "\(bad)") }
    }

    @Test func wheelRequirementsLeaveOutExtrasAndTheBody() {
        let metadata = """
            Metadata-Version: 2.1\r
            Name: top\r
            Requires-Dist: Foo_Bar (>=1.0)\r
            Requires-Dist: baz; extra == 'socks'\r
            requires-dist: qux>=2; python_version < "4"\r
            Requires-Dist: foo-bar\r
            \r
            Requires-Dist: in-the-description
            """
        #expect(WheelDependencies.parse(Array(metadata.utf8)) == ["foo-bar", "qux"])
    }

    /// The fast path for absolute links gives what Foundation's URL resolution gives, or steps aside.
    @Test func plainAbsoluteLinksResolveAsFoundationDoes() {
        let page = "https://index.test/simple/a/"
        let links = ["https://files.test/p/a-1.0.whl#sha256=abc", "http://files.test:8080/x%20y.whl", "https://files.test/a/../b.whl",
                     "https://files.test/a b.whl", "HTTPS://files.test/x.whl", "https://files.test/%zz.whl", "https://files.test/q?x=1&y=2#f",
                     "https://files.test/./a.whl", "https:///nohost", "../../packages/a.whl", "https://files.test/a#b#c"]
        var fastPathTaken = 0
        for link in links {
            guard let fast = SimpleIndexParser.plainAbsolute(link) else { continue }
            fastPathTaken += 1
            let url = URL(string: link, relativeTo: URL(string: page))?.absoluteURL.absoluteString ?? ""
            let parts = url.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            #expect(fast.url == parts[0], "\(link)")
            #expect(fast.fragment == (parts.count > 1 ? parts[1] : nil), "\(link)")
        }
        #expect(fastPathTaken == 3)
    }

    @Test func pathSegmentsAndFileNamesBytewise() {
        #expect(PathCoding.encode("a b+c~é/x") == "a%20b+c~%C3%A9%2Fx")
        #expect(PathCoding.encode("pkg-1.0_x.whl") == "pkg-1.0_x.whl")
        for safe in ["ok-1.0-py3-none-any.whl", "a!b@c"] { #expect(FileNames.isSafe(safe), "\(safe)") }
        for unsafe in ["", ".hidden", "..", "a/b", "a\\b", "a b", "a\u{7F}", "é.whl", String(repeating: "a", count: 256)] {
            #expect(!FileNames.isSafe(unsafe), "\(unsafe)")
        }
        #expect(FileNames.version("Pkg-1.0-py3-none-any.WHL", project: "pkg") == "1.0")
        #expect(FileNames.version("my-pkg-2.1.tar.gz", project: "my-pkg") == "2.1")
        #expect(FileNames.version("pkg-1.0.whl", project: "pkg") == nil)
    }

    @Test func workWaitingForThePlatformRunsOnceItIsLearntAndTheFirstPlatformStays() {
        let waiters = PlatformWaiters()
        // learn and whenKnown run waiting work on the caller's thread: this test's only.
        final class Seen: @unchecked Sendable { var platforms: [ClientPlatform] = [] }
        let seen = Seen()
        let first = ClientPlatform(major: 3, minor: 11, arch: "x86_64", glibcMinor: 36)
        let second = ClientPlatform(major: 3, minor: 12, arch: "aarch64", glibcMinor: 39)
        waiters.whenKnown { platform in seen.platforms.append(platform) }
        #expect(seen.platforms.isEmpty)
        waiters.learn(first)
        #expect(seen.platforms == [first])
        waiters.learn(second)
        waiters.whenKnown { platform in seen.platforms.append(platform) }
        #expect(seen.platforms == [first, first])
    }

    /// The pip shim's guess runs waiting work at once; the client's word
    /// runs it again only when it differs, and then stays.
    @Test func aGuessRunsWorkAtOnceAndTheClientsWordRunsItAgainOnlyWhenItDiffers() {
        final class Seen: @unchecked Sendable { var platforms: [ClientPlatform] = [] }
        let guessed = ClientPlatform(major: 3, minor: 11, arch: "x86_64", glibcMinor: 36)
        let other = ClientPlatform(major: 3, minor: 12, arch: "aarch64", glibcMinor: 39)

        let right = PlatformWaiters(), confirmed = Seen()
        right.whenKnown { confirmed.platforms.append($0) }
        right.guess(guessed)
        #expect(confirmed.platforms == [guessed])
        right.whenKnown { confirmed.platforms.append($0) }
        #expect(confirmed.platforms == [guessed, guessed])
        right.learn(guessed)
        #expect(confirmed.platforms == [guessed, guessed], "a right guess runs nothing twice")

        let wrong = PlatformWaiters(), corrected = Seen()
        wrong.guess(guessed)
        wrong.guess(other)
        wrong.whenKnown { corrected.platforms.append($0) }
        #expect(corrected.platforms == [guessed], "the first guess counts")
        wrong.learn(other)
        #expect(corrected.platforms == [guessed, other])
        wrong.learn(guessed)
        wrong.guess(guessed)
        wrong.whenKnown { corrected.platforms.append($0) }
        #expect(corrected.platforms == [guessed, other, other], "the client's word stays")
    }

    @Test func aPlatformGuessReadsPythonCPUAndGlibc() {
        #expect(PlatformGuess("3.11:x86_64:2.36").map(ClientPlatform.init(guess:)) == ClientPlatform(major: 3, minor: 11, arch: "x86_64", glibcMinor: 36))
        #expect(PlatformGuess("3.13:aarch64:2.41").map(ClientPlatform.init(guess:)) == ClientPlatform(major: 3, minor: 13, arch: "aarch64", glibcMinor: 41))
        for bad in ["", "3.11", "3.11:x86_64", "3.11:x86_64:2.36:x", "3:x86_64:2.36", "3.11.2:x86_64:2.36", "3.11::2.36",
                    "3.11:x86-64:2.36", "3.11:x86_64:1.36", "3.11:x86_64:2", "+3.11:x86_64:2.36", "3.1111:x86_64:2.36", "3.11:x86_64:2.٣٦"] {
            #expect(PlatformGuess(bad) == nil, "\(bad)")
        }
    }
}

/// What an upstream page may link to: http(s) files, and local files only
/// from a local page (a find-links folder). A remote page's `file:///etc/passwd`
/// had the proxy read and hash a local file (found by a red-team pass).
@Suite struct UpstreamLinkTests {
    @Test func aRemotePageLinksToNoLocalFile() throws {
        let html = Array(#"<a href="file:///etc/passwd#sha256=11">weird-4.0-py3-none-any.whl</a><a href="/f/weird-3.0-py3-none-any.whl">weird-3.0-py3-none-any.whl</a>"#.utf8)
        let remote = try SimpleIndexParser.project(html, contentType: "text/html", pageURL: "http://127.0.0.1:9/simple/weird/", name: "weird")
        #expect(remote.files.map(\.url) == ["http://127.0.0.1:9/f/weird-3.0-py3-none-any.whl"])
        let json = Array(#"{"meta":{"api-version":"1.1"},"name":"weird","files":[{"filename":"weird-4.0-py3-none-any.whl","url":"file:///etc/passwd","hashes":{}}]}"#.utf8)
        #expect(try SimpleIndexParser.project(json, contentType: "application/vnd.pypi.simple.v1+json", pageURL: "https://h/simple/weird/", name: "weird").files.isEmpty)
        let local = try SimpleIndexParser.project(Array(#"<a href="weird-4.0-py3-none-any.whl">weird-4.0-py3-none-any.whl</a>"#.utf8), contentType: "text/html",
                                                  pageURL: "file:///srv/wheels/", name: "weird")
        #expect(local.files.map(\.url) == ["file:///srv/wheels/weird-4.0-py3-none-any.whl"])
    }
}

/// A remote packument's tarballs: http(s) only (found by a red-team pass: a
/// `file:///…` tarball had the npm proxy read, serve and pin a local file).
@Suite struct UpstreamTarballTests {
    @Test func aPackumentNamesNoLocalFile() throws {
        let packument = try JSON.parse(Array(#"""
            {"name":"n9","versions":{
              "1.0.0":{"dist":{"tarball":"file:///tmp/n9.tgz","integrity":"sha512-x"}},
              "2.0.0":{"dist":{"tarball":"FILE:///etc/passwd"}},
              "3.0.0":{"dist":{"tarball":"http://127.0.0.1:9/npm/n9/-/n9-3.0.0.tgz"}}}}
            """#.utf8))
        #expect(RegistryProxy.tarballs(packument, name: "n9", upstream: "http://127.0.0.1:9/npm/").keys.sorted() == ["n9-3.0.0.tgz"])
    }
}
