import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore

/// What a registry says about one image reference, as the docker / podman
/// adapter reads it (BouncerTools speaks the distribution API; the guard
/// only judges). Every method answers for the digest it is given, never for
/// a tag: a tag is resolved once, by `resolve`.
public protocol ImageRegistry {
    /// The digest the reference resolves to (a digest reference: that digest)
    /// and the manifest's bytes, which hash to it.
    func resolve() throws -> (digest: Digest, manifest: [UInt8])
    /// Every signature attached to `digest` (cosign's `.sig` tag, Sigstore
    /// bundle referrers), each verified under `trust`.
    func signatures(for digest: Digest, trust: ImageSignatureTrust) throws -> ImageSignatureReport
    /// The Sigstore bundles attached to `digest` as referrers (attestations
    /// among them), unverified: `(where found, bundle bytes)`.
    func referrerBundles(for digest: Digest) throws -> [(source: String, bundle: [UInt8])]
}

/// The signatures found for one digest: those that verified, and why each other one did not.
public struct ImageSignatureReport: Sendable {
    public var verified: [ImageSignatureFact]
    public var refused: [(source: String, code: String, message: String)]

    public init(verified: [ImageSignatureFact], refused: [(source: String, code: String, message: String)]) {
        self.verified = verified
        self.refused = refused
    }
}

/// The policy engine for container images: the same stages as the file
/// guard (plan, fetch, verify, decide, commit), with the registry in place
/// of a download. The image's "bytes" are its manifest: the lock pins the
/// manifest digest a tag resolved to (`oci:REGISTRY/REPO:TAG` →
/// `oci:REGISTRY/REPO@sha256:…`), so a tag that moves is refused in every
/// mode like any changed pin; the rule's `sigstore` / `provenance`
/// requirements are checked against what the registry attaches to that
/// digest; identity pinning, trust downgrades and `minimumReleaseAge`
/// (from the verified signing time) come from the shared lock comparison.
public struct ImageGuard {
    public let policy: Policy
    public let options: GuardOptions
    /// Where the verified manifest is filed by digest.
    public let store: Store

    public init(policy: Policy, options: GuardOptions = GuardOptions(), store: Store) {
        self.policy = policy
        self.options = options
        self.store = store
    }

    /// The decision, and the digest to hand the real tool.
    public struct Result: Sendable {
        public var outcome: GuardOutcome
        /// The digest the reference resolved to (nil when refused before asking the registry).
        public var digest: Digest?
        /// `REGISTRY/REPO@sha256:…`, the reference the real tool must pull.
        public var pinned: String?
    }

    /// The request an image reference stands for: package `REGISTRY/REPO`,
    /// version its tag (or the digest asked for).
    public static func request(for reference: ImageReference) -> ArtifactRequest {
        let version = reference.digest?.description ?? reference.tag ?? "latest"
        return ArtifactRequest(url: "oci:" + reference.description, ecosystem: .oci, package: reference.name, version: version)
    }

    public func evaluate(_ reference: ImageReference, registry: any ImageRegistry) -> Result {
        let request = Self.request(for: reference)
        let lockStore = LockStore(path: policy.lockfile)
        let snapshot: Lockfile
        do { snapshot = try lockStore.read() } catch {
            return Result(outcome: .refusedUpFront(request, by: "the lockfile", EvidenceProblem(error)), digest: nil, pinned: nil)
        }
        var candidate = GuardPlan(policy: policy, options: options).candidate(for: request, snapshot: snapshot)
        var digest: Digest? = nil
        if !candidate.settled {
            do {
                let resolved = try registry.resolve()
                digest = resolved.digest
                let path = try keep(resolved.manifest)
                // From here the image is named by what was resolved: the lock records that.
                let pinned = "oci:" + reference.pinned(resolved.digest)
                candidate = Candidate(request: request, shownURL: pinned, lockKey: candidate.lockKey, rule: candidate.rule,
                                      ruleLabel: candidate.ruleLabel, locked: candidate.locked,
                                      fetched: DownloadedArtifact(path: path, digests: [.sha256: resolved.digest],
                                                                  size: UInt64(resolved.manifest.count), effectiveURL: pinned),
                                      findings: candidate.findings, settled: false)
            } catch {
                // Nothing resolved, nothing to pull: refused in every mode, like a failed download.
                candidate.refuse(Self.problem(error, refusesInEveryMode: true))
            }
        }
        if !candidate.settled, let digest {
            verify(&candidate, digest: digest, registry: registry)
            LockComparison(policy: policy, snapshot: snapshot, frozen: options.frozen).compare(&candidate, sha256: digest)
            releaseAge(&candidate)
            if candidate.rule == nil && policy.unmatched == .pin && candidate.locked == nil {
                candidate.findings.otherProofs.append(EvidenceProof(kind: .pin, proves: [],
                                                                    summary: "digest pinned on first use (unmatched: pin; no signature verified)"))
            } else if candidate.rule == nil && policy.unmatched == .allow && candidate.findings.proofs.isEmpty {
                candidate.findings.notes.append("allowed unverified: no rule matches and unmatched is 'allow'")
            }
        }
        var candidates = [candidate]
        var outcomes = [GuardOutcome(candidate, Decision.decide(candidate.findings.problems, mode: policy.mode,
                                                                exception: policy.activeException(for: request, at: options.now),
                                                                expired: policy.expiredExceptions(for: request, at: options.now)))]
        LockCommit(policy: policy, options: options, lockStore: lockStore, freshness: options.freshnessStore,
                   store: store).commit(&candidates, &outcomes)
        var outcome = outcomes[0]
        // The manifest is filed in the store; the adapter hands the tool a digest, not a file.
        if let path = outcome.path { unlink(path) }
        outcome.path = nil
        let allowed = outcome.verdict != .refused
        return Result(outcome: outcome, digest: digest, pinned: allowed ? digest.map(reference.pinned) : nil)
    }

