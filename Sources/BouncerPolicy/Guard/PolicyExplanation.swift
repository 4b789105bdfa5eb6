import FoundationEssentials
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore

/// `bouncer explain URL`: which rule matches and what it would require, the
/// lock's pin and the exceptions in play, without fetching anything.
public struct PolicyExplanation: Sendable, Encodable {
    public var url: String
    public var policy: String
    public var mode: String
    public var rule: String?
    /// What happens: "verify", "deny", "pin", "allow", or "fail: …" (a kind this build lacks).
    public var action: String
    /// Requirements with their URL templates expanded for this artifact.
    public var requires: [String]
    public var keys: [String]
    /// The Sigstore trust root used, when the rule needs one.
    public var sigstoreRoot: String? = nil
    public var maxSize: UInt64?
    public var redirectHosts: [String]?
    public var locked: LockEntry?
    public var exceptions: [String]
    /// The threat policies in force for it (rule over top level over defaults).
    public var threats: [String] = []
    public var lockfile: String

    public func humanLines() -> [String] {
        var lines = ["\(url)", "  policy: \(policy) (mode: \(mode))"]
        lines.append("  rule: " + (rule ?? "none matches (unmatched: \(action))"))
        for requirement in requires { lines.append("  requires: \(requirement)") }
        for key in keys { lines.append("  key: \(key)") }
        if let sigstoreRoot { lines.append("  sigstore: \(sigstoreRoot)") }
        if let maxSize { lines.append("  maxSize: \(maxSize) bytes") }
        if let redirectHosts { lines.append("  redirects may end on: " + (redirectHosts.isEmpty ? "its own host only" : redirectHosts.joined(separator: ", "))) }
        if action.hasPrefix("fail") { lines.append("  would \(action)") }
        if let locked {
            lines.append("  locked in \(lockfile): sha256 \(locked.sha256), \(locked.size) bytes, evidence: "
                         + (locked.evidence.isEmpty ? "none (pinned)" : locked.evidence.map(\.kind.rawValue).joined(separator: ", ")))
        } else {
            lines.append("  not locked in \(lockfile)")
        }
        for threat in threats { lines.append("  threat policy: \(threat)") }
        for exception in exceptions { lines.append("  exception: \(exception)") }
        return lines
    }
}

extension PolicyGuard {
    public func explain(_ given: ArtifactRequest) -> PolicyExplanation {
        // As the guard reads it: a plain URL as libcurl will request it.
        let (request, ambiguous) = FetchedURL.request(given)
        let shown = Redaction.url(request.url)
        let matched = policy.rule(for: request)
        var explanation = PolicyExplanation(url: shown, policy: policy.file, mode: policy.mode.rawValue, rule: nil,
                                            action: policy.unmatched.rawValue, requires: [], keys: [], maxSize: nil,
                                            redirectHosts: nil, locked: (try? lockStore.read())?.entry(forKey: LockEntry.key(for: request)),
                                            exceptions: [], lockfile: policy.lockfile)
        if let (index, rule) = matched {
            explanation.rule = rule.label(index: index)
            explanation.action = "verify"
            explanation.requires = rule.require.map { Self.expanded($0, for: request.url) }
            explanation.maxSize = rule.maxSize
            explanation.redirectHosts = rule.redirectHosts?.map(\.pattern)
            var names: [String] = []
            for requirement in rule.require { names += Self.keyNames(requirement) }
            explanation.keys = names.compactMap { name in
                policy.keys[name].map { "'\(name)': \($0.kind.rawValue) from \($0.material.path)" }
            }
            if rule.require.contains(where: { if case .sigstore = $0 { true } else if case .provenance = $0 { true } else { false } }) {
                explanation.sigstoreRoot = policy.sigstore.rootDescription
            }
            if let unavailable = rule.require.first(where: { !EvidenceCheck.isAvailable($0) }) {
                explanation.action = "fail: \(UnavailableEvidence.problem(for: unavailable).message) (exit 2)"
            }
        }
        if let ambiguous {
            explanation.action = "fail: \(ambiguous.reason) (url-ambiguous)"
        }
        let threats = policy.threats(for: request)
        let none = "none"
        explanation.threats = [
            "minimumReleaseAge \((threats.minimumReleaseAge ?? .off).isOff ? "off" : (threats.minimumReleaseAge ?? .off).text)",
            "installScripts allowed for: " + ((threats.installScriptsAllow ?? []).map(\.pattern).joined(separator: ", ").nonEmpty ?? none),
            "exoticSources allowed: " + ((threats.exoticSourcesAllow ?? []).map(\.pattern).joined(separator: ", ").nonEmpty ?? none),
            "identity \((threats.identity ?? .pin).rawValue)",
        ]
        for exception in policy.exceptions where exception.match.matches(request) {
            explanation.exceptions.append(exception.isActive(at: options.now)
                ? "in force until \(exception.until): \(exception.reason)"
                : "expired on \(exception.until), no longer applies: \(exception.reason)")
        }
        return explanation
    }

    static func expanded(_ requirement: Requirement, for url: String) -> String {
        // Expanded with the credential-free URL: explain output never carries secrets.
        URLTemplate(text: requirement.summary).expand(for: Redaction.url(url))
    }

    static func keyNames(_ requirement: Requirement) -> [String] {
        switch requirement {
        case .checksums(let spec): [spec.signature?.key, spec.clearsignedKey].compactMap { $0 }
        case .signature(let spec): [spec.key]
        case .sigstore(let spec): [spec.signer.key].compactMap { $0 }
        case .provenance(let spec): [spec.signer.key].compactMap { $0 }
        case .registrySignature(let key): [key].compactMap { $0 }
        default: []
        }
    }
}

private extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
