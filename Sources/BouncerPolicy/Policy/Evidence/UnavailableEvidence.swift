import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
/// Evidence kinds the policy accepts but this build cannot verify yet.
/// A rule requiring one fails closed as a configuration error (exit 2) in
/// every mode, before anything is downloaded: it never passes.
enum UnavailableEvidence {
    static func problem(kind: String) -> EvidenceProblem {
        EvidenceProblem(code: .evidenceUnavailable, family: .configuration,
                        message: "evidence kind '\(kind)' is not available in this build")
    }

    /// The refusal for a requirement `EvidenceCheck.isAvailable` rejects.
    static func problem(for requirement: Requirement) -> EvidenceProblem {
        if case .attestation = requirement { return AttestationRequirementCheck.missingURL }
        if case .registrySignature = requirement { return RegistrySignatureRequirementCheck.missingKey }
        return problem(kind: requirement.kind.rawValue)
    }
}
