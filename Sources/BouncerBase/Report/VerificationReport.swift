import FoundationEssentials

/// The `--json` output of every verify command (design.md, CLI contract):
/// `{"verdict": "pass"|"fail", "artifact": {"name", "sha256"}, "evidence": [...], "reasons": [...]}`.
public struct VerificationReport: Codable, Sendable, Equatable {
    public enum Verdict: String, Codable, Sendable { case pass, fail }

    public struct Artifact: Codable, Sendable, Equatable {
        public var name: String
        public var sha256: String?
        public var size: UInt64?

        public init(name: String, sha256: String?, size: UInt64? = nil) {
            self.name = name
            self.sha256 = sha256
            self.size = size
        }
    }

    /// One proven fact. `kind` is the evidence kind ("digest", "checksums",
    /// "signature", ...); `proves` is which property it establishes
    /// ("integrity", "origin", "provenance", "freshness"), never "safety".
    public struct Evidence: Codable, Sendable, Equatable {
        public var kind: String
        public var proves: [String]
        public var summary: String
        public var details: [String: String]

        public init(kind: String, proves: [String], summary: String, details: [String: String] = [:]) {
            self.kind = kind
            self.proves = proves
            self.summary = summary
            self.details = details
        }
    }

    /// Why the verdict is "fail": a stable code and a message a person can act on.
    public struct Reason: Codable, Sendable, Equatable {
        public var code: String
        public var message: String

        public init(code: String, message: String) {
            self.code = code
            self.message = message
        }
    }

    /// Each signature examined, verified or not (a message may carry several
    /// and passes when one verifies from a trusted key). Absent when no
    /// signature was involved.
    public struct SignatureEntry: Codable, Sendable, Equatable {
        public var status: String
        public var format: String?
        public var signer: String?
        public var reason: String?
        public var details: [String: String]?

        public init(status: String, format: String? = nil, signer: String? = nil, reason: String? = nil,
                    details: [String: String]? = nil) {
            self.status = status
            self.format = format
            self.signer = signer
            self.reason = reason
            self.details = details
        }
    }

    public var verdict: Verdict
    public var artifact: Artifact
    public var evidence: [Evidence]
    public var reasons: [Reason]
    public var signatures: [SignatureEntry]?

    public init(artifact: Artifact, evidence: [Evidence] = [], reasons: [Reason] = []) {
        self.artifact = artifact
        self.evidence = evidence
        self.reasons = reasons
        // Nothing proven is never a pass, whatever else is missing.
        self.verdict = reasons.isEmpty && !evidence.isEmpty ? .pass : .fail
    }

    /// One line of JSON with sorted keys (stable for diffs and tests).
    public func jsonLine() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "{\"verdict\":\"fail\"}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// The human form: one line saying what was proven, or why it was refused.
    public func humanLines() -> [String] {
        switch verdict {
        case .pass:
            let ignored = (signatures ?? []).filter { $0.status != "verified" }.map {
                "\(artifact.name): note: another signature did not count: \($0.reason ?? "refused")"
            }
            return ["\(artifact.name): OK: " + evidence.map(\.summary).joined(separator: "; ")] + ignored
        case .fail:
            let why = reasons.isEmpty ? ["nothing was verified"] : reasons.map(\.message)
            return why.map { "\(artifact.name): REFUSED: \($0)" }
        }
    }
}
