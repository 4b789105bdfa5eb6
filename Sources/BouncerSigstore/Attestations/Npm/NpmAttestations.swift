import FoundationEssentials
import BouncerBase
import BouncerIO

/// npm's attestations response (formats.md §7.2):
/// `{"attestations":[{"predicateType": ..., "bundle": {...}}]}` with a publish
/// attestation signed by the registry key and SLSA provenance signed through
/// Fulcio, both about `pkg:npm/<name>@<version>` and the tarball's sha512.
public enum NpmAttestations {
    public static let publishPredicate = "https://github.com/npm/attestation/tree/main/specs/publish/v0.1"

    public struct Entry {
        /// The response's own label: used only to route; the statement's
        /// signed predicate type must agree with it.
        public var declaredPredicateType: String
        public var bundle: SigstoreBundle
        public var path: String
    }

    public static func parse(_ bytes: [UInt8]) throws(AttestationError) -> [Entry] {
        do {
            let root = try JSONNode.parse(bytes, limit: 64 << 20) { path, why in
                AttestationError(.malformed, "npm attestations \(path): \(why)")
            }
            let list = try root.required("attestations").array(max: 64)
            guard !list.isEmpty else { throw AttestationError(.nothing, "the npm attestations response lists no attestation") }
            return try list.map { node in
                let bundleNode = try node.required("bundle")
                let bundle: SigstoreBundle
                do { bundle = try SigstoreBundle.parse(bundleNode.value.serialized()) } catch {
                    throw AttestationError(.malformed, "npm attestations \(bundleNode.path): \(error)")
                }
                return Entry(declaredPredicateType: try node.required("predicateType").string(), bundle: bundle, path: node.path)
            }
        } catch let error as AttestationError {
            throw error
        } catch {
            throw AttestationError(.malformed, "npm attestations: \(error)")
        }
    }

    /// `pkg:npm/%40scope/name@1.2.3` (a leading `@` percent-encoded).
    public static func purl(name: String, version: String) -> String {
        let encoded = name.hasPrefix("@") ? "%40" + name.dropFirst() : name
        return "pkg:npm/\(encoded)@\(version)"
    }

    /// The publish attestation's key: the registry key named by the DSSE keyid,
    /// meant for attestations and valid at every verified signing time.
    static func publishKey(_ bundle: SigstoreBundle, keys: NpmRegistryKeys) throws(AttestationError) -> NpmRegistryKeys.Key {
        guard case .dsse(let envelope) = bundle.content, let keyID = envelope.signatures.first?.keyid, !keyID.isEmpty else {
            throw AttestationError(.npmKeyUnknown, "the publish attestation names no registry key (DSSE keyid)")
        }
        guard let key = keys.keys(id: keyID, usage: NpmRegistryKeys.attestations).first else {
            throw AttestationError(.npmKeyUnknown, "no registry key for attestations has id \(keyID)")
        }
        return key
    }

    static func checkKeyWindow(_ key: NpmRegistryKeys.Key, times: [Date]) throws(AttestationError) {
        guard !times.isEmpty else {
            throw AttestationError(.npmKeyExpired, "the publish attestation has no verified signing time to check registry key \(key.keyID) against")
        }
        for time in times {
            if let end = key.expires, time >= end {
                throw AttestationError(.npmKeyExpired, "registry key \(key.keyID) expired (\(end)) before the publish attestation was logged (\(time))")
            }
            if let start = key.validFrom, time < start {
                throw AttestationError(.npmKeyExpired, "registry key \(key.keyID) was not yet valid (\(start)) when the publish attestation was logged (\(time))")
            }
        }
    }

    /// The publish predicate names the package and version.
    static func checkPublishPredicate(_ payload: [UInt8], name: String, version: String) throws(AttestationError) {
        let statement = try InTotoStatement.parse(payload)
        guard let predicate = statement.predicate,
              let recordedName = try? predicate.optional("name")?.string(),
              let recordedVersion = try? predicate.optional("version")?.string() else {
            throw AttestationError(.predicate, "the publish attestation's predicate has no name and version")
        }
        guard recordedName == name, recordedVersion == version else {
            throw AttestationError(.predicate, "the publish attestation is for \(recordedName)@\(recordedVersion), not \(name)@\(version)")
        }
    }
}
