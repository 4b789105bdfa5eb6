import FoundationEssentials
import BouncerBase
import BouncerIO

/// The trusted root's logs and authorities in the shapes the transparency-log
/// and timestamp checks take.
extension SigstoreTrustedRoot {
    public func transparencyLogKeys() -> [TransparencyLogKey] {
        keys(tlogs)
    }

    /// The keys of the transparency logs with this log ID: the only ones
    /// that may vouch for an entry, so the others need not be decoded.
    public func transparencyLogKeys(logID: [UInt8]) -> [TransparencyLogKey] {
        keys(tlogs.filter { $0.logID == logID })
    }

    public func ctLogKeys() -> [TransparencyLogKey] {
        keys(ctlogs)
    }

    public func timestampAuthorityList() -> [TimestampAuthority] {
        timestampAuthorities.map {
            TimestampAuthority(certificateChainDER: $0.chainDER, validFrom: $0.validFor.start, validUntil: $0.validFor.end)
        }
    }

    func keys(_ logs: [LogInstance]) -> [TransparencyLogKey] {
        var keys: [TransparencyLogKey] = []
        for log in logs {
            // A key in a form we do not read (e.g. the PKCS#1 RSA key of a retired
            // staging CT log) cannot verify anything: leave that instance out (fail closed).
            guard let key = decodedKeys.key(log.spkiDER) else { continue }
            keys.append(TransparencyLogKey(logID: log.logID, key: key, validFrom: log.validFor.start,
                                           validUntil: log.validFor.end, baseURL: log.baseURL,
                                           checkpointKeyID: log.checkpointKeyID))
        }
        return keys
    }
}
