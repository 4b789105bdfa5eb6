import FoundationEssentials
import BouncerBase

/// The verify stage: the rule's evidence, the digests the tool's metadata
/// states, redirects, and the lock. Each check is a pure function of the
/// downloaded bytes, the evidence and the policy's trust material.
struct EvidenceVerification {
    let policy: Policy
    let now: Date
    let evidence: EvidenceFetcher
    let seenLists: [String: SeenList]
    let lock: LockComparison

    static func pin(_ locked: LockEntry?) -> LockedPin? {
        guard let locked, let sha256 = try? Digest(algorithm: .sha256, hex: locked.sha256) else { return nil }
        return LockedPin(sha256: sha256, from: locked.url,
                         digestWasStated: locked.evidence.contains { $0.kind == .digest || $0.kind == .integrity })
    }

    func verify(_ candidate: inout Candidate) {
        guard let fetched = candidate.fetched, let sha256 = fetched.digests[.sha256] else { return }
        var request = candidate.request
        if let pin = Self.pin(candidate.locked), !pin.sha256.matches(sha256) {
            // The lock's digest stated back (`bouncer check`): the lock comparison
            // names the lock as what differs, not a stated digest.
            request.claimedDigests.removeAll { $0.algorithm == .sha256 && $0.matches(pin.sha256) }
        }
        func context(_ request: ArtifactRequest) -> EvidenceContext {
            EvidenceContext(request: request, shownURL: candidate.shownURL, artifactPath: fetched.path,
                            size: fetched.size, digests: fetched.digests, policy: policy, now: now,
                            fetchEvidence: evidence.bytes, seenLists: seenLists, locked: Self.pin(candidate.locked))
        }
        // A --hash list: the one the bytes match is stated from here on; none matching refuses.
        if !request.statedAlternatives.isEmpty {
            switch ClaimedDigests.matchOne(request.statedAlternatives, context(request)) {
            case .success(let matched): request.claimedDigests.append(matched)
            case .failure(let problem): candidate.findings.problems.append(problem)
            }
        }
        let context = context(request)

        // Redirects may only end on the URL's own server (its host and port; http to https on
        // the default ports is the same server) or an allowed host.
        if let allowed = candidate.rule?.redirectHosts, let finalHost = URLParts.host(fetched.effectiveURL),
           !Self.sameServer(request.url, fetched.effectiveURL), !allowed.contains(where: { $0.matches(finalHost) }) {
            let port = URLParts.port(fetched.effectiveURL)
            let shown = finalHost == URLParts.host(request.url) ? "\(finalHost) port \(port)" : finalHost
            candidate.findings.problems.append(EvidenceProblem(
                code: .redirectHost, message: "redirected to \(shown), which the rule's redirectHosts does not allow",
                refusesInEveryMode: true))
        }

        let requirements = candidate.rule?.require ?? []
        for requirement in requirements {
            switch EvidenceCheck.check(requirement, context) {
            case .success(let proof):
                candidate.findings.ruleProofs.append(proof)
                if let observed = proof.observation { candidate.findings.observations.append(observed) }
            case .failure(let problem):
                candidate.findings.problems.append(problem)
                candidate.findings.unmetRequirements.insert(problem.code)
            }
        }
        // Digests the tool's metadata states are requirements whatever the
        // rule says; a rule's digest or integrity requirement already checked them.
        if !requirements.contains(where: { $0.kind.checksStatedDigests }) && !request.claimedDigests.isEmpty {
            switch ClaimedDigests.matchAll(request.claimedDigests, context) {
            case .success(let matched):
                candidate.findings.otherProofs.append(EvidenceProof(kind: .digest, proves: [.integrity],
                                                                    summary: "\(matched.algorithm.rawValue) matches the stated digest"))
            case .failure(let problem) where problem.refusesInEveryMode:
                candidate.findings.problems.append(problem)
            case .failure:
                // md5 or sha1 alone: weak, but no rule asked for a digest.
                break
            }
        }

        lock.compare(&candidate, sha256: sha256)
        releaseAge(&candidate)

        if candidate.rule == nil && policy.unmatched == .pin && candidate.locked == nil {
            candidate.findings.otherProofs.append(EvidenceProof(kind: .pin, proves: [],
                                                                summary: "sha256 pinned on first use (unmatched: pin; nothing else verified)"))
        } else if candidate.rule == nil && policy.unmatched == .allow && candidate.findings.proofs.isEmpty {
            candidate.findings.notes.append("allowed unverified: no rule matches and unmatched is 'allow'")
        }
    }

    /// A plain URL's release time is the newest time its verified evidence
    /// vouches for; without one its age is unknown (refused when a minimum applies).
    func releaseAge(_ candidate: inout Candidate) {
        let request = candidate.request
        guard request.ecosystem == .url, request.releaseTime == nil, candidate.locked == nil else { return }
        let minimum = policy.threats(for: request).minimumReleaseAge ?? .off
        let time = candidate.findings.proofs.compactMap(\.verifiedTime).max { $0.date < $1.date }
        let why = "no evidence the rule requires carries a verified time (a Sigstore bundle's log or timestamp time, an OpenPGP or minisign signature time)"
        if let problem = ReleaseAgeCheck.problem(ReleaseAgeCheck.judge(time, minimum: minimum, now: now), minimum: minimum, unknownBecause: why) {
            candidate.findings.problems.append(problem)
        }
    }

    /// The same host, and the same port or an upgrade from http on 80 to https on 443.
    static func sameServer(_ url: String, _ final: String) -> Bool {
        guard URLParts.host(url) == URLParts.host(final) else { return false }
        let from = URLParts.port(url), to = URLParts.port(final)
        return from == to || (from == 80 && to == 443 && final.lowercased().hasPrefix("https://"))
    }
}
