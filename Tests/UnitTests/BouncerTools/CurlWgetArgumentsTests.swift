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

    /// `--no-X` undoes flag X as curl's toggle does; `--no-remote-name` still takes an output
    /// slot, to standard output (a red-team pass saw the shim write the bodies elsewhere than curl).
    @Test func negatedFlagsAreReadAsCurlReadsThem() throws {
        let slots = try #require(download(["--no-remote-name", "-o", "out2", "https://example.test/a", "https://example.test/b"]))
        #expect(slots.transfers.map(\.output) == [.standardOutput, .file("out2")])
        let none = try #require(download(["--remote-name-all", "--no-remote-name-all", "https://example.test/a"]))
        #expect(none.transfers.map(\.output) == [.standardOutput])
        // --remote-name-all counts for the URLs after it (red team, round 2).
        let after = try #require(download(["https://example.test/a", "--remote-name-all", "https://example.test/b"]))
        #expect(after.transfers.map(\.output) == [.standardOutput, .remoteName])
        let undoneLater = try #require(download(["--remote-name-all", "https://example.test/a", "--no-remote-name-all", "https://example.test/b"]))
        #expect(undoneLater.transfers.map(\.output) == [.remoteName, .standardOutput])
        let undone = try #require(download(["-fL", "--no-location", "--no-fail", "--create-dirs", "--no-create-dirs", "https://example.test/a"]))
        #expect(!undone.followRedirects && !undone.fail && !undone.createDirs)
    }

    /// An empty --output-dir (curl) or -P (wget) is none: `--output-dir "$UNSET"` had written into /.
    @Test func anEmptyOutputFolderIsNone() {
        #expect(CurlShim.inOutputDir("x.tgz", "") == "x.tgz")
        #expect(CurlShim.inOutputDir("x.tgz", "dl") == "dl/x.tgz")
        #expect(WgetShim.inPrefix("x.tgz", "") == "x.tgz")
        #expect(WgetShim.inPrefix("x.tgz", "dl/") == "dl/x.tgz")
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

    /// Only requests that write no response body go to the real curl.
    @Test func onlyBodylessRequestsPassThrough() {
        for arguments in [["-I", "https://h/x"], ["-sI", "https://h/x"], ["-I", "-G", "-d", "a=1", "https://h/x"], ["--version"]] {
            guard case .passThrough = CurlArguments.parse(arguments) else {
                Issue.record("\(arguments) should pass through")
                continue
            }
        }
        for (arguments, option) in [(["-X", "POST", "https://h/x"], "-X POST"), (["-d", "a=b", "https://h/x"], "-d"),
                                    (["-T", "file", "https://h/x"], "-T"), (["-F", "f=@x", "https://h/x"], "-F"),
                                    (["--json", "{}", "https://h/x"], "--json"), (["-X", "GET", "-d", "x", "https://h/x"], "-d"),
                                    (["--request", "GET", "--data-binary", "@/dev/null", "https://h/x"], "--data-binary"),
                                    (["-G", "-X", "POST", "-d", "a", "https://h/x"], "-X POST"), (["-I", "-X", "GET", "https://h/x"], "-X GET"),
                                    (["-K", "cfg", "https://h/x"], "-K"), (["https://h/x", "--next", "https://h/y"], "--next")] {
            guard case .unsupported(let named, _) = CurlArguments.parse(arguments) else {
                Issue.record("\(arguments) should be refused in enforce mode")
                continue
            }
            #expect(named == option, "\(arguments)")
        }
        // GET spelled out is still a download.
        #expect(download(["-X", "GET", "https://h/x"]) != nil)
    }

    /// -G: the data becomes the query, joined by '&', --data-urlencode escaped
    /// as curl 7.88 does (expected strings written by hand from what that curl
    /// sent to a loopback server: lowercase hex, '+' for a space).
    @Test func getWithDataBuildsCurlsQuery() throws {
        let files = ["f.txt": Array("a=1\r\nb=2\n".utf8)]
        let parsed = CurlArguments.parse(["-G", "-d", "x=1", "--data-urlencode", "q=a b/c&d", "--data-urlencode", "=é~", "-d", "@f.txt",
                                          "--data-binary", "raw", "--data-raw", "@lit", "https://h/p?k=v#frag"],
                                         readFile: { files[$0] })
        guard case .download(let invocation) = parsed else { Issue.record("\(parsed)"); return }
        #expect(invocation.transfers.map(\.url) == ["https://h/p?k=v&x=1&q=a+b%2fc%26d&%c3%a9~&a=1b=2&raw&@lit"])
        guard case .download(let plain) = CurlArguments.parse(["--get", "--data-urlencode", "n@f.txt", "h/p"], readFile: { files[$0] }) else {
            Issue.record("not a download"); return
        }
        #expect(plain.transfers.map(\.url) == ["http://h/p?n=a%3d1%0d%0ab%3d2%0a"])
        #expect(CurlArguments.parse(["-G", "-d", "@missing", "https://h/p"], readFile: { _ in nil }) == .usage("-d @missing: cannot read missing"))
        guard case .usage = CurlArguments.parse(["-G", "-d", "a b", "https://h/p"]) else { Issue.record("a space in the query was accepted"); return }
        // -g turns globbing off: brackets are then part of the URL.
        #expect(download(["-g", "http://[::1]:8080/x"])?.transfers.first?.url == "http://[::1]:8080/x")
    }

    @Test func optionsThatChangeTheFetchAreNamed() {
        #expect(CurlArguments.parse(["-H", "Authorization: x", "https://h/x"]) == .unsupported(option: "-H", why: "adds a request header"))
        #expect(CurlArguments.parse(["--range", "0-9", "https://h/x"]) == .unsupported(option: "--range", why: "asks for part of the body"))
        // Another CA or a client certificate: the refusal says where Bouncer's own fetch takes them from.
        for (arguments, variable) in [(["--cacert", "ca.pem"], "BOUNCER_CA_BUNDLE"), (["-E", "me.pem"], "BOUNCER_CLIENT_CERT"),
                                      (["--key", "me.key"], "BOUNCER_CLIENT_KEY")] {
            guard case .unsupported(_, let why) = CurlArguments.parse(arguments + ["https://h/x"]) else {
                Issue.record("\(arguments) was not refused")
                continue
            }
            #expect(why.contains(variable), "\(arguments): \(why)")
        }
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

    /// `--proto` read as curl reads it; `--proto-default` and the scheme's case as curl takes them.
    @Test func curlsProtocolSettings() {
        #expect(CurlArguments.allowedProtocols("=https") == ["https"])
        #expect(CurlArguments.allowedProtocols("-all,+https,+http") == ["https", "http"])
        #expect(!CurlArguments.allowedProtocols("-http").contains("http"))
        #expect(CurlArguments.allowedProtocols("https").contains("telnet"))
        #expect(CurlArguments.normalise("h/x", default: "HTTPS") == "https://h/x")
        #expect(CurlArguments.normalise("HTTP://h/X") == "http://h/X")
        guard case .curlError(1, _) = CurlArguments.parse(["--proto", "=https", "http://h/x"]) else { Issue.record("--proto =https fetched http"); return }
        guard case .curlError(1, _) = CurlArguments.parse(["--proto-default", "ftp", "--proto", "=https", "h/x"]) else { Issue.record("--proto-default"); return }
        guard case .download(let invocation) = CurlArguments.parse(["-m", "2.5", "--proto", "=https", "https://h/x"]) else { Issue.record("a https URL"); return }
        #expect(invocation.maxTime == 2.5)
        guard case .usage = CurlArguments.parse(["-m", "soon", "https://h/x"]) else { Issue.record("-m soon"); return }
        guard case .unsupported = CurlArguments.parse(["-I", "dict://h/x"]) else { Issue.record("-I dict:"); return }
        // The protocol as curl parses the URL (red team: `telnet:/h` and `imap.h` passed as http).
        for url in ["telnet:/127.0.0.1:9", "IMAP:/h/", "imap.localhost:9/", "pop3.h", "gopher:///h/x"] {
            guard case .unsupported = CurlArguments.parse(["-I", url]) else { Issue.record("-I \(url) passed"); continue }
        }
        for url in ["h:8080/x", "localhost/x", "file:/etc/hostname", "HTTPS://h/x"] {
            guard case .passThrough = CurlArguments.parse(["-I", url]) else { Issue.record("-I \(url) refused"); continue }
        }
        guard case .passThrough = CurlArguments.parse(["-I", "https://h/x"]) else { Issue.record("-I https:"); return }
        // Where a redirect may lead (red team C5: `-IL --proto-redir all` followed one to telnet and wrote
        // its server's bytes), and a scheme-less URL's `--proto-default`.
        for arguments in [["-sSIL", "--proto-redir", "all", "http://h/r"], ["-IL", "--proto-redir", "=http,telnet", "http://h/r"],
                          ["-I", "--proto-redir", "dict", "http://h/r"], ["-I", "--proto-redir", "=https", "--proto-redir", "+gopher", "http://h/r"],
                          ["-I", "--proto-default", "telnet", "h:23"]] {
            guard case .unsupported = CurlArguments.parse(arguments) else { Issue.record("\(arguments) passed"); continue }
        }
        for arguments in [["-IL", "--proto-redir", "=https", "http://h/r"], ["-IL", "--proto-redir", "-all,+http,+ftps", "http://h/r"]] {
            guard case .passThrough = CurlArguments.parse(arguments) else { Issue.record("\(arguments) refused"); continue }
        }
    }

    /// `--spider` saves nothing, and passes through; an option that turns
    /// it off again (`--no-spider`, `-e spider=off`) made that pass-through a download.
    @Test func aSpiderPassesOnlyAsASpider() {
        guard case .passThrough = WgetArguments.parse(["--spider", "-q", "https://h/x"]) else { Issue.record("a spider was not passed"); return }
        for arguments in [["--spider", "--no-spider", "-O", "x.sh", "https://h/x"], ["--spider", "-e", "spider=off", "https://h/x"],
                          ["--spider", "--execute=spider=off", "https://h/x"], ["--version", "-r", "https://h/x"]] {
            guard case .unsupported = WgetArguments.parse(arguments) else { Issue.record("\(arguments) passed through"); continue }
        }
        // wget takes a value on every boolean option: `--spider=off` alone is a download (red team),
        // `--spider=on` a spider, `--spider=maybe` wget's usage error.
        for off in ["off", "no", "0", "OFF"] {
            guard case .unsupported = WgetArguments.parse(["-qO-", "--spider=\(off)", "https://h/x"]) else { Issue.record("--spider=\(off) passed through"); continue }
        }
        guard case .passThrough = WgetArguments.parse(["--spider=on", "https://h/x"]) else { Issue.record("--spider=on"); return }
        guard case .usage = WgetArguments.parse(["--spider=maybe", "https://h/x"]) else { Issue.record("--spider=maybe"); return }
        guard case .download(let loud) = WgetArguments.parse(["-q", "--quiet=off", "https://h/x"]), !loud.quiet else { Issue.record("--quiet=off"); return }
    }

    /// The real wget is always started with `--no-config` first: one further on can be a URL
    /// to wget (after `--`), and wgetrc then added headers and a log file to a spider (red team).
    @Test func theRealWgetReadsNoWgetrc() {
        #expect(WgetShim.ignoringWgetrc(["--spider", "--", "http://h/x", "--no-config"]).first == "--no-config")
        #expect(WgetShim.ignoringWgetrc(["--no-config", "--spider", "http://h/x"]) == ["--no-config", "--spider", "http://h/x"])
    }

    /// Under POSIXLY_CORRECT wget's getopt stops at the first URL: `wget URL --spider`
    /// fetches "--spider" as a second URL and downloads URL, so it is no spider.
    @Test func posixlyCorrectEndsTheOptionsAtTheFirstURL() {
        guard case .passThrough = WgetArguments.parse(["-q", "https://h/x", "--spider"]) else { Issue.record("permuted spider"); return }
        guard case .download(let invocation) = WgetArguments.parse(["-q", "https://h/x", "--spider"], posixlyCorrect: true) else {
            Issue.record("POSIXLY_CORRECT: not a download"); return
        }
        #expect(invocation.urls == ["https://h/x", "http://--spider"], "wget takes it for a host name, as the shim does")
    }

    @Test func nonDownloadsAndRefusals() {
        guard case .unsupported("--post-data", _) = WgetArguments.parse(["--post-data=a", "https://h/x"]) else {
            Issue.record("a POST passed"); return
        }
        guard case .unsupported("--body-data", _) = WgetArguments.parse(["--method=GET", "--body-data=x", "https://h/x"]) else {
            Issue.record("a GET with a body passed"); return
        }
        guard case .unsupported("--method=PUT", _) = WgetArguments.parse(["--method=PUT", "https://h/x"]) else {
            Issue.record("a PUT passed"); return
        }
        #expect(download(["--method=GET", "https://h/x"])?.urls == ["https://h/x"])
        #expect(download(["--https-only", "https://h/x"])?.urls == ["https://h/x"])
        #expect(WgetArguments.parse(["--header=X: y", "https://h/x"]) == .unsupported(option: "--header", why: "adds a request header"))
        #expect(WgetArguments.parse(["-r", "https://h/x"]) == .unsupported(option: "-r", why: "fetches recursively"))
        for (argument, variable) in [("--ca-certificate=ca.pem", "BOUNCER_CA_BUNDLE"), ("--certificate=me.pem", "BOUNCER_CLIENT_CERT"),
                                     ("--private-key=me.key", "BOUNCER_CLIENT_KEY")] {
            guard case .unsupported(_, let why) = WgetArguments.parse([argument, "https://h/x"]) else {
                Issue.record("\(argument) was not refused")
                continue
            }
            #expect(why.contains(variable), "\(argument): \(why)")
        }
        guard case .unsupported("--bogus", _) = WgetArguments.parse(["--bogus", "https://h/x"]) else {
            Issue.record("unknown option accepted")
            return
        }
    }

    @Test func inputFilesAreRead() {
        let lists = ["l.txt": Array(" https://h/a \n\nrel/b\r\nhttps://h/c\n".utf8)]
        guard case .download(let invocation) = WgetArguments.parse(["--input-file=l.txt", "--base=https://base/dir/", "https://h/d"], readFile: { lists[$0] }) else {
            Issue.record("not a download"); return
        }
        #expect(invocation.urls == ["https://h/d", "https://h/a", "https://base/dir/rel/b", "https://h/c"])
        #expect(WgetArguments.parse(["-i", "nope"], readFile: { _ in nil }) == .usage("-i nope: cannot read nope"))
        guard case .unsupported("-i https://h/list", _) = WgetArguments.parse(["-i", "https://h/list"], readFile: { _ in nil }) else {
            Issue.record("a remote list was accepted"); return
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
