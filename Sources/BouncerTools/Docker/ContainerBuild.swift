import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerIO
import BouncerPolicy

/// `docker build` / `podman build` (also `image build`, `builder build`,
/// `buildx build`): the builder pulls every image the Dockerfile names
/// itself (`FROM`, `COPY --from`, `RUN --mount=…,from=`, BuildKit's
/// `# syntax=` frontend), past the pull shim. Behind the shim each is
/// verified under the policy as a pull is (`DockerfileImages` finds them),
/// and the real builder is given a private copy of the Dockerfile (`-f`)
/// with each replaced by the digest verified, so it pulls exactly those.
/// podman's `--from IMAGE` and a `--build-context NAME=docker-image://IMAGE`
/// are verified and rewritten the same way.
///
/// What would bring content in unverified is refused in enforce mode: a
/// remote context (a URL or git address the builder fetches), a context
/// tarball on standard input, `--cache-from` (cached layers from a registry
/// stand in for the build's own steps), an `ADD` of a URL, a
/// `BUILDKIT_SYNTAX` build argument, `buildx bake`. A Dockerfile on standard
/// input (`-f -`, or `-` as the context) is read by Bouncer and handed on as
/// a file.
enum ContainerBuild {
    /// Options of build (docker's, buildx's and podman's `--help`) that take a value.
    static let valueOptions: Set<String> = [
        "--add-host", "--allow", "--annotation", "--arch", "--attest", "--authfile", "--build-arg", "--build-arg-file", "--build-context",
        "--builder", "--cache-from", "--cache-to", "--cache-ttl", "--call", "--cap-add", "--cap-drop", "--cert-dir",
        "--cgroup-parent", "--cgroupns", "--cpp-flag", "--cpu-period", "--cpu-quota", "--cpu-shares", "--cpuset-cpus",
        "--cpuset-mems", "--creds", "--decryption-key", "--device", "--dns", "--dns-option", "--dns-search", "--env",
        "--file", "--format", "--from", "--hooks-dir", "--ignorefile", "--iidfile", "--ipc", "--isolation", "--jobs",
        "--label", "--logfile", "--manifest", "--memory", "--memory-swap", "--metadata-file", "--network",
        "--no-cache-filter", "--os", "--os-feature", "--os-version", "--output", "--pid", "--platform", "--progress",
        "--retry", "--retry-delay", "--runtime-flag", "--secret", "--security-opt", "--shm-size", "--sign-by", "--ssh",
        "--tag", "--target", "--timestamp", "--ulimit", "--unsetenv", "--userns", "--userns-gid-map",
        "--userns-gid-map-group", "--userns-uid-map", "--userns-uid-map-user", "--uts", "--variant", "--volume",
        "-c", "-f", "-m", "-o", "-t", "-v",
    ]
    /// Options of build that take no value (`--pull` among them: podman reads
    /// a value only after `=`, docker's is a flag).
    static let flags: Set<String> = [
        "--all-platforms", "--check", "--compress", "--disable-compression", "--disable-content-trust", "--force-rm",
        "--help", "--http-proxy", "--identity-label", "--layers", "--load", "--logsplit", "--no-cache", "--no-hosts",
        "--omit-history", "--pull", "--push", "--quiet", "--rm", "--skip-unused-stages", "--squash", "--squash-all",
        "--stdin", "--tls-verify", "-D", "-h", "-q",
    ]

    /// What a build command line says, as far as the images are concerned.
    struct Call {
        /// Where the subcommand's words end (build, `image build`, `buildx build`).
        var verbEnd: Int
        /// The context operand's position, nil for none (podman: the current directory).
        var contextIndex: Int?
        /// Each `-f`: the argument positions it spans (one for `--file=F`, two for `-f F`) and its value.
        var files: [(positions: [Int], value: String, keep: String?)] = []
        var buildArguments: [(name: String, value: String?)] = []
        /// podman's `--build-arg-file FILE` (NAME=VALUE lines), read before the `--build-arg`s.
        var buildArgumentFiles: [String] = []
        /// `--build-context NAME=VALUE` with the position of the word holding the value.
        var buildContexts: [(name: String, value: String, position: Int, inline: Bool)] = []
        /// podman's `--from IMAGE`.
        var from: (value: String, position: Int, inline: Bool)?
        var platforms: [String] = []
        /// `--os`, `--arch`, `--variant`: one platform, when `--platform` names none.
        var os: String?
        var arch: String?
        var variant: String?
        var allPlatforms = false
        var plainHTTP = false
        var cacheFrom: String?
    }

