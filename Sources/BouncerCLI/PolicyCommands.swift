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

/// Options every policy command shares.
struct PolicyOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The policy (default: $BOUNCER_POLICY, else the nearest policy.json upwards).", valueName: "FILE"))
    var policy: String?

    @Flag(help: "Print one JSON object per artifact on standard output.")
    var json = false

    @Flag(name: .shortAndLong, help: "No success lines (warnings and refusals are still printed).")
    var quiet = false

    /// The loaded policy, or exit 2 with the error naming the JSON path.
    func load() throws -> Policy {
        do { return try PolicyGuard.locatePolicy(explicit: policy) } catch {
            PolicyOutput.configurationError(error, json: json)
            throw ExitCode(ErrorFamily.configuration.exitCode)
        }
    }
}

/// Runs the guard over requests, prints one report per artifact, removes the
/// verified temp files (nothing is handed over), and exits with the worst family.
/// `sarif`: one SARIF 2.1.0 log on standard output instead of lines or JSON objects.
private func verifyAll(_ requests: [ArtifactRequest], policy: Policy, options: GuardOptions, output: PolicyOptions,
                       sarif: Bool = false) throws {
    var fetchOptions = FetchOptions()
    fetchOptions.progress = !output.quiet && !output.json && !sarif
    let policyGuard = PolicyGuard(policy: policy, fetcher: Fetcher(store: .standard(), options: fetchOptions), options: options)
    var failures: [ErrorFamily] = []
    // Images (oci: entries) are re-resolved and re-verified on their registry by the image guard.
    let images = requests.filter { $0.ecosystem == .oci }
    let files = requests.filter { $0.ecosystem != .oci }
    let allowHTTP = ProcessInfo.processInfo.environment["BOUNCER_IMAGE_ALLOW_HTTP"] == "1"
    let outcomes = (files.isEmpty ? [] : policyGuard.evaluate(files))
        + images.map { ContainerShim.recheck($0, policy: policy, options: options, allowHTTP: allowHTTP) }
    for outcome in outcomes {
        if let path = outcome.path { unlink(path) }
        if !sarif { PolicyOutput.emit(outcome, json: output.json, quiet: output.quiet, resultsToStdout: true) }
        if outcome.verdict == .refused { failures.append(outcome.family ?? .evidence) }
    }
    if sarif { Console.output(SARIFReport.log(outcomes, version: BouncerVersion.string)) }
    Console.flush()
    if let worst = PolicyOutput.worst(failures) { throw ExitCode(worst.exitCode) }
}

/// The lock entry as a request: its URL (a file recorded relative to the
/// lock made absolute again) and coordinates, its pinned digest as the stated digest.
/// The index it was found on is the one the lock records (a rule's `"index"` matches as at install),
/// and so are the digests its `digest` and `integrity` evidence was proven with (an npm
/// packument's sha512 SRI): stated again, they are proven again and recorded the same, so
/// a frozen check does not see a change where there is none.
private func request(for entry: LockEntry, lockfile: String) -> ArtifactRequest {
    var claimed = (try? Digest(algorithm: .sha256, hex: entry.sha256)).map { [$0] } ?? []
    for evidence in entry.evidence where evidence.kind == .digest || evidence.kind == .integrity {
        guard let source = evidence.source else { continue }
        let stated = (try? Digest(parsing: source)).map { [$0] } ?? (try? SubresourceIntegrity(parsing: source))?.digests ?? []
        for digest in stated where digest.algorithm.isEvidence && !claimed.contains(digest) { claimed.append(digest) }
    }
    return ArtifactRequest(url: LockEntry.fetchURL(entry.url, lockDirectory: Filesystem.split(lockfile).directory),
                           ecosystem: entry.ecosystem, package: entry.package, version: entry.version,
                           claimedDigests: claimed, index: entry.index?.packageIndex)
}

private func readLock(_ policy: Policy, json: Bool) throws -> Lockfile {
    do { return try LockStore(path: policy.lockfile).read() } catch {
        PolicyOutput.configurationError(error, json: json)
        throw ExitCode(ErrorFamily.configuration.exitCode)
    }
}

