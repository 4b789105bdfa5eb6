import FoundationEssentials
import BouncerBase
import BouncerIO

/// A Sigstore bundle attached to an image as an OCI referrer: the referrer
/// manifest (identified by its own artifactType or layer media type, not
/// only by what a listing says) must name the image as its subject, and the
/// bundle must verify for the image digest — a DSSE in-toto statement whose
/// subject is that digest, or a message signature over it.
public enum ImageBundleVerifier {
    public static let bundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"

    /// The bundle layer of a referrer manifest, or nil when it is not a Sigstore bundle referrer.
    public static func bundleLayer(of manifest: OCIManifest) -> OCIDescriptor? {
        let isBundle = manifest.artifactType.map(isBundleType) == true
            || manifest.config.map { isBundleType($0.mediaType) || $0.artifactType.map(isBundleType) == true } == true
            || manifest.layers.contains { isBundleType($0.mediaType) }
        guard isBundle, manifest.kind == .manifest else { return nil }
        return manifest.layers.first { isBundleType($0.mediaType) }
    }

    static func isBundleType(_ type: String) -> Bool {
        type.hasPrefix("application/vnd.dev.sigstore.bundle")
    }

    public static func verify(referrer manifest: OCIManifest, bundle bytes: [UInt8], imageDigest: Digest,
                              trust: ImageSignatureTrust, source: String) throws -> ImageSignatureFact {
        guard let subject = manifest.subject else {
            throw ImageSignatureError(.referrer, "\(source): the referrer manifest has no subject")
        }
        guard subject.digest.matches(imageDigest) else {
            throw ImageSignatureError(.referrer, "\(source): the referrer's subject is \(subject.digest), not the image \(imageDigest)")
        }
        let bundle = try SigstoreBundle.parse(bytes)
        var root = trust.trustedRoot
        if let privateCAs = trust.privateAuthorities { root.certificateAuthorities = privateCAs }
        let policy: BundleVerifier.Policy
        switch trust.signer {
        case .key(let key): policy = .key(key)
        case .keyless(let identity, let issuer):
            guard let issuer else {
                throw SigstoreError(.issuer, "\(source): a Sigstore bundle's certificate is matched by identity and OIDC issuer: give --certificate-oidc-issuer[-regexp]")
            }
            policy = .keyless(IdentityPolicy(identity: identity, issuer: issuer))
        }
        let verified = try BundleVerifier.verify(bundle: bundle, artifact: .digest(imageDigest), trustedRoot: root, policy: policy)
        var notes: [String] = ["content \(verified.content)"]
        if let predicate = manifest.annotations["dev.sigstore.bundle.predicateType"] { notes.append("predicateType \(predicate)") }
        notes += verified.timestampsNotVerified.map { "timestamp not counted: \($0)" }
        return ImageSignatureFact(scheme: "sigstore-bundle", source: source, identity: verified.identity, issuer: verified.issuer,
                                  keyed: verified.identity == nil, logIndexes: verified.logIndexes,
                                  signingTimes: verified.signingTimes, timeSources: verified.timeSources,
                                  dockerReference: nil, notes: notes)
    }
}
