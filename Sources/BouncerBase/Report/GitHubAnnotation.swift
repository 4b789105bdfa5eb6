/// GitHub Actions workflow commands for refusals and warnings
/// (`::error title=bouncer::MESSAGE`), printed when `GITHUB_ACTIONS=true`.
/// The runner reads them from standard output and standard error alike.
public enum GitHubAnnotation {
    public static func isActive(_ variables: [String: String]) -> Bool { variables["GITHUB_ACTIONS"] == "true" }

    /// One workflow command line. The message is escaped as the runner
    /// expects of command data (`%` as `%25`, CR as `%0D`, LF as `%0A`), so a
    /// message carrying a line break (a URL, a rule name, a file name) stays
    /// one annotation and cannot start a workflow command of its own.
    public static func line(_ level: String, _ message: String) -> String {
        "::\(level) title=bouncer::\(escapeData(message))"
    }

    public static func escapeData(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        // Unicode scalars, not Characters: "\r\n" is one Character in Swift.
        for scalar in text.unicodeScalars {
            switch scalar {
            case "%": out += "%25"
            case "\r": out += "%0D"
            case "\n": out += "%0A"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
