import FoundationEssentials
import BouncerBase
import BouncerIO

/// A bundle's RFC 3161 timestamps, each verified on its own (formats.md
/// §5.10). As in sigstore-go and sigstore-python, a timestamp that does not
/// verify (over other data, from an unknown TSA, malformed) does not count and
/// does not by itself refuse the bundle: the bundle is refused when fewer than
/// `threshold` of its timestamps verify. Duplicates are refused earlier, by the
/// bundle parser, so one token cannot count twice.
public enum BundleTimestamps {
    /// How many of a bundle's timestamps must verify when it carries any
    /// (sigstore-python's VERIFY_TIMESTAMP_THRESHOLD, gh's WithSignedTimestamps(1)).
    public static let threshold = 1

    public struct Outcome: Sendable, Equatable {
        /// genTime of each timestamp that verified, in bundle order.
        public var verified: [Date]
        /// Each timestamp that did not verify, by its index in `rfc3161Timestamps`.
        public var notVerified: [TimestampFailure]
    }

    /// Verifies every token over `signature`; throws when tokens are present
    /// and fewer than `threshold` verify. No tokens is no outcome to judge here.
    public static func verify(_ tokens: [[UInt8]], signature: [UInt8],
                              authorities: [TimestampAuthority]) throws(TimestampsNotVerified) -> Outcome {
        try verify(tokens, signature: signature, authorities: authorities, cache: nil)
    }

    /// As above, with the authorities' certificates parsed once per trusted root.
    static func verify(_ tokens: [[UInt8]], signature: [UInt8], authorities: [TimestampAuthority],
                       cache: ParsedCertificates?) throws(TimestampsNotVerified) -> Outcome {
        var outcome = Outcome(verified: [], notVerified: [])
        for (index, token) in tokens.enumerated() {
            do {
                outcome.verified.append(try RFC3161Timestamp.verify(tokenDER: token, signature: signature, authorities: authorities, cache: cache))
            } catch {
                outcome.notVerified.append(TimestampFailure(index: index, error: error))
            }
        }
        if !tokens.isEmpty, outcome.verified.count < threshold {
            throw TimestampsNotVerified(failures: outcome.notVerified, verified: outcome.verified.count, total: tokens.count)
        }
        return outcome
    }
}

/// One timestamp of a bundle that did not verify.
public struct TimestampFailure: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let error: TransparencyError

    /// Names the timestamp by its JSON path in the bundle.
    public var description: String {
        "verificationMaterial.timestampVerificationData.rfc3161Timestamps[\(index)]: \(error.description)"
    }
}

/// Too few of the bundle's timestamps verified. The code is that of the
/// failures when they share one (so a bundle with one bad timestamp keeps
/// its specific code, e.g. tsa-imprint-mismatch), else sigstore-timestamp;
/// the message lists every timestamp that did not verify.
public struct TimestampsNotVerified: BouncerFailure, Equatable {
    public let failures: [TimestampFailure]
    public let verified: Int
    public let total: Int

    public var family: ErrorFamily { .evidence }

    public var code: String {
        let codes = Set(failures.map(\.error.code))
        return codes.count == 1 ? codes.first ?? SigstoreError.Step.timestamp.rawValue : SigstoreError.Step.timestamp.rawValue
    }

    public var description: String {
        let head = total == 1
            ? "the bundle's RFC 3161 timestamp did not verify"
            : "\(verified) of the bundle's \(total) RFC 3161 timestamps verified, fewer than the \(BundleTimestamps.threshold) required"
        return head + ": " + failures.map(\.description).joined(separator: "; ")
    }
}
