import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
/// The guard's decision for one artifact, with everything a report needs.
public struct GuardOutcome: Sendable {
    public enum Verdict: String, Sendable, Codable {
        /// Every requirement proven.
        case allowed
        /// Allowed although something was not proven: audit mode, or an active exception.
        case warned
        case refused
    }

    public var request: ArtifactRequest
    /// The URL without credentials.
    public var shownURL: String
    /// "rule 'example releases'", "rule #3" or "no rule (unmatched: pin)".
    public var rule: String
    /// Whether a rule matched (else `rule` says what `unmatched` did).
    public var ruleMatched: Bool
    /// What the rule requires, in words.
    public var required: [String]
    public var verdict: Verdict
    public var proofs: [VerificationReport.Evidence]
    /// What was required but not proven (or what else went wrong).
    public var problems: [VerificationReport.Reason]
    /// The codes among `problems` that are the rule's requirements not proven;
    /// only those make "required: …" worth saying (an install script is no
    /// missing digest).
    public var unmetRequirements: Set<String> = []
    /// Warnings to show even on success (audit mode, exceptions, a moved source).
    public var notes: [String]
    /// For a refusal: whose fault, hence the exit code.
    public var family: ErrorFamily?
    /// A file holding exactly the verified bytes (allowed and warned only).
    public var path: String?
    public var sha256: Digest?
    public var size: UInt64?

    /// The `--json` report (design.md, CLI contract), plus the rule and notes.
    public var report: VerificationReport {
        var report = VerificationReport(artifact: .init(name: shownURL, sha256: sha256?.hex, size: size),
                                        evidence: proofs, reasons: problems)
        report.verdict = verdict == .refused ? .fail : .pass
        return report
    }

    /// One line per artifact: what was proven, or what was required and missing.
    public func humanLines() -> [String] {
        switch verdict {
        case .allowed:
            return ["\(shownURL): OK: " + proofs.map(\.summary).joined(separator: "; ")] + notes.map { "\(shownURL): note: \($0)" }
        case .warned:
            let proven = proofs.isEmpty ? "nothing proven" : proofs.map(\.summary).joined(separator: "; ")
            return ["\(shownURL): ALLOWED WITH WARNINGS: \(proven)"]
                + warnings.map { "\(shownURL): WARNING: \($0)" }
                + notes.map { "\(shownURL): WARNING: \($0)" }
        case .refused:
            var lines = ["\(shownURL): REFUSED by \(rule)" + (requiredClause.map { "; required: " + $0 } ?? "")]
            lines += problems.map { "\(shownURL): " + (isUnmet($0) ? "missing: " : "refused: ") + $0.message }
            if !proofs.isEmpty { lines.append("\(shownURL): proven nonetheless: " + proofs.map(\.summary).joined(separator: "; ")) }
            lines += notes.map { "\(shownURL): note: \($0)" }
            return lines
        }
    }

    /// The refusal as one error (for `ArtifactGuard.obtain`).
    public var error: BouncerError {
        let code = problems.first?.code ?? "refused"
        // "refused by no rule" reads badly: the problem itself says no rule matched.
        let by = ruleMatched ? " by \(rule)" : ""
        let text = "\(shownURL): refused\(by): " + problems.map(\.message).joined(separator: "; ")
            + (requiredClause.map { " (required: " + $0 + ")" } ?? "")
        return BouncerError(family ?? .evidence, code: code, text)
    }

    private func isUnmet(_ problem: VerificationReport.Reason) -> Bool { unmetRequirements.contains(problem.code) }

    /// Each problem as a warning (for an outcome allowed with warnings).
    public var warnings: [String] {
        problems.map { (isUnmet($0) ? "not proven: " : "") + $0.message }
    }

    /// What the rule requires, said only when some of it was not proven.
    private var requiredClause: String? {
        required.isEmpty || !problems.contains(where: isUnmet) ? nil : required.joined(separator: "; ")
    }
}

extension GuardOutcome {
    /// The outcome the stages and the decision produced for one candidate.
    init(_ candidate: Candidate, _ decision: Decision) {
        let sha256 = candidate.fetched?.digests[.sha256]
        // Refusing problems first, as the report has always listed them.
        let problems = candidate.findings.problems.filter(\.refusesInEveryMode) + candidate.findings.problems.filter { !$0.refusesInEveryMode }
        self.init(request: candidate.request, shownURL: candidate.shownURL, rule: candidate.ruleLabel, ruleMatched: candidate.rule != nil,
                  required: candidate.rule?.require.map(\.summary) ?? [], verdict: decision.verdict,
                  proofs: candidate.findings.proofs.map(\.reportEvidence), problems: problems.map(\.reportReason),
                  notes: candidate.findings.notes + decision.notes, family: decision.family, path: nil,
                  sha256: sha256, size: candidate.fetched?.size)
        unmetRequirements = Set(candidate.findings.unmetRequirements.map(\.rawValue))
    }

    /// Refused before any rule was consulted (the lock or the freshness state is unreadable).
    static func refusedUpFront(_ request: ArtifactRequest, by what: String, _ problem: EvidenceProblem) -> GuardOutcome {
        GuardOutcome(request: request, shownURL: Redaction.url(request.url), rule: what, ruleMatched: true, required: [],
                     verdict: .refused, proofs: [], problems: [problem.reportReason], notes: [], family: problem.family)
    }

    /// An allowed outcome the commit stage could not pin: refused after all, its file withheld.
    mutating func refuse(_ problem: EvidenceProblem) {
        problems.append(problem.reportReason)
        verdict = .refused
        family = problem.family
        path = nil
    }

    /// The `--json` object: the CLI contract's fields plus the rule, the
    /// decision (allowed / warned / refused), what was required, and notes.
    struct JSONForm: Encodable {
        let verdict: String
        let decision: String
        let artifact: VerificationReport.Artifact
        let rule: String
        let required: [String]
        let evidence: [VerificationReport.Evidence]
        let reasons: [VerificationReport.Reason]
        let notes: [String]
    }

    public func jsonLine() -> String {
        let report = self.report
        let form = JSONForm(verdict: report.verdict.rawValue, decision: verdict.rawValue, artifact: report.artifact, rule: rule,
                            required: required, evidence: proofs, reasons: problems, notes: notes)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(form) else { return "{\"verdict\":\"fail\"}" }
        return String(decoding: data, as: UTF8.self)
    }
}

import FoundationEssentials
