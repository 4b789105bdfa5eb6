import BouncerBase

/// OCI / Docker media types (OCI image-spec, distribution-spec; Docker
/// manifest v2 schema 2).
public enum OCIMediaType {
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let ociEmpty = "application/vnd.oci.empty.v1+json"
    public static let ociConfig = "application/vnd.oci.image.config.v1+json"
    public static let cosignSimpleSigning = "application/vnd.dev.cosign.simplesigning.v1+json"
    public static let sigstoreBundleV03 = "application/vnd.dev.sigstore.bundle.v0.3+json"

    public static let manifests = [ociManifest, dockerManifest]
    public static let indexes = [ociIndex, dockerList]
    /// What Bouncer asks a registry for: every manifest and index type it reads.
    public static let accept = "Accept: " + (manifests + indexes).joined(separator: ", ")
}

public struct OCIPlatform: Sendable, Equatable, CustomStringConvertible {
    public var os: String
    public var architecture: String
    public var variant: String?

    public init(os: String, architecture: String, variant: String? = nil) {
        self.os = os
        self.architecture = architecture
        self.variant = variant
    }

    /// `os/arch[/variant]`, as docker's `--platform` takes it.
    public init(parsing text: String) throws(OCIError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else {
            throw .platform(text)
        }
        self.init(os: parts[0], architecture: parts[1], variant: parts.count == 3 ? parts[2] : nil)
    }

    public static let linuxAMD64 = OCIPlatform(os: "linux", architecture: "amd64")

    public var description: String { [os, architecture, variant].compactMap { $0 }.joined(separator: "/") }
}

public struct OCIDescriptor: Sendable, Equatable {
    public var mediaType: String
    public var digest: Digest
    public var size: Int64
    public var artifactType: String?
    public var annotations: [String: String]
    public var platform: OCIPlatform?
}

/// A manifest or an index, parsed strictly from bytes whose digest was
/// already checked. Unknown members are ignored (the specs allow extension).
public struct OCIManifest: Sendable {
    public enum Kind: Sendable, Equatable { case manifest, index }

    public var kind: Kind
    public var mediaType: String
    public var artifactType: String?
    public var config: OCIDescriptor?
    public var layers: [OCIDescriptor]
    public var manifests: [OCIDescriptor]
    public var subject: OCIDescriptor?
    public var annotations: [String: String]

    public static let maxBytes = 4 << 20
    static let maxEntries = 1000

    /// `contentType` is the registry's Content-Type, used when the document
    /// itself names no mediaType (allowed for OCI manifests).
    public static func parse(_ bytes: [UInt8], contentType: String?, what: String) throws(OCIError) -> OCIManifest {
        do {
            let root = try JSONNode.parse(bytes, limit: maxBytes) { path, why in OCIError.malformed(what: "\(what) \(path)", why) }
            let schema = try root.required("schemaVersion")
            guard case .integer(2) = schema.value else { throw schema.error("schemaVersion must be 2") }
            let declared = try root.optional("mediaType")?.string()
            let header = contentType.map { String($0.split(separator: ";")[0]).trimmingSpaces() }
            var mediaType = declared ?? header ?? ""
            if declared == nil, !OCIMediaType.manifests.contains(mediaType), !OCIMediaType.indexes.contains(mediaType) {
                // No mediaType anywhere: an index has `manifests`, a manifest `layers`.
                mediaType = root.has("manifests") ? OCIMediaType.ociIndex : OCIMediaType.ociManifest
            }
            if let declared, let header, !header.isEmpty, declared != header,
               OCIMediaType.manifests.contains(header) || OCIMediaType.indexes.contains(header) {
                throw root.error("mediaType '\(declared)' differs from the registry's Content-Type '\(header)'")
            }
            let kind: Kind
            if OCIMediaType.manifests.contains(mediaType) { kind = .manifest }
            else if OCIMediaType.indexes.contains(mediaType) { kind = .index }
            else { throw OCIError.unsupportedMediaType(what: what, mediaType) }
            var manifest = OCIManifest(kind: kind, mediaType: mediaType, artifactType: try root.optional("artifactType")?.string(),
                                       config: nil, layers: [], manifests: [], subject: nil,
                                       annotations: try annotations(root))
            switch kind {
            case .manifest:
                manifest.config = try descriptor(try root.required("config"))
                manifest.layers = try (root.optional("layers")?.array(max: maxEntries) ?? []).map(descriptor)
            case .index:
                manifest.manifests = try root.required("manifests").array(max: maxEntries).map(descriptor)
            }
            manifest.subject = try root.optional("subject").map(descriptor)
            return manifest
        } catch let error as OCIError {
            throw error
        } catch {
            throw OCIError.malformed(what: what, "\(error)")
        }
    }

    static func annotations(_ node: JSONNode) throws -> [String: String] {
        guard let map = try node.optional("annotations") else { return [:] }
        var result: [String: String] = [:]
        for (key, value) in try map.object() {
            guard case .string(let text) = value else { throw map.fail("\(map.path).\(key)", "expected a string") }
            result[key] = text
        }
        return result
    }

    static func descriptor(_ node: JSONNode) throws -> OCIDescriptor {
        let digestNode = try node.required("digest")
        let digest: Digest
        do { digest = try Digest(parsing: try digestNode.string()) } catch { throw digestNode.error("not a digest") }
        // Only sha256 names content here: the store, the pins and the checks all speak sha256.
        guard digest.algorithm == .sha256 else { throw digestNode.error("only sha256 digests are supported") }
        let sizeNode = try node.required("size")
        guard case .integer(let size) = sizeNode.value, size >= 0 else { throw sizeNode.error("not a non-negative integer") }
        var platform: OCIPlatform? = nil
        if let p = try node.optional("platform") {
            platform = OCIPlatform(os: try p.required("os").string(), architecture: try p.required("architecture").string(),
                                   variant: try p.optional("variant")?.string())
        }
        return OCIDescriptor(mediaType: try node.required("mediaType").string(), digest: digest, size: size,
                             artifactType: try node.optional("artifactType")?.string(),
                             annotations: try annotations(node), platform: platform)
    }

    /// The entry of an index for `platform` (variant compared only when asked for).
    public func select(_ platform: OCIPlatform) -> OCIDescriptor? {
        manifests.first { entry in
            guard let p = entry.platform, OCIMediaType.manifests.contains(entry.mediaType) else { return false }
            return p.os == platform.os && p.architecture == platform.architecture
                && (platform.variant == nil || p.variant == platform.variant)
        }
    }
}
