import ArgumentParser
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools

struct FetchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Download URLs, verify them, and only then write them.",
        discussion: """
            Each body streams into Bouncer's store (BOUNCER_CACHE, else \
            $XDG_CACHE_HOME/bouncer, else ~/.cache/bouncer) and is hashed in the same pass. \
            The destination file appears only after verification, by an atomic rename in its \
            directory; on any failure nothing is written there and an existing file is left \
            as it was.

            The policy decides what must be proven: it is --policy FILE, else $BOUNCER_POLICY, \
            else the nearest policy.json from the current directory upwards. Bouncer finds the \
            matching rule, fetches its evidence (checksum lists, signatures), verifies, compares \
            with the lockfile (a locked artifact whose digest changed is refused in every mode) \
            and pins what passed. --sha256 is an extra requirement on top of the policy. Without \
            any policy, every URL needs a --sha256 pin (one per URL, in order).

            Several URLs are fetched in parallel; each is saved under its URL's last path \
            segment in --output-dir (default: the current directory). With GITHUB_ACTIONS=true \
            each refusal is also printed as an ::error annotation.

            Redirects are followed up to --max-redirects; a redirect from https to http is \
            refused. Transient failures (connection errors, timeouts, truncated bodies, HTTP \
            408/429/5xx) are retried from byte 0, never resumed: after 0.5 s, doubled each time; \
            a connection refused or reset before any byte of the response is first retried at once. \
            HTTPS certificates are checked against the system's CAs, or the PEM file in \
            BOUNCER_CA_BUNDLE (else CURL_CA_BUNDLE, SSL_CERT_FILE); a host that asks for a client \
            certificate gets the one in BOUNCER_CLIENT_CERT (its key in the same file, else BOUNCER_CLIENT_KEY).

            Exit codes: 0 every file verified (or allowed in audit mode) and written; 1 refused \
            (evidence missing or wrong, digest mismatch, policy denied, body over --max-size, \
            insecure redirect); 2 usage error or bad policy/keys (also an evidence kind this \
            build cannot verify); 3 transport or I/O failure.
            """
    )

    @Argument(help: "The URLs to fetch (http or https).")
    var urls: [String] = []

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the single URL's body to FILE ('-': standard output).", valueName: "FILE"))
    var output: String?

    @Option(help: ArgumentHelp("Directory for files named after their URLs.", valueName: "DIR"))
    var outputDir: String?

    @Option(help: ArgumentHelp("Expected sha256 (hex or sha256:<hex>); one per URL, in order.", valueName: "HEX"))
    var sha256: [String] = []

    @Option(help: ArgumentHelp("The policy (default: $BOUNCER_POLICY, else the nearest policy.json upwards).", valueName: "FILE"))
    var policy: String?

    // CI=true freezes the lock here as it does for `check`: a CI job must never pin something new silently.
    @Flag(inversion: .prefixedNo, help: "Refuse anything not already in the lockfile, and change nothing in it (default when CI=true).")
    var frozen: Bool?

    @Option(help: ArgumentHelp("Abort a download once its body exceeds SIZE (bytes, or with K/M/G/T). Default 4G.", valueName: "SIZE"))
    var maxSize: String?

    @Option(help: ArgumentHelp("Seconds allowed for connecting.", valueName: "SECONDS"))
    var connectTimeout: Int = 30

    @Option(help: ArgumentHelp("Abandon a transfer after this many seconds without data.", valueName: "SECONDS"))
    var stallTimeout: Int = 30

    @Option(help: ArgumentHelp("Redirects followed at most.", valueName: "N"))
    var maxRedirects: Int = 10

    @Option(help: ArgumentHelp("Further attempts after a transient failure.", valueName: "N"))
    var retries: Int = 2

    @Option(help: ArgumentHelp("Transfers run at once.", valueName: "N"))
    var parallel: Int = 6

    @Flag(name: .shortAndLong, help: "No progress bar and no success lines (errors are still printed).")
    var quiet = false

    @Flag(help: "Print one JSON report per URL on standard output.")
    var json = false

    func validate() throws {
        guard !urls.isEmpty else { throw ValidationError("give at least one URL") }
        if output != nil && urls.count != 1 { throw ValidationError("-o/--output needs exactly one URL (use --output-dir for several)") }
        if output != nil && outputDir != nil { throw ValidationError("give -o or --output-dir, not both") }
        if output == "-" && json { throw ValidationError("--json cannot share standard output with '-o -'") }
        if !sha256.isEmpty && sha256.count != urls.count { throw ValidationError("give one --sha256 per URL (\(urls.count) URLs, \(sha256.count) digests)") }
        if let maxSize, ByteCount.parse(maxSize) == nil || ByteCount.parse(maxSize) == 0 {
            throw ValidationError("--max-size: '\(maxSize)' is not a size like 1048576, 512K, 100M or 4G")
        }
        for (name, value) in [("--connect-timeout", connectTimeout), ("--stall-timeout", stallTimeout), ("--parallel", parallel)] where value < 1 {
            throw ValidationError("\(name) must be at least 1")
        }
        if maxRedirects < 0 || retries < 0 { throw ValidationError("--max-redirects and --retries cannot be negative") }
    }

    func run() throws {
        let pins = try sha256.map { text -> Digest in
            do { return try Digest(parsing: text.hasPrefix("sha256:") ? text : "sha256:" + text) } catch {
                throw BouncerError.usage("--sha256 '\(text)': \(error)")
            }
        }
        let destinations = try urls.map(destination(for:))
        var options = FetchOptions()
        options.connectTimeout = connectTimeout
        options.stallTimeout = stallTimeout
        options.maxRedirects = maxRedirects
        options.retries = retries
        options.parallel = parallel
        options.progress = !quiet
        if let maxSize, let bytes = ByteCount.parse(maxSize) { options.maxSize = bytes }
        let fetcher = Fetcher(store: Store.standard(), options: options)

        if let policyFile = PolicyLocator.find(explicit: policy, environment: ProcessInfo.processInfo.environment,
                                               cwd: FileManager.default.currentDirectoryPath) {
            let loaded: Policy
            do { loaded = try PolicyParser.load(file: policyFile) } catch {
                PolicyOutput.configurationError(error, json: json)
                throw ExitCode(ErrorFamily.configuration.exitCode)
            }
            try runWithPolicy(loaded, fetcher: fetcher, pins: pins, destinations: destinations)
            return
        }
        guard !pins.isEmpty else {
            throw BouncerError.usage("no policy.json found and no --sha256 given: nothing to verify against",
                                     hint: "give --policy FILE, set BOUNCER_POLICY, add a policy.json, or pin each URL with --sha256")
        }

        let results = fetcher.fetch(urls.map { FetchRequest(url: $0) })

        var failures: [ErrorFamily] = []
        for index in urls.indices {
            let shown = Redaction.url(urls[index])
            let inputs = DigestEvidence.Inputs(pins: [pins[index]])
            switch results[index] {
            case .success(let artifact):
                let report = DigestEvidence.report(digests: artifact.digests, size: artifact.size, displayName: shown,
                                                   entryName: shown, inputs: inputs)
                guard report.verdict == .pass else {
                    fetcher.discard(artifact)
                    emit(report, destination: destinations[index])
                    failures.append(.evidence)
                    continue
                }
                // The destination takes over the downloaded file itself (a rename
                // on the same file system): no second write.
                defer { fetcher.discard(artifact) }
                if let failure = place(artifact.path, at: destinations[index], report: report) { failures.append(failure) }
            case .failure(let error):
                emitFailure(url: shown, code: error.code, message: error.description, family: error.family)
                failures.append(error.family)
            }
        }
        Console.flush()
        if failures.contains(.evidence) { throw ExitCode(ErrorFamily.evidence.exitCode) }
        if failures.contains(.configuration) { throw ExitCode(ErrorFamily.configuration.exitCode) }
        if failures.contains(.transport) { throw ExitCode(ErrorFamily.transport.exitCode) }
    }

    /// The policy path: the guard decides; verified bytes are placed only after everything passed.
    private func runWithPolicy(_ loaded: Policy, fetcher: Fetcher, pins: [Digest], destinations: [String]) throws {
        var guardOptions = GuardOptions()
        guardOptions.frozen = frozen ?? (ProcessInfo.processInfo.environment["CI"] == "true")
        let policyGuard = PolicyGuard(policy: loaded, fetcher: fetcher, options: guardOptions)
        let requests = urls.indices.map { index in
            ArtifactRequest(url: urls[index], ecosystem: .url, claimedDigests: pins.isEmpty ? [] : [pins[index]])
        }
        let outcomes = policyGuard.evaluate(requests)
        var failures: [ErrorFamily] = []
        for (index, outcome) in outcomes.enumerated() {
            let destination = destinations[index]
            let place = destination == "-" ? "standard output" : destination
            guard outcome.verdict != .refused, let path = outcome.path else {
                PolicyOutput.emit(outcome, json: json, quiet: quiet, annotateToStderr: output == "-")
                if !json { Console.error("\(outcome.shownURL): nothing was written to \(place)") }
                failures.append(outcome.family ?? .evidence)
                continue
            }
            defer { unlink(path) }
            do {
                if destination == "-" {
                    Console.flush()
                    try Placement.toStandardOutput([path])
                } else {
                    // The guard filed these bytes in the store too: the file placed is the person's own copy.
                    try Placement.place(path, at: destination, mode: .move)
                }
            } catch {
                emitFailure(url: outcome.shownURL, code: "io", message: "\(error)", family: .transport)
                failures.append(.transport)
                continue
            }
            PolicyOutput.emit(outcome, json: json, quiet: quiet, suffix: " -> \(place)", annotateToStderr: output == "-")
        }
        Console.flush()
        if let worst = PolicyOutput.worst(failures) { throw ExitCode(worst.exitCode) }
    }

    /// Where a URL's verified body goes: `-o`, or its last path segment
    /// (undecoded, as `curl -O` does) in --output-dir or the current directory.
    private func destination(for url: String) throws -> String {
        if let output {
            if output != "-" { try requireDirectory(of: output) }
            return output
        }
        let name = Self.fileName(of: url)
        guard let name else {
            throw BouncerError.usage("cannot name a file after \(Redaction.url(url)); give -o FILE")
        }
        // An empty --output-dir is none (it had named the root folder).
        let given = outputDir.flatMap { $0.isEmpty ? nil : $0 }
        try requireDirectory(of: (given ?? ".") + "/" + name)
        return given.map { $0 + "/" + name } ?? name
    }

    /// The URL's last path segment if it is a usable file name.
    static func fileName(of url: String) -> String? {
        var rest = Substring(url)
        if let scheme = rest.firstRange(of: "://") { rest = rest[scheme.upperBound...] }
        if let end = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<end] }
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        let path = rest[slash...]
        guard let last = path.split(separator: "/", omittingEmptySubsequences: false).last,
              !last.isEmpty, last != ".", last != ".." else { return nil }
        return String(last)
    }

    private func requireDirectory(of path: String) throws {
        let dir = Filesystem.split(path).directory
        guard Filesystem.isDirectory(dir) else {
            throw BouncerError.io("cannot write into \(dir): no such directory")
        }
    }

    /// Puts verified bytes at the destination (or on stdout) and reports; returns the failure family if any.
    private func place(_ source: String, at destination: String, report: VerificationReport) -> ErrorFamily? {
        do {
            if destination == "-" {
                Console.flush()
                try Placement.toStandardOutput([source])
            } else {
                try Placement.place(source, at: destination, mode: .move)
            }
        } catch {
            emitFailure(url: report.artifact.name, code: "io", message: "\(error)", family: .transport)
            return .transport
        }
        emit(report, destination: destination)
        return nil
    }

    private func emit(_ report: VerificationReport, destination: String) {
        if json {
            Console.output(report.jsonLine())
            return
        }
        if report.verdict == .fail {
            for line in report.humanLines() { Console.error(line) }
            Console.error("\(report.artifact.name): nothing was written to \(destination == "-" ? "standard output" : destination)")
        } else if !quiet {
            let place = destination == "-" ? "standard output" : destination
            for line in report.humanLines() { Console.error(line + " -> \(place)") }
        }
    }

    private func emitFailure(url: String, code: String, message: String, family: ErrorFamily) {
        if json {
            var report = VerificationReport(artifact: .init(name: url, sha256: nil), reasons: [.init(code: code, message: message)])
            report.verdict = .fail
            Console.output(report.jsonLine())
        } else {
            Console.error("bouncer: \(message)")
        }
    }
}
