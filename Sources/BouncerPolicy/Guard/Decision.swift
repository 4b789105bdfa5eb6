import FoundationEssentials
import BouncerBase

/// The decision: a pure function of what the stages found, the policy's
/// mode and the exceptions in force. Called once per artifact.
struct Decision {
    let verdict: GuardOutcome.Verdict
    /// For a refusal: whose fault, hence the exit code.
    let family: ErrorFamily?
    let notes: [String]

    /// Problems that refuse in every mode refuse; the others refuse in
    /// enforce mode unless an active exception covers the artifact, and
    /// only warn in audit mode.
    static func decide(_ problems: [EvidenceProblem], mode: Policy.Mode, exception: PolicyException?,
                       expired: [PolicyException]) -> Decision {
        let hard = problems.filter(\.refusesInEveryMode)
        if !hard.isEmpty { return Decision(verdict: .refused, family: worst(hard), notes: []) }
        if problems.isEmpty { return Decision(verdict: .allowed, family: nil, notes: []) }
        if let exception {
            return Decision(verdict: .warned, family: nil, notes: ["allowed by an exception until \(exception.until): \(exception.reason)"])
        }
        let lapsed = expired.map { "an exception expired on \($0.until) and no longer applies (\($0.reason))" }
        if mode == .audit {
            return Decision(verdict: .warned, family: nil, notes: lapsed + ["AUDIT MODE: allowed, but enforce mode would refuse it"])
        }
        return Decision(verdict: .refused, family: worst(problems), notes: lapsed)
    }

    /// The evidence's fault outweighs the configuration's, which outweighs the transport's.
    static func worst(_ problems: [EvidenceProblem]) -> ErrorFamily {
        let families = problems.map(\.family)
        if families.contains(.evidence) { return .evidence }
        if families.contains(.configuration) { return .configuration }
        return families.first ?? .evidence
    }
}
