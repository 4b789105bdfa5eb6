import FoundationEssentials
import BouncerBase
import BouncerIO
import BouncerSigstore
import BouncerPolicy

/// Resolves an image reference to a digest once, collects every signature
/// attached to that digest (cosign's `.sig` tag and Sigstore-bundle
/// referrers) and verifies each. Passes when at least one verifies for the
/// required signer; every one examined is reported. Used by
/// `bouncer verify-image`; the docker / podman shims go through the policy
/// (`ImageGuard`) with a `RegistryImageSource`.
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
        let source = RegistryImageSource(reference, allowHTTP: allowHTTP, platform: platform, fetcher: fetcher)
        let digest: Digest
        if let pinned = reference.digest, platform == nil {
            // cosign verifies a digest reference from its signatures alone; the manifest
            // is fetched only to pick a platform when one is asked for.
            digest = pinned
        } else {
            digest = try source.resolve().digest
        }
        let report = try source.signatures(for: digest, trust: trust)
        return Outcome(reference: reference, digest: digest, platformDigest: source.platformDigest, platform: source.platform,
                       verified: report.verified, refused: report.refused)
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

/// One image reference on a registry, through Bouncer's own OCI client:
/// the tag resolved once, then everything read for that digest.
public final class RegistryImageSource: ImageRegistry {
    public let reference: ImageReference
    let client: RegistryClient
    let requestedPlatform: OCIPlatform?
    /// For an index: the manifest for the platform (asked for, else linux/amd64), once resolved.
    public private(set) var platformDigest: Digest?
    public private(set) var platform: OCIPlatform?

    public init(_ reference: ImageReference, allowHTTP: Bool, platform: OCIPlatform?, fetcher: Fetcher) {
        self.reference = reference
        self.requestedPlatform = platform
        self.client = RegistryClient(for: reference, allowHTTP: allowHTTP, fetcher: fetcher)
    }

    /// Requests sent so far (tests, the benchmark).
    public var requestCount: Int { client.requestCount }

    public func resolve() throws -> (digest: Digest, manifest: [UInt8]) {
        let (document, manifest): (RegistryClient.Document, OCIManifest)
        if let pinned = reference.digest {
            (document, manifest) = try client.manifest(reference.repository, reference: pinned.description, expected: pinned)
            (platformDigest, platform) = try ImageVerification.select(manifest, platform: requestedPlatform, digest: pinned)
        } else {
            (document, manifest) = try client.manifest(reference.repository, reference: reference.tag ?? "latest", expected: nil)
            (platformDigest, platform) = try ImageVerification.select(manifest, platform: requestedPlatform ?? .linuxAMD64, digest: document.digest)
        }
        return (document.digest, document.bytes)
    }

    public func signatures(for digest: Digest, trust: ImageSignatureTrust) throws -> ImageSignatureReport {
        let repository = reference.repository
        var report = ImageSignatureReport(verified: [], refused: [])
        func record(_ source: String, _ body: () throws -> ImageSignatureFact) throws {
            do {
                report.verified.append(try body())
            } catch let failure as BouncerFailure where failure.family == .evidence {
                report.refused.append((source, failure.code, failure.description))
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
                report.refused.append((sigTag, failure.code, failure.description))
            default: throw error
            }
        }

        // Sigstore bundles attached as referrers (API or tag fallback).
        for bundle in try referrers(of: digest, refused: &report.refused) {
            try record(bundle.source) {
                let bytes = try client.blob(repository, digest: bundle.layer.digest, maxSize: UInt64(SigstoreBundle.maxBytes))
                return try ImageBundleVerifier.verify(referrer: bundle.manifest, bundle: bytes, imageDigest: digest, trust: trust, source: bundle.source)
            }
        }
        return report
    }

    public func referrerBundles(for digest: Digest) throws -> [(source: String, bundle: [UInt8])] {
        var ignored: [(source: String, code: String, message: String)] = []
        var bundles: [(source: String, bundle: [UInt8])] = []
        for bundle in try referrers(of: digest, refused: &ignored) {
            // The referrer must name this image; the statement's subject is checked by the attestation verifier.
            guard bundle.manifest.subject?.digest.matches(digest) == true else { continue }
            bundles.append((bundle.source, try client.blob(reference.repository, digest: bundle.layer.digest, maxSize: UInt64(SigstoreBundle.maxBytes))))
        }
        return bundles
    }

