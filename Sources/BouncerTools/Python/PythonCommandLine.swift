/// Python's own command line, read as CPython reads it (its `getopt`: one
/// dash, letters run together, `-c`, `-m`, `-W` and `-X` taking the rest of
/// the word or the next one; `--check-hash-based-pycs MODE`), up to what it
/// runs. Only one answer matters to Bouncer: whether the interpreter will run
/// pip as a module (`python3 -m pip install …`, `-Im pip`, `-mpip`,
/// `-W ignore -m pip.__main__`), and with which of pip's own arguments.
public struct PythonCommandLine: Equatable, Sendable {
    /// The interpreter's options before `-m MODULE`, as given.
    public var options: [String]
    /// The module `-m` names (`pip`, `pip.__main__`).
    public var module: String
    /// What follows the module: pip's command line.
    public var moduleArguments: [String]

    /// Modules that are pip's own entry points: `python -m pip`, its
    /// `__main__`, and the runner pip starts for its build environments.
    public static let pipModules: Set<String> = ["pip", "pip.__main__", "pip.__pip-runner__"]
    /// pipx as a module (it runs pip by path, in venvs of its own).
    public static let pipxModules: Set<String> = ["pipx", "pipx.__main__"]
    /// uv as a module (its Python package runs the uv binary it ships).
    public static let uvModules: Set<String> = ["uv", "uv.__main__"]

    /// Whether the module run is pip.
    public var runsPip: Bool { Self.pipModules.contains(module) }

    /// Python's options that take a value (attached, or the next word).
    static let valued: Set<Character> = ["W", "X"]
    /// Options after which Python runs no module: code, help, version.
    static let endsWithoutModule: Set<Character> = ["c", "h", "V", "?"]

    /// The command line when it runs a module, else nil (a script, `-c`,
    /// standard input, help or version, or an option Python would reject).
    public init?(_ arguments: [String]) {
        var options: [String] = []
        var index = 0
        while index < arguments.count {
            let word = arguments[index]
            if word == "--check-hash-based-pycs" {
                guard index + 1 < arguments.count else { return nil }
                options += [word, arguments[index + 1]]
                index += 2
                continue
            }
            // `--`, `-` (standard input), a script, `--help`, `--version`: no module.
            guard word.hasPrefix("-"), !word.hasPrefix("--"), word.count > 1 else { return nil }
            var letters = Substring(word.dropFirst())
            var taken: [String] = [word]
            while let letter = letters.first {
                letters = letters.dropFirst()
                if Self.endsWithoutModule.contains(letter) { return nil }
                if letter == "m" {
                    let module: String
                    if !letters.isEmpty {
                        module = String(letters)
                        // Python sees `-Im pip` and `-Impip` alike; the options keep everything before the m.
                        taken[taken.count - 1] = String(word.dropLast(letters.count + 1))
                    } else {
                        guard index + 1 < arguments.count else { return nil }
                        module = arguments[index + 1]
                        taken[taken.count - 1] = String(word.dropLast())
                        index += 1
                    }
                    self.options = options + taken.filter { $0 != "-" }
                    self.module = module
                    self.moduleArguments = Array(arguments[(index + 1)...])
                    return
                }
                if Self.valued.contains(letter) {
                    if letters.isEmpty {
                        guard index + 1 < arguments.count else { return nil }
                        index += 1
                        taken.append(arguments[index])
                    }
                    break
                }
            }
            options += taken
            index += 1
        }
        return nil
    }
}
