import FoundationEssentials
import BouncerBase
import BouncerIO

/// npm registry signatures (formats.md §7.1): ECDSA P-256/SHA-256 over the
/// UTF-8 bytes of `name@version:integrity`. This proves the registry recorded
/// this integrity for this name and version; it says nothing of who published.
public enum NpmRegistrySignature {
    public struct Signature: Sendable {
        public var keyID: String
        public var sig: [UInt8]
    }

    /// What the packument says about one version.
    public struct VersionRecord: Sendable {
        public var name: String
        public var version: String
        public var integrity: String
        public var signatures: [Signature]
        /// `time[version]`; npm assumes 2015-01-01 when it is missing.
        public var published: Date?
    }

    public struct Verified: Sendable {
        public var keyID: String
        public var message: String
        public var integrity: String
    }

    /// npm's stand-in publication time for packuments without `time`.
    public static let defaultPublished = Date(timeIntervalSince1970: 1_420_070_400) // 2015-01-01T00:00:00Z

    public static func message(name: String, version: String, integrity: String) -> String {
        "\(name)@\(version):\(integrity)"
    }

    /// Reads `versions[version].dist` from a packument (or a single version
    /// manifest with `dist` at the top), for the package the user named.
    public static func record(packument bytes: [UInt8], name: String, version: String) throws(AttestationError) -> VersionRecord {
        do {
            let root = try JSONNode.parse(bytes, limit: 64 << 20) { path, why in
                AttestationError(.npmPackument, "packument \(path): \(why)")
            }
            let manifest: JSONNode
            if root.has("versions") {
                guard let found = try root.required("versions").optional(version) else {
                    throw AttestationError(.npmPackument, "the packument has no version \(version)")
                }
                manifest = found
            } else {
                manifest = root
            }
            let recordedName = try (manifest.optional("name") ?? root.required("name")).string()
            guard recordedName == name else {
                throw AttestationError(.npmPackument, "the packument is for '\(recordedName)', not \(name)")
            }
            if let recordedVersion = try manifest.optional("version")?.string(), recordedVersion != version {
                throw AttestationError(.npmPackument, "the manifest is for version '\(recordedVersion)', not \(version)")
            }
            let dist = try manifest.required("dist")
            let signatures = try (dist.optional("signatures")?.array(max: 64) ?? []).map {
                Signature(keyID: try $0.required("keyid").string(), sig: try $0.required("sig").bytes())
            }
            var published: Date? = nil
            if let time = try root.optional("time")?.optional(version) {
                guard let date = RFC3339.parse(try time.string()) else { throw time.error("not an RFC 3339 time") }
                published = date
            }
            return VersionRecord(name: name, version: version, integrity: try dist.required("integrity").string(),
                                 signatures: signatures, published: published)
        } catch let error as AttestationError {
            throw error
        } catch {
            throw AttestationError(.npmPackument, "packument: \(error)")
        }
    }

    /// At least one signature must verify with a registry key of that id that
    /// was not expired when the version was published. Each failure mode is
    /// named separately (no key, expired key, bad signature, no signature).
    public static func verify(_ record: VersionRecord, keys: NpmRegistryKeys) throws(AttestationError) -> Verified {
        guard !record.signatures.isEmpty else {
            throw AttestationError(.npmSignaturesMissing, "\(record.name)@\(record.version) carries no registry signature, while the registry publishes signing keys")
        }
        let text = message(name: record.name, version: record.version, integrity: record.integrity)
        let published = record.published ?? defaultPublished
        var failures: [AttestationError] = []
        for signature in record.signatures {
            let candidates = keys.keys(id: signature.keyID, usage: NpmRegistryKeys.signatures)
            guard !candidates.isEmpty else {
                failures.append(AttestationError(.npmKeyUnknown, "no registry key has id \(signature.keyID)"))
                continue
            }
            let current = candidates.filter { key in
                (key.expires.map { published < $0 } ?? true) && (key.validFrom.map { published >= $0 } ?? true)
            }
            guard !current.isEmpty else {
                failures.append(AttestationError(.npmKeyExpired, "registry key \(signature.keyID) was not valid when \(record.name)@\(record.version) was published (\(published))"))
                continue
            }
            if current.contains(where: { $0.key.verify(signature: signature.sig, message: Array(text.utf8), scheme: .ecdsa(.sha256, .der)) }) {
                return Verified(keyID: signature.keyID, message: text, integrity: record.integrity)
            }
            failures.append(AttestationError(.npmSignature, "the registry signature by \(signature.keyID) does not verify over '\(text)'"))
        }
        // The most specific failure: a bad signature beats an unknown key.
        let order: [AttestationError.Check] = [.npmSignature, .npmKeyExpired, .npmKeyUnknown]
        for check in order { if let failure = failures.first(where: { $0.check == check }) { throw failure } }
        throw AttestationError(.npmSignature, "no registry signature verifies")
    }

    /// The tarball's bytes must match `dist.integrity` (SRI, strongest algorithm).
    public static func checkIntegrity(tarball: [UInt8], integrity: String) throws(AttestationError) -> Digest {
        let sri: SubresourceIntegrity
        do { sri = try SubresourceIntegrity(parsing: integrity) } catch {
            throw AttestationError(.npmIntegrity, "dist.integrity '\(integrity.prefix(120))': \(error)")
        }
        let strongest = sri.strongest
        guard let algorithm = strongest.first?.algorithm, algorithm.isEvidence else {
            throw AttestationError(.npmIntegrity, "dist.integrity '\(integrity.prefix(120))' has no sha256/sha384/sha512 digest")
        }
        let actual = Hasher.digest(tarball, algorithm)
        guard strongest.contains(where: { $0.matches(actual) }) else {
            throw AttestationError(.npmIntegrity, "the tarball's \(algorithm.rawValue) digest \(actual.sri) is not dist.integrity \(integrity.prefix(120))")
        }
        return Hasher.digest(tarball, .sha512)
    }
}
