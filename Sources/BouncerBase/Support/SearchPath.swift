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
}
