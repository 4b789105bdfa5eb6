import Foundation
import Testing
import BouncerTestSupport
import BouncerTools

/// `python3 -m pip` through the interpreter shim, against the real Python:
/// every spelling Python takes as "run pip" must reach pip pointed at
/// Bouncer's proxy, and everything else must run exactly as without the shim.
@Suite(.blocking) struct PythonShimTests {
    var harness: ShimHarness
    let venv: URL

    /// A venv without pip whose `pip` module only prints what it was given
    /// and the index it was pointed at (the real pip's install is in PipShimTests).
    init() throws {
        harness = try ShimHarness("bouncer-shim-python")
        venv = harness.root.appendingPathComponent("venv")
        let made = try BouncerProcess.runProgram("/usr/bin/env", ["python3", "-m", "venv", "--without-pip", venv.path])
        guard made.status == 0 else { throw SetupError("venv failed: \(made.err)") }
        try Self.fakeModule("pip", in: venv, main: """
            import json, os, sys
            print(json.dumps({"argv": sys.argv[1:], "index": os.environ.get("PIP_INDEX_URL", "")}))
            """)
        harness.extraPath = [venv.appendingPathComponent("bin").path]
        try harness.writePolicy()
    }

    static let closedIndex = "http://127.0.0.1:9/simple/"

    /// A module `name` in the venv's site-packages whose `__main__` is `main`.
    static func fakeModule(_ name: String, in venv: URL, main: String) throws {
        let python = venv.appendingPathComponent("bin/python3").path
        let site = try BouncerProcess.runProgram(python, ["-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).out
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let module = URL(fileURLWithPath: site).appendingPathComponent(name)
        try FileManager.default.createDirectory(at: module, withIntermediateDirectories: true)
        try "".write(to: module.appendingPathComponent("__init__.py"), atomically: true, encoding: .utf8)
        try main.write(to: module.appendingPathComponent("__main__.py"), atomically: true, encoding: .utf8)
    }

    static func quoted(_ words: [String]) -> String {
        words.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
    }

    /// What the fake pip printed, if it ran.
    static func pipRun(_ out: String) -> (argv: [String], index: String)? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any],
              let argv = object["argv"] as? [String], let index = object["index"] as? String else { return nil }
        return (argv, index)
    }

    @Test func whatPythonRunsAsPipGoesThroughBouncerAndNothingElseDoes() throws {
        defer { harness.cleanup() }
        let python = venv.appendingPathComponent("bin/python3").path
        let install = ["install", "tinylib"]
        let spellings: [[String]] = [
            ["-m", "pip"] + install, ["-mpip"] + install, ["-Im", "pip"] + install, ["-Impip"] + install,
            ["-B", "-s", "-m", "pip"] + install, ["-W", "ignore", "-m", "pip"] + install,
            ["-Wignore", "-X", "utf8", "-bm", "pip"] + install, ["--check-hash-based-pycs", "never", "-m", "pip"] + install,
            ["-m", "pip.__main__"] + install,
            // Not pip: code, a script after -W/-X or --, another module.
            ["-c", "import sys; print(sys.argv)", "-m", "pip"] + install, ["-Ic", "import sys; print(sys.argv)", "-m", "pip"],
            ["-W", "-m", "pip"] + install, ["-X", "-m", "pip"] + install, ["--", "-m", "pip"], ["-m", "pipx"] + install,
        ]
        var ranPip = 0
        for spelling in spellings {
            let direct = try BouncerProcess.runProgram(python, spelling, cwd: harness.project.path,
                                                       environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin", "PIP_INDEX_URL": Self.closedIndex])
            let shimmed = try harness.sh("python3 " + Self.quoted(spelling), extra: ["PIP_INDEX_URL": Self.closedIndex])
            let parsed = PythonCommandLine(spelling)?.runsPip == true
            if let real = Self.pipRun(direct.out) {
                ranPip += 1
                #expect(parsed, "Python ran pip for \(spelling); Bouncer's reading says it does not")
                let through = Self.pipRun(shimmed.out)
                #expect(through?.argv == real.argv, "\(spelling): pip got \(through?.argv ?? []) through the shim, \(real.argv) without: \(shimmed.err)")
                #expect(through?.index.hasPrefix("http://127.0.0.1:") == true && through?.index != Self.closedIndex,
                        "\(spelling): pip was not pointed at Bouncer's proxy (\(through?.index ?? "no pip run")): \(shimmed.err)")
                #expect(shimmed.status == 0, "\(spelling): \(shimmed.err)")
            } else {
                #expect(!parsed, "Python did not run pip for \(spelling); Bouncer's reading says it does")
                #expect(shimmed.out == direct.out, "\(spelling)")
                #expect(shimmed.status == direct.status, "\(spelling): \(shimmed.err) vs \(direct.err)")
                #expect(shimmed.err == direct.err, "\(spelling): Bouncer took part: \(shimmed.err)")
            }
        }
        #expect(ranPip == 9, "the spellings that run pip did (\(ranPip))")
    }

