import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools

@Suite struct PipPlanTests {
    @Test func placementCarriesResolutionDoesNot() {
        let invocation = PipArguments.parse(["--disable-pip-version-check", "install", "-r", "req.txt", "--index-url", "http://i/simple/",
                                             "--extra-index-url=http://j/simple/", "--target", "t", "--user", "-qU", "pkg==1.0",
                                             "--no-deps", "--prefix=/p"])
        #expect(invocation.globalOptions == ["--disable-pip-version-check"])
        #expect(invocation.subcommand == "install")
        #expect(invocation.requirementFiles == ["req.txt"])
        #expect(invocation.carried == ["--target", "t", "--user", "-q", "-U", "--prefix", "/p"])
        #expect(invocation.unknownOption == nil)
    }

    /// optparse takes any unambiguous prefix of a long option, and `--pypi-url` for `--index-url`.
    @Test func longOptionsByTheirPrefix() {
        let invocation = PipArguments.parse(["--isol", "install", "--index-ur", "http://i/simple/", "--extra=http://j/simple/",
                                             "--pypi-url", "http://k/simple/", "--requirem", "req.txt", "--tar", "t", "pkg"])
        #expect(invocation.globalOptions == ["--isolated"])
        #expect(invocation.indexURL == "http://k/simple/" && invocation.extraIndexURLs == ["http://j/simple/"])
        #expect(invocation.requirementFiles == ["req.txt"] && invocation.requirements == ["pkg"])
        #expect(invocation.carried == ["--target", "t"] && invocation.unknownOption == nil)
        // A prefix of several options (--no-index, --no-deps...) is none: refused as unknown.
        #expect(PipArguments.parse(["install", "--no-", "pkg"]).unknownOption == "--no-")
        #expect(PipArguments.parse(["install", "--requir", "r.txt"]).unknownOption == "--requir")  // --requirement, --require-hashes
    }

    /// `pip wheel`'s own options (its --wheel-dir, by prefix too) are carried to
    /// the real pip; `install` does not take them, nor `wheel` download's --dest.
    @Test func wheelsOwnOptions() {
        let wheel = PipArguments.parse(["wheel", "--wheel-d", "out", "-wmore", "--no-verify", "-r", "req.txt"])
        #expect(wheel.subcommand == "wheel" && wheel.unknownOption == nil)
        #expect(wheel.carried == ["--wheel-dir", "out", "-w", "more", "--no-verify"])
        #expect(wheel.requirementFiles == ["req.txt"])
        #expect(PipArguments.parse(["install", "--wheel-dir", "out", "pkg"]).unknownOption == "--wheel-dir")
        #expect(PipArguments.parse(["wheel", "--dest", "out", "pkg"]).unknownOption == "--dest")
        #expect(PipArguments.parse(["download", "--de", "out", "pkg"]).carried == ["--dest", "out"])
    }

    @Test func unknownAndEditable() {
        #expect(PipArguments.parse(["install", "--frob", "x"]).unknownOption == "--frob")
        #expect(PipArguments.parse(["install", "-e", "."]).editable)
        #expect(PipArguments.parse(["list"]).subcommand == "list")
        // optparse clusters: -Ur FILE, -rFILE, -qqU.
        let clustered = PipArguments.parse(["install", "-Ur", "req.txt", "-rmore.txt", "-qqU", "-cc.txt", "pkg"])
        #expect(clustered.requirementFiles == ["req.txt", "more.txt"] && clustered.constraintFiles == ["c.txt"])
        #expect(clustered.carried == ["-U", "-q", "-q", "-U"] && clustered.unknownOption == nil)
        #expect(clustered.requirements == ["pkg"])
        #expect(PipArguments.parse(["install", "-Uz", "pkg"]).unknownOption == "-z")
    }

    @Test func namesNormalise() {
        #expect(PythonPackageName.normalised("Foo.Bar__baz") == "foo-bar-baz")
    }

