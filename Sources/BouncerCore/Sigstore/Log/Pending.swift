import Foundation

// Agreed signatures, present so that callers compile. Each fails closed until
// its implementation lands in its own file (this file then goes away).

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
