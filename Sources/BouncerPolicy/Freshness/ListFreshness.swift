import FoundationEssentials
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore

/// One signed checksum list as it was just verified: where it came from,
/// exactly which bytes, and when its signer says it was issued.
public struct ListObservation: Sendable, Equatable {
    /// The list URL with credentials removed: the state's key.
    public let url: String
    public let sha256: String
    /// The Release `Date` or the signature's signed time; nil where the
    /// format signs no time (signify, SSHSIG).
    public let issuedAt: Date?
    public let signer: String
    public let seenAt: Date

    public init(url: String, sha256: String, issuedAt: Date?, signer: String, seenAt: Date) {
        self.url = url
        self.sha256 = sha256
        self.issuedAt = issuedAt
        self.signer = signer
        self.seenAt = seenAt
    }
}

/// A validly signed list that is older than one already seen at the same URL.
public struct ListRollback: Sendable, Equatable {
    public let message: String
}

/// Rollback and freeze protection for signed lists (TUF's "never go back"
/// rule, for lists without version numbers). Pure: the caller supplies what
/// was seen before and persists what `advance` returns.
///
/// A list is refused when it is a list that was already replaced by a newer
/// one at that URL, or when its signed issue time is earlier than the newest
/// one seen there. Signature validity alone cannot tell either: a mirror
/// replaying last month's list serves a perfectly good signature.
public enum ListFreshness {
    /// How many replaced lists are remembered per URL.
    static let supersededLimit = 64

    public static func judge(_ observed: ListObservation, against seen: SeenList?) -> ListRollback? {
        guard let seen, seen.sha256 != observed.sha256 else { return nil }
        if seen.superseded.contains(observed.sha256) {
            return ListRollback(message: "\(observed.url) is a list that was replaced by a newer one (sha256 \(seen.sha256.prefix(16))…, seen \(show(seen.seenAt))): a replayed or frozen list, refused in every mode")
        }
        if let issued = observed.issuedAt, let newest = seen.issuedAt, Int64(issued.timeIntervalSince1970) < newest {
            return ListRollback(message: "\(observed.url) was issued \(show(Int64(issued.timeIntervalSince1970))), before the list issued \(show(newest)) already seen there (\(show(seen.seenAt))): a replayed or frozen list, refused in every mode")
        }
        return nil
    }

    /// The record after accepting `observed` (call only when `judge` found nothing).
    public static func advance(_ seen: SeenList?, with observed: ListObservation) -> SeenList {
        let issued = observed.issuedAt.map { Int64($0.timeIntervalSince1970) }
        guard let seen else {
            return SeenList(sha256: observed.sha256, issuedAt: issued, signer: observed.signer,
                            seenAt: Int64(observed.seenAt.timeIntervalSince1970), superseded: [])
        }
        if seen.sha256 == observed.sha256 { return seen }
        let superseded = Array((seen.superseded.filter { $0 != observed.sha256 } + [seen.sha256]).suffix(supersededLimit))
        // A list without a signed time keeps the newest time known: a later
        // timed list must still not be older than that.
        let newest = [issued, seen.issuedAt].compactMap { $0 }.max()
        return SeenList(sha256: observed.sha256, issuedAt: newest, signer: observed.signer,
                        seenAt: Int64(observed.seenAt.timeIntervalSince1970), superseded: superseded)
    }

    static func show(_ seconds: Int64) -> String {
        UTCTime.format(seconds: max(0, seconds))
    }
}
