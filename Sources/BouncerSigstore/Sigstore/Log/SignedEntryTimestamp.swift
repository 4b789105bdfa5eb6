import FoundationEssentials
import BouncerBase
import BouncerIO

/// The signed entry timestamp (`inclusionPromise`): the log's signature over
/// the entry and the time it integrated it (formats.md §5.4). This, not an
/// inclusion proof, is what makes `integratedTime` a signed time.
public enum SignedEntryTimestamp {
    public static func verify(signedEntryTimestamp: [UInt8], canonicalizedBody: [UInt8], integratedTime: Int64, logIndex: Int64, logID: [UInt8], logs: [TransparencyLogKey]) throws(TransparencyError) {
        let idHex = Hex.encode(logID)
        guard let log = logs.first(where: { $0.logID == logID }) else { throw .setUnknownLog(logIDHex: idHex) }
        guard log.isValid(at: Date(timeIntervalSince1970: TimeInterval(integratedTime))) else {
            throw .setLogKeyNotValid(logIDHex: idHex, integratedTime: integratedTime)
        }
        // Rekor signs SETs with ECDSA only.
        guard case .ecdsa(let curve) = log.key.kind else { throw .setSignatureInvalid(logIDHex: idHex) }
        let message = payload(canonicalizedBody: canonicalizedBody, integratedTime: integratedTime, logIndex: logIndex, logIDHex: idHex)
        guard log.key.verify(signature: signedEntryTimestamp, message: message, scheme: .ecdsa(curve.defaultHash, .der)) else {
            throw .setSignatureInvalid(logIDHex: idHex)
        }
    }

    /// RFC 8785 canonical JSON of {body, integratedTime, logID, logIndex}:
    /// keys sorted, no whitespace, integers as numbers, the body as standard
    /// base64 and the log ID as lowercase hex (no character needs escaping).
    static func payload(canonicalizedBody: [UInt8], integratedTime: Int64, logIndex: Int64, logIDHex: String) -> [UInt8] {
        Array("{\"body\":\"\(Base64.encode(canonicalizedBody))\",\"integratedTime\":\(integratedTime),\"logID\":\"\(logIDHex)\",\"logIndex\":\(logIndex)}".utf8)
    }
}
