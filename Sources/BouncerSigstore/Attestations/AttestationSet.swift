import FoundationEssentials
import BouncerBase
import BouncerIO

/// What `verify-attestation --bundle FILE` may hold, detected from content:
/// one Sigstore bundle, JSON lines of bundles (gh), a PEP 740 attestation or
/// provenance object, or an npm attestations response.
public struct AttestationSet {
    public enum Kind: String, Sendable {
        case bundle = "sigstore-bundle"
        case bundleLines = "sigstore-bundle-lines"
        case pep740 = "pep740"
        case npm = "npm-attestations"
        case envelope = "dsse-envelope"
    }

    public enum Role: String, Sendable {
        case attestation
        case npmPublish = "npm-publish"
        case npmProvenance = "npm-provenance"
        case pep740
        /// A bare DSSE envelope: checked with --key only (no log, no certificate).
        case envelope = "dsse-envelope"
    }

    public struct Item {
        public var bundle: SigstoreBundle?
        public var envelope: DSSEEnvelope? = nil
        public var role: Role
        public var label: String
        public var publisher: [String: String]?
        /// npm: the response's predicate type label (routing only; checked against the signed one).
        public var declaredPredicateType: String? = nil
    }

    public var kind: Kind
    public var items: [Item]
    /// Items that could not be read (JSON lines only; other kinds fail whole).
    public var unreadable: [AttestationError]

    /// Whether every item must verify (npm, PEP 740) or one is enough (gh-style lists).
    public var requiresAll: Bool { kind == .npm || kind == .pep740 }

    public static func parse(_ bytes: [UInt8]) throws(AttestationError) -> AttestationSet {
        let text = bytes.drop(while: { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 })
        guard !text.isEmpty else { throw AttestationError(.nothing, "the attestation file is empty") }
        // A single JSON document? (More text after one value means JSON lines.)
        let document: JSON?
        do { document = try JSON.parse(bytes) } catch {
            guard error.isTrailingData else { throw AttestationError(.malformed, "the attestation file is not valid JSON: \(error)") }
            document = nil
        }
        if case .object(let object)? = document {
            if object["attestations"] != nil {
                let entries = try NpmAttestations.parse(bytes)
                return AttestationSet(kind: .npm, items: entries.map {
                    Item(bundle: $0.bundle, role: $0.declaredPredicateType == NpmAttestations.publishPredicate ? .npmPublish : .npmProvenance,
                         label: "\($0.path) (\($0.declaredPredicateType))", publisher: nil,
                         declaredPredicateType: $0.declaredPredicateType)
                }, unreadable: [])
            }
            if object["attestation_bundles"] != nil || (object["envelope"] != nil && object["verification_material"] != nil) {
                let attestations = try PEP740.parse(bytes)
                return AttestationSet(kind: .pep740, items: attestations.map {
                    Item(bundle: $0.bundle, role: .pep740, label: "PEP 740 \($0.path)", publisher: $0.publisher)
                }, unreadable: [])
            }
            if object["payloadType"] != nil, object["signatures"] != nil, object["mediaType"] == nil {
                return AttestationSet(kind: .envelope, items: [Item(bundle: nil, envelope: try DSSEVerifier.parse(bytes), role: .envelope,
                                                                    label: "DSSE envelope", publisher: nil)], unreadable: [])
            }
            do {
                return AttestationSet(kind: .bundle, items: [Item(bundle: try SigstoreBundle.parse(bytes), role: .attestation, label: "bundle", publisher: nil)], unreadable: [])
            } catch {
                throw AttestationError(.malformed, "\(error)")
            }
        }
        // JSON lines: one bundle (or {"bundle": ...}) per non-empty line.
        var items: [Item] = []
        var unreadable: [AttestationError] = []
        for (number, line) in bytes.split(separator: 0x0A, omittingEmptySubsequences: true).enumerated() {
            guard line.contains(where: { $0 != 0x20 && $0 != 0x0D && $0 != 0x09 }) else { continue }
            var raw = [UInt8](line)
            if case .object(let object)? = try? JSON.parse(raw), object["mediaType"] == nil, let inner = object["bundle"] {
                raw = inner.serialized()
            }
            do {
                items.append(Item(bundle: try SigstoreBundle.parse(raw), role: .attestation, label: "line \(number + 1)", publisher: nil))
            } catch {
                unreadable.append(AttestationError(.malformed, "line \(number + 1): \(error)"))
            }
        }
        guard !items.isEmpty || !unreadable.isEmpty else { throw AttestationError(.nothing, "the attestation file holds no bundle") }
        if items.isEmpty, unreadable.count == 1, let only = unreadable.first { throw only }
        return AttestationSet(kind: .bundleLines, items: items, unreadable: unreadable)
    }
}

/// Runs every item of a set through the checks its role needs.
public enum AttestationRun {
    public struct Context: Sendable {
        public var artifact: ArtifactDigests
        /// The artifact's file name (PEP 740 subject names are compared with it).
        public var fileName: String?
        public var trustedRoot: SigstoreTrustedRoot
        /// Keyless identity; nil only when a key is given.
        public var identity: IdentityPolicy?
        public var key: PublicKey?
        public var requirements: AttestationRequirements
        public var npmKeys: NpmRegistryKeys?
        /// npm name and version when known (verify-npm), for the purl and publish checks.
        public var npmPackage: (name: String, version: String)?

