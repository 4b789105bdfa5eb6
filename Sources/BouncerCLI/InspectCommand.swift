import ArgumentParser
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "List an archive's entries with their sha256 and check wheels and npm tarballs.",
        discussion: """
            Every entry is listed with its type, mode, size and sha256, and screened as \
            `bouncer unpack` would screen it (unsafe paths, links, devices, duplicates are \
            reported as problems). For a wheel (.whl) every RECORD line is checked: sha256 or \
            stronger, urlsafe base64, and size; files missing from RECORD and RECORD lines \
            missing from the wheel are problems. For an npm tarball (.tgz with \
            <top>/package.json) the name, version and install scripts are shown: a genuine \
            package can still run code on install.

            Limits as for `bouncer unpack`: the flags win over the "archive" object of the \
            policy found (--policy FILE, else $BOUNCER_POLICY, else the nearest policy.json \
            upwards), which wins over the defaults.

            Exit codes: 0 no problem found; 1 a problem was found (a RECORD mismatch, an unsafe \
            entry, an exceeded limit); 2 usage error or bad policy; 3 the archive could not be read from disk.
            """
    )

    @Argument(help: "The archive ('-' for standard input).")
    var archive: String

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Option(help: ArgumentHelp("What to check: auto, plain, wheel or npm.", valueName: "KIND"))
    var kind: String = "auto"

    @Option(help: ArgumentHelp("The package name package.json (npm) or the wheel's .dist-info must give.", valueName: "NAME"))
    var expectName: String?

    @Option(help: ArgumentHelp("The version package.json (npm) or the wheel's .dist-info must give.", valueName: "VERSION"))
    var expectVersion: String?

    @Option(help: ArgumentHelp("Most unpacked bytes read (suffix K, M, G or T allowed).", valueName: "SIZE"))
    var maxSize: String?

    @Option(help: ArgumentHelp("Most entries.", valueName: "N"))
    var maxEntries: Int?

    @Option(help: ArgumentHelp("Highest unpacked/compressed ratio.", valueName: "R"))
    var maxRatio: Double?

    @Flag(help: "Report names that collide when case is ignored (Foo and foo) as problems.")
    var refuseCaseCollisions = false

    @Option(help: ArgumentHelp("The policy whose archive limits apply (default: $BOUNCER_POLICY, else the nearest policy.json upwards).", valueName: "FILE"))
    var policy: String?

    func run() throws {
        guard let kind = ArchiveInspector.Kind(rawValue: kind) else {
            throw BouncerError.usage("--kind must be one of auto, plain, wheel, npm")
        }
        let settings = try ArchiveLimitFlags(maxSize: maxSize, maxEntries: maxEntries, maxRatio: maxRatio,
                                             refuseCaseCollisions: refuseCaseCollisions, policy: policy).settings()
        let reader = archive == "-"
            ? try ArchiveReader(fd: 0, name: "standard input", limits: settings.limits)
            : try ArchiveReader(path: archive, limits: settings.limits)
        let options = ArchiveInspector.Options(kind: kind, expectName: expectName, expectVersion: expectVersion,
                                               refuseCaseCollisions: settings.refuseCaseCollisions)
        let report = try ArchiveInspector.inspect(reader, options: options)
        if json {
            Console.output(report.jsonLine())
        } else {
            for line in report.humanLines() { Console.output(line) }
        }
        if report.verdict == .fail { throw ExitCode(ErrorFamily.evidence.exitCode) }
    }
}
