import BouncerBase
/// Caps that stop decompression bombs and absurd archives. libarchive has no
/// limit of its own, so the reader counts the bytes it actually hands out
/// (headers can lie, sparse files expand) against these.
///
/// Defaults are meant to pass any real package or release tarball and to stop
/// a bomb within its first few megabytes. The policy's top-level `archive`
/// object (`ArchivePolicy`) replaces them; `bouncer unpack`/`inspect` flags
/// (--max-size, --max-entries, --max-ratio) win over both.
public struct ArchiveLimits: Sendable, Hashable {
    /// Total unpacked bytes over all entries (holes of sparse files count).
    public var maxTotalBytes: UInt64 = 4 << 30
    /// Number of entries, directories and links included.
    public var maxEntries: Int = 100_000
    /// Unpacked bytes divided by compressed bytes read so far.
    public var maxRatio: Double = 200
    /// The ratio is only judged past this many unpacked bytes, so that a small
    /// archive of one highly compressible file is not refused.
    public var ratioGraceBytes: UInt64 = 8 << 20
    /// Longest entry path, in bytes, and deepest nesting.
    public var maxPathBytes: Int = 4096
    public var maxDepth: Int = 128

    public init() {}

    public static let defaults = ArchiveLimits()
}

/// The policy extension `"archive": {"maxUnpackedSize": "4G", "maxEntries":
/// 100000, "maxRatio": 200, "refuseCaseCollisions": false}` (top level):
/// what every archive Bouncer inspects or unpacks under that policy is held
/// to — the npm adapter's tarball check, the pip adapter's wheel RECORD
/// check, `bouncer unpack` and `bouncer inspect`. Absent fields keep the
/// defaults.
public struct ArchivePolicy: Sendable, Hashable {
    public var limits: ArchiveLimits
    /// Refuse names that collide when case is ignored (`Foo` beside `foo`).
    public var refuseCaseCollisions: Bool

    public init(limits: ArchiveLimits = .defaults, refuseCaseCollisions: Bool = false) {
        self.limits = limits
        self.refuseCaseCollisions = refuseCaseCollisions
    }

    public static let defaults = ArchivePolicy()
}
