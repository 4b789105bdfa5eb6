import FoundationEssentials
import BouncerBase
import BouncerIO

/// The npm registry's signing keys (formats.md §7.1), from a local file in
/// either shape: the registry's keys endpoint `{"keys":[{"keyid","key","expires",...}]}`
/// or the Sigstore TUF target `{"keys":[{"keyId","keyUsage","publicKey":{"rawBytes","validFor"}}]}`.
/// This is trust material: a malformed file is a configuration error (exit 2).
public struct NpmRegistryKeys: Sendable {
    public struct Key: Sendable {
        public var keyID: String
        /// `npm:signatures` or `npm:attestations`; nil when the file does not say (both).
        public var usage: String?
        public var key: PublicKey
        public var validFrom: Date?
        /// Packages published at or after this time are not covered by the key.
        public var expires: Date?
    }

    public var keys: [Key]

    public static let signatures = "npm:signatures"
    public static let attestations = "npm:attestations"

    public static func parse(_ bytes: [UInt8], source: String = "registry keys") throws(AttestationError) -> NpmRegistryKeys {
        do {
            let root = try JSONNode.parse(bytes, limit: 1 << 20) { path, why in
                AttestationError(.configuration, "\(source) \(path): \(why)")
            }
            let list = try root.required("keys").array(max: 256)
            guard !list.isEmpty else { throw try root.required("keys").error("no keys") }
            return NpmRegistryKeys(keys: try list.map { node in
                func date(_ field: JSONNode?) throws -> Date? {
                    guard let field else { return nil }
                    guard let date = RFC3339.parse(try field.string()) else { throw field.error("not an RFC 3339 time") }
                    return date
                }
                if let publicKey = try node.optional("publicKey") {
                    let keyNode = try publicKey.required("rawBytes")
                    let validFor = try publicKey.optional("validFor")
                    // A usage or key type this reader does not know is a file it cannot honour as meant:
                    // the key would silently serve every usage (or none).
                    var usage: String? = nil
                    if let usageNode = try node.optional("keyUsage") {
                        usage = try usageNode.string()
                        guard usage == signatures || usage == attestations else {
                            throw usageNode.error("'\(usage ?? "")' is not \(signatures) or \(attestations)")
                        }
                    }
                    if let details = try publicKey.optional("keyDetails"), try details.string() != "PKIX_ECDSA_P256_SHA_256" {
                        throw details.error("unsupported key type '\(try details.string())' (npm's keys are PKIX_ECDSA_P256_SHA_256)")
                    }
                    return Key(keyID: try node.required("keyId").string(), usage: usage,
                               key: try spki(keyNode), validFrom: try date(validFor?.optional("start")),
                               expires: try date(validFor?.optional("end")))
                }
                let keyNode = try node.required("key")
                if let type = try node.optional("keytype")?.string(), type != "ecdsa-sha2-nistp256" {
                    throw try node.required("keytype").error("unsupported key type '\(type)'")
                }
                return Key(keyID: try node.required("keyid").string(), usage: nil, key: try spki(keyNode),
                           validFrom: nil, expires: try date(node.optional("expires")))
            })
        } catch let error as AttestationError {
            throw error
        } catch {
            throw AttestationError(.configuration, "\(source): \(error)")
        }
    }

    private static func spki(_ node: JSONNode) throws -> PublicKey {
        let der = try node.bytes()
        let key: PublicKey
        do { key = try PublicKey(spkiDER: der) } catch { throw node.error("not a DER public key: \(error)") }
        guard case .ecdsa(.p256) = key.kind else { throw node.error("not an ECDSA P-256 key") }
        return key
    }

    /// The keys with this id meant for `usage`.
    public func keys(id: String, usage: String) -> [Key] {
        keys.filter { $0.keyID == id && ($0.usage == nil || $0.usage == usage) }
    }
}
