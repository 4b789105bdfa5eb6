import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools

@Suite struct CurlArgumentsTests {
    func download(_ arguments: [String]) -> CurlInvocation? {
        if case .download(let invocation) = CurlArguments.parse(arguments) { return invocation }
        return nil
    }

    @Test func clusteredFlagsWithOutputValue() throws {
        let invocation = try #require(download(["-fsSLo", "out.tgz", "https://example.test/a.tgz"]))
        #expect(invocation.fail && invocation.silent && invocation.showError && invocation.followRedirects)
        #expect(invocation.transfers == [.init(url: "https://example.test/a.tgz", output: .file("out.tgz"))])
    }

    @Test func attachedOutputValueAndProgressBar() throws {
        let invocation = try #require(download(["-#", "-oout", "https://example.test/a"]))
        #expect(invocation.progressBar)
        #expect(invocation.transfers.first?.output == .file("out"))
    }

    @Test func outputsPairWithURLsInOrder() throws {
        let invocation = try #require(download(["-O", "https://example.test/one", "-o", "b", "https://example.test/two", "https://example.test/three"]))
        #expect(invocation.transfers.map(\.output) == [.remoteName, .file("b"), .standardOutput])
    }

    @Test func remoteNameAllAndOutputDir() throws {
        let invocation = try #require(download(["--remote-name-all", "--output-dir", "dl", "--create-dirs", "https://example.test/x", "https://example.test/y"]))
        #expect(invocation.transfers.map(\.output) == [.remoteName, .remoteName])
        #expect(invocation.outputDir == "dl")
        #expect(invocation.createDirs)
    }

    @Test func continueAtDashIsAResume() throws {
        let invocation = try #require(download(["-C", "-", "-O", "https://example.test/big.iso"]))
        #expect(invocation.resume)
        #expect(invocation.transfers.map(\.output) == [.remoteName])
    }

    @Test func schemelessURLDefaultsToHTTP() throws {
        let invocation = try #require(download(["example.test/file"]))
        #expect(invocation.transfers.first?.url == "http://example.test/file")
    }

    @Test func nonDownloadsPassThrough() {
        for arguments in [["-X", "POST", "https://h/x"], ["-I", "https://h/x"], ["-sI", "https://h/x"], ["-d", "a=b", "https://h/x"],
                          ["-T", "file", "https://h/x"], ["-F", "f=@x", "https://h/x"], ["--json", "{}", "https://h/x"], ["--version"]] {
            guard case .passThrough = CurlArguments.parse(arguments) else {
                Issue.record("\(arguments) should pass through")
                continue
            }
        }
        // GET spelled out is still a download.
        #expect(download(["-X", "GET", "https://h/x"]) != nil)
    }

    @Test func optionsThatChangeTheFetchAreNamed() {
        #expect(CurlArguments.parse(["-H", "Authorization: x", "https://h/x"]) == .unsupported(option: "-H", why: "adds a request header"))
        #expect(CurlArguments.parse(["--range", "0-9", "https://h/x"]) == .unsupported(option: "--range", why: "asks for part of the body"))
        guard case .unsupported(let option, _) = CurlArguments.parse(["--frobnicate", "https://h/x"]) else {
            Issue.record("unknown long option accepted")
            return
        }
        #expect(option == "--frobnicate")
        guard case .unsupported(let letter, _) = CurlArguments.parse(["-sQ", "https://h/x"]) else {
            Issue.record("unknown short option accepted")
            return
        }
        #expect(letter == "-Q")
        guard case .unsupported(let glob, _) = CurlArguments.parse(["https://h/file[1-3].txt"]) else {
            Issue.record("URL globbing accepted")
            return
        }
        #expect(glob.contains("[1-3]"))
    }

    @Test func missingValueIsAUsageError() {
        #expect(CurlArguments.parse(["https://h/x", "-o"]) == .usage("option -o: requires parameter"))
    }

    @Test func exitCodesFollowCurl() {
        #expect(CurlShim.exitCode(for: BouncerError(.transport, code: "fetch-http-status", "")) == 22)
        #expect(CurlShim.exitCode(for: BouncerError(.transport, code: "fetch-connection", "")) == 7)
        #expect(CurlShim.exitCode(for: BouncerError(.evidence, code: "digest-mismatch", "")) == 1)
        #expect(CurlShim.exitCode(for: BouncerError(.configuration, code: "policy-deny", "")) == 2)
    }

    @Test func silentDetection() {
        #expect(CurlShim.isSilent(["-sI", "u"]))
        #expect(CurlShim.isSilent(["-fsSL", "u"]))
        #expect(!CurlShim.isSilent(["-os", "u"]))  // "s" is -o's value here
        #expect(!CurlShim.isSilent(["-I", "u"]))
    }
}

@Suite struct WgetArgumentsTests {
    func download(_ arguments: [String]) -> WgetInvocation? {
        if case .download(let invocation) = WgetArguments.parse(arguments) { return invocation }
        return nil
    }

    @Test func quietToStandardOutput() throws {
        let invocation = try #require(download(["-qO-", "https://h/install.sh"]))
        #expect(invocation.quiet)
        #expect(invocation.outputDocument == "-")
        #expect(invocation.urls == ["https://h/install.sh"])
    }

    @Test func prefixContinueAndLongForms() throws {
        let invocation = try #require(download(["-c", "-P", "dl", "--output-document=f.bin", "--tries=3", "https://h/x"]))
        #expect(invocation.resume)
        #expect(invocation.prefix == "dl")
        #expect(invocation.outputDocument == "f.bin")
        let other = try #require(download(["--directory-prefix", "d", "-nc", "-nv", "https://h/x"]))
        #expect(other.prefix == "d" && other.noClobber)
    }

    @Test func nonDownloadsAndRefusals() {
        #expect(WgetArguments.parse(["--post-data=a", "https://h/x"]) == .passThrough(reason: "--post-data is not a plain download"))
        #expect(WgetArguments.parse(["--header=X: y", "https://h/x"]) == .unsupported(option: "--header", why: "adds a request header"))
        #expect(WgetArguments.parse(["-r", "https://h/x"]) == .unsupported(option: "-r", why: "fetches recursively"))
        guard case .unsupported("--bogus", _) = WgetArguments.parse(["--bogus", "https://h/x"]) else {
            Issue.record("unknown option accepted")
            return
        }
    }

    @Test func fileNamesAsWgetGivesThem() {
        #expect(WgetArguments.fileName(for: "https://h/dir/file.tar.gz") == "file.tar.gz")
        #expect(WgetArguments.fileName(for: "https://h/dir/") == "index.html")
        #expect(WgetArguments.fileName(for: "https://h") == "index.html")
        #expect(WgetArguments.fileName(for: "https://h/a%20b.txt") == "a b.txt")
        #expect(WgetArguments.fileName(for: "https://h/get?id=3") == "get?id=3")
        #expect(WgetArguments.fileName(for: "https://h/x%2Fy") == "x%2Fy")
    }
}