    /// An image refused before the guard could judge it (its lock entry names no valid reference).
    public static func refused(_ request: ArtifactRequest, _ error: any Error) -> GuardOutcome {
        .refusedUpFront(request, by: "its lock entry", problem(error, refusesInEveryMode: true))
    }

    /// The signer a `sigstore` or `provenance` requirement names, as the image verifier takes it.
    public func trust(_ signer: SignerRequirement, requireLog: Bool = true) throws(BouncerError) -> ImageSignatureTrust {
        let root: SigstoreTrustedRoot
        switch SigstoreTrust.trustedRoot(policy) {
        case .success(let value): root = value
        case .failure(let problem): throw BouncerError(problem.family, code: problem.code.rawValue, problem.message)
        }
        if let name = signer.key {
            guard let key = policy.keys[name] else {
                throw BouncerError(.configuration, code: "policy-key-missing", "key '\(name)' is not defined in \(policy.file) $.keys")
            }
            do {
                let parsed = try PublicKey(pem: String(decoding: key.material.bytes, as: UTF8.self))
                return ImageSignatureTrust(signer: .key(parsed), trustedRoot: root, ignoreTlog: !requireLog, now: options.now)
            } catch {
                throw BouncerError(.configuration, code: ReasonCode.sigstoreKeyInvalid.rawValue,
                                   "key '\(name)' (\(key.material.path)) is not a PEM public key: \(error)")
            }
        }
        guard let identity = signer.identity, let issuer = signer.issuer else {
            throw BouncerError(.configuration, code: ReasonCode.sigstoreSignerMissing.rawValue, "keyless evidence needs an identity and an issuer")
        }
        return ImageSignatureTrust(signer: .keyless(identity: identity, issuer: issuer), trustedRoot: root, now: options.now)
    }

    /// `key:sha256:<hex>`: a key signer as the lock records it (its SubjectPublicKeyInfo's sha256),
    /// so a key replaced under the same name in the policy is still a different signer.
    public static func keySigner(_ key: PublicKey) -> String {
        "key:sha256:" + Hasher.digest(key.spkiDER, .sha256).hex
    }

    // MARK: - Stages

    private func verify(_ candidate: inout Candidate, digest: Digest, registry: any ImageRegistry) {
        for requirement in candidate.rule?.require ?? [] {
            let result: Swift.Result<EvidenceProof, EvidenceProblem>
            switch requirement {
            case .sigstore(let spec): result = signature(spec, digest: digest, registry: registry)
            case .provenance(let spec): result = provenance(spec, digest: digest, registry: registry)
            default:
                // The parser allows only the two above in an image rule.
                result = .failure(EvidenceProblem(code: .evidenceUnavailable, family: .configuration,
                                                  message: "'\(requirement.kind.rawValue)' cannot be checked for a container image"))
            }
            switch result {
            case .success(let proof): candidate.findings.ruleProofs.append(proof)
            case .failure(let problem): candidate.findings.problems.append(problem)
            }
        }
    }

