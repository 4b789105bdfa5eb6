import FoundationEssentials
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools

/// Output shared by the policy commands (fetch, lock, check, explain): one
/// human line per artifact, `--json` objects, and GitHub Actions `::error`
/// annotations for refusals when GITHUB_ACTIONS=true.
enum PolicyOutput {
    static var inGitHubActions: Bool { GitHubAnnotation.isActive(ProcessInfo.processInfo.environment) }

    /// `resultsToStdout`: the lines are the command's result (`lock`, `check`)
    /// and go to standard output; `fetch` keeps them on standard error, since
    /// its standard output may carry the artifact (`-o -`).
    static func emit(_ outcome: GuardOutcome, json: Bool, quiet: Bool, suffix: String = "", annotateToStderr: Bool = false,
                     resultsToStdout: Bool = false) {
        if json {
            Console.output(outcome.jsonLine())
        } else {
            let lines = outcome.humanLines()
            let print: (String) -> Void = resultsToStdout ? { Console.output($0) } : { Console.error($0) }
            switch outcome.verdict {
            case .allowed:
                if !quiet {
                    for (index, line) in lines.enumerated() { print(index == 0 ? line + suffix : line) }
                }
            case .warned:
                for (index, line) in lines.enumerated() { print(index == 0 ? line + suffix : line) }
            case .refused:
                for line in lines { print(line) }
            }
        }
        if inGitHubActions {
            switch outcome.verdict {
            case .refused:
                annotate("error", outcome.error.message, toStderr: annotateToStderr)
            case .warned:
                annotate("warning", "\(outcome.shownURL): allowed with warnings: "
                         + (outcome.problems.map(\.message) + outcome.notes).joined(separator: "; "), toStderr: annotateToStderr)
            case .allowed:
                break
            }
        }
    }

    /// A GitHub Actions workflow command; data escaped as the runner expects.
    static func annotate(_ level: String, _ message: String, toStderr: Bool = false) {
        let line = GitHubAnnotation.line(level, message)
        if toStderr { Console.error(line) } else { Console.output(line) }
    }

    static func configurationError(_ error: BouncerError, json: Bool) {
        if json {
            var report = VerificationReport(artifact: .init(name: "policy", sha256: nil), reasons: [.init(code: error.code, message: error.message)])
            report.verdict = .fail
            Console.output(report.jsonLine())
        } else {
            Console.error("bouncer: \(error.message)")
            if let hint = error.hint { Console.error("hint: \(hint)") }
        }
        if inGitHubActions { annotate("error", error.message) }
        Console.flush()
    }

    /// The exit family for several failures: evidence (1) before configuration (2) before transport (3).
    static func worst(_ families: [ErrorFamily]) -> ErrorFamily? {
        for family in [ErrorFamily.evidence, .configuration, .transport] where families.contains(family) { return family }
        return nil
    }
}
