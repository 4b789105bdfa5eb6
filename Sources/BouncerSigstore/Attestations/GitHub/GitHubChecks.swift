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

/// GitHub runs two Sigstore instances. Public repositories sign with the
/// public-good instance (Fulcio + Rekor); private ones with GitHub's own
/// Fulcio and TSA, with no transparency log. Only the first is supported.
enum GitHubInstance {
    static func refuseUnsupported(_ bundle: SigstoreBundle) throws(AttestationError) {
        guard case .certificates(let chain) = bundle.material, let leaf = chain.first else { return }
        let githubIssued = contains(leaf, Array("GitHub, Inc.".utf8))
        if bundle.tlogEntries.isEmpty, !bundle.rfc3161Timestamps.isEmpty || githubIssued {
            throw AttestationError(.unsupportedInstance, "this attestation comes from GitHub's private Sigstore instance (\(githubIssued ? "certificate issued by GitHub, " : "")timestamp authority only, no transparency log), which is not supported: only public-good Sigstore attestations are verified")
        }
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if Array(haystack[start..<(start + needle.count)]) == needle { return true }
        }
        return false
    }
}