    /// The ONBUILD triggers of the image `digest` names, which a build FROM it
    /// runs as its own instructions. For an index, the images a builder may
    /// pick: `every` one (`--all-platforms`), else those of each platform asked
    /// for (this machine's when none is), found as containers/image finds them,
    /// by platform alone (an entry of an unknown media type is still the one it
    /// picks); a platform no entry matches reads every image. Each manifest and
    /// config is read by digest.
    public func onBuildTriggers(of digest: Digest, platforms: [OCIPlatform], every: Bool) throws -> [(image: Digest, trigger: String)] {
        let repository = reference.repository
        let (_, top) = try client.manifest(repository, reference: digest.description, expected: digest)
        var images: [(Digest, OCIManifest)] = []
        if top.kind == .index {
            var entries: [OCIDescriptor] = []
            let wanted = platforms.isEmpty ? Self.hostPlatform.map { [$0] } ?? [] : platforms
            for platform in wanted where !every {
                let matching = top.manifests.filter { entry in
                    guard let offered = entry.platform else { return false }
                    return offered.os == platform.os && offered.architecture == platform.architecture
                        && (platform.variant == nil || offered.variant == platform.variant)
                }
                if matching.isEmpty { entries = top.manifests; break }
                entries += matching.filter { entry in !entries.contains { $0.digest == entry.digest } }
            }
            if every || wanted.isEmpty { entries = top.manifests }
            guard entries.count <= 64 else {
                throw OCIError.malformed(what: "index \(reference.name)@\(digest)", "\(entries.count) images: too many to read the ONBUILD triggers of")
            }
            for entry in entries {
                let (_, manifest) = try client.manifest(repository, reference: entry.digest.description, expected: entry.digest)
                guard manifest.kind == .manifest else {
                    throw OCIError.malformed(what: "index \(reference.name)@\(digest)", "its entry \(entry.digest) is not an image manifest, so Bouncer cannot read the ONBUILD triggers of what a builder picks there")
                }
                images.append((entry.digest, manifest))
            }
        } else {
            images = [(digest, top)]
        }
        var found: [(image: Digest, trigger: String)] = []
        for (image, manifest) in images {
            guard let config = manifest.config else { continue }
            let what = "the config of \(reference.name)@\(image)"
            let bytes = try client.blob(repository, digest: config.digest, maxSize: ImageConfig.maxBytes)
            found += try ImageConfig.onBuildTriggers(bytes, what: what).map { (image, $0) }
        }
        return found
    }

    /// This machine as a builder names its platform (Go's GOARCH).
    static var hostPlatform: OCIPlatform? {
        switch PipInterpreter.machine() {
        case "x86_64": OCIPlatform(os: "linux", architecture: "amd64")
        case "aarch64", "arm64": OCIPlatform(os: "linux", architecture: "arm64")
        case "ppc64le": OCIPlatform(os: "linux", architecture: "ppc64le")
        case "s390x": OCIPlatform(os: "linux", architecture: "s390x")
        case "riscv64": OCIPlatform(os: "linux", architecture: "riscv64")
        default: nil
        }
    }

    /// The Sigstore-bundle referrers of `digest`: each referrer manifest read
    /// by digest and identified by itself (cosign 3 lists bundles with
    /// artifactType application/vnd.oci.empty.v1+json in the fallback index).
    private func referrers(of digest: Digest, refused: inout [(source: String, code: String, message: String)]) throws
        -> [(source: String, manifest: OCIManifest, layer: OCIDescriptor)] {
        var found: [(source: String, manifest: OCIManifest, layer: OCIDescriptor)] = []
        for descriptor in try client.referrers(reference.repository, digest: digest) {
            let source = "referrer \(descriptor.digest)"
            guard OCIMediaType.manifests.contains(descriptor.mediaType) else { continue }
            do {
                let (_, manifest) = try client.manifest(reference.repository, reference: descriptor.digest.description, expected: descriptor.digest)
                if let layer = ImageBundleVerifier.bundleLayer(of: manifest) { found.append((source, manifest, layer)) }
            } catch {
                guard error.family == .evidence else { throw error }
                refused.append((source, error.code, error.description))
            }
        }
        return found
    }
}
