import BouncerBase
import BouncerIO
/// The user's requirements applied to the facts of a verified statement.
/// Each fact comes from the signed predicate when it is SLSA provenance
/// (already cross-checked with the certificate), else from the certificate.
/// A required fact that nothing proves is a refusal, never a pass.
enum ProvenanceChecks {
    static func apply(_ r: AttestationRequirements, facts: AttestationVerifier.Facts,
                      certificate: SigningCertificate?) throws(AttestationError) -> [String] {
        var checked: [String] = []
        func agreed(_ fact: String) throws(AttestationError) {
            if let conflict = facts.conflicts[fact] { throw AttestationError(.crossCheck, conflict) }
        }
        if let required = r.builderID {
            try agreed("builder")
            guard let builder = facts.builderID else {
                throw AttestationError(.builder, "nothing in the attestation names a builder, and \(required) is required")
            }
            guard try matches(required, builder, .builder) else {
                throw AttestationError(.builder, "the builder '\(builder)' does not match the required \(required)")
            }
            checked.append("builder-id")
        }
        if let required = r.buildType {
            guard let buildType = facts.provenance?.buildType else {
                throw AttestationError(.buildType, "the attestation is not SLSA provenance, so it has no build type to match \(required)")
            }
            guard try matches(required, buildType, .buildType) else {
                throw AttestationError(.buildType, "the build type '\(buildType)' does not match the required \(required)")
            }
            checked.append("build-type")
        }
        if let required = r.sourceRepository {
            try agreed("source-repo")
            guard let repository = facts.sourceRepository else {
                throw AttestationError(.sourceRepository, "nothing in the attestation names a source repository, and \(required) is required")
            }
            guard let canonical = SourceRepository.canonical(repository) else {
                throw AttestationError(.sourceRepository, "the attestation's source repository '\(repository.prefix(200))' is not a plain repository URI")
            }
            let ok: Bool
            switch required {
            case .exact(let expected):
                guard let wanted = SourceRepository.canonical(expected) else {
                    throw AttestationError(.configuration, "the required source repository '\(expected)' is not a plain repository URI")
                }
                ok = canonical == wanted
            case .regex:
                ok = try matches(required, "https://" + canonical, .sourceRepository)
            }
            guard ok else {
                throw AttestationError(.sourceRepository, "the source repository '\(repository)' is not the required \(required)")
            }
            // The certificate's own record must say the same when it has one.
            if let signed = facts.certificate.sourceRepositoryURI, !SourceRepository.same(signed, repository) {
                throw AttestationError(.crossCheck, "the certificate's source repository '\(signed)' differs from '\(repository)'")
            }
            checked.append("source-repo")
        }
        if let required = r.sourceRef {
            try agreed("source-ref")
            guard let ref = facts.sourceRef else {
                throw AttestationError(.sourceRef, "nothing in the attestation names a source ref, and \(required) is required")
            }
            guard try matches(required, ref, .sourceRef) else {
                throw AttestationError(.sourceRef, "the source ref '\(ref)' does not match the required \(required)")
            }
            checked.append("source-ref")
        }
        if let required = r.workflowPath {
            try agreed("workflow")
            guard let path = facts.workflowPath else {
                throw AttestationError(.workflow, "nothing in the attestation names a workflow, and \(required) is required")
            }
            guard try matches(required, path, .workflow) else {
                throw AttestationError(.workflow, "the workflow '\(path)' does not match the required \(required)")
            }
            checked.append("workflow")
        }
        if let signerWorkflow = r.signerWorkflow {
            try GitHubChecks.signerWorkflow(signerWorkflow, ext: facts.certificate, certificate: certificate)
            checked.append("signer-workflow")
        }
        if let owner = r.owner {
            try GitHubChecks.owner(owner, ext: facts.certificate)
            checked.append("owner")
        }
        if r.denySelfHostedRunners {
            try agreed("runner")
            guard facts.certificate.runnerEnvironment == "github-hosted" else {
                throw AttestationError(.runner, "the build ran on a '\(facts.certificate.runnerEnvironment ?? "unknown")' runner, and only github-hosted runners are allowed")
            }
            checked.append("runner")
        }
        if let publisher = r.trustedPublisher {
            guard let certificate else {
                throw AttestationError(.publisher, "the attestation has no certificate, so no Trusted Publisher (\(publisher)) can be proven")
            }
            try publisher.check(certificate, facts.certificate)
            checked.append("trusted-publisher")
        }
        return checked
    }

    static func matches(_ matcher: IdentityPolicy.Matcher, _ value: String, _ check: AttestationError.Check) throws(AttestationError) -> Bool {
        do { return try matcher.matches(value) } catch {
            throw AttestationError(.configuration, "\(check.rawValue): \(error)")
        }
    }
}