    /// Where a build's words end after the subcommand at `subcommand`, nil
    /// when it is no build. `buildx bake` is refused: its files name images
    /// and contexts Bouncer does not read.
    static func verbEnd(_ arguments: [String], subcommand: Int) throws(BouncerError) -> Int? {
        var index = subcommand
        let first = arguments[index]
        if first == "image" || first == "builder" { index += 1 }
        else if first == "buildx" {
            index += 1
            // buildx's own option before its subcommand.
            while index < arguments.count, arguments[index].hasPrefix("-") {
                if arguments[index] == "--builder" { index += 2 }
                else if arguments[index].hasPrefix("--builder=") { index += 1 }
                else if ["-h", "--help"].contains(arguments[index]) { return nil }
                // The root's options are taken here too (`buildx --log-level=info build`): the verb is unknown.
                else { throw .usage("option \(arguments[index]) between 'buildx' and its command hides the command from Bouncer; give it before 'buildx'") }
            }
            if index < arguments.count, arguments[index] == "bake" {
                throw .usage("buildx bake builds from bake files, whose images and contexts Bouncer does not read")
            }
            if index < arguments.count, arguments[index] == "b" { return index + 1 }
        }
        guard index < arguments.count, arguments[index] == "build" else { return nil }
        if first == "image" || first == "builder" || first == "buildx" || index == subcommand { return index + 1 }
        return nil
    }

