import BouncerBase
import BouncerIO
/// A refusal from attestation checking, naming the check that failed. The
/// check is the stable machine-readable code (`--json` reasons).
public struct AttestationError: BouncerFailure, Equatable {
    public enum Check: String, Sendable, CaseIterable {
        /// Nothing to verify: no attestation, an empty file, no bundle in a response.
        case nothing = "attestation-none"
        case malformed = "attestation-malformed"
        case payloadType = "attestation-payload-type"
        case statement = "attestation-statement"
        case subject = "attestation-subject"
        case predicateType = "attestation-predicate-type"
        case predicate = "attestation-predicate"
        case builder = "attestation-builder"
        case buildType = "attestation-build-type"
        case sourceRepository = "attestation-source-repo"
        case sourceRef = "attestation-source-ref"
        case workflow = "attestation-workflow"
        case owner = "attestation-owner"
        case runner = "attestation-runner"
        /// The predicate and the certificate disagree about the same fact.
        case crossCheck = "attestation-crosscheck"
        case signature = "attestation-signature"
        case publisher = "attestation-publisher"
        case npmSignature = "npm-registry-signature"
        case npmSignaturesMissing = "npm-signatures-missing"
        case npmKeyUnknown = "npm-key-unknown"
        case npmKeyExpired = "npm-key-expired"
        case npmIntegrity = "npm-integrity"
        case npmPackument = "npm-packument"
        case pypiFilename = "pypi-filename"
        /// Local trust material or requirements are unusable (exit 2).
        case configuration = "attestation-configuration"
    }

    public let check: Check
    public let message: String

    public init(_ check: Check, _ message: String) {
        self.check = check
        self.message = message
    }

    /// Equality compares only the check, so tests assert codes, not message text.
    public static func == (lhs: AttestationError, rhs: AttestationError) -> Bool { lhs.check == rhs.check }

    public var family: ErrorFamily { check == .configuration ? .configuration : .evidence }
    public var code: String { check.rawValue }
    public var description: String { message }
}
