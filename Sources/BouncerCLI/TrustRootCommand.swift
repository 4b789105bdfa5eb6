import ArgumentParser
import FoundationEssentials
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools

struct TrustRootCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trust-root",
        abstract: "Refresh Sigstore's trusted_root.json through TUF.",
        subcommands: [Update.self]
    )

    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fetch and verify a target (trusted_root.json) from a TUF repository, refusing rollbacks.",
            discussion: """
                Walks the root chain from the newest root trusted so far (at first --root, the \
                trust anchor), then verifies timestamp, snapshot, targets and the target file \
                (formats.md §9.2). The newest root and the timestamp, snapshot and targets \
                versions are kept in Bouncer's state directory ($BOUNCER_STATE, else \
                $XDG_STATE_HOME/bouncer, else ~/.local/state/bouncer), per trust anchor; a \
                version older than one already trusted is refused. FILE is written atomically \
                only when everything verified.

                --repository is an http(s) base URL (metadata/ and targets/ below it, as \
                https://tuf-repo-cdn.sigstore.dev publishes them) or a local directory (also in \
                the git layout of sigstore/root-signing, roots in metadata/root_history/).

                Exit codes: 0 verified; 1 refused (bad signature, rollback, expiry, wrong hash); \
                2 usage error, unusable trust anchor or state; 3 repository unreachable or I/O failure.
                """
        )

        @Option(help: ArgumentHelp("The TUF repository: an http(s) base URL or a directory.", valueName: "URL_OR_DIR"))
        var repository: String

        @Option(help: ArgumentHelp("The initial trusted root (trust anchor), e.g. 1.root.json.", valueName: "ROOT.json"))
        var root: String

        @Option(help: ArgumentHelp("The target to fetch.", valueName: "NAME"))
        var target = "trusted_root.json"

        @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("Where to write the verified target.", valueName: "FILE"))
        var output: String

        @Flag(help: "Print one JSON object instead of text.")
        var json = false

        @Option(help: ArgumentHelp("Check expiry at this RFC 3339 time instead of now: for testing and for auditing a past state of a repository. Rollback checks still apply.", valueName: "RFC3339"))
        var now: String?

        func run() throws {
            // Spec §5.1: the update time T is fixed once; every expiry uses it.
            let time: Date
            if let now {
                guard let parsed = TUFVerifier.parseTime(now) else { throw BouncerError.usage("--now '\(now)' is not an RFC 3339 time (e.g. 2026-08-01T00:00:00Z)") }
                time = parsed
            } else {
                time = Date()
            }
            let anchorBytes = try readInput(root, limit: 512 << 10)
            let anchor: TUFRoot
            do {
                anchor = try TUFRoot.parse(anchorBytes, file: root)
                // The anchor must at least be consistent: signed by its own root threshold.
                _ = try TUFVerifier.verifySelfSigned(anchor)
            } catch {
                throw BouncerError(.configuration, code: "tuf-bad-anchor", "\(root): not a usable trust anchor: \(error)")
            }
            let anchorID = Hasher.digest(anchorBytes, .sha256).hex

            let repo: any TUFRepository
            let lower = repository.lowercased()
            if lower.hasPrefix("https://") || lower.hasPrefix("http://") {
                var options = FetchOptions()
                options.progress = false
                options.parallel = 1
                options.retries = 1
                repo = HTTPTUFRepository(base: repository, fetcher: Fetcher(store: .standard(), options: options))
            } else {
                guard Filesystem.isDirectory(repository) else {
                    throw BouncerError.usage("--repository \(repository): not an http(s) URL or a directory")
                }
                repo = LocalTUFRepository(directory: repository)
            }

            let store = TUFStateStore()
            let outcome = try store.update(anchor: anchorID) { state in
                Result { () throws(TUFError) -> TUFUpdateResult in
                    try TUFClient.update(repository: repo, state: &state, anchor: anchor, target: target, at: time)
                }
            }
            let report: VerificationReport
            switch outcome {
            case .success(let result):
                try AtomicFile.replace(output, with: result.targetBytes, mode: 0o644)
                report = Self.report(result, output: output, time: time)
            case .failure(let error) where error.family == .evidence:
                report = VerificationReport(artifact: .init(name: target, sha256: nil),
                                            reasons: [.init(code: error.code, message: error.description)])
            case .failure(let error):
                throw error
            }
            if json {
                Console.output(report.jsonLine())
            } else {
                for line in report.humanLines() {
                    if report.verdict == .pass { Console.output(line) } else { Console.error(line) }
                }
            }
            if report.verdict != .pass { throw ExitCode(ErrorFamily.evidence.exitCode) }
        }

        static func report(_ result: TUFUpdateResult, output: String, time: Date) -> VerificationReport {
            let sha256 = Hasher.digest(result.targetBytes, .sha256).hex
            var details: [String: String] = [
                "output": output,
                "checkedAt": TUFVerifier.formatTime(time),
                "target.sha256": sha256,
                "target.length": String(result.target.length),
                "target.role": result.delegatedRole ?? "targets",
                "rotatedRoots": result.rotatedRoots.map(String.init).joined(separator: ","),
            ]
            let roles: [(String, TUFEnvelope)] = [("root", result.root.envelope), ("timestamp", result.timestamp.envelope),
                                                  ("snapshot", result.snapshot.envelope), ("targets", result.targets.envelope)]
            for (name, envelope) in roles {
                details["\(name).version"] = String(envelope.version)
                details["\(name).expires"] = envelope.expiresText
            }
            let summary = "\(result.targetName) listed in TUF targets v\(result.targets.version) (root v\(result.root.version), "
                + "timestamp v\(result.timestamp.version), snapshot v\(result.snapshot.version)); written to \(output)"
            return VerificationReport(
                artifact: .init(name: result.targetName, sha256: sha256, size: UInt64(result.targetBytes.count)),
                evidence: [.init(kind: "tuf", proves: ["integrity", "origin", "freshness"], summary: summary, details: details)])
        }
    }
}