    @Test func requirementFilesWithContinuationAndIncludes() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bouncer-req-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = String(repeating: "ab", count: 32), b = String(repeating: "cd", count: 32)
        try "Six_Pkg==1.16.0 \\\n    --hash=sha256:\(a) \\\n    --hash=sha256:\(b)  # pinned\n-r more.txt\n".write(toFile: dir + "/req.txt", atomically: true, encoding: .utf8)
        try "other[extra]>=1 --hash=sha512:\(a)\(a)\nPinned[x]==2.0.post1\nmarked==1.0;python_version<'3'\nsix-pkg\n./wheels/local-1.0-py3-none-any.whl\nhttps://files.test/x-1.0-py3-none-any.whl\nwide==１.0\n".write(toFile: dir + "/more.txt", atomically: true, encoding: .utf8)
        let file = try RequirementFile.read(dir + "/req.txt", environment: [:])
        #expect(file.hashes["six-pkg"]?.map(\.hex) == [a, b])
        #expect(file.hashes["other"]?.first?.algorithm == .sha512)
        // The projects in order, once each, with the version only where pinned exactly.
        // Paths and URLs name no project (the proxy is never asked to read ahead "-/wheels/…");
        // a version of other than ASCII letters and digits is no exact pin.
        #expect(file.projects.map(\.name) == ["six-pkg", "other", "pinned", "marked", "wide"])
        #expect(file.projects.map { $0.version ?? "-" } == ["1.16.0", "-", "2.0.post1", "-", "-"])
        try "x==1 --hash=md5:\(a.prefix(32))\n".write(toFile: dir + "/bad.txt", atomically: true, encoding: .utf8)
        #expect(throws: RequirementFile.ParseError.self) { try RequirementFile.read(dir + "/bad.txt", environment: [:]) }
    }

    /// Both readers of requirement files (the guard's --hash lists and projects,
    /// and the check for forms that run code) read pip's syntax through one
    /// reader: every include spelling, tab comments, ${VAR}, constraints.
    @Test func everyIncludeSpellingReachesBothReaders() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bouncer-req-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = String(repeating: "ab", count: 32), b = String(repeating: "cd", count: 32), c = String(repeating: "ef", count: 32)
        try "-rone.txt\n--requirement=two.txt\n--requirement ${SUBDIR}/three.txt\n-c limits.txt\n".write(toFile: dir + "/req.txt", atomically: true, encoding: .utf8)
        try "alpha==1.0 --hash=sha256:\(a)\t# pinned by hand\n".write(toFile: dir + "/one.txt", atomically: true, encoding: .utf8)
        try "beta==2.0 \\\n    --hash=sha256:\(b) \\\n# a comment ends the continuation\ngit+https://vcs.test/x.git#egg=x\n".write(toFile: dir + "/two.txt", atomically: true, encoding: .utf8)
        try "gamma==3.0 --hash sha256:\(c)\n".write(toFile: dir + "/sub/three.txt", atomically: true, encoding: .utf8)
        try "delta==4.0 --hash=sha256:\(a)\n./local-project\n".write(toFile: dir + "/limits.txt", atomically: true, encoding: .utf8)
        let environment = ["SUBDIR": "sub"]
        let file = try RequirementFile.read(dir + "/req.txt", environment: environment)
        #expect(file.hashes["alpha"]?.map(\.hex) == [a])
        #expect(file.hashes["beta"]?.map(\.hex) == [b])
        #expect(file.hashes["gamma"]?.map(\.hex) == [c])
        // A constraints file limits versions; it names nothing to install or fetch ahead.
        #expect(file.hashes["delta"] == nil)
        #expect(file.projects.map(\.name) == ["alpha", "beta", "gamma"])
        // The check for code-running forms sees the same files, constraints included.
        let scan = try PipSourceCheck.scan(PipArguments.parse(["install", "-r", dir + "/req.txt"]), cwd: dir, environment: environment)
        #expect(scan.findings.map(\.form).sorted() == ["./local-project", "git+https://vcs.test/x.git#egg=x"])
        #expect(scan.findings.first { $0.form.hasPrefix("git+") }?.place == dir + "/two.txt:4")
        // The same pass collects the projects and --hash lists the shim hands the proxy:
        // the files are read once, and a constraints file given with -c adds none of its own.
        let once = try PipSourceCheck.scan(PipArguments.parse(["install", "-r", dir + "/req.txt", "-c", dir + "/limits.txt"]), cwd: dir, environment: environment)
        #expect(once.requirementFiles.projects.map(\.name) == file.projects.map(\.name))
        #expect(once.requirementFiles.hashes == file.hashes)
        #expect(once.findings.map(\.form).sorted() == ["./local-project", "git+https://vcs.test/x.git#egg=x"])
        // An unset variable stays as written, and the file it names cannot be read.
        #expect(throws: BouncerError.self) { try RequirementFile.read(dir + "/req.txt", environment: [:]) }
        #expect(RequirementLines.logicalLines("x \\\n  y # c\n#only\n\tz\t#t\n").map(\.1) == ["x   y", "z"])
    }

    /// Lines as pip's `str.splitlines` and `\s` read them: a `-r` behind a
    /// CR, FF, NEL or LS, or after a comment that ends in NBSP and a
    /// backslash, is its own line to pip, and was part of another to the shim.
    @Test func requirementLinesBreakAndStripAsPythonDoes() throws {
        for separator in ["\r", "\u{0B}", "\u{0C}", "\u{1C}", "\u{85}", "\u{2028}", "\u{2029}", "\r\n"] {
            #expect(RequirementLines.logicalLines("goodpkg\(separator)-r other.txt\n").map(\.1) == ["goodpkg", "-r other.txt"], "\(separator.unicodeScalars.map(\.value))")
        }
        #expect(RequirementLines.logicalLines("goodpkg\n\u{A0}# note \\\n-r other.txt\n").map(\.1) == ["goodpkg", "-r other.txt"])
        #expect(RequirementLines.logicalLines("\u{A0}\u{2003}-e ./x\u{3000}\n").map(\.1) == ["-e ./x"])
        #expect(RequirementLines.logicalLines("a\\\r\nb\n").map(\.0) == [1])
        // Decoded as pip decodes: a UTF-8 mark dropped; UTF-16 and UTF-7 refused, not read as UTF-8.
        #expect(try RequirementLines.decoded([0xEF, 0xBB, 0xBF] + Array("-r x\n".utf8), file: "r.txt") == "-r x\n")
        #expect(throws: BouncerError.self) { try RequirementLines.decoded([0xFF, 0xFE, 0x2D, 0x00], file: "r.txt") }
        #expect(throws: BouncerError.self) { try RequirementLines.decoded(Array("# -*- coding: utf-7 -*-\ngoodpkg\n+AC0-r other.txt\n".utf8), file: "r.txt") }
        #expect(throws: BouncerError.self) { try RequirementLines.decoded(Array("x\n#coding=latin-1\n".utf8), file: "r.txt") }
        #expect(try RequirementLines.decoded(Array("# coding: utf-8\nx\n".utf8), file: "r.txt") == "# coding: utf-8\nx\n")
        #expect(try RequirementLines.decoded(Array("x\ny\n# coding: utf-7\n".utf8), file: "r.txt").hasSuffix("utf-7\n"))
        // Every occurrence on the line, as pip's regular expression searches (a red-team pass hid one behind "decoding hint").
        #expect(throws: BouncerError.self) { try RequirementLines.decoded(Array("# decoding hint, coding: utf-7\n+AC0-r inner.txt\n".utf8), file: "r.txt") }
        #expect(throws: BouncerError.self) { try RequirementLines.decoded(Array("#coding=\u{0C}latin-1\n".utf8), file: "r.txt") }
        #expect(RequirementLines.declaredEncoding(Array("# vim: set fileencoding=utf-7 :".utf8)) == "utf-7")
        #expect(RequirementLines.declaredEncoding(Array("# CODING: utf-7".utf8)) == nil)
        // Bytes that are no UTF-8: pip reads them in the locale's encoding, where 0x85 breaks a line.
        #expect(throws: BouncerError.self) { try RequirementLines.decoded([0x78, 0x85, 0x2D, 0x72, 0x20, 0x79, 0x0A], file: "r.txt") }
    }

    /// pip's configuration files as pip reads them: [install] over [global],
    /// continuation lines, keys with '_' or '-', and PIP_CONFIG_FILE=/dev/null reading none.
    @Test func pipConfigurationFilesAndEnvironment() throws {
        let text = "[global]\nindex-url = http://a.test/simple\nfind_links =\n    /opt/one\n    /opt/two\n[install]\nindex-url=http://b.test/simple\n[other]\nno-index = true\n"
        let settings = Dictionary(uniqueKeysWithValues: PipConfiguration.settings(text))
        #expect(settings["index-url"] == "http://b.test/simple")
        #expect(settings["find-links"]?.split(whereSeparator: \.isWhitespace) == ["/opt/one", "/opt/two"])
        #expect(settings["no-index"] == nil)
        let dir = NSTemporaryDirectory() + "bouncer-pipconf-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try text.write(toFile: dir + "/pip.conf", atomically: true, encoding: .utf8)
        let fromFile = PipConfiguration.read(environment: ["PIP_CONFIG_FILE": dir + "/pip.conf"], realTool: "/usr/bin/pip", isolated: false)
        #expect(fromFile.indexURL == "http://b.test/simple" && fromFile.findLinks == ["/opt/one", "/opt/two"])
        let overridden = PipConfiguration.read(environment: ["PIP_CONFIG_FILE": dir + "/pip.conf", "PIP_INDEX_URL": "http://c.test/simple",
                                                             "PIP_FIND_LINKS": "", "PIP_NO_INDEX": "yes"], realTool: "/usr/bin/pip", isolated: false)
        #expect(overridden.indexURL == "http://c.test/simple" && overridden.findLinks.isEmpty && overridden.noIndex)
        #expect(PipConfiguration.read(environment: ["PIP_CONFIG_FILE": "/dev/null"], realTool: "/usr/bin/pip", isolated: false) == PipConfiguration())
        #expect(PipConfiguration.read(environment: ["PIP_INDEX_URL": "http://c.test/simple"], realTool: "/usr/bin/pip", isolated: true).indexURL == nil)
        // Any option's long name is a setting: the files and editables it adds, and
        // --index-url's old name, which outranks the files as any variable does.
        let more = PipConfiguration.read(environment: ["PIP_CONFIG_FILE": dir + "/pip.conf", "PIP_PYPI_URL": "http://d.test/simple",
                                                       "PIP_REQUIREMENT": "a.txt  sub/b.txt", "PIP_CONSTRAINT": "c.txt",
                                                       "PIP_EDITABLE": "./proj", "PIP_NO_BINARY": ":all:"], realTool: "/usr/bin/pip", isolated: false)
        #expect(more.indexURL == "http://d.test/simple")
        #expect(more.requirementFiles == ["a.txt", "sub/b.txt"] && more.constraintFiles == ["c.txt"] && more.editables == ["./proj"])
        #expect(more.otherSettings["no-binary"] == ":all:" && more.otherSettings["requirement"] == nil && more.otherSettings["config-file"] == nil)
        let both = PipConfiguration.read(environment: ["PIP_PYPI_URL": "http://d.test/simple", "PIP_INDEX_URL": "http://c.test/simple",
                                                       "PIP_CONFIG_FILE": "/dev/null"], realTool: "/usr/bin/pip", isolated: false)
        #expect(both.indexURL == "http://c.test/simple")
        #expect(PipConfiguration.placeVariables.contains("PIP_PYPI_URL") && PipConfiguration.placeVariables.contains("PIP_REQUIREMENT"))
        // pip's own name normalisation: one leading `--` dropped, in a file's keys and after `PIP_`.
        try "[global]\n--extra-index-url = http://e.test/simple\n[install]\n--Editable = ./proj\n".write(toFile: dir + "/dashed.conf", atomically: true, encoding: .utf8)
        let dashed = PipConfiguration.read(environment: ["PIP_CONFIG_FILE": dir + "/dashed.conf", "PIP___REQUIREMENT": "r.txt", "PIP___PYPI_URL": "http://f.test/simple"],
                                           realTool: "/usr/bin/pip", isolated: false)
        #expect(dashed.extraIndexURLs == ["http://e.test/simple"] && dashed.editables == ["./proj"] && dashed.requirementFiles == ["r.txt"])
        #expect(dashed.indexURL == "http://f.test/simple" && dashed.otherSettings.keys.allSatisfy { !$0.contains("index") && !$0.contains("editable") }, "\(dashed.otherSettings)")
        // Every spelling of a setting the shim takes over is cleared for the real pip.
        #expect(PipConfiguration.placeVariables(in: ["PIP___EDITABLE": "x", "PIP_Extra_Index_URL": "y", "PIP_NO_BINARY": "z", "PIP_PROXY": "p", "HOME": "/"])
                == ["PIP_Extra_Index_URL", "PIP_PROXY", "PIP___EDITABLE"])
    }

    /// PIP_CONFIG_FILE is read as pip reads it: beside the site-wide files
    /// (and a venv's), overriding them; while it exists the per-user files are
    /// not read; /dev/null reads nothing.
    @Test func pipConfigFileIsReadBesideTheSiteWideFiles() throws {
        let dir = NSTemporaryDirectory() + "bouncer-pipconf-files-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for folder in ["xdg/pip", "home/.config/pip"] {
            try FileManager.default.createDirectory(atPath: dir + "/" + folder, withIntermediateDirectories: true)
        }
        try "[global]\nindex-url = http://site.test/simple\nextra-index-url = http://site-extra.test/simple\n"
            .write(toFile: dir + "/xdg/pip/pip.conf", atomically: true, encoding: .utf8)
        try "[global]\nfind-links = /user/wheels\n".write(toFile: dir + "/home/.config/pip/pip.conf", atomically: true, encoding: .utf8)
        try "[global]\nindex-url = http://named.test/simple\n".write(toFile: dir + "/named.conf", atomically: true, encoding: .utf8)
        let base = ["XDG_CONFIG_DIRS": dir + "/xdg", "HOME": dir + "/home"]
        var named = base
        named["PIP_CONFIG_FILE"] = dir + "/named.conf"
        let read = PipConfiguration.read(environment: named, realTool: "/usr/bin/pip", isolated: false)
        #expect(read.indexURL == "http://named.test/simple")
        #expect(read.extraIndexURLs == ["http://site-extra.test/simple"], "the site-wide file is still read")
        #expect(read.findLinks.isEmpty, "an existing PIP_CONFIG_FILE stands in for the per-user files")
        named["PIP_CONFIG_FILE"] = dir + "/missing.conf"
        let missing = PipConfiguration.read(environment: named, realTool: "/usr/bin/pip", isolated: false)
        #expect(missing.indexURL == "http://site.test/simple" && missing.findLinks == ["/user/wheels"])
        named["PIP_CONFIG_FILE"] = "/dev/null"
        #expect(PipConfiguration.read(environment: named, realTool: "/usr/bin/pip", isolated: false) == PipConfiguration())
    }

    /// Wheels named outside the index are verified by the shim first: `name @ URL` and local paths, never an sdist.
    @Test func directWheelRequirements() {
        let remote = DirectRequirement("Tiny_Lib @ https://x.test/d/tiny_lib-1.0-py3-none-any.whl#sha256=00", cwd: "/w")
        #expect(remote?.name == "Tiny_Lib" && remote?.version == "1.0" && remote?.url == "https://x.test/d/tiny_lib-1.0-py3-none-any.whl")
        #expect(DirectRequirement("dist/tiny-2.0-py3-none-any.whl", cwd: "/w")?.url == "file:///w/dist/tiny-2.0-py3-none-any.whl")
        #expect(DirectRequirement("tiny @ https://x.test/tiny-1.0.tar.gz", cwd: "/w") == nil)
        #expect(DirectRequirement("tiny>=1", cwd: "/w") == nil)
        #expect(DirectRequirement("x @ https://x.test/../.whl", cwd: "/w") == nil)
    }

    /// A direct URL's fragment: evidence-grade digests only (md5 and unknown names are dropped).
    @Test func directURLFragmentDigests() throws {
        let a = String(repeating: "1a", count: 32), b = String(repeating: "2b", count: 64)
        let (url, digests) = PipSourceCheck.splitFragment("https://x.test/p-1.0-py3-none-any.whl#sha256=\(a)&md5=00&sha512=\(b)&egg=p")
        #expect(url == "https://x.test/p-1.0-py3-none-any.whl")
        #expect(digests.map(\.description) == ["sha256:\(a)", "sha512:\(b)"])
        #expect(PipSourceCheck.splitFragment("https://x.test/p.whl").1.isEmpty)
    }
}

