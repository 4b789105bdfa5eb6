import FoundationEssentials
import BouncerBase
import BouncerIO

/// PEP 740 attestation objects and provenance objects (formats.md §8).
public enum PEP740 {
    public static let publishPredicate = "https://docs.pypi.org/attestations/publish/v1"

    public struct Attestation {
        public var bundle: SigstoreBundle
        /// The index's unsigned publisher block, when the attestation came from
        /// a provenance object: reported, never trusted.
        public var publisher: [String: String]?
        public var path: String
    }

    /// `"version": 1` (a JSON number).
    static func isVersionOne(_ node: JSONNode) -> Bool {
        node.value.doubleValue == 1
    }

    static func isAttestation(_ node: JSONNode) -> Bool { node.has("envelope") && node.has("verification_material") }
    static func isProvenance(_ node: JSONNode) -> Bool { node.has("attestation_bundles") }

    /// An attestation object or a provenance object, as a list of attestations.
    public static func parse(_ bytes: [UInt8]) throws(AttestationError) -> [Attestation] {
        do {
            let root = try JSONNode.parse(bytes, limit: 16 << 20) { path, why in
                AttestationError(.malformed, "PEP 740 \(path): \(why)")
            }
            if isAttestation(root) { return [try attestation(root, publisher: nil)] }
            let version = try root.required("version")
            guard isVersionOne(version) else { throw version.error("unsupported provenance version") }
            var out: [Attestation] = []
            for group in try root.required("attestation_bundles").array(max: 64) {
                var publisher: [String: String]? = nil
                if let block = try group.optional("publisher")?.object() {
                    publisher = block.compactMapValues { value -> String? in if case .string(let text) = value { text } else { nil } }
                }
                for item in try group.required("attestations").array(max: 64) {
                    out.append(try attestation(item, publisher: publisher))
                }
            }
            guard !out.isEmpty else { throw AttestationError(.nothing, "the PEP 740 provenance object holds no attestation") }
            return out
        } catch let error as AttestationError {
            throw error
        } catch {
            throw AttestationError(.malformed, "PEP 740: \(error)")
        }
    }

    /// Rebuilds the Sigstore bundle the attestation stands for: its leaf
    /// certificate, its log entries, and a DSSE envelope of the in-toto type
    /// with the single signature (the only payload type PEP 740 allows).
    static func attestation(_ node: JSONNode, publisher: [String: String]?) throws -> Attestation {
        let version = try node.required("version")
        guard isVersionOne(version) else { throw version.error("unsupported attestation version") }
        let material = try node.required("verification_material")
        let envelope = try node.required("envelope")
        let certificate = try material.required("certificate")
        _ = try certificate.bytes()
        let entries = try material.required("transparency_entries").array(max: 32)
        guard !entries.isEmpty else { throw try material.required("transparency_entries").error("no transparency entry") }
        let statement = try envelope.required("statement")
        let signature = try envelope.required("signature")
        _ = try statement.bytes()
        _ = try signature.bytes()
        let bundle: JSON = .object([
            "mediaType": .string("application/vnd.dev.sigstore.bundle.v0.3+json"),
            "verificationMaterial": .object([
                "certificate": .object(["rawBytes": .string(try certificate.string())]),
                "tlogEntries": .array(entries.map(\.value)),
            ]),
            "dsseEnvelope": .object([
                "payload": .string(try statement.string()),
                "payloadType": .string(InTotoStatement.payloadType),
                "signatures": .array([.object(["sig": .string(try signature.string())])]),
            ]),
        ])
        do {
            return Attestation(bundle: try SigstoreBundle.parse(bundle.serialized()), publisher: publisher, path: node.path)
        } catch {
            throw AttestationError(.malformed, "PEP 740 \(node.path): \(error)")
        }
    }

    /// The statement rules PEP 740 adds: exactly one subject, named by a
    /// distribution file name, with a sha256; a publish or SLSA predicate. When
    /// the local file name is known it must name the same distribution.
    static func checkStatement(_ payload: [UInt8], fileName: String?) throws(AttestationError) {
        let statement = try InTotoStatement.parse(payload)
        guard statement.type == InTotoStatement.typeV1 else {
            throw AttestationError(.statement, "a PEP 740 statement must be \(InTotoStatement.typeV1), not \(statement.type)")
        }
        guard statement.subjects.count == 1, let subject = statement.subjects.first else {
            throw AttestationError(.statement, "a PEP 740 statement must have exactly one subject, found \(statement.subjects.count)")
        }
        guard subject.digests["sha256"] != nil else {
            throw AttestationError(.statement, "the PEP 740 subject has no sha256 digest")
        }
        guard statement.predicateType == publishPredicate || statement.predicateType == SLSAProvenance.v1 else {
            throw AttestationError(.predicateType, "'\(statement.predicateType.prefix(200))' is not a PEP 740 predicate type")
        }
        guard let name = subject.name, let attested = DistributionFilename(name) else {
            throw AttestationError(.pypiFilename, "the subject name '\(subject.name ?? "")' is not a distribution file name")
        }
        if let fileName {
            guard let local = DistributionFilename(fileName) else {
                throw AttestationError(.pypiFilename, "'\(fileName)' is not a distribution file name")
            }
            guard local == attested else {
                throw AttestationError(.pypiFilename, "the attestation is for '\(name)', not '\(fileName)'")
            }
        }
    }
}

/// A wheel or sdist file name, normalised for comparison (pypi-attestations
/// compares parsed names, so `Foo_Bar` and `foo-bar`, or reordered compressed
/// wheel tags, are the same distribution).
struct DistributionFilename: Equatable {
    var name: String
    var version: String
    var kind: String
    var build: String?
    var tags: Set<String>

    init?(_ file: String) {
        guard !file.contains("/") else { return nil }
        if file.hasSuffix(".whl") {
            let parts = file.dropLast(4).split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 5 || parts.count == 6, !parts.contains(where: \.isEmpty) else { return nil }
            name = PythonPackageName.normalised(parts[0]); version = parts[1].lowercased(); kind = "wheel"
            build = parts.count == 6 ? parts[2] : nil
            var expanded = Set<String>()
            for python in parts[parts.count - 3].split(separator: ".") {
                for abi in parts[parts.count - 2].split(separator: ".") {
                    for platform in parts[parts.count - 1].split(separator: ".") { expanded.insert("\(python)-\(abi)-\(platform)") }
                }
            }
            tags = expanded
            return
        }
        let stem: Substring
        if file.hasSuffix(".tar.gz") { stem = file.dropLast(7) } else if file.hasSuffix(".zip") { stem = file.dropLast(4) } else { return nil }
        guard let dash = stem.lastIndex(of: "-") else { return nil }
        let base = stem[..<dash], version = stem[stem.index(after: dash)...]
        guard !base.isEmpty, !version.isEmpty else { return nil }
        name = PythonPackageName.normalised(String(base)); self.version = version.lowercased(); kind = "sdist"; build = nil; tags = []
    }

}
