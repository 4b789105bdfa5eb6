import FoundationEssentials
import BouncerBase
import BouncerIO
import BouncerPolicy

/// `docker import URL` / `podman import URL` (also `image import`): the real
/// tool downloads the tarball itself and makes an image of it, no registry
/// and no signature involved. Behind the shim the URL is a download like
/// curl's: obtained through the guard (the policy's rule for that URL, the
/// lock), and the real tool imports the verified copy from a private file.
/// A local file or `-` (standard input) is the user's own and passes through.
enum ContainerImport {
    /// Options of import that take a value (docker's and podman's `--help`), and that take none.
    static let valueOptions: Set<String> = ["-c", "--change", "-m", "--message", "--platform", "--arch", "--os", "--variant",
                                            "--signature-policy"]
    static let flags: Set<String> = ["-q", "--quiet", "--help"]

    /// The position of the URL an import would download, nil for anything
    /// else (another subcommand, a local file, standard input).
    static func urlIndex(_ arguments: [String], subcommand: Int) throws(BouncerError) -> Int? {
        var index = subcommand
        if arguments[index] == "image" { index += 1 }
        guard index < arguments.count, arguments[index] == "import" else { return nil }
        guard let source = try ContainerShim.operandIndex(arguments, after: index, flags: flags, valued: valueOptions,
                                                          what: "import", operand: "source", seen: { _, _ in }) else { return nil }
        let scheme = arguments[source].prefix { $0 != ":" }.lowercased()
        return scheme == "http" || scheme == "https" ? source : nil
    }

    /// Obtains the URL at `index` through the guard and runs the real tool on the verified copy.
    static func run(_ arguments: [String], urlIndex index: Int, context: ShimContext) -> Int32 {
        let tool = context.environment.tool
        let url = arguments[index]
        guard let result = context.obtain([ArtifactRequest(url: url, ecosystem: .url)]).first else { return ErrorFamily.configuration.exitCode }
        switch result {
        case .failure(let error):
            ShimOutput.error("bouncer: \(tool): \(error.message)")
            context.annotateRefusal(error.message)
            if let hint = error.hint { ShimOutput.error("hint: \(hint)") }
            ShimOutput.error("bouncer: \(tool): nothing was imported")
            return error.family.exitCode
        case .success(let artifact):
            defer { context.policy.release(artifact) }
            do {
                let work = try Filesystem.makePrivateDirectory(prefix: "bouncer-import")
                defer { try? FileManager.default.removeItem(atPath: work) }
                let copy = work + "/" + (URLParts.lastSegment(of: url).map(URLParts.percentDecoded).flatMap(safeName) ?? "image.tar")
                try Placement.place(artifact.path, at: copy, mode: .copy)
                context.report(artifact, as: Redaction.url(url), quiet: false)
                var rewritten = arguments
                rewritten[index] = copy
                // A child, not exec: the verified copy is removed once the tool has read it.
                return try HandOver.run(context.realTool, context.toolArguments + rewritten, environment: context.toolEnvironment)
            } catch {
                ShimOutput.error("bouncer: \(tool): \(error)")
                return ErrorFamily.configuration.exitCode
            }
        }
    }

    /// A URL's last segment as a file name in the private directory, when it is safe as one.
    static func safeName(_ name: String) -> String? {
        name.isEmpty || name.contains("/") || name.hasPrefix(".") ? nil : name
    }
}
