import Foundation

/// The trusted root's logs and authorities in the shapes the transparency-log
/// and timestamp checks take.
extension SigstoreTrustedRoot {
    public func transparencyLogKeys() throws(SigstoreError) -> [TransparencyLogKey] {
        try Self.keys(tlogs, what: "tlogs")
    }

    public func ctLogKeys() throws(SigstoreError) -> [TransparencyLogKey] {
        try Self.keys(ctlogs, what: "ctlogs")
    }

    public func timestampAuthorityList() -> [TimestampAuthority] {
        timestampAuthorities.map {
            TimestampAuthority(certificateChainDER: $0.chainDER, validFrom: $0.validFor.start, validUntil: Self.closedEnd($0.validFor.end))
        }
    }

    private static func keys(_ logs: [LogInstance], what: String) throws(SigstoreError) -> [TransparencyLogKey] {
        var keys: [TransparencyLogKey] = []
        for log in logs {
            // A key in a form we do not read (e.g. the PKCS#1 RSA key of a retired
            // staging CT log) cannot verify anything: leave that instance out (fail closed).
            guard let key = try? PublicKey(spkiDER: log.spkiDER) else { continue }
            keys.append(TransparencyLogKey(logID: log.logID, key: key, validFrom: log.validFor.start,
                                           validUntil: closedEnd(log.validFor.end), baseURL: log.baseURL,
                                           checkpointKeyID: log.checkpointKeyID))
        }
        return keys
    }

    /// The trusted root's windows are closed intervals (the conformance suite's
    /// `trust-root-tlog-validity-end-inclusive`: a log entry integrated exactly at
    /// `end` is valid), while the log types take a half-open `[from, until)`.
    /// Integrated times are whole seconds, so `until = end + 1 s` is the same set;
    /// for SCT and TSA times (sub-second) it admits at most one second more.
    static func closedEnd(_ end: Date?) -> Date? {
        end.map { $0 + 1 }
    }
}
