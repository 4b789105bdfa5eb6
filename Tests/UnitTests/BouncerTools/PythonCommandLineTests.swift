import Testing
@testable import BouncerTools

/// Python's own command line as CPython's getopt reads it: which spellings
/// run pip as a module, what the interpreter keeps, what pip gets.
@Suite struct PythonCommandLineTests {
    @Test func everySpellingOfDashMPipIsFound() {
        let cases: [([String], [String], String, [String])] = [
            (["-m", "pip", "install", "x"], [], "pip", ["install", "x"]),
            (["-mpip", "install", "x"], [], "pip", ["install", "x"]),
            (["-Im", "pip", "install", "x"], ["-I"], "pip", ["install", "x"]),
            (["-Impip", "install", "x"], ["-I"], "pip", ["install", "x"]),
            (["-B", "-s", "-m", "pip", "-q", "install", "x"], ["-B", "-s"], "pip", ["-q", "install", "x"]),
            (["-W", "ignore", "-m", "pip.__main__", "install"], ["-W", "ignore"], "pip.__main__", ["install"]),
            (["-Wignore", "-Xutf8", "-bm", "pip"], ["-Wignore", "-Xutf8", "-b"], "pip", []),
            (["-X", "dev", "-um", "pip", "install"], ["-X", "dev", "-u"], "pip", ["install"]),
            (["--check-hash-based-pycs", "never", "-m", "pip", "list"], ["--check-hash-based-pycs", "never"], "pip", ["list"]),
            // After the module everything is pip's, options that look like Python's included.
            (["-m", "pip", "-c", "x", "-m", "y"], [], "pip", ["-c", "x", "-m", "y"]),
        ]
        for (arguments, options, module, rest) in cases {
            let line = PythonCommandLine(arguments)
            #expect(line?.options == options, "\(arguments)")
            #expect(line?.module == module, "\(arguments)")
            #expect(line?.moduleArguments == rest, "\(arguments)")
            #expect(line?.runsPip == true, "\(arguments)")
        }
    }

    @Test func whatRunsNoModuleOrAnotherOneIsNotPip() {
        // Code, a script, standard input, help, version, `--` (the script follows).
        for arguments in [["-c", "print(1)", "-m", "pip"], ["-Ic", "x", "-m", "pip"], ["script.py", "-m", "pip"], ["-", "-m", "pip"],
                          ["-h", "-m", "pip"], ["-Vm", "pip"], ["--version", "-m", "pip"], ["--", "-m", "pip"], ["", "-m", "pip"],
                          // -W and -X take the next word, -m included: then `pip` is a script.
                          ["-W", "-m", "pip"], ["-X", "-m", "pip", "install"],
                          // Python refuses these before running anything.
                          ["-m"], ["-W"], ["--check-hash-based-pycs"], []] {
            #expect(PythonCommandLine(arguments) == nil, "\(arguments)")
        }
        #expect(PythonCommandLine(["-m", "pipx", "install", "x"])?.runsPip == false)
        #expect(PythonCommandLine(["-m", "pip._vendor.rich"])?.runsPip == false)
        #expect(PythonCommandLine(["-m", "venv", "v"])?.module == "venv")
    }

    @Test func venvsUpgradeDepsInEveryAbbreviationArgparseTakes() {
        #expect(PythonShim.upgradeDeps(["--upgrade-deps", "v"]) == "--upgrade-deps")
        #expect(PythonShim.upgradeDeps(["v", "--upgrade-d"]) == "--upgrade-d")
        #expect(PythonShim.upgradeDeps(["--upgrade-"]) == "--upgrade-")
        // --upgrade is another option; after `--` it is a directory's name.
        for arguments in [["--upgrade", "v"], ["--upgrade-depsx"], ["--", "--upgrade-deps"], ["v"]] {
            #expect(PythonShim.upgradeDeps(arguments) == nil, "\(arguments)")
        }
    }
}
