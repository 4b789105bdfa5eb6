import BouncerBase

/// Where an artifact comes from, as the policy's `match.ecosystem` names it.
public enum Ecosystem: String, Sendable, Codable, CaseIterable {
    /// A plain download: curl, wget, `bouncer fetch`.
    case url
    /// A Python distribution (wheel or sdist) from a package index.
    case pypi
    /// An npm tarball from a registry.
    case npm
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
    /// When the index or registry says it was released (PEP 700
    /// `upload-time`, npm `time[version]`), for `minimumReleaseAge`.
    public var releaseTime: ReleaseTime?

    public init(url: String, ecosystem: Ecosystem = .url, package: String? = nil, version: String? = nil,
                claimedDigests: [Digest] = [], releaseTime: ReleaseTime? = nil) {
        self.releaseTime = releaseTime
        self.url = url
        self.ecosystem = ecosystem
        self.package = package
        self.version = version
        self.claimedDigests = claimedDigests
    }
}
