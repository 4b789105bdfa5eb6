import Foundation
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerIO
import BouncerPolicy

/// `pip install` behind Bouncer: the real pip resolves (a dry run that
/// installs nothing), the guard fetches and verifies every artifact, and the
/// real pip then installs those verified files only, offline:
/// `--no-index --find-links PRIVATE_DIR --no-deps --require-hashes -r GENERATED`.
public enum PipShim {
    /// Subcommands that neither download nor install.
    /// `index` reads index pages and prints versions: no file lands, nothing runs.
    static let harmless: Set<String> = ["list", "show", "freeze", "uninstall", "check", "config", "cache", "debug", "help",
                                        "inspect", "hash", "completion", "index"]

    public static func run(_ arguments: [String], context: ShimContext) -> Int32 {
        let invocation = PipArguments.parse(arguments)
        guard let subcommand = invocation.subcommand else { return context.passThrough(arguments) }
        if harmless.contains(subcommand) { return context.passThrough(arguments) }
        guard subcommand == "install" else {
            let why = ["download": "downloads files (and builds the metadata of sdists, running their code) without Bouncer verifying them",
                       "wheel": "downloads and builds wheels (running the code of every sdist) without Bouncer verifying them"][subcommand]
                ?? "is not a pip command Bouncer knows"
            return context.unsupportedCommand("pip \(subcommand)", why: why + "; use pip install, which Bouncer guards", arguments: arguments)
        }
        // Forms that run code before anything is verified are refused before the real pip starts.
        var scan: PipSourceCheck.Scan
        do {
            scan = try PipSourceCheck.scan(invocation, cwd: context.environment.cwd)
        } catch {
            return context.installStopped(error, tool: "pip")
        }
        // Requirements from outside the index, unless exoticSources.allow names them (by the spec as written).
        scan.findings += scan.exotic.filter { exotic in
            !context.policy.allowsExoticSource(exotic.form, .pypi) && !scan.findings.contains { $0.place == exotic.place && exotic.form.contains($0.form) }
        }
        if !scan.findings.isEmpty {
            if context.policy.enforce {
                for finding in scan.findings {
                    let message = "refused: \(finding.form) (\(finding.place)): \(finding.why)"
                    ShimOutput.error("bouncer: pip: \(message)")
                    context.annotateRefusal(message)
                }
                ShimOutput.error("bouncer: pip: no code of a project, sdist or package may run before its bytes are verified and the policy allows building it (policy \(context.policy.path) is in enforce mode); the real pip was not started, nothing was installed")
                return ErrorFamily.evidence.exitCode
            }
            for finding in scan.findings {
                ShimOutput.error("bouncer: AUDIT: pip: \(finding.form) (\(finding.place)): \(finding.why); running it anyway, UNVERIFIED (enforce mode would refuse)")
            }
        }
        if invocation.dryRun { return context.passThrough(arguments) }
        if invocation.editable {
            return context.unsupported("-e/--editable", why: "installs from a source tree Bouncer cannot verify", arguments: arguments)
        }
        if let unknown = invocation.unknownOption {
            return context.unsupported(unknown, why: "is not a pip install option Bouncer understands", arguments: arguments)
        }
        do {
            return try install(invocation, directDigests: scan.directDigests, context: context)
        } catch {
            return context.installStopped(error, tool: "pip")
        }
    }

