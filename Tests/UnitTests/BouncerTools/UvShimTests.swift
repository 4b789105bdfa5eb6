import Foundation
import Testing
import BouncerIO
import BouncerTestSupport
@testable import BouncerTools

/// How the uv shim reads a uv command line: the command past uv's options,
/// whether it may fetch, where uv's own options end, and where uv would look.
@Suite struct UvShimTests {
    @Test func theCommandIsFoundPastUvsOptions() throws {
        #expect(try UvShim.commandWords(["pip", "install", "requests"]) == ["pip", "install"])
        #expect(try UvShim.commandWords(["--directory", "d", "sync", "--frozen"]) == ["sync"])
        #expect(try UvShim.commandWords(["-q", "pip", "-v", "list"]) == ["pip", "list"])
        #expect(try UvShim.commandWords(["-qn", "--color=never", "run", "pytest"]) == ["run", "pytest"])
        #expect(try UvShim.commandWords(["--cache-dir", "sync", "lock"]) == ["lock"])
        #expect(try UvShim.commandWords([]) == [])
        #expect(try UvShim.commandWords(["--", "sync"]) == [])
        // An option uv has that Bouncer does not know: its value could be taken for the command.
        #expect(throws: (any Error).self) { try UvShim.commandWords(["--frobnicate", "cache", "sync"]) }
        // ...and between a family's name and its command's (`uv pip --opt list install x` would be no `pip list`).
        #expect(throws: (any Error).self) { try UvShim.commandWords(["pip", "--frobnicate", "list", "install", "x"]) }
        #expect(try UvShim.commandWords(["pip", "--preview-features", "list", "install", "x"]) == ["pip", "install"])
        // Past a command that is no family, its own options do not matter.
        #expect(try UvShim.commandWords(["sync", "--python", "3.12"]).first == "sync")
    }

    @Test func whatFetchesIsToldFromWhatDoesNot() throws {
        func fetches(_ words: [String], uvx: Bool = false) throws -> Bool {
            let all = uvx ? ["tool", "run"] + words : words
            return UvShim.mayFetch(all, command: try UvShim.commandWords(all), asUvx: uvx)
        }
        for words in [["pip", "install", "x"], ["sync"], ["lock"], ["add", "x"], ["run", "pytest"], ["tool", "install", "ruff"],
                      ["python", "install", "3.12"], ["self", "update"], ["venv", "--seed"], ["build"], ["init"], ["format"], ["pip", "compile", "r.in"]] {
            #expect(try fetches(words), "\(words)")
        }
        #expect(try fetches(["ruff"], uvx: true))
        for words in [["--version"], ["-V"], ["help", "sync"], ["cache", "clean"], ["pip", "list"], ["pip", "freeze"], ["pip", "uninstall", "x"],
                      ["python", "list"], ["tool", "list"], ["self", "version"], ["sync", "--help"], ["pip", "install", "-h"], ["pip"]] {
            #expect(try !fetches(words), "\(words)")
        }
        #expect(try !fetches(["--version"], uvx: true))
        // The program's own `--help` (after `--`, or after the program uv runs): uv installs, then runs it.
        #expect(try fetches(["run", "--", "pytest", "--help"]))
        #expect(try fetches(["run", "--with", "x", "python", "s.py", "--help"]))
        #expect(try fetches(["ruff", "--help"], uvx: true))
        #expect(try fetches(["ruff", "-h"], uvx: true))
        #expect(try !fetches(["--help"], uvx: true))
        #expect(try !fetches(["run", "--help"]))
    }

    /// For `run` and `uvx`, the program's own arguments are not uv's: its `-i` is no index.
    @Test func uvsOptionsEndAtTheProgramItRuns() throws {
        func end(_ words: [String]) throws -> Int { UvShim.optionsEnd(words, command: try UvShim.commandWords(words)) }
        #expect(try end(["run", "pytest", "-i", "x"]) == 1)
        #expect(try end(["run", "--with", "requests", "pytest", "-i"]) == 3)
        #expect(try end(["run", "-q", "pytest"]) == 2)
        #expect(try end(["run", "--index-url", "http://i/simple", "python", "-f"]) == 3)
        #expect(try end(["tool", "run", "ruff", "-f", "x"]) == 2)
        #expect(try end(["sync", "-i", "x"]) == 3)
        #expect(try end(["run", "--", "python", "-i"]) == 1)
    }

