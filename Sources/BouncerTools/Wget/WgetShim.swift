import FoundationEssentials
import BouncerBase
import BouncerIO
import BouncerPolicy

/// `wget` behind Bouncer: files land under the names and in the places wget
/// would use (`-O`, `-P`, `name.1` when the name is taken), only after verification.
public enum WgetShim {
    public static func run(_ arguments: [String], context: ShimContext) -> Int32 {
        switch WgetArguments.parse(arguments, posixlyCorrect: context.environment.variables["POSIXLY_CORRECT"] != nil) {
        case .passThrough(let reason):
            if !(arguments.contains("-q") || arguments.contains("--quiet")) && reason != "--version" && reason != "--help" {
                ShimOutput.error("bouncer: wget: not an artifact download (\(reason)); the real wget runs it unverified")
            }
            return context.passThrough(ignoringWgetrc(arguments))
        case .unsupported(let option, let why):
            return context.unsupported(option, why: why, arguments: ignoringWgetrc(arguments))
        case .usage(let message):
            ShimOutput.error("wget: \(message)")
            return 2
        case .download(let invocation):
            for url in invocation.urls where !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
                return context.unsupported(Redaction.url(url), why: "is not an http or https URL", arguments: ignoringWgetrc(arguments))
            }
            return download(invocation, context: context)
        }
    }

    static func download(_ invocation: WgetInvocation, context: ShimContext) -> Int32 {
        let results = context.obtain(invocation.urls.map { ArtifactRequest(url: $0, ecosystem: .url) })
        var verified: [(url: String, artifact: VerifiedArtifact)] = []
        var status: Int32 = 0
        defer { for item in verified { context.policy.release(item.artifact) } }
        for (index, url) in invocation.urls.enumerated() {
            switch results[index] {
            case .success(let artifact): verified.append((url, artifact))
            case .failure(let error):
                ShimOutput.error("bouncer: wget: \(error.message)")
                context.annotateRefusal(error.message)
                if let hint = error.hint { ShimOutput.error("hint: \(hint)") }
                ShimOutput.error("bouncer: wget: nothing was written for \(Redaction.url(url))")
                status = exitCode(for: error)
            }
        }
        do {
            if let document = invocation.outputDocument {
                // wget -O concatenates every body into one file; it appears only if all were verified.
                guard status == 0 else { return status }
                // -nc keeps an existing -O FILE, as wget keeps it (exit 1).
                if invocation.noClobber, document != "-", FileManager.default.fileExists(atPath: document) {
                    ShimOutput.error("File ‘\(document)’ already there; not retrieving.")
                    return 1
                }
                if document == "-" {
                    for item in verified { try Placement.toStandardOutput([item.artifact.path]) }
                } else {
                    // wget writes -O FILE where it names, whatever -P says.
                    try Placement.place(verified.map(\.artifact.path), at: document, mode: .copy)
                }
                for item in verified {
                    context.report(item.artifact, as: document == "-" ? "standard output" : "‘\(document)’", quiet: invocation.quiet)
                }
                return 0
            }
            if let prefix = invocation.prefix, !prefix.isEmpty { try Filesystem.makeDirectories(prefix) }
            for item in verified {
                let base = inPrefix(WgetArguments.fileName(for: item.url), invocation.prefix)
                var path = base
                if FileManager.default.fileExists(atPath: base) && !invocation.resume {
                    if invocation.noClobber {
                        if !invocation.quiet { ShimOutput.error("File ‘\(base)’ already there; not retrieving.") }
                        continue
                    }
                    // wget keeps the old file and numbers the new one.
                    var counter = 1
                    while FileManager.default.fileExists(atPath: "\(base).\(counter)") { counter += 1 }
                    path = "\(base).\(counter)"
                }
                try Placement.place(item.artifact.path, at: path, mode: .copy)
                context.report(item.artifact, as: "‘\(path)’", quiet: invocation.quiet)
            }
        } catch {
            ShimOutput.error("wget: \(error.message)")
            return 3
        }
        return status
    }

    /// A wgetrc (/etc/wgetrc, ~/.wgetrc, $WGETRC) can set `input`, `method`,
    /// `output_document` and headers the shim never saw: the real wget runs
    /// with --no-config, as Bouncer's own fetch ignores them too.
    /// First, always: a `--no-config` further on may be no option to wget (after `--`, or
    /// after the first URL under POSIXLY_CORRECT it is a URL), and wget takes it twice.
    static func ignoringWgetrc(_ arguments: [String]) -> [String] {
        arguments.first == "--no-config" ? arguments : ["--no-config"] + arguments
    }

    static func inPrefix(_ path: String, _ prefix: String?) -> String {
        // An empty prefix is none (`-P "$UNSET"`), as wget reads it.
        guard let prefix, !prefix.isEmpty, !path.hasPrefix("/"), path != "-" else { return path }
        return prefix.hasSuffix("/") ? prefix + path : prefix + "/" + path
    }

    /// wget's exit codes: 8 server error response, 4 network failure, 3 file
    /// I/O, 2 usage; Bouncer's 1 for refused evidence.
    public static func exitCode(for error: BouncerError) -> Int32 {
        switch error.code {
        case "fetch-http-status": 8
        case "fetch-connection", "fetch-stalled", "fetch-truncated", "fetch-transport", "fetch-too-many-redirects": 4
        case "io", "fetch-io": 3
        default:
            switch error.family {
            case .evidence: 1
            case .configuration: 2
            case .transport: 4
            }
        }
    }
}
