import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerTools
import BouncerTestSupport

/// pip's requirement-file options as pip reads them: every option on a line,
/// long options by unique prefix, shell words, and the finder's indexes as
/// `handle_option_line` changes them.
@Suite struct RequirementOptionsTests {
    func names(_ text: String) -> [String] {
        RequirementOption.parse(text).map { "\($0.name.rawValue)=\($0.value ?? "-")" }
    }

    @Test func everyOptionOnALineInEverySpelling() {
        #expect(names("--pre -i http://a/simple/") == ["--pre=-", "--index-url=http://a/simple/"])
        #expect(names("--pre -ihttp://a/") == ["--pre=-", "--index-url=http://a/"])
        #expect(names("--index-ur=http://a/ --extra http://b/") == ["--index-url=http://a/", "--extra-index-url=http://b/"])
        #expect(names("--pypi-url http://a/") == ["--index-url=http://a/"])
        #expect(names("--prefer-binary --requirem=x.txt -c y.txt") == ["--prefer-binary=-", "--requirement=x.txt", "--constraint=y.txt"])
        // An ambiguous prefix (--no-index, --no-binary) is no option pip takes; what follows is still read.
        #expect(names("--no- -e ./p") == ["=-", "--editable=./p"])
        // A value is the next word even when it starts with "-"; optparse stops at "--".
        #expect(names("--hash -x -- -i http://a/") == ["--hash=-x"])
        #expect(names("-C key=value --global-option '--a b'") == ["--config-settings=key=value", "--global-option=--a b"])
        #expect(names("-i") == ["--index-url=-"])
    }

    @Test func theLinesRequirementAndOptionsSplitAsPipSplitsThem() {
        let line = RequirementLines.Line(file: "/r/req.txt", number: 3, inConstraints: false,
                                         text: "name[extra]>=1.0 ; python_version >= \"3.8\" --hash=sha256:ab --hash sha256:cd")
        #expect(line.requirement == "name[extra]>=1.0 ; python_version >= \"3.8\"")
        #expect(line.hashes == ["sha256:ab", "sha256:cd"])
        #expect(line.isRequirement && line.include == nil)
        let include = RequirementLines.Line(file: "/r/req.txt", number: 1, inConstraints: false, text: "--pre -r other.txt -c limits.txt")
        #expect(include.include?.value == "other.txt" && include.include?.constraints == false)
        // `-e` makes a line a requirement: pip follows no include and applies no index option there.
        let editable = RequirementLines.Line(file: "/r/req.txt", number: 1, inConstraints: false, text: "--pre -e ./p -r other.txt")
        #expect(editable.isRequirement && editable.include == nil)
    }