    private func signature(_ spec: SigstoreRequirement, digest: Digest, registry: any ImageRegistry) -> Swift.Result<EvidenceProof, EvidenceProblem> {
        let trust: ImageSignatureTrust
        do { trust = try self.trust(spec.signer, requireLog: spec.requireLog) } catch { return .failure(EvidenceProblem(error)) }
        let report: ImageSignatureReport
        do { report = try registry.signatures(for: digest, trust: trust) } catch { return .failure(Self.problem(error)) }
        guard let fact = report.verified.first else {
            let code = report.refused.first.map { ReasonCode(reported: $0.code) } ?? ReasonCode(reported: ImageSignatureError.Step.noSignatures.rawValue)
            let reasons = report.refused.map { "\($0.source): \($0.message)" }
            return .failure(EvidenceProblem(code: code, message: reasons.isEmpty
                ? "no signature is attached to \(digest) (no cosign .sig tag, no Sigstore bundle referrer)"
                : "no signature of \(digest) verified " + SignerRequirement.summaryOf(spec.signer) + ": " + reasons.joined(separator: "; ")))
        }
        let signer: String
        var issuer: String? = nil
        if let identity = fact.identity {
            signer = identity
            issuer = fact.issuer
        } else if case .key(let key) = trust.signer {
            signer = Self.keySigner(key)
        } else {
            signer = "?"
        }
        let logIndex = fact.logIndexes.map(String.init).joined(separator: ",")
        let shown = issuer.map { "\(signer) via \($0)" } ?? "key '\(spec.signer.key ?? "?")' (\(signer))"
        return .success(EvidenceProof(kind: .sigstore, proves: [.integrity, .origin],
                                      summary: "image signature (\(fact.scheme)) by \(shown)" + (logIndex.isEmpty ? ", no log entry" : ", log index \(logIndex)"),
                                      signer: signer, issuer: issuer, source: fact.source, logIndex: logIndex.isEmpty ? nil : logIndex,
                                      verifiedTime: fact.signingTimes.max().map {
                                          ReleaseTime(date: $0, source: "image signing time (\(fact.timeSources.map(\.rawValue).joined(separator: ", "))), \(fact.source)")
                                      }))
    }

    private func provenance(_ spec: ProvenanceRequirement, digest: Digest, registry: any ImageRegistry) -> Swift.Result<EvidenceProof, EvidenceProblem> {
        let trust: ImageSignatureTrust
        do { trust = try self.trust(spec.signer) } catch { return .failure(EvidenceProblem(error)) }
        let bundles: [(source: String, bundle: [UInt8])]
        do { bundles = try registry.referrerBundles(for: digest) } catch { return .failure(Self.problem(error)) }
        var requirements = AttestationRequirements()
        requirements.predicateType = spec.predicateType
        requirements.sourceRepository = spec.sourceRepo.map { .exact($0) }
        requirements.sourceRef = spec.sourceRef.map { .exact($0) }
        requirements.builderID = spec.builderId.map { .exact($0) }
        requirements.signerWorkflow = spec.signerWorkflow
        var identity: IdentityPolicy? = nil, key: PublicKey? = nil
        switch trust.signer {
        case .keyless(let matcher, let issuer?): identity = IdentityPolicy(identity: matcher, issuer: issuer)
        case .keyless: break
        case .key(let pinned): key = pinned
        }
        var reasons: [(String, any BouncerFailure)] = []
        for (source, bytes) in bundles {
            let set: AttestationSet
            do { set = try AttestationSet.parse(bytes) } catch {
                reasons.append((source, error))
                continue
            }
            let context = AttestationRun.Context(artifact: ArtifactDigests(digest: digest), fileName: nil, trustedRoot: trust.trustedRoot,
                                                 identity: identity, key: key, requirements: requirements)
            let outcomes = AttestationRun.run(set, context)
            if let configuration = outcomes.compactMap(\.failure).first(where: { $0.family == .configuration }) {
                return .failure(EvidenceProblem(code: ReasonCode(configuration), family: .configuration, message: "\(source): \(configuration.description)"))
            }
            guard AttestationRun.passes(set, outcomes), let facts = outcomes.compactMap(\.facts).first,
                  facts.artifactSHA256.map({ $0.matches(digest) }) ?? false else {
                reasons += outcomes.compactMap { outcome in outcome.failure.map { (source, $0) } }
                continue
            }
            let logIndex = facts.logIndexes.map(String.init).joined(separator: ",")
            let signer = facts.identity ?? key.map(Self.keySigner) ?? "?"
            var summary = "image provenance \(facts.predicateType) signed by \(facts.identity.map { "\($0) via \(facts.issuer ?? "?")" } ?? signer)"
            if let repository = facts.sourceRepository { summary += ", source \(repository)" + (facts.sourceRef.map { "@\($0)" } ?? "") }
            if let builder = facts.builderID { summary += ", builder \(builder)" }
            let proves: [Proven] = facts.provenance != nil ? [.integrity, .origin, .provenance] : [.integrity, .origin]
            return .success(EvidenceProof(kind: .provenance, proves: proves, summary: summary, signer: signer,
                                          issuer: facts.identity == nil ? nil : facts.issuer, source: source,
                                          logIndex: logIndex.isEmpty ? nil : logIndex))
        }
        let message = reasons.isEmpty ? "no attestation is attached to \(digest) as a Sigstore bundle referrer"
            : "no attestation of \(digest) verified: " + reasons.map { "\($0.0): \($0.1.description)" }.joined(separator: "; ")
        return .failure(EvidenceProblem(code: reasons.first.map { ReasonCode($0.1) } ?? .provenanceUnavailable, message: message))
    }