    /// Reads every option of a build (they may follow the context, as pflag allows).
    static func parse(_ arguments: [String], verbEnd: Int) throws(BouncerError) -> Call {
        var call = Call(verbEnd: verbEnd)
        var operands: [Int] = []
        var index = verbEnd
        func take(_ name: String, _ value: String, _ positions: [Int], inline: Bool) throws(BouncerError) {
            switch name {
            case "-f", "--file":
                // What of a run of one-letter options stays when -f is taken out (-qf F keeps -q).
                let word = arguments[positions[0]]
                let keep = word.hasPrefix("--") || word.hasPrefix("-f") ? nil : String(word.prefix { $0 != "f" })
                call.files.append((positions, value, keep))
            case "--build-arg":
                if let equals = value.firstIndex(of: "=") {
                    call.buildArguments.append((String(value[..<equals]), String(value[value.index(after: equals)...])))
                } else {
                    call.buildArguments.append((value, nil))
                }
            case "--build-context":
                guard let equals = value.firstIndex(of: "=") else { throw .usage("--build-context \(value): expected NAME=VALUE") }
                call.buildContexts.append((String(value[..<equals]), String(value[value.index(after: equals)...]), positions.last ?? index, inline))
            case "--from": call.from = (value, positions.last ?? index, inline)
            case "--build-arg-file": call.buildArgumentFiles.append(value)
            case "--platform": call.platforms += value.split(separator: ",").map(String.init)
            case "--os": call.os = value
            case "--arch": call.arch = value
            case "--variant": call.variant = value
            case "--tls-verify": call.plainHTTP = OptionWords.isFalse(value)
            case "--cache-from": call.cacheFrom = value
            default: break
            }
        }
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" {
                operands += Array((index + 1)..<arguments.count)
                break
            }
            guard argument.hasPrefix("-"), argument != "-" else {
                operands.append(index)
                index += 1
                continue
            }
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                let name = String(argument[..<equals])
                guard valueOptions.contains(name) || flags.contains(name) else {
                    throw .usage("build: option '\(name)' is not one Bouncer knows, so it cannot tell what it changes")
                }
                try take(name, String(argument[argument.index(after: equals)...]), [index], inline: true)
                index += 1
            } else if valueOptions.contains(argument) {
                guard index + 1 < arguments.count else { throw .usage("build: \(argument) needs a value") }
                try take(argument, arguments[index + 1], [index, index + 1], inline: false)
                index += 2
            } else if flags.contains(argument) {
                if argument == "--all-platforms" { call.allPlatforms = true }
                index += 1
            } else if !argument.hasPrefix("--") {
                // A word of one-letter options, as pflag reads it (-qfFILE, -qf FILE, -f=FILE).
                guard let run = ShortOptions.read(argument, flags: flags, valued: valueOptions) else {
                    throw .usage("build: cannot tell what the options in '\(argument)' take, so the context argument is unknown")
                }
                if let valued = run.options.last, valueOptions.contains(valued.name) {
                    if run.takesNextWord {
                        guard index + 1 < arguments.count else { throw .usage("build: \(valued.name) needs a value") }
                        try take(valued.name, arguments[index + 1], [index, index + 1], inline: false)
                    } else if let value = valued.value {
                        try take(valued.name, value, [index], inline: true)
                    }
                }
                index += run.takesNextWord ? 2 : 1
            } else {
                throw .usage("build: cannot tell whether option '\(argument)' takes a value, so the context argument is unknown (write it as \(argument)=VALUE if it takes one)")
            }
        }
        guard operands.count <= 1 else { throw .usage("build takes one context; Bouncer found \(operands.count)") }
        // The builder picks images for --os/--arch/--variant as for a --platform (red team, round 7).
        if call.platforms.isEmpty, let platform = ContainerShim.platform(os: call.os, arch: call.arch, variant: call.variant) {
            call.platforms = [platform]
        }
        call.contextIndex = operands.first
        return call
    }

    /// podman's `--build-arg-file`: NAME=VALUE lines; blank lines and `#` comments skipped.
    static func buildArgumentFile(_ path: String) throws(BouncerError) -> [String: String] {
        let text = String(decoding: try read(path, limit: 1 << 20, what: "build argument file"), as: UTF8.self)
        var values: [String: String] = [:]
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw .usage("with the build argument file \(path) line \(number + 1): expected NAME=VALUE")
            }
            values[String(trimmed[..<equals])] = String(trimmed[trimmed.index(after: equals)...])
        }
        return values
    }

    /// `localhost/NAME` (podman's name for a local build) or an image ID (`sha256:HEX`,
    /// 12 to 64 hex digits): an image only this machine has.
    static func isMachineOwn(_ reference: String) -> Bool {
        let lower = reference.lowercased()
        if lower.hasPrefix("localhost/") { return true }
        let hex = lower.hasPrefix("sha256:") ? lower.dropFirst(7) : lower[...]
        return (lower.hasPrefix("sha256:") ? hex.count == 64 : (12...64).contains(hex.count)) && hex.allSatisfy(\.isHexDigit)
    }

    /// A context or Dockerfile the builder would fetch itself.
    static func isRemote(_ location: String) -> Bool {
        let lowered = location.lowercased()
        return lowered.contains("://") || lowered.hasPrefix("git@") || lowered.hasPrefix("github.com/")
    }

    static func run(_ arguments: [String], verbEnd: Int, context: ShimContext, policy: Policy) -> Int32 {
        let tool = context.environment.tool
        // buildah is podman's builder: the same Containerfile, `--from`, no `# syntax` frontend.
        let podman = tool == "podman" || tool == "buildah"
        let call: Call
        do { call = try parse(arguments, verbEnd: verbEnd) } catch {
            return context.unsupported(arguments.dropFirst(verbEnd).first { $0.hasPrefix("-") } ?? "build", why: error.description, arguments: arguments)
        }
        func refuse(_ why: String) -> Int32 { context.unsupportedCommand("build", why: why, arguments: arguments) }
        if let cache = call.cacheFrom {
            return refuse("--cache-from \(cache) would take layers from that cache in place of the build's own steps, unverified")
        }
        if call.buildArguments.contains(where: { $0.name == "BUILDKIT_SYNTAX" }) {
            return refuse("with BUILDKIT_SYNTAX names a frontend image Bouncer does not verify; use a # syntax= line, which it does")
        }
        guard call.files.count <= 1 else { return refuse("with \(call.files.count) -f files: Bouncer reads one Dockerfile") }

        // The context, and the Dockerfile the builder would read.
        let contextText = call.contextIndex.map { arguments[$0] }
        if let contextText, contextText != "-", isRemote(contextText) {
            return refuse("of the remote context \(contextText): the builder fetches it itself, unverified (fetch it through the shims, then build the local copy)")
        }
        let contextDirectory = contextText.flatMap { $0 == "-" ? nil : $0 } ?? "."
        var dockerfile: (path: String?, bytes: [UInt8])
        do {
            dockerfile = try readDockerfile(call: call, contextText: contextText, contextDirectory: contextDirectory, podman: podman)
        } catch {
            return refuse(error.message)
        }
        let shownFile = dockerfile.path ?? "the Dockerfile on standard input"
        if podman, let path = dockerfile.path, path.hasSuffix(".in") {
            return refuse("of \(path): podman runs a Containerfile named *.in through the C preprocessor (#include), which Bouncer does not")
        }

        var settings = DockerfileImages.Settings()
        let variables = context.environment.inherited ?? context.environment.variables
        do {
            for file in call.buildArgumentFiles { settings.buildArguments.merge(try buildArgumentFile(file)) { _, later in later } }
        } catch {
            return refuse(error.message)
        }
        settings.buildArguments = Self.apply(call.buildArguments, to: settings.buildArguments, environment: variables)
        settings.namedContexts = Set(call.buildContexts.map(\.name))
        if call.platforms.count == 1, let platform = call.platforms.first { settings.targetPlatform = platform }
        // buildah defines TARGETARCH and the rest for FROM only under --platform (BuildKit always does).
        settings.platformArgumentsInFrom = !podman || !call.platforms.isEmpty
        let images: DockerfileImages
        do { images = try DockerfileImages.read(dockerfile.bytes, settings: settings) } catch {
            return refuse("of \(shownFile), \(error)")
        }

        // Every image the build pulls, verified; each written place gets the digest.
        let allowHTTP = call.plainHTTP || variables["BOUNCER_IMAGE_ALLOW_HTTP"] == "1"
        let platform = call.platforms.count == 1 ? call.platforms.first : nil
        var fileReplacements: [(range: Range<Int>, text: String)] = []
        var rewritten = arguments
        /// Stops the build with a refusal's status.
        struct Refused: Error { var status: Int32 }
        /// Stops the build as one Bouncer cannot tell the images of.
        struct Untellable: Error { var why: String }
        func pin(_ text: String, _ platform: String?) throws -> String { try verified(text, platform).pinned }
        func verified(_ text: String, _ platform: String?) throws -> (pinned: String, source: RegistryImageSource) {
            let (check, source) = try ContainerShim.checkedSource(text, platform: platform, allowHTTP: allowHTTP, policy: policy, context: context, stopped: "nothing was built")
            switch check {
            case .pinned(let pinned): return (pinned, source)
            case .refused(let status): throw Refused(status: status)
            }
        }
        /// A base image's pinned digest, its ONBUILD triggers read: the build runs them as
        /// its own instructions, where a `COPY --from=IMAGE` pulls unverified (red team, round 6).
        func base(_ text: String, _ platform: String?, shown: String, everyPlatform: Bool = false) throws -> String {
            // (The registry the check read from: its token, and the manifests it read by digest.)
            let (pinned, source) = try verified(text, platform)
            // Every platform the build is for: the triggers of each image it builds FROM.
            let platforms = try (platform.map { [$0] } ?? call.platforms).map(OCIPlatform.init(parsing:))
            let reference = try ImageReference(parsing: pinned)
            guard let digest = reference.digest else { return pinned }
            let every = everyPlatform || (call.allPlatforms && platform == nil)
            for (image, trigger) in try source.onBuildTriggers(of: digest, platforms: platforms, every: every) {
                if let why = DockerfileImages.baseImageTriggerProblem(trigger) {
                    throw Untellable(why: "of \(shown): the image \(reference.name)@\(image) carries the ONBUILD trigger '\(trigger.prefix(200))', which this build runs as its own instruction, and \(why)")
                }
            }
            return pinned
        }
        do {
            // podman's --from replaces the image of the first FROM (stage 0), whatever that named.
            let skipFirstFrom = podman && call.from != nil
            if podman, let from = call.from {
                if Self.isMachineOwn(from.value) {
                    return refuse("--from \(from.value): an image of this machine's own, which Bouncer does not verify (nor read the ONBUILD triggers of) in a build; build from the registry image it came from, pulled through the shim")
                }
                ShimOutput.error("bouncer: \(tool): build: --from \(from.value)")
                let pinned = try base(from.value, platform, shown: "--from \(from.value)")
                rewritten[from.position] = from.inline ? String(arguments[from.position].prefix { $0 != "=" }) + "=" + pinned : pinned
            }
            for named in call.buildContexts {
                let schemes = ["docker-image://", "container-image://"]
                if let scheme = schemes.first(where: { named.value.hasPrefix($0) }) {
                    let image = String(named.value.dropFirst(scheme.count))
                    ShimOutput.error("bouncer: \(tool): build: --build-context \(named.name)=\(named.value)")
                    // `FROM NAME` builds on the context's image, and runs its triggers (red team, round 8).
                    let pinned = try base(image, platform, shown: "--build-context \(named.name)=\(named.value)")
                    let value = named.name + "=" + scheme + pinned
                    rewritten[named.position] = named.inline ? String(arguments[named.position].prefix { $0 != "=" }) + "=" + value : value
                } else if isRemote(named.value) || !FileManager.default.fileExists(atPath: named.value) {
                    // Not a local path: a URL or git address the builder fetches, or (to buildah) an image name.
                    return refuse("--build-context \(named.name)=\(named.value): not a local directory, so the builder would fetch it itself, unverified (a local directory or docker-image://IMAGE is verified)")
                }
            }
            let severalPlatforms = call.platforms.count > 1 || call.allPlatforms
            for use in images.uses {
                // buildah ignores the syntax directive; BuildKit pulls that frontend.
                if use.place == .syntax && podman { continue }
                if severalPlatforms, use.written(in: dockerfile.bytes).contains("$") {
                    return refuse("for several platforms: \(shownFile) line \(use.line) names its image with variables, which may name another image per platform; Bouncer verifies one")
                }
                if use.place == .from && use.stage == 0 && skipFirstFrom { continue }
                // A local build's name or an image ID is on no registry: said plainly, not as a failed fetch.
                if use.place != .syntax, Self.isMachineOwn(use.reference) {
                    return refuse("of \(shownFile) line \(use.line): \(use.place.rawValue) \(use.reference) names an image of this machine's own, which Bouncer does not verify (nor read the ONBUILD triggers of) in a build; build from the registry image it came from, pulled through the shim")
                }
                ShimOutput.error("bouncer: \(tool): build: \(shownFile) line \(use.line): \(use.place.rawValue) \(use.reference)")
                // A FROM --platform written with a variable: the builder may work it out otherwise (buildah,
                // BuildKit, their versions), so the triggers of every image of an index are read.
                let pinned = use.place == .from ? try base(use.reference, use.platform ?? platform, shown: "\(shownFile) line \(use.line): FROM \(use.reference)",
                                                           everyPlatform: use.platformHasVariable)
                    : try pin(use.reference, platform)
                fileReplacements.append((use.range, pinned))
            }
        } catch let refused as Refused {
            return refused.status
        } catch let untellable as Untellable {
            return refuse(untellable.why)
        } catch {
            return ContainerShim.failed(error, context: context)
        }

        // The builder reads the rewritten copy: -f replaced (or given), a `-` context made an empty directory.
        do {
            let work = try Filesystem.makePrivateDirectory(prefix: "bouncer-build")
            defer { try? FileManager.default.removeItem(atPath: work) }
            let base = dockerfile.path.flatMap { $0.split(separator: "/").last.map(String.init) }
            let name = base.flatMap { $0.hasPrefix(".") ? nil : $0 } ?? "Dockerfile"
            let copy = work + "/" + name
            try Data(DockerfileImages.rewrite(dockerfile.bytes, fileReplacements)).write(to: URL(fileURLWithPath: copy))
            if let original = dockerfile.path {
                // BuildKit reads NAME.dockerignore beside the Dockerfile before the context's .dockerignore.
                let ignore = original + ".dockerignore"
                if FileManager.default.fileExists(atPath: ignore) {
                    try FileManager.default.copyItem(atPath: ignore, toPath: copy + ".dockerignore")
                }
            }
            var emptyContext: String? = nil
            if let contextIndex = call.contextIndex, arguments[contextIndex] == "-" {
                emptyContext = work + "/context"
                try FileManager.default.createDirectory(atPath: work + "/context", withIntermediateDirectories: false)
            }
            let final = handedOver(rewritten, call: call, dockerfile: copy, emptyContext: emptyContext)
            return try HandOver.run(context.realTool, context.toolArguments + final, environment: context.toolEnvironment)
        } catch {
            ShimOutput.error("bouncer: \(tool): \(error)")
            return ErrorFamily.configuration.exitCode
        }
    }

    /// The builder's command line: the user's (`arguments`, its images
    /// already rewritten) with every `-f` taken out (a run of one-letter
    /// options keeps its other letters) and `-f DOCKERFILE` put right after
    /// the build's own words, and a `-` context replaced by `emptyContext`.
    static func handedOver(_ arguments: [String], call: Call, dockerfile: String, emptyContext: String?) -> [String] {
        var words = arguments
        var dropped = Set<Int>()
        for file in call.files {
            dropped.formUnion(file.positions)
            if let keep = file.keep, let first = file.positions.first {
                words[first] = keep
                dropped.remove(first)
            }
        }
        if let emptyContext, let contextIndex = call.contextIndex { words[contextIndex] = emptyContext }
        let kept = words.indices.filter { !dropped.contains($0) }
        return kept.filter { $0 < call.verbEnd }.map { words[$0] } + ["-f", dockerfile] + kept.filter { $0 >= call.verbEnd }.map { words[$0] }
    }

    /// The Dockerfile the builder would read: `-f` (relative to the working
    /// directory, for podman else the context), `-` on standard input, or the
    /// context's Containerfile (podman) / Dockerfile.
    static func readDockerfile(call: Call, contextText: String?, contextDirectory: String, podman: Bool) throws(BouncerError) -> (path: String?, bytes: [UInt8]) {
        let limit = 16 << 20
        if let file = call.files.first?.value {
            if file == "-" || (file == "/dev/stdin") {
                return (nil, try readStandardInput(limit: limit))
            }
            if isRemote(file) { throw .usage("with the remote Dockerfile \(file): the builder fetches it itself, unverified") }
            var path = file
            if podman, !file.hasPrefix("/"), !FileManager.default.fileExists(atPath: file) {
                path = contextDirectory + "/" + file
            }
            return (path, try read(path, limit: limit))
        }
        if contextText == "-" {
            let bytes = try readStandardInput(limit: limit)
            if isArchive(bytes) {
                throw .usage("with a context archive on standard input: Bouncer does not read its Dockerfile (build from a directory)")
            }
            return (nil, bytes)
        }
        let candidates = podman ? ["Containerfile", "Dockerfile"] : ["Dockerfile"]
        for candidate in candidates {
            let path = contextDirectory + "/" + candidate
            if FileManager.default.fileExists(atPath: path) { return (path, try read(path, limit: limit)) }
        }
        throw .usage("finds no \(candidates.joined(separator: " or ")) in \(contextDirectory)")
    }

    static func read(_ path: String, limit: Int, what: String = "Dockerfile") throws(BouncerError) -> [UInt8] {
        switch WholeFile.contents(path, limit: limit) {
        case .success(let bytes): return bytes
        case .failure(let error): throw .usage("cannot read the \(what) \(path): \(error)")
        }
    }

    static func readStandardInput(limit: Int) throws(BouncerError) -> [UInt8] {
        switch WholeFile.contents(fd: STDIN_FILENO, limit: limit) {
        case .success(let bytes): return bytes
        case .failure(let error): throw .usage("cannot read the Dockerfile on standard input: \(error)")
        }
    }

    /// A tar (ustar magic) or a compressed stream (gzip, bzip2, xz, zstd): a context, not a Dockerfile.
    static func isArchive(_ bytes: [UInt8]) -> Bool {
        let magics: [[UInt8]] = [[0x1f, 0x8b], Array("BZh".utf8), [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], [0x28, 0xb5, 0x2f, 0xfd]]
        if magics.contains(where: { bytes.starts(with: $0) }) { return true }
        return bytes.count >= 262 && Array(bytes[257..<262]) == Array("ustar".utf8)
    }

    /// The `--build-arg`s over `given`, in order. `--build-arg K` alone takes K from the
    /// environment; unset there, the builder drops an earlier `--build-arg K=V` (the ARG's
    /// default applies), so it is dropped here too.
    static func apply(_ arguments: [(name: String, value: String?)], to given: [String: String], environment: [String: String]) -> [String: String] {
        var values = given
        for argument in arguments { values[argument.name] = argument.value ?? environment[argument.name] }
        return values
    }
}