    @Test func uvsIndexIsReadAsUvReadsIt() throws {
        let dir = try BouncerProcess.temporaryDirectory("uv-places").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let environment = ["HOME": dir + "/home"]
        func places(_ words: [String], _ extra: [String: String] = [:]) -> UvShim.Places {
            UvShim.Places.read(words, cwd: dir, environment: environment.merging(extra) { $1 })
        }
        #expect(places(["pip", "install", "x"]).onlyIndex == nil)
        #expect(places(["sync"], ["UV_DEFAULT_INDEX": "http://a/simple"]).onlyIndex == "http://a/simple")
        #expect(places(["sync"], ["UV_INDEX_URL": "http://a/simple"]).onlyIndex == "http://a/simple")
        #expect(places(["sync", "--default-index", "http://b/simple"], ["UV_DEFAULT_INDEX": "http://a/simple"]).onlyIndex == "http://b/simple")
        #expect(places(["pip", "install", "-ihttp://c/simple", "x"]).onlyIndex == "http://c/simple")
        #expect(places(["pip", "install", "--index-url=http://d/simple", "x"]).onlyIndex == "http://d/simple")
        // Any other place uv reads: no single index.
        #expect(places(["sync", "--index", "extra=http://e/simple"], ["UV_DEFAULT_INDEX": "http://a/simple"]).others == ["http://e/simple"])
        #expect(places(["sync", "-f", "http://f/links"], ["UV_DEFAULT_INDEX": "http://a/simple"]).onlyIndex == nil)
        #expect(places(["sync"], ["UV_DEFAULT_INDEX": "http://a/simple", "UV_EXTRA_INDEX_URL": "http://g/simple"]).onlyIndex == nil)
        #expect(places(["sync", "--no-index"], ["UV_DEFAULT_INDEX": "http://a/simple"]).onlyIndex == nil)
        #expect(places(["sync"], ["UV_DEFAULT_INDEX": "http://a/simple", "UV_NO_INDEX": "1"]).problem.contains("no index"))
        // Configuration files: the project's, unless --no-config; --config-file in its place.
        try "[[tool.uv.index]]\nurl = \"http://h/simple\"\n".write(toFile: dir + "/pyproject.toml", atomically: true, encoding: .utf8)
        let configured = places(["sync"], ["UV_DEFAULT_INDEX": "http://a/simple"])
        #expect(configured.onlyIndex == nil && configured.problem.contains("http://h/simple"), "\(configured)")
        #expect(places(["--no-config", "sync"], ["UV_DEFAULT_INDEX": "http://a/simple"]).onlyIndex == "http://a/simple")
        try "index-url = \"http://k/simple\"\n".write(toFile: dir + "/other.toml", atomically: true, encoding: .utf8)
        #expect(places(["--config-file", "other.toml", "sync"]).onlyIndex == "http://k/simple")
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        try "index-url = \"http://m/simple\"\n".write(toFile: dir + "/sub/uv.toml", atomically: true, encoding: .utf8)
        #expect(places(["--directory", "sub", "sync"]).onlyIndex == "http://m/simple")
        // uv reads its configuration from the project's folder (round 4: --project read find-links the shim did not).
        try FileManager.default.createDirectory(atPath: dir + "/proj", withIntermediateDirectories: true)
        try "find-links = [\"/tmp/wheels\"]\n".write(toFile: dir + "/proj/uv.toml", atomically: true, encoding: .utf8)
        #expect(places(["sync", "--project", "proj"], ["UV_DEFAULT_INDEX": "http://a/simple"]).problem.contains("/tmp/wheels"))
        #expect(places(["sync", "--project=proj"], ["UV_DEFAULT_INDEX": "http://a/simple"]).onlyIndex == nil)
        #expect(places(["sync"], ["UV_DEFAULT_INDEX": "http://a/simple", "UV_PROJECT": dir + "/proj"]).onlyIndex == nil)
        #expect(places(["--directory", "sub", "sync", "--project", "../proj"], ["UV_DEFAULT_INDEX": "http://a/simple"]).onlyIndex == nil)
    }

    /// The fence's port: bound, never listening, so a connection there is refused.
    @Test func theFencesPortRefusesConnections() throws {
        let fence = try ClosedPort()
        defer { fence.close() }
        #expect(fence.port > 0)
        let result = try BouncerProcess.runProgram("/usr/bin/curl", ["-sS", "--max-time", "5", "-o", "/dev/null", "http://127.0.0.1:\(fence.port)/"])
        #expect(result.status == 7, "curl: \(result.err)")  // 7: could not connect
    }

