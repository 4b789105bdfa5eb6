import BouncerBase

/// Where an artifact comes from, as the policy's `match.ecosystem` names it.
public enum Ecosystem: String, Sendable, Codable, CaseIterable {
    /// A plain download: curl, wget, `bouncer fetch`.
    case url
    /// A Python distribution (wheel or sdist) from a package index.
    case pypi
    /// An npm tarball from a registry.
    case npm
    /// A container image (docker, podman, `bouncer verify-image`): `package`
    /// is `REGISTRY/REPO`, `version` the tag (or the digest asked for).
    case oci
}

/// The package index an artifact was found on, as the tool's own
/// configuration named it: its primary index (pip's `index-url`), or an
/// extra one (`--extra-index-url`), by the index's URL.
public struct PackageIndex: Sendable, Equatable {
    public var url: String
    public var isPrimary: Bool

    public init(url: String, isPrimary: Bool) {
        self.url = url
        self.isPrimary = isPrimary
    }
}

/// What an adapter asks for.
public struct ArtifactRequest: Sendable, Equatable {
    /// The URL to download (credentials allowed; never printed unredacted).
    public var url: String
    /// Selects policy rules, and how the artifact is inspected before it is pinned.
    public var ecosystem: Ecosystem
    /// Package coordinates when the adapter knows them (pip, npm).
    public var package: String?
    public var version: String?
    /// Digests the tool's own metadata states (pip `--hash`, an index's
    /// `#sha256=` fragment, npm `integrity`). They are requirements, never
    /// hints: every one given must match.
    public var claimedDigests: [Digest]
    /// Digests of which the bytes must match one (pip's `--hash` list for a
    /// requirement: pip-compile writes one per file of the release, and pip
    /// accepts a file matching any). The one matched then counts as stated.
    public var statedAlternatives: [Digest] = []
    /// PEP 740: the provenance URL the index offers for this file (its simple
    /// API's `provenance`): used for an `attestation` requirement before the rule's template.
    public var provenanceURL: String? = nil
    /// The index the adapter found it on (pip), when it knows.
    public var index: PackageIndex?
    /// When the index or registry says it was released (PEP 700
    /// `upload-time`, npm `time[version]`), for `minimumReleaseAge`.
    public var releaseTime: ReleaseTime?

    public init(url: String, ecosystem: Ecosystem = .url, package: String? = nil, version: String? = nil,
                claimedDigests: [Digest] = [], index: PackageIndex? = nil, releaseTime: ReleaseTime? = nil) {
        self.index = index
        self.releaseTime = releaseTime
        self.url = url
        self.ecosystem = ecosystem
        self.package = package
        self.version = version
        self.claimedDigests = claimedDigests
    }
}
