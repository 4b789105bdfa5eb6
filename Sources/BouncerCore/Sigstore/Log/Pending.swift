import Foundation

// Agreed signatures, present so that callers compile. Each fails closed until
// its implementation lands in its own file (this file then goes away).

public enum SignedEntryTimestamp {
    public static func verify(signedEntryTimestamp: [UInt8], canonicalizedBody: [UInt8], integratedTime: Int64, logIndex: Int64, logID: [UInt8], logs: [TransparencyLogKey]) throws(TransparencyError) {
        throw .setUnknownLog(logIDHex: "SET verification is not implemented yet")
    }
}

public enum RekorEntryBody {
    public static func check(canonicalizedBody: [UInt8], kind: String, version: String, expected: RekorEntryExpectation) throws(TransparencyError) {
        throw .unsupportedEntryKind(kind: kind, version: version)
    }
}

public enum CertificateTransparency {
    public static func verifyEmbeddedSCTs(leafDER: [UInt8], issuerDER: [UInt8], ctLogs: [TransparencyLogKey], at: Date) throws(TransparencyError) -> [[UInt8]] {
        throw .sctNotVerified("SCT verification is not implemented yet")
    }
}

public enum RFC3161Timestamp {
    public static func verify(tokenDER: [UInt8], signature: [UInt8], authorities: [TimestampAuthority]) throws(TransparencyError) -> Date {
        throw .timestampUntrusted("RFC 3161 verification is not implemented yet")
    }
}
