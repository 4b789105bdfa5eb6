#if canImport(Glibc)
import Glibc
#endif

/// The directories of a `PATH` value, as `execvp` searches them: in order,
/// an empty entry meaning the working directory ("."), and the shell's
/// default when `PATH` is unset. Shared by every walk of PATH (the shims'
/// real tool, `shims check`, the python3 whose pip configuration counts).
public enum SearchPath {
    public static let unsetDefault = "/usr/local/bin:/usr/bin:/bin"

    public static func directories(_ variables: [String: String]) -> [String] {
        (variables["PATH"] ?? unsetDefault)
            .split(separator: ":", omittingEmptySubsequences: false)
            .map { $0.isEmpty ? "." : String($0) }
    }

    /// What counts as a program on PATH: an executable regular file (or a link to one).
    public static func isExecutableFile(_ path: String) -> Bool {
        access(path, X_OK) == 0 && Filesystem.isFile(path)
    }

    /// The first program called `name` on PATH, as `execvp` would run it.
    public static func firstExecutable(_ name: String, environment: [String: String]) -> String? {
        directories(environment).lazy.map { "\($0)/\(name)" }.first(where: isExecutableFile)
    }
}