struct LockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lock",
        abstract: "Verify what the policy and the lockfile name, and (re)write the lockfile.",
        discussion: """
            Re-verifies every artifact in the lockfile (from the store when its bytes are \
            there, else from the network), every literal URL a rule's match names, and any \
            URL given, under the policy; pins what passed. A locked artifact whose digest \
            changed is refused, never re-pinned: remove its entry by hand to accept new bytes. \
            An image entry (oci:REGISTRY/REPO:TAG) is resolved again on its registry: a tag \
            that now names another digest is refused (plain http to a registry only with \
            BOUNCER_IMAGE_ALLOW_HTTP=1).

            Exit codes: 0 all verified and pinned; 1 something refused; 2 bad policy or \
            lockfile; 3 transport or I/O failure.
            """
    )

    @Argument(help: "More URLs to verify and pin.")
    var urls: [String] = []

    @OptionGroup var options: PolicyOptions

    func run() throws {
        let policy = try options.load()
        let lock = try readLock(policy, json: options.json)
        var requests = lock.artifacts.map { request(for: $0, lockfile: policy.lockfile) }
        var seen = Set(lock.artifacts.map(\.key))
        let literal = policy.rules.compactMap { rule -> String? in
            guard let url = rule.match.url, url.isLiteral, rule.match.package == nil else { return nil }
            return url.pattern
        }
        for url in literal + urls {
            let next = ArtifactRequest(url: url)
            if seen.insert(LockEntry.key(for: next)).inserted { requests.append(next) }
        }
        guard !requests.isEmpty else {
            if !options.quiet { Console.output("bouncer: nothing to lock: \(policy.lockfile) is empty and the policy names no literal URL") }
            return
        }
        var guardOptions = GuardOptions()
        guardOptions.useStore = true
        try verifyAll(requests, policy: policy, options: guardOptions, output: options)
    }
}

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Re-verify every locked artifact against the policy.",
        discussion: """
            Each artifact in the lockfile is taken from the store (re-hashed) or fetched \
            again, and its rule's evidence is verified again, as at install: the index \
            and the digests the lock records for it count again. With --frozen (the default \
            when CI=true) any change the lockfile would need is refused and nothing is \
            written; without it, changed evidence records are rewritten (a changed digest is \
            always refused). An image entry (oci:REGISTRY/REPO:TAG) is resolved again on \
            its registry and its signatures verified for the digest the lock pins; a tag \
            that moved is refused (lock-digest-changed). Plain http to a registry only with \
            BOUNCER_IMAGE_ALLOW_HTTP=1.

            --format sarif prints one SARIF 2.1.0 log for code scanning: one result per \
            reason an artifact was refused (level error) or allowed only with a warning \
            (level warning), its ruleId the reason code (release-too-new, \
            release-age-unknown, install-script, exotic-source, identity-drift, \
            trust-downgrade, ...), the artifact URL as its location and the policy rule in \
            its properties. --format json is --json.

            Exit codes: 0 all verified; 1 something refused; 2 bad policy or lockfile; 3 \
            transport or I/O failure.
            """
    )

    @Flag(inversion: .prefixedNo, help: "Refuse any change to the lockfile (default when CI=true).")
    var frozen: Bool?

    @Option(help: ArgumentHelp("Output: text (default), json (as --json) or sarif (SARIF 2.1.0, for code scanning).", valueName: "text|json|sarif"))
    var format: String?

    @OptionGroup var options: PolicyOptions

    func validate() throws {
        if let format, !["text", "json", "sarif"].contains(format) { throw ValidationError("--format must be text, json or sarif") }
        if options.json && (format == "sarif" || format == "text") { throw ValidationError("--json and --format \(format ?? "") disagree") }
    }

    func run() throws {
        var options = self.options
        if format == "json" { options.json = true }
        let sarif = format == "sarif"
        let policy = try options.load()
        let lock = try readLock(policy, json: options.json)
        let isFrozen = frozen ?? (ProcessInfo.processInfo.environment["CI"] == "true")
        guard !lock.artifacts.isEmpty else {
            if sarif {
                Console.output(SARIFReport.log([], version: BouncerVersion.string))
            } else if !options.quiet {
                Console.output("bouncer: \(policy.lockfile) has no entries; nothing to check")
            }
            return
        }
        var guardOptions = GuardOptions()
        guardOptions.useStore = true
        guardOptions.frozen = isFrozen
        try verifyAll(lock.artifacts.map { request(for: $0, lockfile: policy.lockfile) }, policy: policy, options: guardOptions, output: options,
                      sarif: sarif)
    }
}

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show which rule matches a URL and what it would require, without fetching.",
        discussion: "Exit codes: 0 explained; 2 bad policy."
    )

    @Argument(help: "The URL to explain (with --ecosystem oci: an image, REGISTRY/REPO[:TAG|@sha256:…]).")
    var url: String

    @Option(help: ArgumentHelp("The ecosystem the artifact belongs to.", valueName: "url|pypi|npm|oci"))
    var ecosystem: String = "url"

    @Option(help: ArgumentHelp("Package name (pypi, npm).", valueName: "NAME"))
    var package: String?

    @Option(help: ArgumentHelp("Package version (pypi, npm).", valueName: "VERSION"))
    var version: String?

    @OptionGroup var options: PolicyOptions

    func validate() throws {
        guard Ecosystem(rawValue: ecosystem) != nil else { throw ValidationError("--ecosystem must be url, pypi, npm or oci") }
    }

    func run() throws {
        let policy = try options.load()
        var request = ArtifactRequest(url: url, ecosystem: Ecosystem(rawValue: ecosystem) ?? .url, package: package, version: version)
        if request.ecosystem == .oci {
            // An image is named by its reference; the rule matches REGISTRY/REPO.
            do { request = ImageGuard.request(for: try ImageReference(parsing: url)) } catch {
                throw ValidationError(error.description)
            }
        }
        let explanation = PolicyGuard(policy: policy).explain(request)
        if options.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            if let data = try? encoder.encode(explanation) { Console.output(String(decoding: data, as: UTF8.self)) }
        } else {
            for line in explanation.humanLines() { Console.output(line) }
        }
        Console.flush()
    }
}
