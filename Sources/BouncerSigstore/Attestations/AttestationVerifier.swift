import FoundationEssentials
import BouncerBase
import BouncerIO

/// Verifies one attestation: a Sigstore bundle whose DSSE envelope carries
/// an in-toto statement about the artifact, then the statement's claims
/// against the user's requirements (formats.md §5.9 step 6, §6). The bundle
/// verifier proves who signed; this proves what they said and that it is
/// what the user asked for.
public enum AttestationVerifier {
    /// The facts proven by one verified attestation.
    public struct Facts: Sendable {
        public var identity: String?
        public var issuer: String?
        public var logIndexes: [Int64]
        public var signingTimes: [Date] = []
        /// RFC 3161 timestamps of the bundle that did not verify and did not count.
        public var timestampsNotVerified: [String] = []
        /// The registry key that signed (npm publish attestations).
        public var signerKeyID: String? = nil
        public var statementType: String
        public var predicateType: String
        /// The subject that matched by digest (its name is a label, not trusted).
        public var subjectName: String?
        public var subjectDigest: Digest
        public var artifactSHA256: Digest?
        public var provenance: SLSAProvenance?
        public var certificate: FulcioExtensions
        /// Each requirement that was checked, by name ("source-repo", "builder-id", ...).
        public var checked: [String]
        /// Facts on which the predicate and the certificate disagree, by fact
        /// name ("source-repo", "source-ref", "builder", "workflow", "runner"). A
        /// requirement on such a fact is refused; otherwise they are reported.
        public var conflicts: [String: String] = [:]

        // The certificate (signed by the CA) is preferred over the predicate (written by the signer).
        public var sourceRepository: String? { certificate.sourceRepositoryURI ?? provenance?.sourceRepository }
        public var sourceRef: String? { certificate.sourceRepositoryRef ?? provenance?.sourceRef }
        public var workflowPath: String? { FulcioPaths.workflowPath(certificate) ?? provenance?.workflowPath }
        public var builderID: String? { provenance?.builderID ?? certificate.buildSignerURI }
    }

    public static func verify(bundle: SigstoreBundle, artifact: ArtifactDigests, trustedRoot: SigstoreTrustedRoot,
                              policy: BundleVerifier.Policy, requirements: AttestationRequirements) throws -> Facts {
        guard case .dsse(let envelope) = bundle.content else {
            throw AttestationError(.payloadType, "the bundle signs a message, not a DSSE attestation: verify it with verify-bundle")
        }
        // Refused before any signature work: a payload of another type is no statement.
        guard envelope.payloadType == InTotoStatement.payloadType else {
            throw AttestationError(.payloadType, "DSSE payloadType '\(envelope.payloadType.prefix(120))' is not \(InTotoStatement.payloadType)")
        }
        let verified = try BundleVerifier.verify(bundle: bundle, artifact: artifact.bundleArtifact,
                                                 trustedRoot: trustedRoot, policy: policy)
        // The envelope's payload is exactly what the signature was checked over.
        var certificate: SigningCertificate? = nil
        if case .certificates(let chain) = bundle.material, let leaf = chain.first {
            certificate = try SigningCertificate(der: leaf)
        }
        var facts = try check(payload: envelope.payload, certificate: certificate, artifact: artifact, requirements: requirements)
        facts.identity = verified.identity
        facts.issuer = verified.issuer
        facts.logIndexes = verified.logIndexes
        facts.signingTimes = verified.signingTimes
        facts.timestampsNotVerified = verified.timestampsNotVerified
        return facts
    }

