/// Signature checks shared by `verify-signature` and `verify --checksums`:
/// detached signatures dispatched by detected format, and OpenPGP
/// cleartext-signed messages.
public enum SignedEvidence {
    public struct Outcome: Sendable {
        public let report: SignatureReport
        /// The format that handled the signature ("openpgp", ...), if any did.
        public let format: String?

        public init(report: SignatureReport, format: String?) {
            self.report = report
            self.format = format
        }

        /// "openpgp A7236886F3CC..." for the first verified signer.
        public var signerSummary: String? {
            report.verifiedSigners.first.map { "\($0.format) key \($0.signer)" }
        }
    }

    /// A detached signature over `message`, its format detected from content.
    public static func verifyDetached(message: [UInt8], signature: [UInt8], signaturePath: String,
                                      keys: [KeyMaterial], options: SignatureOptions) throws -> Outcome {
        guard let format = SignatureFormats.detect(signature: signature) else {
            let known = SignatureFormats.all.map { $0.name }.joined(separator: ", ")
            throw BouncerError(.evidence, code: "signature-unrecognised",
                               "\(signaturePath) is not a signature in a known format (\(known))")
        }
        let report = try format.verify(message: message, signature: signature, keys: keys, options: options)
        // Name the signature file in every refusal, whatever the format says.
        let named = report.outcomes.map { outcome -> SignatureOutcome in
            guard case .refused(let signer, let reason) = outcome else { return outcome }
            return .refused(signer: signer, reason: "\(signaturePath): \(reason)")
        }
        return Outcome(report: SignatureReport(outcomes: named), format: format.name)
    }

    /// A cleartext-signed message: the outcome and exactly the signed text.
    public static func verifyClearsigned(_ message: [UInt8], source: String, keys: [KeyMaterial],
                                         options: SignatureOptions) throws -> (outcome: Outcome, text: [UInt8]) {
        let result = try OpenPGPFormat.verifyCleartext(message, source: source, keys: keys, options: options)
        return (Outcome(report: result.report, format: OpenPGPFormat.name), result.text)
    }

    /// The per-signature entries for a report.
    public static func entries(_ report: SignatureReport, format: String?) -> [VerificationReport.SignatureEntry] {
        report.outcomes.map { outcome in
            switch outcome {
            case .verified(let fact):
                .init(status: "verified", format: fact.format, signer: fact.signer, details: fact.details)
            case .refused(let signer, let reason):
                .init(status: "refused", format: format, signer: signer, reason: reason)
            }
        }
    }

    /// The report for a signature over the artifact itself.
    public static func verificationReport(_ outcome: Outcome, artifactName: String, sha256: String?,
                                          size: UInt64?) -> VerificationReport {
        var evidence: [VerificationReport.Evidence] = []
        var reasons: [VerificationReport.Reason] = []
        for fact in outcome.report.verifiedSigners {
            var summary = "signed by \(fact.format) key \(fact.signer)"
            if let uid = fact.details["userID"] { summary += " (\(uid))" }
            var details = fact.details
            details["signer"] = fact.signer
            details["format"] = fact.format
            evidence.append(.init(kind: "signature", proves: ["integrity", "origin"], summary: summary, details: details))
        }
        if evidence.isEmpty {
            for case .refused(_, let reason) in outcome.report.outcomes {
                reasons.append(.init(code: "signature-refused", message: reason))
            }
            if reasons.isEmpty { reasons.append(.init(code: "signature-missing", message: "no signature was found")) }
        }
        var report = VerificationReport(artifact: .init(name: artifactName, sha256: sha256, size: size),
                                        evidence: evidence, reasons: reasons)
        report.signatures = entries(outcome.report, format: outcome.format)
        return report
    }
}