    /// `minimumReleaseAge` for an image: its release time is the newest verified
    /// signing time (Rekor integrated time, RFC 3161 timestamp) of the evidence the
    /// rule required. A locked tag passed it when it was pinned.
    private func releaseAge(_ candidate: inout Candidate) {
        guard candidate.locked == nil else { return }
        let minimum = policy.threats(for: candidate.request).minimumReleaseAge ?? .off
        let time = candidate.findings.proofs.compactMap(\.verifiedTime).max { $0.date < $1.date }
        let why = "no signature the rule requires carries a verified time (a Rekor entry or RFC 3161 timestamp; a key signature without a log has none)"
        if let problem = ReleaseAgeCheck.problem(ReleaseAgeCheck.judge(time, minimum: minimum, now: options.now), minimum: minimum, unknownBecause: why) {
            candidate.findings.problems.append(problem)
        }
    }

    /// The manifest in a store temp file, for the commit stage to file by digest.
    private func keep(_ manifest: [UInt8]) throws(BouncerError) -> String {
        let (fd, path) = try store.makeTemporaryFile(prefix: "manifest")
        defer { close(fd) }
        var failure: BouncerError? = nil
        manifest.withUnsafeBytes { bytes in
            do throws(BouncerError) { try Filesystem.writeAll(fd, bytes, name: path) } catch { failure = error }
        }
        if let failure {
            unlink(path)
            throw failure
        }
        return path
    }

    static func problem(_ error: any Error, refusesInEveryMode: Bool = false) -> EvidenceProblem {
        guard let failure = error as? any BouncerFailure else {
            return EvidenceProblem(code: .ioError, family: .transport, message: "\(error)", refusesInEveryMode: refusesInEveryMode)
        }
        return EvidenceProblem(code: ReasonCode(failure), family: failure.family, message: failure.description,
                               refusesInEveryMode: refusesInEveryMode, cause: failure)
    }
}

extension SignerRequirement {
    static func summaryOf(_ signer: SignerRequirement) -> String { signer.summary }
}

extension Policy {
    /// The rule name the shims' `BOUNCER_IMAGE_*` signer override goes by.
    public static let imageSignerOverrideRule = "BOUNCER_IMAGE_* signer (environment)"

    /// This policy with a first rule, for every image, requiring a signature
    /// by the given signer: the docker / podman shims' explicit override
    /// (`BOUNCER_IMAGE_KEY`, or `_IDENTITY` with `_ISSUER`). The lock, the
    /// mode and the threat policies still apply; only the signer is replaced.
    public func overridingImageSigner(key: (path: String, bytes: [UInt8])?, identity: IdentityPolicy.Matcher?, issuer: IdentityPolicy.Matcher?,
                                      requireLog: Bool, trustedRoot: (root: SigstoreTrustedRoot, path: String)?) throws(BouncerError) -> Policy {
        var policy = self
        let signer: SignerRequirement
        if let key {
            let name = "BOUNCER_IMAGE_KEY"
            policy.keys[name] = PolicyKey(name: name, kind: .publicKey, material: KeyMaterial(path: key.path, bytes: key.bytes), namespace: nil, identity: nil)
            signer = SignerRequirement(identity: nil, issuer: nil, key: name)
        } else if let identity, let issuer {
            guard requireLog else {
                throw BouncerError.usage("BOUNCER_IMAGE_IGNORE_TLOG is for a key (BOUNCER_IMAGE_KEY) only: a keyless signature needs a log entry or timestamp")
            }
            signer = SignerRequirement(identity: identity, issuer: issuer, key: nil)
        } else {
            throw BouncerError.usage("no image signer: set BOUNCER_IMAGE_KEY=PEM, or BOUNCER_IMAGE_IDENTITY[_REGEXP] with BOUNCER_IMAGE_ISSUER[_REGEXP]",
                                     hint: "a signature from anyone proves nothing; name who must have signed")
        }
        if let trustedRoot {
            policy.sigstore = SigstoreSettings(trustedRoot: trustedRoot.root, trustedRootPath: trustedRoot.path)
        }
        var requirement = SigstoreRequirement(bundle: nil, signer: signer)
        requirement.requireLog = requireLog
        var match = PolicyMatch()
        match.ecosystem = .oci
        policy.rules.insert(PolicyRule(name: Self.imageSignerOverrideRule, match: match, require: [.sigstore(requirement)]), at: 0)
        return policy
    }
}