    /// Differential: the same strings through Python's own `shlex.split`.
    @Test func shellWordsAreShlexs() throws {
        let samples = [#"a 'b c' "d e""#, #"x\ y "q\"uote" 'it'"'"'s'"#, #"--global-option="--a b" -C k='v w'"#,
                       #"back\\slash "in\\side" "\n" '\n'"#, "tab\tseparated  spaced", #"''"#, #"a"b"c 'd'e"#]
        let script = "import json, shlex, sys\nprint(json.dumps([shlex.split(s) for s in json.loads(sys.argv[1])]))"
        let input = String(decoding: try JSONSerialization.data(withJSONObject: samples), as: UTF8.self)
        let python = try BouncerProcess.runProgram("/usr/bin/env", ["python3", "-c", script, input])
        #expect(python.status == 0, "\(python.err)")
        let expected = try JSONSerialization.jsonObject(with: Data(python.out.utf8)) as? [[String]]
        #expect(samples.map(RequirementOption.shellWords) == expected ?? [])
        // Quoting a word and splitting it again gives the word back.
        for word in ["plain", "with space", "it's", "--a=b", "", "$HOME", "x\"y"] {
            #expect(RequirementOption.shellWords(RequirementOption.quoted(word)) == [word])
        }
    }

    func line(_ text: String, file: String = "/r/req.txt") -> RequirementLines.Line {
        RequirementLines.Line(file: file, number: 1, inConstraints: false, text: text)
    }

    /// pip's `handle_option_line`, line by line.
    @Test func theFinderChangesAsPipChangesIt() throws {
        var places = PipIndexes(noIndex: false, primary: nil, extras: ["http://cli-extra/"], findLinks: [])
        #expect(places.proxyArguments == ["--pypi-builtin-default", "--pypi-extra-upstream", "http://cli-extra/"])
        places.apply(line("--extra-index-url http://x/"), cwd: "/w")
        #expect(places.indexes == [nil, "http://cli-extra/", "http://x/"])
        // -i replaces every index, the command line's extra ones too; the last -i of a line counts.
        places.apply(line("-i http://first/ --index-url http://a/ --extra-index-url http://b/"), cwd: "/w")
        #expect(places.indexes == ["http://a/", "http://b/"])
        #expect(places.proxyArguments == ["--pypi-upstream", "http://a/", "--pypi-extra-upstream", "http://b/"])
        // A find-links path is the file's neighbour when that exists, else as written (from the working directory).
        let dir = try BouncerProcess.temporaryDirectory("bouncer-findlinks")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("wheels"), withIntermediateDirectories: true)
        places.apply(line("-f wheels -f ignored", file: dir.path + "/req.txt"), cwd: "/w")
        places.apply(line("-f missing", file: dir.path + "/req.txt"), cwd: "/w")
        #expect(places.findLinks == [dir.path + "/wheels", "/w/missing"])
        // --no-index ends every index for good; a later -i does not bring one back.
        places.apply(line("--no-index"), cwd: "/w")
        places.apply(line("-i http://late/"), cwd: "/w")
        #expect(places.noIndex && places.indexes.isEmpty)
        #expect(places.proxyArguments == ["--pypi-no-index", "--pypi-find-links", dir.path + "/wheels", "--pypi-find-links", "/w/missing"])
    }

    /// The exact pin a requirement names (`name==1.2`), fetched ahead by the proxy; anything else is none.
    @Test func exactPins() {
        #expect(RequirementFile.exactVersion("six==1.16.0") == "1.16.0")
        #expect(RequirementFile.exactVersion("Flask[async]==3.0.3") == "3.0.3")
        #expect(RequirementFile.exactVersion("a==1.0+local") == "1.0+local")
        for loose in ["six", "six>=1.0", "six===1.0", "six==1.*", "six!=1.0,==2.0", "six~=1.0", "six==", "six==1.0;python_version<'3'",
                      "x @ https://h/x-1.0.whl#==1"] {
            #expect(RequirementFile.exactVersion(loose) == nil, "\(loose)")
        }
        var file = RequirementFile()
        #expect(file.note(requirement: "Typing_Extensions==4.12.2") == "typing-extensions")
        #expect(file.projects.first?.version == "4.12.2")
    }

