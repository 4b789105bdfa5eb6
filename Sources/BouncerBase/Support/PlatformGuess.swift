/// What a pip client runs on, as the pip shim tells its proxy before pip
/// starts: `bouncer serve --pypi-platform-guess PYTHON:CPU:GLIBC`, e.g.
/// `3.11:x86_64:2.36` (CPython on Linux with glibc). One definition for both
/// sides: the shim (BouncerTools) must write only what the proxy
/// (BouncerServe) reads, and neither imports the other.
public struct PlatformGuess: Equatable, Sendable {
    public var pythonMajor: Int
    public var pythonMinor: Int
    public var cpu: String
    public var glibcMinor: Int

    /// Parses the `PYTHON:CPU:GLIBC` form; nil for anything else.
    public init?(_ text: String) {
        let fields = text.split(separator: ":", omittingEmptySubsequences: false)
        guard fields.count == 3, let (major, minor) = Self.dottedPair(fields[0]),
              let (glibcMajor, glibcMinor) = Self.dottedPair(fields[2]), glibcMajor == 2,
              Self.isCPUName(fields[1]) else { return nil }
        self.pythonMajor = major
        self.pythonMinor = minor
        self.cpu = String(fields[1])
        self.glibcMinor = glibcMinor
    }

    /// From its parts (glibc as the C library names itself, `2.36`); nil
    /// when they do not make the form above (a development glibc
    /// `2.39.9000`, an odd CPU name): then no guess, rather than a proxy that
    /// refuses to start.
    public init?(pythonMajor: Int, pythonMinor: Int, cpu: String, glibc: String) {
        self.init("\(pythonMajor).\(pythonMinor):\(cpu):\(glibc)")
    }

    /// The `PYTHON:CPU:GLIBC` form.
    public var text: String { "\(pythonMajor).\(pythonMinor):\(cpu):2.\(glibcMinor)" }

    /// `3.11` → (3, 11): two small decimal numbers (1 to 3 digits, no sign, no spaces).
    public static func dottedPair(_ text: Substring) -> (Int, Int)? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ (1...3).contains($0.count) && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let first = Int(parts[0]), let second = Int(parts[1]) else { return nil }
        return (first, second)
    }

    /// A CPU as uname(2) and pip's tags name it (`x86_64`, `aarch64`): ASCII letters, digits, `_`.
    public static func isCPUName(_ text: Substring) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }
}
