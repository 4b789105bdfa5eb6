#if canImport(Glibc)
import Glibc
#endif
import CSystemShims
import BouncerBase

/// What the real pip will run on, told before it starts: the interpreter its
/// script names (`#!/…/venv/bin/python3`, a link to python3.11), this
/// machine's CPU and glibc. The proxy then verifies the platform wheels pip
/// will fetch (PyYAML's, NumPy's) while pip starts, instead of after pip's
/// first request has said so in its User-Agent. Only a guess, used for
/// nothing but reading ahead: when pip says otherwise, its word counts.
enum PipInterpreter {
    /// `PYTHON:CPU:GLIBC` (the form `bouncer serve --pypi-platform-guess`
    /// reads), or nil: no version in the interpreter's name, not glibc, or a
    /// command that installs for other tags or another interpreter.
    /// `asModule`: `realPip` is the interpreter itself (`python3 -m pip`), not pip's script.
    static func platformGuess(realPip: String, asModule: Bool = false, invocation: PipInvocation) -> String? {
        let otherTags = ["--platform", "--python-version", "--implementation", "--abi"]
        let targetsOthers = invocation.installOptions.contains { option in
            otherTags.contains { option == $0 || option.hasPrefix($0 + "=") }
        } || invocation.globalOptions.contains { $0 == "--python" || $0.hasPrefix("--python=") }
        guard !targetsOthers, let (major, minor) = asModule ? version(ofInterpreter: realPip) : version(ofScript: realPip),
              let glibc = bouncer_glibc_version().map({ String(cString: $0) }), let cpu = machine() else { return nil }
        // Only what the proxy reads (a development glibc, an odd CPU name: no guess).
        return PlatformGuess(pythonMajor: major, pythonMinor: minor, cpu: cpu, glibc: glibc)?.text
    }

    /// The Python version of the interpreter on a script's `#!` line, from
    /// the name it resolves to (`python3.11`); nil for `env`, a bare
    /// `python3` binary, a free-threaded `python3.13t`, or no `#!` at all.
    static func version(ofScript path: String) -> (Int, Int)? {
        // Non-blocking: a FIFO named pip must not hold the shim up.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: 512)
        let count = head.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 2, head[0] == UInt8(ascii: "#"), head[1] == UInt8(ascii: "!") else { return nil }
        let line = head[2..<count].prefix { $0 != 0x0A }
        let words = line.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D })
        guard let first = words.first, let interpreter = String(validating: first, as: UTF8.self),
              interpreter.hasPrefix("/") else { return nil }
        return version(ofInterpreter: interpreter)
    }

    /// The version of an interpreter from the name it resolves to (`python3` → `python3.11`).
    static func version(ofInterpreter path: String) -> (Int, Int)? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return version(ofName: String(cString: resolved).split(separator: "/").last.map(String.init) ?? "")
    }

    /// `python3.11` → (3, 11).
    static func version(ofName name: String) -> (Int, Int)? {
        guard name.hasPrefix("python") else { return nil }
        return PlatformGuess.dottedPair(name.dropFirst("python".count))
    }

    /// The CPU as uname(2) names it (`x86_64`, `aarch64`): what pip's tags say.
    static func machine() -> String? {
        var names = utsname()
        guard uname(&names) == 0 else { return nil }
        let text = withUnsafeBytes(of: &names.machine) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
        return text.isEmpty ? nil : text
    }
}
