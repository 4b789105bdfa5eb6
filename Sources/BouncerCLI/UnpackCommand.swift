import ArgumentParser
import FoundationEssentials
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools

struct UnpackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unpack",
        abstract: "Unpack an archive safely into a new or empty directory.",
        discussion: """
            Reads tar (ustar, pax, GNU; plain or gzip, xz, bzip2, zstd, lz4), zip (wheels, jars) \
            and ar (.deb). Refuses the whole archive, naming the entry, when any entry has an \
            absolute path or a '..' component, is a device, FIFO or socket, appears twice, goes \
            through a symlink, is a symlink leading outside DIR, or is a hardlink to anything but \
            a file unpacked earlier from the same archive. Setuid, setgid, sticky and group/other \
            write bits are dropped; owners are not restored.

            The archive is unpacked into a temporary directory beside DIR and renamed to DIR only \
            when complete: a refused archive leaves nothing behind. DIR must not exist or be an \
            empty directory.

            Limits (defaults): --max-size 4G unpacked bytes, --max-entries 100000, --max-ratio 200 \
            (unpacked / compressed, judged past the first 8 MiB). When a policy is found \
            (--policy FILE, else $BOUNCER_POLICY, else the nearest policy.json upwards), its \
            "archive" object (maxUnpackedSize, maxEntries, maxRatio, refuseCaseCollisions) \
            replaces these defaults; the flags win over the policy.

            Exit codes: 0 unpacked; 1 the archive was refused; 2 usage error, bad policy or unusable DIR; \
            3 I/O failure.
            """
    )

    @Argument(help: "The archive ('-' for standard input).")
    var archive: String

    @Option(name: [.customShort("C"), .customLong("directory")], help: ArgumentHelp("Destination directory.", valueName: "DIR"))
    var directory: String

    @Option(help: ArgumentHelp("Most unpacked bytes (suffix K, M, G or T allowed).", valueName: "SIZE"))
    var maxSize: String?

    @Option(help: ArgumentHelp("Most entries.", valueName: "N"))
    var maxEntries: Int?

    @Option(help: ArgumentHelp("Highest unpacked/compressed ratio.", valueName: "R"))
    var maxRatio: Double?

    @Flag(help: "Refuse names that collide when case is ignored (Foo and foo). Always on macOS.")
    var refuseCaseCollisions = false

    @Option(help: ArgumentHelp("The policy whose archive limits apply (default: $BOUNCER_POLICY, else the nearest policy.json upwards).", valueName: "FILE"))
    var policy: String?

    /// On a case-insensitive file system two such names are one file: always refuse there.
    #if canImport(Darwin)
    static let caseInsensitiveHost = true
    #else
    static let caseInsensitiveHost = false
    #endif

    func run() throws {
        let settings = try ArchiveLimitFlags(maxSize: maxSize, maxEntries: maxEntries, maxRatio: maxRatio,
                                             refuseCaseCollisions: refuseCaseCollisions, policy: policy).settings()
        let limits = settings.limits
        let reader = archive == "-"
            ? try ArchiveReader(fd: 0, name: "standard input", limits: limits)
            : try ArchiveReader(path: archive, limits: limits)
        let options = UnpackOptions(limits: limits, refuseCaseCollisions: settings.refuseCaseCollisions || Self.caseInsensitiveHost)
        let summary = try SafeExtractor.unpack(reader, into: directory, options: options)
        Console.output("\(archive): unpacked \(summary.files) files, \(summary.directories) directories, "
            + "\(summary.symlinks) symlinks, \(summary.hardlinks) hardlinks (\(summary.bytes) bytes) into \(directory)")
    }
}

/// The limit flags shared by `unpack` and `inspect`, on top of the policy's
/// `archive` settings when a policy is found (flags win), else the defaults.
struct ArchiveLimitFlags {
    var maxSize: String?
    var maxEntries: Int?
    var maxRatio: Double?
    /// Can only turn the check on: a policy that asks for it is not overridden.
    var refuseCaseCollisions = false
    /// --policy FILE.
    var policy: String?

    func settings() throws -> ArchivePolicy {
        var settings = ArchivePolicy.defaults
        // A policy that is found but malformed is a configuration error (exit 2), never silently skipped.
        if let file = PolicyLocator.find(explicit: policy, environment: ProcessInfo.processInfo.environment,
                                         cwd: FileManager.default.currentDirectoryPath) {
            settings = try PolicyParser.load(file: file).archive
        }
        if let maxSize {
            guard let bytes = ByteCount.parse(maxSize), bytes > 0 else {
                throw BouncerError.usage("--max-size: '\(maxSize)' is not a positive size (e.g. 500M, 4G, 1048576)")
            }
            settings.limits.maxTotalBytes = bytes
        }
        if let maxEntries {
            guard maxEntries > 0 else { throw BouncerError.usage("--max-entries must be positive") }
            settings.limits.maxEntries = maxEntries
        }
        if let maxRatio {
            guard maxRatio >= 1, maxRatio.isFinite else { throw BouncerError.usage("--max-ratio must be at least 1") }
            settings.limits.maxRatio = maxRatio
        }
        if refuseCaseCollisions { settings.refuseCaseCollisions = true }
        return settings
    }
}
