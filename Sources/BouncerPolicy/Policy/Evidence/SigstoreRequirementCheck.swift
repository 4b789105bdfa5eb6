import FoundationEssentials
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore

/// `{"sigstore": {"bundle": "{url}.sigstore.json", "identity": …, "issuer": …}}`
/// (or `"key"` naming a `publicKey` key): a Sigstore bundle whose signature
/// covers exactly the downloaded bytes, logged in a trusted transparency log,
/// by the named signer, checked offline against the policy's trusted root.
enum SigstoreRequirementCheck {
    static func check(_ spec: SigstoreRequirement, _ context: EvidenceContext) -> Result<EvidenceProof, EvidenceProblem> {
        // Trust material first: a broken policy is reported as such, whatever the server serves.
        let signer: BundleVerifier.Policy, root: SigstoreTrustedRoot
        switch SigstoreTrust.signerPolicy(spec.signer, context) {
        case .success(let value): signer = value
        case .failure(let problem): return .failure(problem)
        }
        switch SigstoreTrust.trustedRoot(context.policy) {
        case .success(let value): root = value
        case .failure(let problem): return .failure(problem)
        }
        guard let bundleURL = spec.bundle else {
            // Only image rules leave it out, and images are verified by ImageGuard.
            return .failure(EvidenceProblem(code: .sigstoreUnavailable, family: .configuration,
                                            message: "this sigstore requirement names no bundle URL (an image rule's), so it cannot verify a file"))
        }
        let fetched: (bytes: [UInt8], shown: String)
        switch context.fetch(bundleURL, what: "Sigstore bundle", unavailable: .sigstoreUnavailable) {
        case .success(let value): fetched = value
        case .failure(let problem): return .failure(problem)
        }
        guard let sha256 = context.sha256 else {
            return .failure(EvidenceProblem(code: .sigstoreRefused, message: "the artifact's sha256 was not computed"))
        }

        let verified: BundleVerifier.Verified
        do {
            let bundle = try SigstoreBundle.parse(fetched.bytes)
            let artifact: BundleVerifier.Artifact
            switch try input(for: bundle, signer: signer, context) {
            case .success(let value): artifact = value
            case .failure(let problem): return .failure(problem)
            }
            verified = try BundleVerifier.verify(bundle: bundle, artifact: artifact, trustedRoot: root, policy: signer)
        } catch {
            return .failure(SigstoreTrust.problem(error, shown: fetched.shown))
        }
        // The bundle must be about exactly the bytes that were hashed and will be handed over
        // (no sha256 only when it was checked against another digest of the same file).
        guard verified.artifactSHA256.map({ $0.matches(sha256) }) ?? true else {
            return .failure(EvidenceProblem(code: .sigstoreArtifactChanged,
                                            message: "\(fetched.shown): the verified bytes are not the downloaded artifact"))
        }
        let logIndex = verified.logIndexes.map(String.init).joined(separator: ",")
        if let identity = verified.identity, let issuer = verified.issuer {
            return .success(EvidenceProof(kind: .sigstore, proves: [.integrity, .origin],
                                          summary: "Sigstore: \(identity) via \(issuer), log index \(logIndex)",
                                          signer: identity, issuer: issuer, source: fetched.shown, logIndex: logIndex,
                                          verifiedTime: Self.signedTime(verified, shown: fetched.shown)))
        }
        let key = spec.signer.key ?? "?"
        return .success(EvidenceProof(kind: .sigstore, proves: [.integrity, .origin],
                                      summary: "Sigstore: signed by key '\(key)', log index \(logIndex)",
                                      signer: "key:\(key)", source: fetched.shown, logIndex: logIndex,
                                      verifiedTime: Self.signedTime(verified, shown: fetched.shown)))
    }

    /// The newest verified signing time (log integrated time, RFC 3161 timestamp):
    /// the latest is the conservative reading of how old the release is.
    static func signedTime(_ verified: BundleVerifier.Verified, shown: String) -> ReleaseTime? {
        verified.signingTimes.max().map { ReleaseTime(date: $0, source: "Sigstore signing time (\(verified.timeSources.map(\.rawValue).joined(separator: ", "))), \(shown)") }
    }

    /// What the verifier checks the signature against: the digest computed
    /// while downloading (the bundle states which) when that suffices, else the
    /// file's bytes (Ed25519 keys sign the message itself; DSSE subjects may
    /// name the artifact by any digest).
    static func input(for bundle: SigstoreBundle, signer: BundleVerifier.Policy,
                      _ context: EvidenceContext) throws -> Result<BundleVerifier.Artifact, EvidenceProblem> {
        if case .messageSignature(let stated?, _) = bundle.content, stated.algorithm.isEvidence,
           try !signsWithEd25519(bundle, signer) {
            let digests = try context.digests(including: [stated.algorithm])
            if let digest = digests[stated.algorithm] { return .success(.digest(digest)) }
        }
        switch SigstoreTrust.readArtifact(context) {
        case .success(.bytes(let bytes)): return .success(.bytes(bytes))
        case .success(.tooLarge):
            return .failure(EvidenceProblem(code: .sigstoreArtifactTooLarge,
                                            message: "this Sigstore bundle needs the artifact's bytes, and it is larger than \(SigstoreTrust.maxInMemory >> 20) MiB"))
        case .failure(let problem): return .failure(problem)
        }
    }

    static func signsWithEd25519(_ bundle: SigstoreBundle, _ signer: BundleVerifier.Policy) throws -> Bool {
        switch (bundle.material, signer) {
        case (_, .key(let key)): return key.kind == .ed25519
        case (.certificates(let chain), .keyless):
            guard let leaf = chain.first else { return false }
            return try SigningCertificate(der: leaf).publicKey.kind == .ed25519
        default: return false
        }
    }
}
