import BouncerBase

/// The plan stage: the rule for each request, and what can be refused
/// before anything is downloaded (evidence this build cannot check,
/// unmatched artifacts under `deny`, anything new while the lock is frozen).
struct GuardPlan {
    let policy: Policy
    let options: GuardOptions

    func candidate(for given: ArtifactRequest, snapshot: Lockfile) -> Candidate {
        // A plain URL is matched, locked and fetched as libcurl will request it (FetchedURL).
        let (request, ambiguous) = FetchedURL.request(given)
        let key = LockEntry.key(for: request)
        let matched = policy.rule(for: request)
        var candidate = Candidate(
            request: request, shownURL: Redaction.url(request.url), lockKey: key, rule: matched?.rule,
            ruleLabel: matched.map { $0.rule.label(index: $0.index) } ?? "no rule (unmatched: \(policy.unmatched.rawValue))",
            locked: snapshot.entry(forKey: key))
        if let ambiguous {
            candidate.refuse(EvidenceProblem(code: .urlAmbiguous, message: ambiguous.reason, refusesInEveryMode: true))
            return candidate
        }
        if let rule = matched?.rule {
            if let unavailable = rule.require.first(where: { !EvidenceCheck.isAvailable($0, for: request) }) {
                candidate.refuse(UnavailableEvidence.problem(for: unavailable))
                return candidate
            }
        } else if policy.unmatched == .deny {
            let problem = EvidenceProblem(code: .policyUnmatched,
                                          message: "no rule in \(policy.file) matches it, and unmatched artifacts are denied")
            // Nothing to fetch unless audit mode or an exception lets it through.
            if policy.mode == .enforce && policy.activeException(for: request, at: options.now) == nil {
                candidate.refuse(problem)
                return candidate
            }
            candidate.findings.problems.append(problem)
        }
        if let problem = releaseAgeProblem(candidate) {
            // Nothing to fetch unless audit mode or an exception lets it through.
            if policy.mode == .enforce && policy.activeException(for: request, at: options.now) == nil {
                candidate.refuse(problem)
                return candidate
            }
            candidate.findings.problems.append(problem)
        }
        if options.frozen && candidate.locked == nil {
            candidate.refuse(EvidenceProblem(code: .lockFrozen, message: "it is not in \(policy.lockfile), and the lock is frozen",
                                             refusesInEveryMode: true))
        }
        return candidate
    }

    /// `minimumReleaseAge` for what the adapter knows the release time of
    /// (or should know: an index or registry package). A locked artifact
    /// already passed it when it was pinned; the lock holds its digest. A
    /// plain URL's release time comes from its verified evidence, later.
    func releaseAgeProblem(_ candidate: Candidate) -> EvidenceProblem? {
        let request = candidate.request
        guard candidate.locked == nil else { return nil }
        let minimum = policy.threats(for: request).minimumReleaseAge ?? .off
        // A plain URL's or an image's release time is a verified signing time, judged after verification.
        guard request.releaseTime != nil || (request.ecosystem != .url && request.ecosystem != .oci) else { return nil }
        let why = request.ecosystem == .npm ? "the registry's packument states no time for this version"
                                            : "the index states no upload-time for this file (PEP 700)"
        return ReleaseAgeCheck.problem(ReleaseAgeCheck.judge(request.releaseTime, minimum: minimum, now: options.now),
                                       minimum: minimum, unknownBecause: why)
    }
}
