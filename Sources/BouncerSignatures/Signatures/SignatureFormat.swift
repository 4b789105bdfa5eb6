import FoundationEssentials
import BouncerBase
import BouncerIO

/// What a verified signature proves: the holder of a trusted key (named by
/// fingerprint, key id or principal) signed these bytes. Never more.
public struct SignerFact: Sendable, Codable, Equatable {
    /// "openpgp", "minisign", "signify" or "ssh".
    public var format: String
    /// The signer as the user pinned it: an OpenPGP fingerprint, a minisign or
    /// signify key id, an SSH principal.
    public var signer: String
    /// Format-specific facts worth showing (key id, creation time, trusted comment...).
    public var details: [String: String]
    /// When the signer says it signed, where the format signs a time
    /// (OpenPGP's creation time, minisign's trusted `timestamp:`). Freshness
    /// checks order signed lists by it; signify and SSHSIG carry none.
    public var signedAt: Date?

    public init(format: String, signer: String, details: [String: String] = [:], signedAt: Date? = nil) {
        self.format = format
        self.signer = signer
        self.details = details
        self.signedAt = signedAt
    }

    /// The signer as a lock pins it (`identity: "pin"`): the format and the
    /// signer, and for SSH the key too. An SSH signer is a principal, which an
    /// allowed_signers file may list with several keys (a team's, a rotated
    /// one): each key is a signer of its own.
    public var pinned: String {
        if format == "ssh", let key = details["fingerprint"] { return "ssh:\(signer) key \(key)" }
        return "\(format):\(signer)"
    }
}

/// The outcome for one signature: verified, or refused with a reason. A
/// message may carry several (Debian InRelease has two); it passes when at
/// least one is verified from a trusted key, and the report lists each.
public enum SignatureOutcome: Sendable, Equatable {
    case verified(SignerFact)
    case refused(signer: String?, reason: String)
}

public struct SignatureReport: Sendable, Equatable {
    public var outcomes: [SignatureOutcome]

    public init(outcomes: [SignatureOutcome]) { self.outcomes = outcomes }

    public var verifiedSigners: [SignerFact] {
        outcomes.compactMap { if case .verified(let fact) = $0 { fact } else { nil } }
    }

    /// True only when at least one signature verified. An empty report fails.
    public var passed: Bool { !verifiedSigners.isEmpty }
}

/// A file of trust material as given on the command line or in the policy.
public struct KeyMaterial: Sendable {
    public let path: String
    public let bytes: [UInt8]

    public init(path: String, bytes: [UInt8]) {
        self.path = path
        self.bytes = bytes
    }
}

/// Inputs that some formats require: SSH needs the principal and namespace
/// (design.md: "the namespace and principal are required inputs"), and expiry
/// checks need the time.
public struct SignatureOptions: Sendable {
    public var identity: String?
    public var namespace: String?
    public var now: Date

    public init(identity: String? = nil, namespace: String? = nil, now: Date = Date()) {
        self.identity = identity
        self.namespace = namespace
        self.now = now
    }
}

/// One detached-signature format. Each lives in its own folder under
/// Signatures/ and is a pure function of (message, signature, keys).
public protocol DetachedSignatureFormat {
    /// "openpgp", "minisign", "signify", "ssh".
    static var name: String { get }
    /// Whether `signature` looks like this format (detection from content).
    static func recognises(signature: [UInt8]) -> Bool
    /// Verifies a detached signature over `message` against `keys`. Key files
    /// that are not of this format are a configuration error (thrown);
    /// every verification failure is a refused outcome in the report.
    static func verify(message: [UInt8], signature: [UInt8], keys: [KeyMaterial],
                       options: SignatureOptions) throws -> SignatureReport
}
