import Foundation

// Agreed signatures, present so that callers compile. Each fails closed until
// its implementation lands in its own file (this file then goes away).

public enum RFC3161Timestamp {
    public static func verify(tokenDER: [UInt8], signature: [UInt8], authorities: [TimestampAuthority]) throws(TransparencyError) -> Date {
        throw .timestampUntrusted("RFC 3161 verification is not implemented yet")
    }
}
