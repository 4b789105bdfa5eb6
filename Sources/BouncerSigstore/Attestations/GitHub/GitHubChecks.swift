import BouncerBase
import BouncerIO
/// GitHub artifact attestation checks (formats.md §6.4), as
/// `gh attestation verify` makes them, on the certificate's extensions.
public enum GitHubChecks {
    /// `--signer-workflow OWNER/REPO/PATH` (optionally with `https://` and a
    /// host; github.com by default): the workflow that signed, at any ref.
    public static func signerWorkflowPrefix(_ text: String) -> String? {
        var rest = Substring(text)
        if rest.hasPrefix("https://") { rest = rest.dropFirst(8) }
        if !rest.hasPrefix("github.com/") { rest = "github.com/" + rest }
        guard let canonical = SourceRepository.canonical(String(rest)),
              canonical.split(separator: "/").count >= 4 else { return nil }
        return "https://\(canonical)@"
    }

    static func signerWorkflow(_ required: String, ext: FulcioExtensions, certificate: SigningCertificate?) throws(AttestationError) {
        guard let prefix = signerWorkflowPrefix(required) else {
            throw AttestationError(.configuration, "--signer-workflow '\(required)' is not OWNER/REPO/PATH")
        }
        // The build signer URI (.1.9) when present, else the SAN (the job workflow ref).
        let signers: [String]
        if let signer = ext.buildSignerURI {
            signers = [signer]
        } else {
            signers = (certificate?.subjectAlternativeNames ?? []).compactMap { if case .uri(let v) = $0 { v } else { nil } }
        }
        guard signers.contains(where: { $0.hasPrefix(prefix) && $0.count > prefix.count }) else {
            throw AttestationError(.workflow, "the signing workflow '\(signers.first ?? "none")' is not \(prefix)<ref>")
        }
    }

    static func owner(_ owner: String, ext: FulcioExtensions) throws(AttestationError) {
        let expected = "https://github.com/\(owner)"
        if let signed = ext.sourceRepositoryOwnerURI {
            guard signed.lowercased() == expected.lowercased() else {
                throw AttestationError(.owner, "the certificate's repository owner '\(signed)' is not \(expected)")
            }
            return
        }
        guard let repository = ext.sourceRepositoryURI, let canonical = SourceRepository.canonical(repository),
              canonical.split(separator: "/").dropFirst().first.map({ $0.lowercased() == owner.lowercased() }) == true else {
            throw AttestationError(.owner, "the certificate does not show the repository owner \(owner)")
        }
    }
}