    /// `python3 -m uv` runs the uv binary uv's Python package ships, past the uv
    /// shim (a red-team pass installed a local project and an unverified wheel
    /// that way): it is the uv shim, whose refusals hold; what fetches nothing
    /// reaches the module as it would without the shim.
    @Test func uvAsAModuleIsTheUvShim() throws {
        defer { harness.cleanup() }
        try Self.fakeModule("uv", in: venv, main: "import sys\nprint('uv module ran', sys.argv[1:])\n")
        try FileManager.default.createDirectory(at: harness.project.appendingPathComponent("proj"), withIntermediateDirectories: true)

        for spelling in [["-m", "uv"], ["-muv"], ["-Im", "uv.__main__"]] {
            let refused = try harness.sh("python3 " + Self.quoted(spelling + ["pip", "install", "./proj"]))
            #expect(refused.status == 2, "\(spelling): \(refused.out) \(refused.err)")
            #expect(refused.err.contains("uv pip install"), "\(spelling): \(refused.err)")
            #expect(!refused.out.contains("uv module ran"), "\(spelling): \(refused.out)")
        }
        let version = try harness.sh("python3 -m uv --version")
        #expect(version.status == 0 && version.out.contains("uv module ran ['--version']"), "\(version.out) \(version.err)")
    }

    /// Python started for anything but pip never starts Bouncer, and says
    /// nothing, even without a policy (or in CI without one).
    @Test func pythonForAnythingElseIsTheRealOneSilently() throws {
        defer { harness.cleanup() }
        try FileManager.default.removeItem(at: harness.project.appendingPathComponent("policy.json"))
        for extra in [[:], ["CI": "true"]] {
            let result = try harness.sh("python3 -c 'import sys; print(sys.executable)'; python -c 'print(2)'", extra: extra)
            #expect(result.status == 0, "\(result.err)")
            #expect(result.out == venv.appendingPathComponent("bin/python3").path + "\n2\n", "\(result.out)")
            #expect(result.err.isEmpty, "\(result.err)")
        }
        // pip as a module without a policy: the real one, said once (refused in CI, as the pip shim does).
        let unguarded = try harness.sh("python3 -m pip install tinylib")
        #expect(Self.pipRun(unguarded.out)?.index == "", "\(unguarded.out)")
        #expect(unguarded.err.contains("python3 runs unguarded"), "\(unguarded.err)")
        let ci = try harness.sh("python3 -m pip install tinylib", extra: ["CI": "true"])
        #expect(ci.status == 2 && ci.out.isEmpty, "\(ci.out) \(ci.err)")
        #expect(ci.err.contains("refusing to run unguarded"), "\(ci.err)")
    }

    /// `python3 -m venv --upgrade-deps` has the new venv's pip (run by its
    /// absolute path, past every shim) install pip and setuptools from the
    /// index: refused in enforce mode before Python starts, in the spellings
    /// venv's argparse takes; a plain venv is made as without the shim.
    @Test func aVenvThatUpgradesItsOwnPipFromTheIndexIsRefused() throws {
        defer { harness.cleanup() }
        for spelling in ["--upgrade-deps", "--upgrade-d", "--upgrade-"] {
            let result = try harness.sh("python3 -m venv --without-pip \(spelling) made")
            #expect(result.status == 2, "\(spelling): \(result.err)")
            #expect(result.err.contains("refused: option \(spelling) makes the new venv's own pip install pip and setuptools from the index"), "\(result.err)")
            #expect(!harness.exists("made"), "\(spelling): the venv was made")
        }
        let plain = try harness.sh("python3 -m venv --without-pip --upgrade made && test -x made/bin/python3")
        #expect(plain.status == 0 && plain.err.isEmpty, "\(plain.err)")
    }
}
