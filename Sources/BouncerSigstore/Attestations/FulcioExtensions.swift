import BouncerBase
import BouncerIO
/// The Fulcio certificate extensions that describe a CI build (formats.md
/// §5.8, OID arc 1.3.6.1.4.1.57264.1). These are signed by the CA, so unlike
/// the predicate (written by the signer itself) they are facts about the
/// workflow that held the OIDC token.
public struct FulcioExtensions: Sendable, Equatable {
    public var buildSignerURI: String?          // .9
    public var buildSignerDigest: String?       // .10
    public var runnerEnvironment: String?       // .11
    public var sourceRepositoryURI: String?     // .12
    public var sourceRepositoryDigest: String?  // .13
    public var sourceRepositoryRef: String?     // .14
    public var sourceRepositoryOwnerURI: String? // .16
    public var buildConfigURI: String?          // .18
    public var buildTrigger: String?            // .20
    public var runInvocationURI: String?        // .21

    public init() {}

    public init(certificateDER der: [UInt8]) throws(AttestationError) {
        func value(_ arc: Int) throws(AttestationError) -> String? {
            let oid = "1.3.6.1.4.1.57264.1.\(arc)"
            let raw: [UInt8]?
            do { raw = try SigningCertificate.extensionValue(der, oid: oid) } catch {
                throw AttestationError(.malformed, "certificate extension \(oid): \(error)")
            }
            guard let raw else { return nil }
            // From .1.8 on the values are DER UTF8Strings.
            guard let text = DERString.utf8String(raw) else {
                throw AttestationError(.malformed, "certificate extension \(oid) is not a DER UTF8String")
            }
            return text
        }
        buildSignerURI = try value(9)
        buildSignerDigest = try value(10)
        runnerEnvironment = try value(11)
        sourceRepositoryURI = try value(12)
        sourceRepositoryDigest = try value(13)
        sourceRepositoryRef = try value(14)
        sourceRepositoryOwnerURI = try value(16)
        buildConfigURI = try value(18)
        buildTrigger = try value(20)
        runInvocationURI = try value(21)
    }
}
