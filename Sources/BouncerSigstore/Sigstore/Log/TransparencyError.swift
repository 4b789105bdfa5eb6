import BouncerBase
import BouncerIO
/// Failures of the transparency-log, SCT and RFC 3161 steps of Sigstore
/// verification. One case per step, each naming what did not hold.
public enum TransparencyError: BouncerFailure, Equatable {
    // Merkle inclusion proof (formats.md §5.5)
    case inclusionIndexOutOfRange(index: UInt64, treeSize: UInt64)
    case inclusionHashWrongSize(what: String, found: Int)
    case inclusionProofWrongLength(expected: Int, found: Int)
    case inclusionRootMismatch
    // Checkpoint / signed note (§5.6)
    case malformedCheckpoint(String)
    case checkpointUnknownKey(origin: String)
    case checkpointSignatureInvalid(origin: String)
    case checkpointMismatch(String)
    // Signed entry timestamp (§5.4)
    case setUnknownLog(logIDHex: String)
    case setLogKeyNotValid(logIDHex: String, integratedTime: Int64)
    case setSignatureInvalid(logIDHex: String)
    // Rekor entry body (§5.3, §5.11)
    case malformedEntryBody(String)
    case unsupportedEntryKind(kind: String, version: String)
    case entryKindMismatch(expected: String, found: String)
    case entryBodyMismatch(String)
    // Embedded SCTs (§5.7)
    case malformedCertificate(String)
    case sctMissing
    case malformedSCT(String)
    case sctNotVerified(String)
    // RFC 3161 timestamps (§5.10)
    case malformedTimestamp(String)
    case timestampImprintMismatch
    case timestampUntrusted(String)
    // Trust material that cannot be used at all (a bad trusted root is a configuration problem)
    case malformedTrustMaterial(String)

    public var family: ErrorFamily {
        switch self {
        case .malformedTrustMaterial: .configuration
        default: .evidence
        }
    }

    public var code: String {
        switch self {
        case .inclusionIndexOutOfRange: "tlog-inclusion-index-out-of-range"
        case .inclusionHashWrongSize: "tlog-inclusion-hash-size"
        case .inclusionProofWrongLength: "tlog-inclusion-proof-length"
        case .inclusionRootMismatch: "tlog-inclusion-root-mismatch"
        case .malformedCheckpoint: "tlog-checkpoint-malformed"
        case .checkpointUnknownKey: "tlog-checkpoint-unknown-key"
        case .checkpointSignatureInvalid: "tlog-checkpoint-signature-invalid"
        case .checkpointMismatch: "tlog-checkpoint-mismatch"
        case .setUnknownLog: "tlog-set-unknown-log"
        case .setLogKeyNotValid: "tlog-set-key-not-valid"
        case .setSignatureInvalid: "tlog-set-signature-invalid"
        case .malformedEntryBody: "tlog-body-malformed"
        case .unsupportedEntryKind: "tlog-body-unsupported-kind"
        case .entryKindMismatch: "tlog-body-kind-mismatch"
        case .entryBodyMismatch: "tlog-body-mismatch"
        case .malformedCertificate: "sct-malformed-certificate"
        case .sctMissing: "sct-missing"
        case .malformedSCT: "sct-malformed"
        case .sctNotVerified: "sct-not-verified"
        case .malformedTimestamp: "tsa-malformed-timestamp"
        case .timestampImprintMismatch: "tsa-imprint-mismatch"
        case .timestampUntrusted: "tsa-untrusted"
        case .malformedTrustMaterial: "trust-material-malformed"
        }
    }

    public var description: String {
        switch self {
        case .inclusionIndexOutOfRange(let index, let size):
            "inclusion proof: leaf index \(index) is not below the tree size \(size)"
        case .inclusionHashWrongSize(let what, let found):
            "inclusion proof: \(what) is \(found) bytes, expected 32"
        case .inclusionProofWrongLength(let expected, let found):
            "inclusion proof: \(found) hashes given, the leaf's path to the root needs \(expected)"
        case .inclusionRootMismatch:
            "inclusion proof: the computed root hash does not equal the proof's root hash"
        case .malformedCheckpoint(let why):
            "checkpoint: \(why)"
        case .checkpointUnknownKey(let origin):
            "checkpoint: no signature on the note for '\(origin)' is by a trusted log key"
        case .checkpointSignatureInvalid(let origin):
            "checkpoint: the signature by the trusted log key on the note for '\(origin)' does not verify"
        case .checkpointMismatch(let why):
            "checkpoint: \(why)"
        case .setUnknownLog(let id):
            "signed entry timestamp: log \(id) is not in the trusted root"
        case .setLogKeyNotValid(let id, let time):
            "signed entry timestamp: the key of log \(id) was not valid at the integrated time \(time)"
        case .setSignatureInvalid(let id):
            "signed entry timestamp: the signature by log \(id) does not verify over the entry"
        case .malformedEntryBody(let why):
            "transparency log entry body: \(why)"
        case .unsupportedEntryKind(let kind, let version):
            "transparency log entry body: kind '\(kind)' version '\(version)' is not supported"
        case .entryKindMismatch(let expected, let found):
            "transparency log entry body: kindVersion says \(expected) but the body is \(found)"
        case .entryBodyMismatch(let why):
            "transparency log entry does not describe this bundle: \(why)"
        case .malformedCertificate(let why):
            "embedded SCT: certificate: \(why)"
        case .sctMissing:
            "embedded SCT: the certificate carries no signed certificate timestamp"
        case .malformedSCT(let why):
            "embedded SCT: \(why)"
        case .sctNotVerified(let why):
            "embedded SCT: no SCT verified against a trusted CT log (\(why))"
        case .malformedTimestamp(let why):
            "RFC 3161 timestamp: \(why)"
        case .timestampImprintMismatch:
            "RFC 3161 timestamp: the message imprint is not the hash of the bundle's signature"
        case .timestampUntrusted(let why):
            "RFC 3161 timestamp: \(why)"
        case .malformedTrustMaterial(let why):
            "trusted root: \(why)"
        }
    }
}