@Suite struct PackageLockTests {
    @Test func tarballsWithIntegrityAliasesLinksAndBundles() throws {
        let json = """
            {"name": "p", "lockfileVersion": 3, "packages": {
              "": {"name": "p"},
              "node_modules/a": {"version": "1.0.0", "resolved": "http://r/a/-/a-1.0.0.tgz", "integrity": "sha512-\(String(repeating: "A", count: 86))=="},
              "node_modules/alias": {"name": "real", "version": "2.0.0", "resolved": "http://r/real/-/real-2.0.0.tgz", "integrity": "sha1-\(String(repeating: "A", count: 27))="},
              "node_modules/a/node_modules/@s/c": {"version": "3.0.0", "resolved": "http://r/@s/c/-/c-3.0.0.tgz"},
              "node_modules/linked": {"resolved": "../linked", "link": true},
              "node_modules/b": {"version": "1.0.0", "inBundle": true}
            }}
            """
        let tarballs = try PackageLock.parse(Array(json.utf8), file: "package-lock.json")
        #expect(tarballs.map(\.name) == ["a", "@s/c", "real"])
        #expect(tarballs[0].integrity?.strongest.first?.algorithm == .sha512)
        #expect(tarballs[1].integrity == nil)
        #expect(tarballs[2].integrity?.strongest.isEmpty == true)  // sha1 alone is no pin
    }