    /// `uv run`'s program, found only where every option before it is known,
    /// and handed to env out of the fence with the shims first on PATH.
    @Test func uvRunsProgramIsFoundOnlyForCertain() throws {
        #expect(UvRunProgram.programIndex(["run", "pytest", "-x"]) == 1)
        #expect(UvRunProgram.programIndex(["-q", "run", "--frozen", "--with", "rich", "-p", "3.12", "flask", "run"]) == 7)
        #expect(UvRunProgram.programIndex(["run", "--extra=dev", "-qU", "app"]) == 3)
        #expect(UvRunProgram.programIndex(["run", "-p3.12", "app"]) == 2)
        #expect(UvRunProgram.programIndex(["run", "--", "--weird-name"]) == 2)
        // An option uv 0.13 does not list: its value could be the program.
        #expect(UvRunProgram.programIndex(["run", "--frobnicate", "x", "app"]) == nil)
        // uv runs a module or script itself (and reads a script's own dependencies).
        for words in [["run", "-m", "http.server"], ["run", "--script", "s"], ["run", "-qm", "x"], ["run", "--gui-script", "g"]] {
            #expect(UvRunProgram.programIndex(words) == nil, "\(words)")
        }
        #expect(UvRunProgram.programIndex(["sync"]) == nil)
        #expect(UvRunProgram.programIndex(["run"]) == nil)

        let handed = try #require(UvRunProgram.unfenced(["run", "--frozen", "flask", "run"], program: 2, shims: "/s",
                                                        userEnvironment: ["HTTPS_PROXY": "http://corp:3128", "NO_PROXY": "internal"]))
        #expect(Array(handed.prefix(6)) == ["run", "--frozen", "/bin/sh", "-c", "PATH=\"$0:$PATH\" exec /usr/bin/env \"$@\"", "/s"])
        #expect(Array(handed.suffix(2)) == ["flask", "run"])
        #expect(handed.contains("HTTPS_PROXY=http://corp:3128") && handed.contains("NO_PROXY=internal"))
        // Every other fenced variable is taken out, before the assignments (env reads options first).
        let unsetAt = try #require(handed.firstIndex(of: "HTTP_PROXY"))
        #expect(handed[unsetAt - 1] == "-u")
        #expect(unsetAt < (handed.firstIndex(of: "HTTPS_PROXY=http://corp:3128") ?? 0))
        #expect(handed.contains("UV_PYTHON_DOWNLOADS") && handed.contains("GIT_ALLOW_PROTOCOL"))
        for program in ["script.py", "GUI.PYW", "https://host/s.py", "A=B"] {
            #expect(UvRunProgram.unfenced(["run", program], program: 1, shims: "/s", userEnvironment: [:]) == nil, "\(program)")
        }
    }
}

/// What uv would build or install from the disk, named on its command line
/// or in a requirement file (a red-team pass built a local project and
/// installed a local wheel through the shim: the network fence sees neither).
@Suite struct UvLocalSourcesTests {
    func forms(_ words: [String], cwd: String = "/tmp") throws -> [String] {
        let command = try UvShim.commandWords(words)
        return try UvLocalSources.found(words, command: command, cwd: cwd, environment: [:]).map(\.form)
    }

    @Test func localProjectsArchivesAndWheelsAreFound() throws {
        #expect(try forms(["pip", "install", "--python", "venv/bin/python", "./evilproj"]) == ["./evilproj"])
        #expect(try forms(["pip", "install", "/tmp/local/localpkg-1.0-py3-none-any.whl"]).count == 1)
        #expect(try forms(["pip", "install", "-e", "."]) == ["."])
        #expect(try forms(["add", "../lib"]) == ["../lib"])
        #expect(try forms(["tool", "install", "proj @ file:///src/proj"]).count == 1)
        #expect(try forms(["tool", "run", "--from", "./tool", "tool"]) == ["./tool"])
        #expect(try forms(["run", "--with", "x.whl,requests", "pytest"]) == ["x.whl"])
        #expect(try forms(["pip", "install", "--target=./out", "--python", "/usr/bin/python3", "requests", "black[d]==24.1"]).isEmpty)
        #expect(try forms(["run", "./script.py"]).isEmpty)
        #expect(try forms(["tool", "run", "ruff", "check", "./src"]).isEmpty)
        #expect(try forms(["sync"]).isEmpty)
        // Red team: uv reads a backslash as a separator (`evil\proj` is a folder), a project's metadata
        // file given to -r with its [tool.uv.sources], and a dependency group with them too.
        #expect(try forms(["pip", "install", "evil\\proj"]) == ["evil\\proj"])
        #expect(try forms(["pip", "install", "\\x"]) == ["\\x"])
        for file in ["pyproject.toml", "sub/pyproject.toml", "setup.py", "setup.cfg", "script.py"] {
            #expect(try forms(["pip", "install", "-r", file]) == [file], "\(file)")
        }
        #expect(try forms(["pip", "install", "--group", "dev"]) == ["--group dev"])
        #expect(try forms(["pip", "compile", "--only-group=dev"]) == ["--only-group dev"])
        #expect(try forms(["sync", "--group", "dev"]).isEmpty, "the project's own")
        // Round 2: an editable is a path to uv whatever it looks like.
        #expect(try forms(["pip", "install", "-e", "pwn"]) == ["pwn"])
        #expect(try forms(["tool", "install", "good", "--with-editable", "pwn"]) == ["pwn"])
        #expect(try forms(["tool", "install", "--with-editable=pwn", "good"]) == ["pwn"])
        // `-r file:///…` is read where uv reads it, not as a path under the folder.
        let dir = try BouncerProcess.temporaryDirectory("uv-file-url")
        defer { try? FileManager.default.removeItem(at: dir) }
        try "./proj\n".write(to: dir.appendingPathComponent("evil.txt"), atomically: true, encoding: .utf8)
        #expect(try forms(["pip", "install", "-r", "file://" + dir.path + "/evil.txt"], cwd: "/tmp") == ["./proj"])
    }

