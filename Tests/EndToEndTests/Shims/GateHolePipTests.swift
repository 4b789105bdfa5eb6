import Foundation
import Testing
import BouncerTestSupport

/// Issue 15, pip: forms that make the real pip run a project's code before
/// Bouncer verifies anything are refused before the real pip starts; forms
/// pip accepts that the shim used to refuse or ignore.
extension PipShimTests {
    /// A project whose build backend (in the tree, no build requirements, so
    /// pip needs nothing from an index to run it) writes `marker` when imported.
    func markerProject(_ name: String, marker: URL) throws -> URL {
        let dir = harness.project.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try """
            [build-system]
            requires = []
            build-backend = "markerbackend"
            backend-path = ["."]

            [project]
            name = "\(name)"
            version = "1.0"
            """.write(to: dir.appendingPathComponent("pyproject.toml"), atomically: true, encoding: .utf8)
        try "open(\(String(reflecting: marker.path)), 'w').write('ran')\nraise SystemExit('marker written')\n"
            .write(to: dir.appendingPathComponent("markerbackend.py"), atomically: true, encoding: .utf8)
        return dir
    }

    @Test func pipLocalSourcesRunNothingBeforeVerification() throws {
        defer { harness.cleanup() }
        let marker = harness.root.appendingPathComponent("MARKER")
        let project = try markerProject("proj", marker: marker)
        let tar = try BouncerProcess.runProgram("/bin/tar", ["-czf", "proj-1.0.tar.gz", "proj"], cwd: harness.project.path)
        #expect(tar.status == 0, "\(tar.err)")
        try "--no-binary :all:\ntinylib\n".write(to: harness.file("nobinary.txt"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: harness.file("sub"), withIntermediateDirectories: true)
        try "-r sub/inner.txt\n".write(to: harness.file("outer.txt"), atomically: true, encoding: .utf8)
        try "proj @ file://\(project.path)\n".write(to: harness.file("sub/inner.txt"), atomically: true, encoding: .utf8)
        // pip takes every option on a line, not only the first, and any prefix of a long one.
        try "--pre -e ./proj\n".write(to: harness.file("later-editable.txt"), atomically: true, encoding: .utf8)
        try "--prefer-binary --requirem=sub/inner.txt\n".write(to: harness.file("later-include.txt"), atomically: true, encoding: .utf8)
        try "--pre --no-bin :all:\ntinylib\n".write(to: harness.file("later-nobinary.txt"), atomically: true, encoding: .utf8)
        // Found by a red-team pass: lines pip splits where the shim did not (CR, form feed, NEL, LS), a
        // comment ending in NBSP and a backslash, pip settings spelled with a leading `--`, an xz archive's other names.
        try "tinylib\r-e ./proj\n".write(to: harness.file("cr-hidden.txt"), atomically: true, encoding: .utf8)
        try "tinylib\u{2028}-r sub/inner.txt\n".write(to: harness.file("ls-hidden.txt"), atomically: true, encoding: .utf8)
        try "tinylib\n\u{A0}# note \\\n-e ./proj\n".write(to: harness.file("nbsp-comment.txt"), atomically: true, encoding: .utf8)
        try "[install]\n--editable = ./proj\n".write(to: harness.file("dashed.conf"), atomically: true, encoding: .utf8)
        let xz = try BouncerProcess.runProgram("/bin/tar", ["-cJf", "proj-1.0.tlz", "proj"], cwd: harness.project.path)
        #expect(xz.status == 0, "\(xz.err)")
        let index = "--index-url '\(indexURL)'"
        let cases: [(command: String, named: String)] = [
            ("pip install ./proj", "./proj"),
            ("pip install proj-1.0.tar.gz", "proj-1.0.tar.gz"),
            ("pip install 'proj @ file://\(project.path)'", "file://\(project.path)"),
            ("pip install 'git+file://\(project.path)#egg=proj'", "git+file://"),
            ("pip install \(index) --no-binary :all: tinylib", "--no-binary"),
            ("pip install \(index) -r nobinary.txt", "nobinary.txt:1"),
            ("pip install \(index) -Ur outer.txt", "inner.txt:1"),
            ("pip install \(index) -r later-editable.txt", "later-editable.txt:1"),
            ("pip install \(index) -r later-include.txt", "inner.txt:1"),
            ("pip install \(index) -r later-nobinary.txt", "later-nobinary.txt:1"),
            // pip takes any option's long name from its environment (and configuration files).
            ("PIP_REQUIREMENT=outer.txt pip install \(index) tinylib", "inner.txt:1"),
            ("PIP_EDITABLE=./proj pip install \(index) tinylib", "editable = ./proj"),
            ("PIP_NO_BINARY=:all: pip install \(index) tinylib", "no-binary = :all:"),
            ("pip install --dry-run ./proj", "./proj"),
            ("pip install proj-1.0.tlz", "proj-1.0.tlz"),
            ("pip install \(index) -r cr-hidden.txt", "cr-hidden.txt:2"),
            ("pip install \(index) -r ls-hidden.txt", "inner.txt:1"),
            ("pip install \(index) -r nbsp-comment.txt", "nbsp-comment.txt:3"),
            ("PIP_CONFIG_FILE=dashed.conf pip install \(index) tinylib", "editable = ./proj"),
            ("env PIP___EDITABLE=./proj pip install \(index) tinylib", "editable = ./proj"),
            ("pip install -e ./proj", "-e ./proj"),
        ]
        for (command, named) in cases {
            let result = try harness.sh(command)
            #expect(result.status == 1, "\(command): \(result.err)")
            #expect(result.err.contains("refused: ") && result.err.contains(named), "\(command): \(result.err)")
            #expect(result.err.contains("the real pip was not started"), "\(command): \(result.err)")
            #expect(!FileManager.default.fileExists(atPath: marker.path), "\(command) ran the project's code")
        }
        #expect(!server.requests.contains { $0.contains("tinylib") }, "the real pip reached the index: \(server.requests)")
        // Audit mode warns and runs as before; the marker shows this test can see code run.
        try harness.writePolicy(mode: "audit")
        let audit = try harness.sh("pip install --dry-run ./proj")
        #expect(audit.err.contains("AUDIT") && audit.err.contains("./proj"), "\(audit.err)")
        #expect(FileManager.default.fileExists(atPath: marker.path), "audit mode should have let pip build: \(audit.err)")
    }

    /// `pip download` and `pip wheel` go through the shim's proxy as
    /// `install` does (`pip wheel` was refused by name in enforce mode): the
    /// files land in --dest / --wheel-dir verified and pinned; other bytes at
    /// the same place are refused and nothing lands; a local project is
    /// refused before pip starts (pip would build it, or its metadata).
    @Test(arguments: [("download", "-d", "--dest", "downloaded"), ("wheel", "-w", "--wheel-dir=", "built")])
    func pipDownloadAndWheelAreVerifiedAndPinned(command: String, short: String, long: String, nothing: String) throws {
        defer { harness.cleanup() }
        let lib = try buildWheel("tinylib", "1.0", body: "VALUE = 41\n")
        try page("tinylib", [(lib.file, lib.sha256)])
        let result = try harness.sh("pip \(command) --index-url '\(indexURL)' \(short) out tinylib==1.0")
        #expect(result.status == 0, "\(result.err)")
        let landed = try [UInt8](Data(contentsOf: harness.file("out/" + lib.file)))
        #expect(try ShimHarness.sha256(landed) == lib.sha256)
        #expect(result.err.contains(lib.file) && result.err.contains("sha256:\(lib.sha256)"), "\(result.err)")
        let lock = try String(contentsOf: harness.file("bouncer.lock"), encoding: .utf8)
        #expect(lock.contains(lib.sha256), "\(lock)")
        // The upstream now serves other bytes (and says so on its page): the pin refuses them.
        let evil = try buildWheel("tinylib", "1.0", body: "import os\nVALUE = 666\n")
        try page("tinylib", [(evil.file, evil.sha256)])
        let separator = long.hasSuffix("=") ? "" : " "
        let refused = try harness.sh("pip \(command) --index-url '\(indexURL)' \(long)\(separator)out2 tinylib==1.0")
        #expect(refused.status == 1, "\(refused.err)")
        #expect(refused.err.contains("nothing was \(nothing)"), "\(refused.err)")
        #expect(!harness.exists("out2/" + evil.file))
        try FileManager.default.createDirectory(at: harness.file("proj"), withIntermediateDirectories: true)
        let local = try harness.sh("pip \(command) \(short) out3 ./proj")
        #expect(local.status == 1, "\(local.err)")
        #expect(local.err.contains("./proj"), "\(local.err)")
        #expect(!harness.exists("out3"))
    }

    /// `six @ URL#sha256=HEX`: the fragment is a stated digest; a wrong one refuses.
    @Test func pipDirectURLFragmentIsAStatedDigest() throws {
        defer { harness.cleanup() }
        let lib = try buildWheel("tinylib", "1.0", body: "VALUE = 41\n")
        let url = server.baseURL + "/packages/" + lib.file
        // A direct URL is an exotic source (threat policies): allowed here by name.
        let policy = try String(contentsOf: harness.file("policy.json"), encoding: .utf8)
        try policy.replacingOccurrences(of: #""unmatched": "deny","#, with: #""unmatched": "deny", "exoticSources": { "allow": ["tinylib @ http://127.0.0.1:*/packages/*"] },"#)
            .write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        let result = try harness.sh("pip install 'tinylib @ \(url)#sha256=\(lib.sha256)'")
        #expect(result.status == 0, "\(result.err)")
        #expect(try installed().contains("tinylib==1.0"))
        #expect(result.err.contains("sha256:\(lib.sha256)"), "\(result.err)")

        // The same wheel named in a requirement file (it used to be refused there: pip would
        // fetch it itself) is verified first and pip gets the verified copy; the line's own
        // --hash values are alternatives the bytes must match one of, as for pip.
        _ = try BouncerProcess.runProgram(venv.appendingPathComponent("bin/pip").path, ["uninstall", "-y", "tinylib"])
        let other = String(repeating: "0", count: 64)
        try "tinylib @ \(url) --hash=sha256:\(other) --hash=sha256:\(lib.sha256)\n".write(to: harness.file("direct.txt"), atomically: true, encoding: .utf8)
        let before = server.userAgents.count
        let fromFile = try harness.sh("pip install --require-hashes -r direct.txt")
        #expect(fromFile.status == 0, "\(fromFile.err)")
        #expect(try installed().contains("tinylib==1.0"))
        #expect(fromFile.err.contains("sha256:\(lib.sha256)"), "\(fromFile.err)")
        #expect(server.userAgents.count > before && !server.userAgents.dropFirst(before).contains { $0?.hasPrefix("pip/") == true },
                "pip fetched the wheel itself: \(server.userAgents)")
        // Hashes none of which match: refused before pip starts, nothing installed.
        _ = try BouncerProcess.runProgram(venv.appendingPathComponent("bin/pip").path, ["uninstall", "-y", "tinylib"])
        try "tinylib @ \(url) --hash=sha256:\(other)\n".write(to: harness.file("wrong.txt"), atomically: true, encoding: .utf8)
        let wrong = try harness.sh("pip install -r wrong.txt")
        #expect(wrong.status == 1, "\(wrong.err)")
        #expect(wrong.err.contains("refused tinylib 1.0"), "\(wrong.err)")
        #expect(!(try installed().contains("tinylib==1.0")))
    }

    /// `--hash sha256:HEX` (a space, not '=') in a requirements file, and `-Ur`.
    @Test func pipHashWithASpaceAndClusteredOptions() throws {
        defer { harness.cleanup() }
        let lib = try buildWheel("tinylib", "1.0", body: "VALUE = 41\n")
        try page("tinylib", [(lib.file, nil)])
        try "tinylib==1.0 --hash sha256:\(lib.sha256)\n".write(to: harness.file("req.txt"), atomically: true, encoding: .utf8)
        let result = try harness.sh("pip install --index-url '\(indexURL)' -Ur req.txt")
        #expect(result.status == 0, "\(result.err)")
        #expect(try installed().contains("tinylib==1.0"))
        // The same digest given wrongly is refused: the space form is read, not skipped.
        let wrong = String(lib.sha256.reversed())
        try "tinylib==1.0 --hash sha256:\(wrong)\n".write(to: harness.file("bad.txt"), atomically: true, encoding: .utf8)
        _ = try BouncerProcess.runProgram(venv.appendingPathComponent("bin/pip").path, ["uninstall", "-y", "tinylib"])
        let refused = try harness.sh("pip install --index-url '\(indexURL)' -Ur bad.txt")
        #expect(refused.status != 0, "\(refused.err)")
        #expect(!(try installed().contains("tinylib==1.0")))
    }

    /// pip looks at the proxy and nowhere else: not the index on its command
    /// line, not the machine's configured find-links, whatever pip.conf says.
    @Test func pipLooksOnlyAtTheProxy() throws {
        defer { harness.cleanup() }
        let lib = try buildWheel("tinylib", "1.0", body: "VALUE = 41\n")
        try page("tinylib", [(lib.file, lib.sha256)])
        let elsewhere = harness.root.appendingPathComponent("links")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        try "[global]\nfind-links = \(elsewhere.path)\nextra-index-url = http://127.0.0.1:9/simple/\n".write(to: harness.file("pip.conf"), atomically: true, encoding: .utf8)
        let result = try harness.sh("pip install -v --index-url '\(indexURL)' tinylib==1.0", extra: ["PIP_CONFIG_FILE": harness.file("pip.conf").path])
        #expect(result.status == 0, "\(result.err)")
        let said = result.out + result.err
        let indexes = said.split(separator: "\n").filter { $0.hasPrefix("Looking in indexes:") }
        #expect(indexes.count == 1, "\(said)")
        for line in indexes {
            let urls = line.dropFirst("Looking in indexes:".count).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(urls.count == 1 && urls[0].hasSuffix("/pypi/simple/") && !urls[0].contains(server.baseURL), "\(line)")
        }
        #expect(!said.contains("Looking in links"), "\(said)")
        #expect(server.requests.contains { $0.hasSuffix("/packages/\(lib.file)") }, "the proxy fetched from the named index: \(server.requests)")
    }
}