    /// The checks on a statement whose signature has been verified: pure, so
    /// they are tested on payloads signed at test time as well.
    public static func check(payload: [UInt8], certificate: SigningCertificate?, artifact: ArtifactDigests,
                             requirements: AttestationRequirements) throws(AttestationError) -> Facts {
        let statement = try InTotoStatement.parse(payload)
        let (subject, digest) = try statement.requireSubject(artifact)
        var checked = ["subject-digest"]
        if let required = requirements.predicateType {
            guard statement.predicateType == required else {
                throw AttestationError(.predicateType, "the statement's predicate type is '\(statement.predicateType.prefix(200))', not the required \(required)")
            }
            checked.append("predicate-type")
        }
        let ext = try certificate.map { cert throws(AttestationError) in try FulcioExtensions(certificateDER: cert.der) } ?? FulcioExtensions()
        var provenance: SLSAProvenance? = nil
        var conflicts: [String: String] = [:]
        if SLSAProvenance.isProvenance(statement.predicateType) {
            let parsed = try SLSAProvenance.parse(predicateType: statement.predicateType, predicate: statement.predicate)
            conflicts = crossCheck(parsed, ext)
            provenance = parsed
        }
        var facts = Facts(identity: nil, issuer: certificate?.oidcIssuer, logIndexes: [], statementType: statement.type,
                          predicateType: statement.predicateType, subjectName: subject.name, subjectDigest: digest,
                          artifactSHA256: artifact.sha256, provenance: provenance, certificate: ext, checked: [],
                          conflicts: conflicts)
        checked += try ProvenanceChecks.apply(requirements, facts: facts, certificate: certificate)
        facts.checked = checked
        return facts
    }

    /// Where the predicate and the certificate state the same fact, they must
    /// agree: returns each disagreement by fact name.
    static func crossCheck(_ p: SLSAProvenance, _ ext: FulcioExtensions) -> [String: String] {
        var conflicts: [String: String] = [:]
        if let claimed = p.sourceRepository, let signed = ext.sourceRepositoryURI, !SourceRepository.same(claimed, signed) {
            conflicts["source-repo"] = "the predicate's source repository '\(claimed)' differs from the certificate's '\(signed)'"
        }
        if let claimed = p.sourceRef, let signed = ext.sourceRepositoryRef, claimed != signed {
            conflicts["source-ref"] = "the predicate's source ref '\(claimed)' differs from the certificate's '\(signed)'"
        }
        if let claimed = p.sourceCommit, let signed = ext.sourceRepositoryDigest, claimed.count == 40, claimed.lowercased() != signed.lowercased() {
            conflicts["source-ref"] = "the predicate's source commit '\(claimed)' differs from the certificate's '\(signed)'"
        }
        if let claimed = p.runnerEnvironment, let signed = ext.runnerEnvironment, claimed != signed {
            conflicts["runner"] = "the predicate's runner environment '\(claimed)' differs from the certificate's '\(signed)'"
        }
        // GitHub's own build type names the runner kind in the builder id.
        let runnerPrefix = "https://github.com/actions/runner/"
        if p.builderID.hasPrefix(runnerPrefix), let signed = ext.runnerEnvironment,
           String(p.builderID.dropFirst(runnerPrefix.count)) != signed {
            conflicts["builder"] = "the predicate's builder '\(p.builderID)' differs from the certificate's runner environment '\(signed)'"
        }
        // A builder that is a reusable workflow must be the workflow that signed.
        if p.builderID.contains("/.github/workflows/"), let signer = ext.buildSignerURI, p.builderID != signer {
            conflicts["builder"] = "the predicate's builder '\(p.builderID)' is not the certificate's build signer '\(signer)'"
        }
        if let path = p.workflowPath, let repository = p.sourceRepository, let config = ext.buildConfigURI,
           let canonical = SourceRepository.canonical(repository), config.hasPrefix("https://\(canonical)/"),
           !config.hasPrefix("https://\(canonical)/\(path)@") {
            conflicts["workflow"] = "the predicate's workflow '\(path)' is not the certificate's build config '\(config)'"
        }
        return conflicts
    }
}

/// Paths read out of Fulcio URIs.
enum FulcioPaths {
    /// `.github/workflows/x.yml` from a build config URI
    /// `https://github.com/OWNER/REPO/.github/workflows/x.yml@ref`.
    static func workflowPath(_ ext: FulcioExtensions) -> String? {
        guard let config = ext.buildConfigURI, let repository = ext.sourceRepositoryURI,
              config.hasPrefix(repository + "/"), let at = config.lastIndex(of: "@") else { return nil }
        let start = config.index(config.startIndex, offsetBy: repository.count + 1)
        guard start <= at else { return nil }
        var path = Substring(config[start..<at])
        while path.hasPrefix("/") { path = path.dropFirst() }  // GitLab writes `//path`
        return path.isEmpty ? nil : String(path)
    }
}