    @Test func requirementFilesAreReadAsPipsAre() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("uv-local-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("proj"), withIntermediateDirectories: true)
        try "requests\r-e ./proj\n".write(to: dir.appendingPathComponent("req.txt"), atomically: true, encoding: .utf8)
        #expect(try forms(["pip", "install", "-r", "req.txt"], cwd: dir.path) == ["./proj"])
        #expect(try forms(["pip", "sync", "--requirement=req.txt"], cwd: dir.path) == ["./proj"])
        // Every way uv reads such a file (a red-team pass installed a local wheel by each):
        // pip sync's and pip compile's operands, `-qr` read as clap reads it, constraints and overrides, their variables.
        try "evil @ file:///tmp/evil-1.0-py3-none-any.whl\n".write(to: dir.appendingPathComponent("o.txt"), atomically: true, encoding: .utf8)
        for words in [["pip", "sync", "req.txt"], ["pip", "compile", "req.txt"], ["pip", "install", "-qr", "req.txt"], ["pip", "install", "-qrreq.txt"]] {
            #expect(try forms(words, cwd: dir.path) == ["./proj"], "\(words)")
        }
        for words in [["pip", "install", "evil", "--override", "o.txt"], ["pip", "install", "evil", "-c", "o.txt"], ["pip", "install", "-qc", "o.txt", "evil"],
                      ["pip", "install", "--build-constraints=o.txt", "evil"]] {
            #expect(try forms(words, cwd: dir.path).count == 1, "\(words)")
        }
        let command = try UvShim.commandWords(["pip", "install", "evil"])
        #expect(try UvLocalSources.found(["pip", "install", "evil"], command: command, cwd: dir.path, environment: ["UV_OVERRIDE": dir.appendingPathComponent("o.txt").path]).count == 1)
        #expect(try forms(["pip", "install", "-qU", "requests"], cwd: dir.path).isEmpty)
        // Round 4: uv obeys a file's index and find-links lines (a local folder is read past the serve and the fence).
        for (name, line) in [("fl.txt", "--find-links /tmp/wheels"), ("f.txt", "-f /tmp/wheels"), ("ei.txt", "--extra-index-url file:///tmp/idx"),
                             ("i.txt", "-i http://127.0.0.1:1/simple"), ("ni.txt", "--no-index")] {
            try (line + "\nevil\n").write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
            #expect(try forms(["pip", "install", "-r", name], cwd: dir.path).count == 1, "\(line)")
            #expect(try forms(["pip", "install", "-c", name, "evil"], cwd: dir.path).count == 1, "\(line) in constraints")
        }
    }

    /// Round 4 of the red team: words after `--` are operands, `uvx X` installs X
    /// (a path there is built), and `--with-executables-from=` names a requirement.
    @Test func operandsAfterTheSeparatorAndTheToolUvxRuns() throws {
        #expect(try forms(["pip", "install", "--python", "v/bin/python", "--", "../evilbe"]) == ["../evilbe"])
        #expect(try forms(["pip", "install", "--", "/w/evil-1.0-py3-none-any.whl"]).count == 1)
        #expect(try forms(["tool", "install", "--", "../evilbe"]) == ["../evilbe"])
        #expect(try forms(["tool", "run", "../evilbe"]) == ["../evilbe"])
        #expect(try forms(["tool", "run", "--", "../evilbe"]) == ["../evilbe"])
        #expect(try forms(["tool", "run", "evilbe @ file:///w/evilbe"]).count == 1)
        #expect(try forms(["tool", "install", "good", "--with-executables-from=evilbe @ file:///w/evilbe"]).count == 1)
        #expect(try forms(["tool", "install", "good", "--with-executables-from", "./evilbe"]) == ["./evilbe"])
        for words in [["tool", "run", "ruff"], ["tool", "run", "ruff@0.6.0", "check"], ["tool", "run", "ruff@latest"],
                      ["tool", "run", "--from", "ruff==0.6", "ruff", "./src"], ["tool", "run", "--", "ruff", "./src"],
                      ["run", "--", "./script.py"], ["run", "python", "./x"], ["pip", "install", "--", "requests"]] {
            #expect(try forms(words).isEmpty, "\(words)")
        }
    }
}
