import FoundationEssentials
import BouncerBase
import BouncerIO

/// Offline verification of a Sigstore bundle (formats.md §5.9): the
/// transparency-log entries and timestamps give the signing time, the
/// certificate chains to a trusted Fulcio CA at that time, the identity
/// matches the policy, and the signature covers the artifact.
public enum BundleVerifier {
    public enum Artifact: Sendable {
        case bytes([UInt8])
        /// Only the digest is known (`sha256:<hex>` on the command line).
        case digest(Digest)
    }

    public enum Policy: Sendable {
        case keyless(IdentityPolicy)
        /// A self-managed key (`--key`): no certificate, no identity.
        case key(PublicKey)
    }

    public struct Verified: Sendable {
        public var identity: String?
        public var issuer: String?
        public var logIndexes: [Int64]
        public var signingTimes: [Date]
        /// Where each signing time came from.
        public var timeSources: [TimeSource]
        /// Each RFC 3161 timestamp that did not verify and so did not count,
        /// named by its JSON path, with why (the bundle passed on the others).
        public var timestampsNotVerified: [String]
        public var artifactSHA256: Digest?
        public var content: String
        public var mediaType: String
    }

    public static func verify(bundle: SigstoreBundle, artifact: Artifact, trustedRoot: SigstoreTrustedRoot,
                              policy: Policy) throws -> Verified {
        let signature = bundle.content.signature

        // The signing key: the bundle's leaf certificate (keyless) or the pinned key.
        var certificate: SigningCertificate? = nil
        let key: PublicKey
        let materialDER: [UInt8]
        switch (bundle.material, policy) {
        case (.certificates(let chain), .keyless):
            guard let leaf = chain.first else { throw SigstoreError(.material, "the bundle's certificate chain is empty") }
            // A bundle's extra certificates are never trusted (the chain is built
            // only to the trusted root's CAs). A root the bundle ships is refused
            // unless it is byte for byte one of the trusted root's own CA
            // certificates, as older v0.1 bundles ship the full chain.
            let trustedCertificates = trustedRoot.certificateAuthorities.flatMap(\.chainDER)
            for (index, extra) in chain.enumerated().dropFirst()
            where CertificateChainCheck.isSelfSigned(extra) && !trustedCertificates.contains(extra) {
                throw SigstoreError(.material, "the bundle's certificate chain carries a root certificate the trusted root does not hold (certificates[\(index)])")
            }
            let parsed = try SigningCertificate(der: leaf)
            certificate = parsed
            key = parsed.publicKey
            materialDER = leaf
        case (.publicKey, .key(let pinned)):
            key = pinned
            materialDER = pinned.spkiDER
        case (.publicKey, .keyless):
            throw SigstoreError(.material, "the bundle is signed with a self-managed key and has no certificate: verify it with --key")
        case (.certificates, .key):
            throw SigstoreError(.material, "the bundle carries a certificate: verify it with --certificate-identity and --certificate-oidc-issuer")
        }

        // The signature over the artifact (or over the DSSE PAE).
        let artifactDigest = try checkSignature(bundle.content, artifact: artifact, key: key)

        // Transparency-log entries: body consistent with the bundle, SET, inclusion proof and checkpoint.
        // None is needed only under a trusted root with no log (GitHub's instance), where a
        // verified timestamp from one of its TSAs takes the entry's place (checked below).
        if let refusal = SigstoreInstance.missingLogEntry(bundle, trustedRoot: trustedRoot) { throw refusal }
        var seen = Set<String>()
        var times: [(Date, TimeSource)] = []
        var logIndexes: [Int64] = []
        let dsseJSON: [UInt8]? = if case .dsse(let envelope) = bundle.content { envelope.json } else { nil }
        for entry in bundle.tlogEntries {
            let pair = Hex.encode(entry.logID) + ":\(entry.logIndex)"
            guard seen.insert(pair).inserted else {
                throw SigstoreError(.tlogEntry, "\(entry.path): duplicate entry for log \(Hex.encode(entry.logID).prefix(16))… index \(entry.logIndex)")
            }
            let expectation = RekorEntryExpectation(signature: signature, verificationMaterialDER: materialDER,
                                                    artifactDigest: artifactDigest.forEntry, dsseEnvelopeJSON: dsseJSON)
            if let time = try verifyEntry(entry, expectation: expectation, logKeys: trustedRoot.transparencyLogKeys(logID: entry.logID)) {
                times.append((time, .tlog))
            }
            logIndexes.append(entry.logIndex)
        }

        // RFC 3161 timestamps over the signature: each verified on its own; those
        // that do not verify are reported and do not count (BundleTimestamps).
        let timestamps = try BundleTimestamps.verify(bundle.rfc3161Timestamps, signature: signature,
                                                     authorities: trustedRoot.timestampAuthorityList(),
                                                     cache: trustedRoot.parsedCertificates)
        times += timestamps.verified.map { ($0, .rfc3161) }
        let notVerified = timestamps.notVerified.map(\.description)

        guard let certificate, case .keyless(let identityPolicy) = policy else {
            return Verified(identity: nil, issuer: nil, logIndexes: logIndexes, signingTimes: times.map(\.0),
                            timeSources: times.map(\.1), timestampsNotVerified: notVerified, artifactSHA256: artifactDigest.sha256,
                            content: bundle.content.kind, mediaType: bundle.mediaType)
        }

        // Keyless: the certificate must be valid, and chain to a trusted CA, at every signing time.
        guard !times.isEmpty else {
            throw SigstoreError(.signingTime, "no verified signing time: the bundle has neither a signed entry timestamp nor an RFC 3161 timestamp")
        }
        for (time, source) in times where !certificate.isValid(at: time) {
            throw SigstoreError(source == .tlog ? .tlogTime : .timestamp,
                                "the \(source.described) \(time) is outside the certificate's validity (\(certificate.notBefore) to \(certificate.notAfter))")
        }
        var issuerDER: [UInt8] = []
        for (time, _) in times {
            issuerDER = try CertificateChainCheck.verify(leaf: certificate.parsed, authorities: trustedRoot.certificateAuthorities,
                                                         at: time, cache: trustedRoot.parsedCertificates).issuerDER
        }
        guard certificate.hasCodeSigningUsage else {
            throw SigstoreError(.codeSigning, "the signing certificate lacks the code-signing extended key usage")
        }
        // An instance with no CT log (GitHub's trusted root lists none) issues no
        // SCTs; where the trusted root lists CT logs, an SCT from one is required.
        if !trustedRoot.ctlogs.isEmpty {
            let ctLogs = trustedRoot.ctLogKeys()
            guard !ctLogs.isEmpty else { throw SigstoreError(.sct, "the trusted root lists no CT log with a usable key, so the certificate's SCT cannot be checked") }
            _ = try CertificateTransparency.verifyEmbeddedSCTs(leafDER: certificate.der, issuerSPKI: { trustedRoot.parsedCertificates.spki(issuerDER) },
                                                               ctLogs: ctLogs, at: times[0].0)
        }
        let identity = try identityPolicy.check(certificate)

        return Verified(identity: identity, issuer: certificate.oidcIssuer, logIndexes: logIndexes,
                        signingTimes: times.map(\.0), timeSources: times.map(\.1), timestampsNotVerified: notVerified,
                        artifactSHA256: artifactDigest.sha256,
                        content: bundle.content.kind, mediaType: bundle.mediaType)
    }

