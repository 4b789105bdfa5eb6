#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerIO
import BouncerPolicy
import CSystemShims
/// `curl` behind Bouncer: every URL is obtained through the guard; only
/// verified bytes reach the file curl would have written, or standard output
/// (so `curl URL | sh` sees nothing until the whole body is verified).
public enum CurlShim {
    public static func run(_ arguments: [String], context: ShimContext) -> Int32 {
        switch CurlArguments.parse(arguments) {
        case .passThrough(let reason):
            if !isSilent(arguments) && reason != "--version" && reason != "--help" {
                ShimOutput.error("bouncer: curl: not an artifact download (\(reason)); the real curl runs it unverified")
            }
            return context.passThrough(ignoringCurlrc(arguments))
        case .unsupported(let option, let why):
            return context.unsupported(option, why: why, arguments: ignoringCurlrc(arguments))
        case .usage(let message):
            ShimOutput.error("curl: \(message)")
            return 2
        case .curlError(let code, let message):
            ShimOutput.error("curl: (\(code)) \(message)")
            return code
        case .download(let invocation):
            for transfer in invocation.transfers where !(transfer.url.hasPrefix("http://") || transfer.url.hasPrefix("https://")) {
                return context.unsupported(Redaction.url(transfer.url), why: "is not an http or https URL", arguments: ignoringCurlrc(arguments))
            }
            return download(invocation, context: context)
        }
    }

    static func download(_ invocation: CurlInvocation, context: ShimContext) -> Int32 {
        // Destinations first: a usage problem is reported before anything is fetched.
        var destinations: [String?] = []
        for transfer in invocation.transfers {
            switch transfer.output {
            case .standardOutput: destinations.append(nil)
            case .file(let path): destinations.append(inOutputDir(path, invocation.outputDir))
            case .remoteName:
                guard let name = URLParts.lastSegment(of: transfer.url) else {
                    ShimOutput.error("curl: (23) Remote file name has no length: \(Redaction.url(transfer.url))")
                    return 23
                }
                destinations.append(inOutputDir(name, invocation.outputDir))
            }
        }
        let requests = invocation.transfers.map { ArtifactRequest(url: $0.url, ecosystem: .url) }
        // `-m`: fetching and verifying within the limit, as curl's transfer; nothing is written past it.
        if let maxTime = invocation.maxTime { MaxTime.arm(maxTime) }
        let results = context.obtain(requests)
        MaxTime.disarm()
        var status: Int32 = 0
        for index in invocation.transfers.indices {
            switch results[index] {
            case .failure(let error):
                // Refusals are always shown: they are Bouncer speaking, not curl's progress.
                ShimOutput.error("bouncer: curl: \(error.message)")
                context.annotateRefusal(error.message)
                if let hint = error.hint { ShimOutput.error("hint: \(hint)") }
                ShimOutput.error("bouncer: curl: nothing was written to \(destinations[index] ?? "standard output")")
                status = exitCode(for: error)
            case .success(let artifact):
                defer { context.policy.release(artifact) }
                do {
                    if let destination = destinations[index] {
                        if invocation.createDirs { try Filesystem.makeDirectories(Filesystem.split(destination).directory) }
                        try Placement.place(artifact.path, at: destination, mode: .copy)
                    } else {
                        try Placement.toStandardOutput([artifact.path])
                    }
                    context.report(artifact, as: destinations[index] ?? "standard output", quiet: invocation.silent)
                } catch {
                    ShimOutput.error("curl: (23) \(error.message)")
                    status = 23
                }
            }
        }
        return status
    }

    /// curl reads ~/.curlrc (or $CURL_HOME/.curlrc, $XDG_CONFIG_HOME/.curlrc)
    /// unless -q comes first; a .curlrc can add URLs, outputs and headers the
    /// shim never saw. Bouncer's own fetch ignores it, and the real curl is
    /// always started with -q so that it cannot turn a call the shim judged
    /// into another one.
    static func ignoringCurlrc(_ arguments: [String]) -> [String] {
        if let first = arguments.first, first == "-q" || first == "--disable" { return arguments }
        return ["-q"] + arguments
    }

    /// -s, --silent, or a short cluster holding s before any option that takes a value (-sI, -fsS).
    static func isSilent(_ arguments: [String]) -> Bool {
        arguments.contains { argument in
            if argument == "--silent" { return true }
            guard argument.hasPrefix("-"), !argument.hasPrefix("--") else { return false }
            for letter in argument.dropFirst() {
                if letter == "s" { return true }
                if case .flag? = CurlArguments.short[letter]?.1 { continue }
                if case .passFlag? = CurlArguments.short[letter]?.1 { continue }
                return false
            }
            return false
        }
    }

    /// curl puts every output name under `--output-dir`, an absolute one too (`od` and `/abs/x`: `od/abs/x`).
    static func inOutputDir(_ path: String, _ outputDir: String?) -> String {
        // An empty --output-dir is none, as curl reads it (`--output-dir "$UNSET"` had written into /).
        guard let outputDir, !outputDir.isEmpty else { return path }
        let name = path.drop { $0 == "/" }
        return outputDir.hasSuffix("/") ? outputDir + name : outputDir + "/" + name
    }

    /// curl's own exit codes for transport failures (scripts test for 22 after
    /// `-f`, 7, 28); Bouncer's for refusals: 1 evidence, 2 configuration.
    public static func exitCode(for error: BouncerError) -> Int32 {
        switch error.code {
        case "fetch-http-status": 22
        case "fetch-connection": 7
        case "fetch-stalled": 28
        case "fetch-truncated": 18
        case "fetch-too-many-redirects": 47
        case "fetch-invalid-url": 3
        case "fetch-transport": 56
        case "io", "fetch-io": 23
        default:
            switch error.family {
            case .evidence: 1
            case .configuration: 2
            case .transport: 56
            }
        }
    }
}

/// curl's `-m`: when the limit passes before the artifacts are fetched and
/// verified, the shim stops as curl does (exit 28), having written nothing,
/// and leaving no download in the store's temp folder (`ExitCleanup`).
/// A timer signal, since the fetches run in libcurl and the guard below the shim.
enum MaxTime {
    static func arm(_ seconds: Double) {
        ExitCleanup.enable()
        signal(SIGALRM) { _ in
            // Only what a signal handler may call: unlink(2), write(2) and _exit.
            bouncer_exit_cleanup_run()
            let text: StaticString = "curl: (28) Operation timed out (--max-time): nothing was written\n"
            _ = write(2, text.utf8Start, text.utf8CodeUnitCount)
            _exit(28)
        }
        var timer = itimerval()
        timer.it_value.tv_sec = Int(seconds.rounded(.down))
        timer.it_value.tv_usec = max(Int((seconds - seconds.rounded(.down)) * 1_000_000), seconds < 1e-6 ? 1 : 0)
        setitimer(__itimer_which_t(ITIMER_REAL.rawValue), &timer, nil)
    }

    static func disarm() {
        var off = itimerval()
        setitimer(__itimer_which_t(ITIMER_REAL.rawValue), &off, nil)
    }
}