        public init(artifact: ArtifactDigests, fileName: String?, trustedRoot: SigstoreTrustedRoot, identity: IdentityPolicy?,
                    key: PublicKey? = nil, requirements: AttestationRequirements, npmKeys: NpmRegistryKeys? = nil,
                    npmPackage: (name: String, version: String)? = nil) {
            self.artifact = artifact
            self.fileName = fileName
            self.trustedRoot = trustedRoot
            self.identity = identity
            self.key = key
            self.requirements = requirements
            self.npmKeys = npmKeys
            self.npmPackage = npmPackage
        }
    }

    public struct Outcome: Sendable {
        public var label: String
        public var role: AttestationSet.Role
        public var facts: AttestationVerifier.Facts?
        public var failure: (any BouncerFailure)?
    }

    public static func run(_ set: AttestationSet, _ context: Context) -> [Outcome] {
        var outcomes = set.unreadable.map { Outcome(label: "unreadable", role: .attestation, facts: nil, failure: $0) }
        // An identity or a build requirement can only be met by provenance, never by the registry's own attestation.
        if set.kind == .npm, !set.items.contains(where: { $0.role == .npmProvenance }),
           context.identity != nil || context.requirements.sourceRepository != nil {
            outcomes.append(Outcome(label: "npm provenance", role: .npmProvenance, facts: nil,
                                    failure: AttestationError(.nothing, "the npm attestations response has no provenance attestation to prove the required identity")))
        }
        for item in set.items {
            do {
                outcomes.append(Outcome(label: item.label, role: item.role, facts: try verify(item, context), failure: nil))
            } catch let failure as any BouncerFailure {
                outcomes.append(Outcome(label: item.label, role: item.role, facts: nil, failure: failure))
            } catch {
                outcomes.append(Outcome(label: item.label, role: item.role, facts: nil,
                                        failure: AttestationError(.malformed, "\(error)")))
            }
        }
        return outcomes
    }

    /// The set passes when every item verified (npm, PEP 740) or at least one did (bundles).
    public static func passes(_ set: AttestationSet, _ outcomes: [Outcome]) -> Bool {
        let verified = outcomes.filter { $0.facts != nil }
        guard !verified.isEmpty else { return false }
        return set.requiresAll ? verified.count == outcomes.count : true
    }

    static func verify(_ item: AttestationSet.Item, _ context: Context) throws -> AttestationVerifier.Facts {
        if item.role == .envelope, let envelope = item.envelope {
            guard let key = context.key else {
                throw AttestationError(.configuration, "a bare DSSE envelope has no certificate or log entry: verify it with --key PEM")
            }
            let verified = try DSSEVerifier.verify(envelope, keys: [key])
            return try AttestationVerifier.check(payload: verified.payload, certificate: nil, artifact: context.artifact,
                                                 requirements: context.requirements)
        }
        guard let bundle = item.bundle, case .dsse(let envelope) = bundle.content else {
            throw AttestationError(.payloadType, "the bundle signs a message, not an attestation")
        }
        var requirements = context.requirements
        let policy: BundleVerifier.Policy
        var npmKey: NpmRegistryKeys.Key? = nil
        switch item.role {
        case .npmPublish:
            guard let keys = context.npmKeys else {
                throw AttestationError(.configuration, "the npm publish attestation is signed by the registry: give --registry-keys")
            }
            let key = try NpmAttestations.publishKey(bundle, keys: keys)
            npmKey = key
            policy = .key(key.key)
            // The registry's attestation proves publication, not the build: only its own checks apply.
            requirements = AttestationRequirements()
            requirements.predicateType = NpmAttestations.publishPredicate
        case .npmProvenance, .attestation, .pep740, .envelope:
            if let key = context.key {
                policy = .key(key)
            } else if let identity = context.identity {
                policy = .keyless(identity)
            } else {
                throw AttestationError(.configuration, "keyless attestations need an identity and issuer to require")
            }
        }
        var facts = try AttestationVerifier.verify(bundle: bundle, artifact: context.artifact, trustedRoot: context.trustedRoot,
                                                   policy: policy, requirements: requirements)
        switch item.role {
        case .npmPublish, .npmProvenance:
            guard facts.subjectDigest.algorithm == .sha512 else {
                throw AttestationError(.subject, "npm attestations name the tarball by sha512")
            }
            if let package = context.npmPackage {
                let purl = NpmAttestations.purl(name: package.name, version: package.version)
                guard facts.subjectName == purl else {
                    throw AttestationError(.subject, "the subject is '\(facts.subjectName ?? "")', not \(purl)")
                }
                facts.checked.append("npm-purl")
                if item.role == .npmPublish {
                    try NpmAttestations.checkPublishPredicate(envelope.payload, name: package.name, version: package.version)
                    facts.checked.append("npm-publish-predicate")
                }
            }
            if item.role == .npmProvenance {
                // The response's label routes; the signed statement decides.
                guard SLSAProvenance.isProvenance(facts.predicateType), facts.predicateType == item.declaredPredicateType else {
                    throw AttestationError(.predicateType, "the signed statement's predicate type is '\(facts.predicateType)', not the SLSA provenance the response announces")
                }
                facts.checked.append("predicate-type")
            }
            if let npmKey {
                try NpmAttestations.checkKeyWindow(npmKey, times: facts.signingTimes)
                facts.signerKeyID = npmKey.keyID
                facts.checked.append("registry-key-window")
            }
        case .pep740:
            try PEP740.checkStatement(envelope.payload, fileName: context.fileName)
            facts.checked.append(context.fileName == nil ? "pep740-statement" : "pep740-statement-and-file-name")
        case .attestation, .envelope:
            break
        }
        return facts
    }
}
