import FoundationEssentials
import BouncerBase

/// The one place that decides which policy file is in force, for every
/// command and shim: `--policy FILE`, else `$BOUNCER_POLICY` (relative to
/// the working directory), else the nearest `policy.json` from the working
/// directory upwards that is a Bouncer policy. A `policy.json` that is some
/// other tool's (an IAM policy, say) is skipped, said once on stderr, and
/// the search goes on upwards; one that cannot be told apart (not JSON at
/// all) counts as Bouncer's, so that a broken policy fails closed.
public enum PolicyLocator {
    /// The policy file in force, or nil when there is none. `start` is where
    /// a shell shim already found the nearest `policy.json` (it passes what
    /// it found, so the directories are not walked twice).
    public static func find(explicit: String? = nil, environment: [String: String], cwd: String, start: String? = nil,
                            skipped: (String) -> Void = PolicyLocator.sayOnce) -> String? {
        if let explicit, !explicit.isEmpty { return Filesystem.absolute(explicit, cwd: cwd) }
        if let fromEnvironment = environment["BOUNCER_POLICY"], !fromEnvironment.isEmpty { return Filesystem.absolute(fromEnvironment, cwd: cwd) }
        let first = start.map { Filesystem.split(Filesystem.absolute($0, cwd: cwd)).directory } ?? cwd
        for directory in Filesystem.selfAndAncestors(first) {
            let candidate = Filesystem.absolute("policy.json", cwd: directory)
            if FileManager.default.fileExists(atPath: candidate) {
                if isBouncerPolicy(candidate) { return candidate }
                skipped(candidate)
            }
        }
        return nil
    }

    /// Finds and loads the policy; none anywhere is a configuration error (exit 2).
    public static func load(explicit: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
                            cwd: String = FileManager.default.currentDirectoryPath, now: Date = Date()) throws(BouncerError) -> Policy {
        guard let file = find(explicit: explicit, environment: environment, cwd: cwd) else {
            throw BouncerError(.configuration, code: "policy-missing",
                               "no policy.json found (give --policy FILE, set BOUNCER_POLICY, or add policy.json to the project)")
        }
        return try PolicyParser.load(file: file, now: now)
    }

    /// A JSON object with Bouncer's `version` or `rules`, or anything that is
    /// no JSON object (a broken or emptied policy — not JSON, `[]`, `null` —
    /// must not be skipped: the loader refuses it). Other tools' policy
    /// files (`{"Version": "2012-10-17", "Statement": …}`) are not Bouncer's.
    static func isBouncerPolicy(_ path: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: path), data.count <= PolicyParser.maxBytes,
              let value = try? JSON.parse(Array(data)), case .object(let members) = value else { return true }
        return members["version"] != nil || members["rules"] != nil
    }

    public static func sayOnce(_ skipped: String) {
        StandardError.line("bouncer: note: \(skipped) is not a Bouncer policy (no \"version\" or \"rules\"); looking further up")
    }
}
