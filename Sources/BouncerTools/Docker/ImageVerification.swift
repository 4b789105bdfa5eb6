import Foundation
import BouncerBase
import BouncerIO
import BouncerSigstore

/// Resolves an image reference to a digest once, collects every signature
/// attached to that digest (cosign's `.sig` tag and Sigstore-bundle
/// referrers) and verifies each. Passes when at least one verifies for the
/// required signer; every one examined is reported. Shared by
/// `bouncer verify-image` and the docker / podman shims.
public enum ImageVerification {
    public struct Outcome: Sendable {
        public var reference: ImageReference
        /// The digest the reference resolved to (the one signatures must name).
        public var digest: Digest
        /// For an index: the manifest for the requested platform.
        public var platformDigest: Digest?
        public var platform: OCIPlatform?
        public var verified: [ImageSignatureFact]
        public var refused: [(source: String, code: String, message: String)]

        public var passed: Bool { !verified.isEmpty }
        public var pinned: String { reference.pinned(digest) }
    }

    public static func verify(_ reference: ImageReference, trust: ImageSignatureTrust, allowHTTP: Bool,
                              platform: OCIPlatform?, fetcher: Fetcher) throws -> Outcome {
        let client = RegistryClient(for: reference, allowHTTP: allowHTTP, fetcher: fetcher)
        let repository = reference.repository
        var digest: Digest
        var platformDigest: Digest? = nil
        var chosen: OCIPlatform? = nil
        if let pinned = reference.digest {
            // cosign verifies a digest reference from its signatures alone; the manifest
            // is fetched only to pick a platform when one is asked for.
            digest = pinned
            if let platform {
                let (_, manifest) = try client.manifest(repository, reference: pinned.description, expected: pinned)
                (platformDigest, chosen) = try select(manifest, platform: platform, digest: pinned)
            }
        } else {
            let tag = reference.tag ?? "latest"
            let (document, manifest) = try client.manifest(repository, reference: tag, expected: nil)
            digest = document.digest
            (platformDigest, chosen) = try select(manifest, platform: platform ?? .linuxAMD64, digest: digest)
        }

        var outcome = Outcome(reference: reference, digest: digest, platformDigest: platformDigest, platform: chosen,
                              verified: [], refused: [])
        func record(_ source: String, _ body: () throws -> ImageSignatureFact) throws {
            do {
                outcome.verified.append(try body())
            } catch let failure as BouncerFailure where failure.family == .evidence {
                outcome.refused.append((source, failure.code, failure.description))
            }
        }

        // cosign's legacy scheme: the manifest tagged sha256-<hex>.sig, one signature per layer.
        let sigTag = "sha256-\(digest.hex).sig"
        do {
            let (_, signatures) = try client.manifest(repository, reference: sigTag, expected: nil)
            guard signatures.kind == .manifest else {
                throw OCIError.malformed(what: "\(reference.name):\(sigTag)", "an index, not a signature manifest")
            }
            for (index, layer) in signatures.layers.enumerated() {
                let source = "\(sigTag) layer \(index) (\(layer.digest))"
                try record(source) {
                    guard layer.mediaType == OCIMediaType.cosignSimpleSigning else {
                        throw ImageSignatureError(.notSignature, "\(source): media type '\(layer.mediaType.prefix(100))' is not a cosign simple-signing payload")
                    }
                    let payload = try client.blob(repository, digest: layer.digest, maxSize: UInt64(SimpleSigningPayload.maxBytes))
                    return try CosignSignatureVerifier.verify(payload: payload, mediaType: layer.mediaType, annotations: layer.annotations,
                                                              imageDigest: digest, trust: trust, source: source)
                }
            }
        } catch {
            switch error as Error {
            case OCIError.notFound: break  // No legacy signatures; referrers may still hold some.
            case let failure as OCIError where failure.family == .evidence:
                outcome.refused.append((sigTag, failure.code, failure.description))
            default: throw error
            }
        }

        // Sigstore bundles attached as referrers (API or tag fallback).
        for descriptor in try client.referrers(repository, digest: digest) {
            let source = "referrer \(descriptor.digest)"
            // Look at the referrer manifest itself: cosign 3 lists bundles with artifactType
            // application/vnd.oci.empty.v1+json in the fallback index.
            guard OCIMediaType.manifests.contains(descriptor.mediaType) else { continue }
            var bundleLayer: OCIDescriptor? = nil
            var referrer: OCIManifest? = nil
            do {
                let (_, manifest) = try client.manifest(repository, reference: descriptor.digest.description, expected: descriptor.digest)
                referrer = manifest
                bundleLayer = ImageBundleVerifier.bundleLayer(of: manifest)
            } catch {
                guard error.family == .evidence else { throw error }
                outcome.refused.append((source, error.code, error.description))
                continue
            }
            guard let bundleLayer, let referrer else { continue }
            try record(source) {
                let bytes = try client.blob(repository, digest: bundleLayer.digest, maxSize: UInt64(SigstoreBundle.maxBytes))
                return try ImageBundleVerifier.verify(referrer: referrer, bundle: bytes, imageDigest: digest, trust: trust, source: source)
            }
        }
        return outcome
    }

    /// The platform's manifest from an index (nil for a single manifest).
    static func select(_ manifest: OCIManifest, platform: OCIPlatform?, digest: Digest) throws(OCIError) -> (Digest?, OCIPlatform?) {
        guard manifest.kind == .index, let platform else { return (nil, nil) }
        guard let entry = manifest.select(platform) else {
            let offered = manifest.manifests.compactMap { $0.platform?.description }.joined(separator: ", ")
            throw .noPlatform("the index \(digest) has no manifest for \(platform) (it offers: \(offered.isEmpty ? "none" : offered))")
        }
        return (entry.digest, platform)
    }
}
