import BouncerBase
import BouncerIO
/// A refusal from Sigstore bundle verification, naming the step that failed
/// (formats.md §5.9). The step is the stable machine-readable code.
public struct SigstoreError: BouncerFailure, Equatable {
    public enum Step: String, Sendable, CaseIterable {
        case bundleFormat = "sigstore-bundle-malformed"
        case bundleVersion = "sigstore-bundle-unsupported"
        case trustedRoot = "sigstore-trusted-root"
        case material = "sigstore-verification-material"
        case signingTime = "sigstore-signing-time"
        case certificateChain = "sigstore-certificate-chain"
        case certificateAuthority = "sigstore-certificate-authority"
        case codeSigning = "sigstore-code-signing-usage"
        case sct = "sigstore-sct"
        case identity = "sigstore-identity"
        case issuer = "sigstore-issuer"
        case artifactDigest = "sigstore-artifact-digest"
        case signature = "sigstore-signature"
        case dsse = "sigstore-dsse"
        case dsseSubject = "sigstore-dsse-subject"
        case tlogEntry = "sigstore-tlog-entry"
        case tlogBody = "sigstore-tlog-body"
        case tlogSET = "sigstore-tlog-set"
        case tlogInclusion = "sigstore-tlog-inclusion"
        case tlogCheckpoint = "sigstore-tlog-checkpoint"
        case tlogTime = "sigstore-tlog-time"
        case timestamp = "sigstore-timestamp"
        /// The bundle comes from a Sigstore instance the trusted root in use does not describe.
        case otherInstance = "sigstore-other-instance"
        case key = "sigstore-key"
    }

    public let step: Step
    public let message: String

    public init(_ step: Step, _ message: String) {
        self.step = step
        self.message = message
    }

    /// A malformed bundle, naming the JSON path of the offending field.
    static func malformed(_ path: String, _ why: String) -> SigstoreError {
        SigstoreError(.bundleFormat, "bundle \(path): \(why)")
    }

    public var family: ErrorFamily { step == .trustedRoot ? .configuration : .evidence }
    public var code: String { step.rawValue }
    public var description: String { message }
}