    static func install(_ invocation: PipInvocation, directDigests: [String: [Digest]] = [:], context: ShimContext) throws -> Int32 {
        let work = try makePrivateDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let quiet = invocation.carried.contains { $0 == "-q" || $0 == "--quiet" || ($0.hasPrefix("-q") && !$0.hasPrefix("--")) }

        // 1. Resolve with the real pip: a dry run that reports what it would install.
        // -vv makes pip log every link it found on the index, with the page's own digests.
        let reportPath = work + "/report.json"
        var resolve = invocation.globalOptions + ["install", "--dry-run", "-vv", "--report", reportPath]
        // Building an sdist's metadata runs its code: enforce mode resolves to wheels only.
        if context.policy.enforce && !invocation.noBinary { resolve.append("--only-binary=:all:") }
        resolve += invocation.subcommandArguments.filter { $0 != "-q" && $0 != "--quiet" && $0 != "-v" && $0 != "--verbose" }
        let (resolved, log) = try HandOver.capture(context.realTool, resolve, environment: context.toolEnvironment)
        guard resolved == 0 else {
            ShimOutput.error("bouncer: pip: the real pip could not resolve the requirements (exit \(resolved)); nothing was installed")
            return resolved
        }
        guard let reportBytes = FileManager.default.contents(atPath: reportPath) else {
            throw BouncerError.io("pip wrote no installation report at \(reportPath)")
        }
        let found = PipIndexLinks.parseLog(log)
        let planned = try PipReport.parse([UInt8](reportBytes))
        if planned.isEmpty {
            if !quiet { ShimOutput.error("bouncer: pip: nothing to install (every requirement is already satisfied)") }
            return 0
        }

        // 2. Every artifact through the guard, with the digests pip's index and the requirement files state.
        var pinned: [String: [Digest]] = [:]
        for file in invocation.requirementFiles {
            let path = file.hasPrefix("/") ? file : context.environment.cwd + "/" + file
            for (name, digests) in try RequirementHashes.read(path) { pinned[name, default: []] += digests }
        }
        var stated = PipIndexLinks.resolve(found, for: planned.map(\.url))
        // `name @ URL#sha256=HEX`: the fragment is a digest the person stated (pip checks it too).
        for (url, digests) in directDigests {
            for digest in digests where !(stated[url] ?? []).contains(digest) { stated[url, default: []].append(digest) }
        }
        let locations = PipIndexLinks.locations(log)
        // With a minimum release age, each file's PEP 700 upload-time from the page pip found it on.
        let uploadTimes = context.policy.releaseTimesNeeded ? PipIndexLinks.uploadTimes(found, for: planned.map(\.url)) : [:]
        let requests = planned.map { item in
            ArtifactRequest(url: item.url, ecosystem: .pypi, package: PythonPackageName.normalised(item.name), version: item.version,
                            claimedDigests: (stated[item.url] ?? [])
                                + Self.requirementClaims(pinned[PythonPackageName.normalised(item.name)] ?? [], reported: item.indexDigests),
                            index: PipIndexLinks.index(ofPage: found[item.url]?.page, indexes: locations.indexes, links: locations.links),
                            releaseTime: uploadTimes[item.url])
        }
        let results = context.obtain(requests)
        var verified: [(PipPlannedArtifact, VerifiedArtifact)] = []
        defer { for (_, artifact) in verified { context.policy.release(artifact) } }
        var worst: ErrorFamily? = nil
        for (index, item) in planned.enumerated() {
            switch results[index] {
            case .success(let artifact):
                // The guard has checked the wheel's RECORD before pinning it.
                verified.append((item, artifact))
            case .failure(let error):
                ShimOutput.error("bouncer: pip: refused \(item.name) \(item.version) (\(Redaction.url(item.url))): \(error.message)")
                context.annotateRefusal("refused \(item.name) \(item.version): \(error.message)")
                if let hint = error.hint { ShimOutput.error("hint: \(hint)") }
                if worst == nil || error.family == .evidence { worst = error.family }
            }
        }
        if let worst {
            ShimOutput.error("bouncer: pip: nothing was installed")
            return worst.exitCode
        }

        // 3. The verified files in a private directory, under the file names pip expects.
        let wheels = work + "/verified"
        try Filesystem.makeDirectories(wheels)
        var lines: [String] = []
        for (item, artifact) in verified {
            guard let segment = URLParts.lastSegment(of: item.url) else {
                throw BouncerError(.evidence, code: "pip-file-name", "cannot name a file after \(Redaction.url(item.url))")
            }
            let name = URLParts.percentDecoded(segment)
            guard !name.contains("/"), !name.hasPrefix(".") else {
                throw BouncerError(.evidence, code: "pip-file-name", "unsafe file name '\(name)' in \(Redaction.url(item.url))")
            }
            try Placement.place(artifact.path, at: wheels + "/" + name, mode: .copy)
            lines.append("\(item.name)==\(item.version) --hash=sha256:\(artifact.sha256.hex)")
            context.report(artifact, as: name, quiet: quiet)
        }
        let requirements = work + "/verified-requirements.txt"
        guard FileManager.default.createFile(atPath: requirements, contents: Data((lines.joined(separator: "\n") + "\n").utf8)) else {
            throw BouncerError.io("cannot write \(requirements)")
        }

        // 4. The real pip installs exactly those files and cannot reach an index.
        // PIP_FIND_LINKS overrides a config file's find-links (other directories: only ours);
        // pip appends a --find-links to it, so naming the directory both ways listed it twice.
        // Under --isolated pip ignores the environment, so the option carries it instead.
        let isolated = invocation.globalOptions.contains("--isolated") || invocation.carried.contains("--isolated")
        let final = invocation.globalOptions + ["install", "--no-index"] + (isolated ? ["--find-links", wheels] : [])
            + ["--no-deps", "--require-hashes", "-r", requirements] + invocation.carried
        var environment = context.toolEnvironment
        environment["PIP_FIND_LINKS"] = wheels
        environment["PIP_NO_INDEX"] = "1"
        return try HandOver.run(context.realTool, final, environment: environment)
    }

    /// The digests a requirement's `--hash` values claim for one file. pip
    /// accepts a file when any one of them matches (pip-compile lists one per
    /// wheel and sdist of the release), while every claimed digest must match
    /// in the guard: so with several values, claim those pip's dry run saw on
    /// this file (the report's hashes, which pip checked against the list),
    /// never a value the person did not list. When none of them was seen
    /// (another algorithm), claim them all: the file cannot match them all,
    /// so it is refused (fail closed) rather than checked against fewer.
    static func requirementClaims(_ listed: [Digest], reported: [Digest]) -> [Digest] {
        guard listed.count > 1 else { return listed }
        let seen = listed.filter { reported.contains($0) }
        return seen.isEmpty ? listed : seen
    }

    static func makePrivateDirectory() throws(BouncerError) -> String {
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((base + "/bouncer-pip-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw .io("cannot create a private directory in \(base)") }
        return String(cString: made)
    }
}