    @Test func refusalsNameThePath() {
        let old = #"{"lockfileVersion": 1, "dependencies": {}}"#
        #expect(throws: PackageLock.ParseError.self) { try PackageLock.parse(Array(old.utf8), file: "l") }
        let noResolved = #"{"lockfileVersion": 2, "packages": {"node_modules/x": {"version": "1"}}}"#
        do {
            _ = try PackageLock.parse(Array(noResolved.utf8), file: "l")
            Issue.record("accepted an entry without resolved")
        } catch {
            #expect(error.path == "$.packages[\"node_modules/x\"].resolved")
        }
        let fileURL = #"{"lockfileVersion": 2, "packages": {"node_modules/x": {"version": "1", "resolved": "file:../x.tgz"}}}"#
        #expect(throws: PackageLock.ParseError.self) { try PackageLock.parse(Array(fileURL.utf8), file: "l") }
    }
}

/// npx's command line as the `npm exec` one npm's own npx runs.
@Suite struct NpxTranslationTests {
    @Test func optionsBeforeTheCommandAreNpmExecOptionsAndTheRestIsTheCommands() {
        #expect(NpxShim.translate(["cowsay", "-f", "tux", "hi"]).exec == ["exec", "--", "cowsay", "-f", "tux", "hi"])
        #expect(NpxShim.translate(["-y", "-p", "pkg@1", "cmd", "--flag"]).exec == ["exec", "--yes", "--package", "pkg@1", "--", "cmd", "--flag"])
        #expect(NpxShim.translate(["--package=pkg", "--registry", "http://r.test/", "cmd"]).exec
                == ["exec", "--package=pkg", "--registry", "http://r.test/", "--", "cmd"])
        #expect(NpxShim.translate(["-c", "echo hi", "--shell=bash"]).exec == ["exec", "--call", "echo hi", "--script-shell=bash"])
        #expect(NpxShim.translate(["--no-install", "cmd"]).exec == ["exec", "--yes=false", "--", "cmd"])
        // Any option that is no switch takes the next word unless it starts with `-`, as npm's npx reads it:
        // the command is cowsay, not the date.
        #expect(NpxShim.translate(["--before", "2024-01-01", "cowsay"]).exec == ["exec", "--before", "2024-01-01", "--", "cowsay"])
        #expect(NpxShim.translate(["--ignore-scripts", "cowsay"]).exec == ["exec", "--ignore-scripts", "--", "cowsay"])
        // Options npm exec no longer has are left out, with their values, and named.
        let old = NpxShim.translate(["--ignore-existing", "--node-arg", "--inspect", "cmd"])
        #expect(old.exec == ["exec", "--", "cmd"])
        #expect(old.dropped == ["--ignore-existing", "--node-arg", "--inspect"])
        // An explicit -- is kept as given.
        #expect(NpxShim.translate(["-y", "--", "cmd", "-y"]).exec == ["exec", "--yes", "--", "cmd", "-y"])
        #expect(NpxShim.translate([]).exec == ["exec"])
    }
}