    /// A requirement file on the network is refused (pip would fetch and obey it unread); a `file:` URL is a path.
    @Test func aRequirementFileOnTheNetworkIsRefusedByName() throws {
        #expect(RequirementLines.path(of: "HTTPS://x.test/req.txt", relativeTo: "/w") == nil)
        #expect(RequirementLines.path(of: "file:///r/my%20req.txt", relativeTo: "/w") == "/r/my req.txt")
        #expect(RequirementLines.path(of: "sub/req.txt", relativeTo: "/w") == "/w/sub/req.txt")
        // As pip's url_to_path reads a file: URL (a red-team pass had Bouncer read a decoy at
        // `localhost/p` or `p#x` under the folder while pip read `/p`).
        #expect(RequirementLines.path(of: "file://localhost/proc/self/cwd/more.txt", relativeTo: "/w") == "/proc/self/cwd/more.txt")
        #expect(RequirementLines.path(of: "file:///r/more.txt#x", relativeTo: "/w") == "/r/more.txt")
        #expect(RequirementLines.path(of: "file:/r/more.txt?q=1", relativeTo: "/w") == "/r/more.txt")
        #expect(RequirementLines.path(of: "file://LocalHost/r/x.txt", relativeTo: "/w") == "/r/x.txt")
        #expect(RequirementLines.path(of: "file://elsewhere/r/x.txt", relativeTo: "/w") == nil)
        #expect(RequirementLines.path(of: "file:more.txt", relativeTo: "/w") == FileManager.default.currentDirectoryPath + "/more.txt")
        #expect(PipConfiguration.findLinksLocation("file://localhost/srv/wheels#x", cwd: "/w") == "/srv/wheels")
        // A file named by a file: URL: pip resolves its includes as URLs (joined, percent-decoded): refused.
        let viaURL = try BouncerProcess.temporaryDirectory("bouncer-req-url")
        defer { try? FileManager.default.removeItem(at: viaURL) }
        try "-r ev%69l.txt\n".write(to: viaURL.appendingPathComponent("req.txt"), atomically: true, encoding: .utf8)
        try "good\n".write(to: viaURL.appendingPathComponent("ev%69l.txt"), atomically: true, encoding: .utf8)
        #expect { try PipSourceCheck.scan(PipArguments.parse(["install", "-r", "file://" + viaURL.path + "/req.txt"]), cwd: viaURL.path, environment: [:]) } throws: { error in
            "\(error)".contains("was named by a file: URL")
        }
        #expect(try PipSourceCheck.scan(PipArguments.parse(["install", "-r", viaURL.path + "/req.txt"]), cwd: viaURL.path, environment: [:]).findings.isEmpty)
        // Read first by its path, then by a file: URL: checked again (red team, round 3).
        #expect { try PipSourceCheck.scan(PipArguments.parse(["install", "-r", viaURL.path + "/req.txt", "-r", "file://" + viaURL.path + "/req.txt"]),
                                          cwd: viaURL.path, environment: [:]) } throws: { error in "\(error)".contains("was named by a file: URL") }
        let dir = try BouncerProcess.temporaryDirectory("bouncer-req-remote")
        defer { try? FileManager.default.removeItem(at: dir) }
        try "six\n--pre -r https://x.test/more.txt\n".write(to: dir.appendingPathComponent("req.txt"), atomically: true, encoding: .utf8)
        #expect { try PipSourceCheck.scan(PipArguments.parse(["install", "-r", dir.path + "/req.txt"]), cwd: dir.path, environment: [:]) } throws: { error in
            "\(error)".contains("\(dir.path)/req.txt:2: the requirement file https://x.test/more.txt is on the network")
        }
    }

    /// The copies pip gets: the lines as read, index options out, includes to the copies, line numbers kept.
    @Test func copiesLeaveOutOnlyTheIndexOptions() throws {
        let dir = try BouncerProcess.temporaryDirectory("bouncer-req-copies")
        defer { try? FileManager.default.removeItem(at: dir) }
        let hex = String(repeating: "ab", count: 32)
        try "# top\n--pre --index-ur http://a/ --only-binary ':all:'\n-r more.txt\n\nalpha==1.0 \\\n  --hash=sha256:\(hex)\n"
            .write(to: dir.appendingPathComponent("req.txt"), atomically: true, encoding: .utf8)
        try "--no-index\n-f wheels\nbeta ; python_version >= \"3\"\n".write(to: dir.appendingPathComponent("more.txt"), atomically: true, encoding: .utf8)
        let scan = try PipSourceCheck.scan(PipArguments.parse(["install", "-r", dir.path + "/req.txt"]), cwd: dir.path, environment: [:])
        #expect(scan.indexLines.map(\.place) == [dir.path + "/req.txt:2", dir.path + "/more.txt:1", dir.path + "/more.txt:2"])
        let copies = try RequirementCopies.write(scan.files, into: dir.path + "/copies")
        let top = try #require(copies[dir.path + "/req.txt"]), more = try #require(copies[dir.path + "/more.txt"])
        #expect(top.hasSuffix("/req.txt") && more.hasSuffix("/more.txt") && top != more)
        #expect(try String(contentsOfFile: top, encoding: .utf8) == "\n--pre --only-binary :all:\n-r \(more)\n\nalpha==1.0   --hash=sha256:\(hex)\n")
        #expect(try String(contentsOfFile: more, encoding: .utf8) == "\n\nbeta ; python_version >= \"3\"\n")
    }
}