    /// One transparency-log entry (formats.md §5.3-5.6, §5.11): from a trusted
    /// log, its body describing this bundle, its SET and/or its inclusion proof
    /// bound to a checkpoint signed by that log. Returns the integrated time when
    /// a verified SET makes it a signed time.
    static func verifyEntry(_ entry: SigstoreBundle.TlogEntry, expectation: RekorEntryExpectation,
                            logKeys: [TransparencyLogKey]) throws -> Date? {
        // Only the entry's own log (by logId) may vouch for it.
        let logs = logKeys.filter { $0.logID == entry.logID }
        guard !logs.isEmpty else {
            throw SigstoreError(.tlogEntry, "\(entry.path): log \(Base64.encode(entry.logID)) is not in the trusted root")
        }
        try RekorEntryBody.check(canonicalizedBody: entry.canonicalizedBody, kind: entry.kind,
                                 version: entry.version, expected: expectation)
        var signedTime: Date? = nil
        if let set = entry.signedEntryTimestamp {
            try SignedEntryTimestamp.verify(signedEntryTimestamp: set, canonicalizedBody: entry.canonicalizedBody,
                                            integratedTime: entry.integratedTime, logIndex: entry.logIndex,
                                            logID: entry.logID, logs: logs)
            // Only a verified SET makes integratedTime a signed time.
            signedTime = Date(timeIntervalSince1970: TimeInterval(entry.integratedTime))
        }
        if let proof = entry.inclusionProof {
            try MerkleInclusion.verify(index: UInt64(proof.logIndex), treeSize: UInt64(proof.treeSize),
                                       leafHash: MerkleInclusion.leafHash(entry.canonicalizedBody),
                                       proof: proof.hashes, rootHash: proof.rootHash)
            guard let envelope = proof.checkpoint else {
                throw SigstoreError(.tlogCheckpoint, "\(entry.path).inclusionProof: no checkpoint, so the proof is bound to nothing the log signed")
            }
            let checkpoint = try Checkpoint.verify(envelope: envelope, logs: logs)
            guard checkpoint.treeSize == UInt64(proof.treeSize), checkpoint.rootHash == proof.rootHash else {
                throw SigstoreError(.tlogCheckpoint, "\(entry.path).inclusionProof: the checkpoint's tree size or root hash differs from the proof's")
            }
        } else if entry.version == "0.0.2" && (entry.kind == "hashedrekord" || entry.kind == "dsse") {
            // Rekor v2 logs only these two kinds (intoto 0.0.2 is a Rekor v1 kind).
            throw SigstoreError(.tlogInclusion, "\(entry.path): a Rekor v2 entry needs an inclusion proof")
        } else if entry.signedEntryTimestamp == nil {
            throw SigstoreError(.tlogEntry, "\(entry.path): neither a signed entry timestamp nor an inclusion proof")
        }
        return signedTime
    }

