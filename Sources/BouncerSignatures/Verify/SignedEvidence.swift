#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BouncerBase
import BouncerIO

/// Signature checks shared by `verify-signature` and `verify --checksums`:
/// detached signatures dispatched by detected format, and OpenPGP
/// cleartext-signed messages.
public enum SignedEvidence {
    public struct Outcome: Sendable {
        public let report: SignatureReport
        /// The format that handled the signature ("openpgp", ...), if any did.
        public let format: String?
        /// The sha256 and size of exactly the bytes that were verified, when
        /// the check read the artifact itself.
        public var artifactSHA256: Digest?
        public var artifactSize: UInt64?

        public init(report: SignatureReport, format: String?, artifactSHA256: Digest? = nil, artifactSize: UInt64? = nil) {
            self.report = report
            self.format = format
            self.artifactSHA256 = artifactSHA256
            self.artifactSize = artifactSize
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
        return Outcome(report: naming(report, signaturePath), format: format.name)
    }

    /// A detached signature over a file. OpenPGP reads the file in chunks;
    /// other formats get its bytes (up to `limit`).
    public static func verifyDetached(fileAt path: String, signature: [UInt8], signaturePath: String,
                                      keys: [KeyMaterial], options: SignatureOptions,
                                      limit: Int = 1 << 30) throws -> Outcome {
        guard let format = SignatureFormats.detect(signature: signature) else {
            let known = SignatureFormats.all.map { $0.name }.joined(separator: ", ")
            throw BouncerError(.evidence, code: "signature-unrecognised",
                               "\(signaturePath) is not a signature in a known format (\(known))")
        }
        if format == OpenPGPFormat.self {
            let result = try OpenPGPFormat.verifyFile(at: path, signature: signature, keys: keys, options: options, observing: [.sha256])
            return Outcome(report: naming(result.report, signaturePath), format: format.name,
                           artifactSHA256: result.digests[.sha256], artifactSize: result.size)
        }
        let message = try readFile(path, limit: limit)
        var outcome = try verifyDetached(message: message, signature: signature, signaturePath: signaturePath, keys: keys, options: options)
        outcome.artifactSHA256 = Hasher.digest(message, .sha256)
        outcome.artifactSize = UInt64(message.count)
        return outcome
    }

    /// Names the signature file in every refusal, whatever the format says.
    private static func naming(_ report: SignatureReport, _ signaturePath: String) -> SignatureReport {
        SignatureReport(outcomes: report.outcomes.map { outcome in
            guard case .refused(let signer, let reason) = outcome else { return outcome }
            return .refused(signer: signer, reason: "\(signaturePath): \(reason)")
        })
    }

    private static func readFile(_ path: String, limit: Int) throws(BouncerError) -> [UInt8] {
        var bytes: [UInt8] = []
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io("cannot open \(path): \(errnoDescription())") }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count == 0 { return bytes }
            if count < 0 {
                if errno == EINTR { continue }
                throw .io("cannot read \(path): \(errnoDescription())")
            }
            guard bytes.count + count <= limit else { throw .io("\(path) is larger than \(limit) bytes") }
            bytes.append(contentsOf: buffer[0..<count])
        }
    }

    /// A cleartext-signed message: the outcome and exactly the signed text.
    public static func verifyClearsigned(_ message: [UInt8], source: String, keys: [KeyMaterial],
                                         options: SignatureOptions) throws -> (outcome: Outcome, text: [UInt8]) {
        let result = try OpenPGPFormat.verifyCleartext(message, source: source, keys: keys, options: options)
        return (Outcome(report: result.report, format: OpenPGPFormat.name), result.text)
    }

    /// The outcome alone, when the signed text itself is not needed (no copy of it is made).
    public static func verifyClearsignedOutcome(_ message: [UInt8], source: String, keys: [KeyMaterial],
                                                options: SignatureOptions) throws -> Outcome {
        let result = try OpenPGPFormat.verifyCleartext(message, source: source, keys: keys, options: options)
        return Outcome(report: result.report, format: OpenPGPFormat.name)
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
