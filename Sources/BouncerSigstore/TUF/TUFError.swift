import FoundationEssentials
import BouncerBase
import BouncerIO

/// Why a TUF update was refused. Almost everything is the repository's fault
/// (exit 1); a missing file or an unreachable repository is transport (3);
/// an unusable trust anchor or state is local configuration (2).
public enum TUFError: BouncerFailure, Equatable {
    case malformed(file: String, why: String)
    case wrongType(file: String, expected: String, found: String)
    case threshold(file: String, role: String, verified: Int, threshold: Int)
    case rootVersion(file: String, expected: Int64, found: Int64)
    case versionMismatch(file: String, expected: Int64, found: Int64)
    case rollback(file: String, trusted: Int64, found: Int64)
    case delisted(file: String, missing: String)
    case expired(file: String, expires: String, at: String)
    case lengthMismatch(file: String, expected: Int64, found: Int)
    case hashMismatch(file: String, algorithm: String)
    case noUsableHash(file: String)
    case targetNotListed(String)
    case tooManyRoots(Int)
    case badAnchor(String)
    case unavailable(file: String, why: String)

    public var family: ErrorFamily {
        switch self {
        case .unavailable: .transport
        case .badAnchor: .configuration
        default: .evidence
        }
    }

    public var code: String {
        switch self {
        case .malformed: "tuf-malformed"
        case .wrongType: "tuf-wrong-type"
        case .threshold: "tuf-threshold"
        case .rootVersion: "tuf-root-version"
        case .versionMismatch: "tuf-version-mismatch"
        case .rollback: "tuf-rollback"
        case .delisted: "tuf-delisted"
        case .expired: "tuf-expired"
        case .lengthMismatch: "tuf-length-mismatch"
        case .hashMismatch: "tuf-hash-mismatch"
        case .noUsableHash: "tuf-no-hash"
        case .targetNotListed: "tuf-target-not-listed"
        case .tooManyRoots: "tuf-too-many-roots"
        case .badAnchor: "tuf-bad-anchor"
        case .unavailable: "tuf-unavailable"
        }
    }

    public var description: String {
        switch self {
        case .malformed(let file, let why): "\(file): \(why)"
        case .wrongType(let file, let expected, let found): "\(file): _type is '\(found)', expected '\(expected)'"
        case .threshold(let file, let role, let verified, let threshold):
            "\(file): \(verified) valid signature(s) from distinct \(role) keys, the threshold is \(threshold)"
        case .rootVersion(let file, let expected, let found): "\(file): root version \(found), expected exactly \(expected)"
        case .versionMismatch(let file, let expected, let found): "\(file): version \(found), but the signed metadata above it names version \(expected)"
        case .rollback(let file, let trusted, let found):
            "\(file): version \(found) is older than version \(trusted) already trusted: rollback refused"
        case .delisted(let file, let missing): "\(file): \(missing) was listed before and is missing now: rollback refused"
        case .expired(let file, let expires, let at): "\(file): expired at \(expires) (checked at \(at))"
        case .lengthMismatch(let file, let expected, let found): "\(file): \(found) bytes, the signed length is \(expected)"
        case .hashMismatch(let file, let algorithm): "\(file): \(algorithm) digest differs from the signed one"
        case .noUsableHash(let file): "\(file): no sha256 or sha512 digest listed"
        case .targetNotListed(let name): "target '\(name)' is not listed in the signed targets metadata"
        case .tooManyRoots(let cap): "more than \(cap) root rotations in one update"
        case .badAnchor(let why): "trust anchor: \(why)"
        case .unavailable(let file, let why): "\(file): \(why)"
        }
    }
}
