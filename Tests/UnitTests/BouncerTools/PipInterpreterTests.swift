import Foundation
import Testing
import BouncerBase
@testable import BouncerTools

/// The pip shim's guess at what its pip runs on (`--pypi-platform-guess`),
/// read from the pip script's `#!` line and this machine.
@Suite struct PipInterpreterTests {
    /// What a program prints, trimmed (the machine's own word, to compare against).
    func output(_ program: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func theVersionComesFromTheInterpretersResolvedName() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bouncer-interp-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A venv's python3 links to the real python3.11.
        FileManager.default.createFile(atPath: dir + "/python3.11", contents: Data())
        FileManager.default.createFile(atPath: dir + "/python3.13t", contents: Data())
        try FileManager.default.createSymbolicLink(atPath: dir + "/python3", withDestinationPath: dir + "/python3.11")
        func script(_ name: String, _ text: String) -> String {
            FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(text.utf8))
            return dir + "/" + name
        }
        let venvPip = script("pip", "#!\(dir)/python3\n# -*- coding: utf-8 -*-\nimport re\n")
        #expect(PipInterpreter.version(ofScript: venvPip).map { [$0.0, $0.1] } == [3, 11])
        let spaced = script("pip-args", "#! \(dir)/python3.11 -E\nimport re\n")
        #expect(PipInterpreter.version(ofScript: spaced).map { [$0.0, $0.1] } == [3, 11], "the kernel allows a space after #!")
        for (name, text) in [("env", "#!/usr/bin/env python3\n"), ("none", "import re\n"), ("empty", ""),
                             ("free", "#!\(dir)/python3.13t\n"), ("relative", "#!python3.11\n"),
                             ("gone", "#!\(dir)/python3.12\n"), ("sh", "#!/bin/sh\n'''exec' \"\(dir)/python3\" \"$0\" \"$@\"\n' '''\n")] {
            #expect(PipInterpreter.version(ofScript: script(name, text)) == nil, "\(name)")
        }
        #expect(PipInterpreter.version(ofScript: dir + "/missing") == nil)
        #expect(PipInterpreter.version(ofScript: dir) == nil, "a directory")
        #expect(mkfifo(dir + "/fifo", 0o600) == 0)
        #expect(PipInterpreter.version(ofScript: dir + "/fifo") == nil, "a FIFO with no writer: no wait")
    }

    /// Only what `bouncer serve --pypi-platform-guess` reads is passed: it refuses anything else at start-up.
    @Test func anUnusualMachineGivesNoGuessRatherThanABadOne() {
        #expect(PlatformGuess(pythonMajor: 3, pythonMinor: 12, cpu: "aarch64", glibc: "2.39")?.text == "3.12:aarch64:2.39")
        for (cpu, glibc) in [("x86_64", "2.39.9000"), ("x86_64", "2"), ("x86_64", "3.1"), ("x86_64", ""), ("x86-64", "2.36"),
                             ("", "2.36"), ("x86 64", "2.36"), ("x86_64", "2.x")] {
            #expect(PlatformGuess(pythonMajor: 3, pythonMinor: 12, cpu: cpu, glibc: glibc)?.text == nil, "\(cpu) \(glibc)")
        }
    }

    @Test func namesWithoutAPlainVersionGiveNone() {
        #expect(PipInterpreter.version(ofName: "python3.12").map { [$0.0, $0.1] } == [3, 12])
        for name in ["python3", "python", "python3.11t", "python3.11.2", "pypy3.10", "python3.", "python.11", "python3.1111", "python+3.11"] {
            #expect(PipInterpreter.version(ofName: name) == nil, "\(name)")
        }
    }

    /// The guess names this machine's CPU and glibc as `uname -m` and
    /// `getconf GNU_LIBC_VERSION` say; a command for other tags or another
    /// interpreter gets none.
    @Test func theGuessIsThisMachineUnlessTheCommandTargetsAnother() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bouncer-guess-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        FileManager.default.createFile(atPath: dir + "/python3.12", contents: Data())
        FileManager.default.createFile(atPath: dir + "/pip", contents: Data("#!\(dir)/python3.12\n".utf8))
        let machine = try output("/usr/bin/uname", ["-m"])
        let libc = try output("/usr/bin/getconf", ["GNU_LIBC_VERSION"])
        let guess = PipInterpreter.platformGuess(realPip: dir + "/pip", invocation: PipArguments.parse(["install", "pkg"]))
        #expect(libc.hasPrefix("glibc "), "\(libc)")
        #expect(guess == "3.12:\(machine):\(libc.dropFirst("glibc ".count))")
        for command in [["install", "--platform", "win_amd64", "--only-binary=:all:", "--target", "t", "pkg"],
                        ["download", "--python-version=3.9", "--only-binary=:all:", "pkg"],
                        ["install", "--abi", "abi3", "--only-binary=:all:", "--target", "t", "pkg"],
                        ["install", "--implementation=pp", "--only-binary=:all:", "--target", "t", "pkg"],
                        ["--python", "/usr/bin/python3.9", "install", "pkg"]] {
            #expect(PipInterpreter.platformGuess(realPip: dir + "/pip", invocation: PipArguments.parse(command)) == nil, "\(command)")
        }
    }

    /// Debian's own pip script, where installed: its guess is the version
    /// its python3 reports.
    @Test func aRealPipScriptGivesItsPythonsVersion() throws {
        let pip = "/usr/bin/pip3"
        guard FileManager.default.isExecutableFile(atPath: pip), FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else {
            print("NOTICE: \(pip) is not installed; the real pip script is not checked")
            return
        }
        let version = try output("/usr/bin/python3", ["-c", "import sys; print('%d %d' % sys.version_info[:2])"])
        let found = PipInterpreter.version(ofScript: pip)
        #expect(found.map { "\($0.0) \($0.1)" } == version)
    }
}