    /// Digests of the artifact established while checking the signature.
    struct ArtifactDigests {
        var sha256: Digest?
        /// The digest a hashedrekord entry must record (nil for DSSE).
        var forEntry: Digest?
    }

    static func digest(of artifact: Artifact, _ algorithm: HashAlgorithm) -> Digest? {
        switch artifact {
        case .bytes(let bytes): Hasher.digest(bytes, algorithm)
        case .digest(let digest): digest.algorithm == algorithm ? digest : nil
        }
    }

    static func checkSignature(_ content: SigstoreBundle.Content, artifact: Artifact, key: PublicKey) throws -> ArtifactDigests {
        let sha256 = digest(of: artifact, .sha256)
        switch content {
        case .messageSignature(let messageDigest, let signature):
            let algorithm = messageDigest?.algorithm ?? defaultHash(for: key)
            guard let computed = digest(of: artifact, algorithm) else {
                throw SigstoreError(.artifactDigest, "the artifact's \(algorithm.rawValue) digest is needed and only another digest was given")
            }
            if let messageDigest, !messageDigest.matches(computed) {
                throw SigstoreError(.artifactDigest, "the artifact's digest \(computed) differs from the bundle's messageDigest \(messageDigest)")
            }
            let scheme = try scheme(for: key, hash: algorithm)
            let ok: Bool
            switch (artifact, key.kind) {
            case (.bytes(let bytes), _):
                ok = key.verify(signature: signature, message: bytes, scheme: scheme)
            case (.digest, .ed25519):
                throw SigstoreError(.signature, "an Ed25519 signature cannot be checked from a digest alone; give the file")
            case (.digest, _):
                ok = key.verify(signature: signature, digest: computed.bytes, scheme: scheme)
            }
            guard ok else { throw SigstoreError(.signature, "the signature does not verify over the artifact with the signing key") }
            return ArtifactDigests(sha256: sha256, forEntry: computed)
        case .dsse(let envelope):
            guard let sig = envelope.signatures.first, envelope.signatures.count == 1 else {
                throw SigstoreError(.dsse, "a bundle's DSSE envelope must have exactly one signature")
            }
            guard envelope.payloadType == InTotoSubjects.payloadType else {
                throw SigstoreError(.dsse, "DSSE payloadType '\(envelope.payloadType)' is not \(InTotoSubjects.payloadType)")
            }
            let scheme = try scheme(for: key, hash: defaultHash(for: key))
            guard key.verify(signature: sig.sig, message: envelope.pae, scheme: scheme) else {
                throw SigstoreError(.signature, "the DSSE signature does not verify over PAE(payloadType, payload) with the signing key")
            }
            // Parse the statement only now, from the verified bytes.
            let subjects = try InTotoSubjects.parse(envelope.payload)
            let matched = subjects.contains { subject in
                subject.digests.contains { name, hex in
                    guard let algorithm = HashAlgorithm(name: name), algorithm.isEvidence,
                          let expected = try? Digest(algorithm: algorithm, hex: hex),
                          let actual = digest(of: artifact, algorithm) else { return false }
                    return actual.matches(expected)
                }
            }
            guard matched else {
                throw SigstoreError(.dsseSubject, "no in-toto subject digest matches the artifact\(sha256.map { " (\($0))" } ?? "")")
            }
            return ArtifactDigests(sha256: sha256, forEntry: nil)
        }
    }

    /// The hash a key signs with in Sigstore (keyDetails defaults).
    static func defaultHash(for key: PublicKey) -> HashAlgorithm {
        switch key.kind {
        case .ecdsa(.p384): .sha384
        case .ecdsa(.p521): .sha512
        default: .sha256
        }
    }

    static func scheme(for key: PublicKey, hash: HashAlgorithm) throws(SigstoreError) -> SignatureScheme {
        switch key.kind {
        case .ed25519: .ed25519
        case .ecdsa: .ecdsa(hash, .der)
        case .rsa(let bits) where bits >= 2048: .rsaPKCS1(hash)
        case .rsa(let bits): throw SigstoreError(.key, "RSA keys of \(bits) bits are too weak")
        }
    }
}

extension SigstoreBundle.Content {
    var kind: String {
        switch self {
        case .messageSignature: "messageSignature"
        case .dsse: "dsseEnvelope"
        }
    }
}

/// Where a verified signing time came from (the `--json` reports' `timeSource`).
public enum TimeSource: String, Sendable {
    /// A transparency log's integrated time, under its signed entry timestamp.
    case tlog
    /// An RFC 3161 timestamp from a trusted timestamp authority.
    case rfc3161
    /// The current time: a private CA's long-lived certificate with no log
    /// or timestamp (`verify-image --ca-roots --insecure-ignore-tlog`).
    case now

    var described: String {
        switch self {
        case .tlog: "log's integrated time"
        case .rfc3161: "RFC 3161 time"
        case .now: "current time"
        }
    }
}
