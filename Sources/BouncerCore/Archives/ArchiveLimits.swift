/// Caps that stop decompression bombs and absurd archives. libarchive has no
/// limit of its own, so the reader counts the bytes it actually hands out
/// (headers can lie, sparse files expand) against these.
///
/// Defaults are meant to pass any real package or release tarball and to stop
/// a bomb within its first few megabytes. `bouncer unpack`/`inspect` flags
/// override them (--max-size, --max-entries, --max-ratio). policy.json v1 has
/// no archive limits yet; the proposed shape, top level or per rule, is
/// `"archive": {"maxUnpackedBytes": 4294967296, "maxEntries": 100000,
/// "maxRatio": 200, "refuseCaseCollisions": false}`, decoded into this struct
/// (flags win over policy, policy over defaults).
public struct ArchiveLimits: Sendable, Equatable {
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
