import FoundationEssentials
import BouncerBase
import BouncerIO
import BouncerSigstore

/// The buildah shim. buildah pulls images itself: `pull IMAGE`, `from IMAGE`
/// (a working container from it), `build`/`bud` (every image the
/// Containerfile names), `copy`/`add --from IMAGE` (and a URL they download
/// themselves is refused). Each image is verified
/// under the policy as the podman shim verifies a pull, and buildah is
/// handed the verified digest (`REGISTRY/REPO@sha256:…`; a build gets a
/// private copy of its Containerfile naming them, as podman's does). A
/// `pull NAME:TAG` is tagged NAME:TAG afterwards, as the real pull leaves it.
/// Everything else passes through.
public enum BuildahShim {
    static let globalFlags: Set<String> = ["-h", "--help", "-v", "--version", "--debug"]
    static let globalValued: Set<String> = ["--cgroup-manager", "--log-level", "--registries-conf", "--registries-conf-dir", "--root",
                                            "--runroot", "--short-name-alias-conf", "--storage-driver", "--storage-opt",
                                            "--userns-gid-map", "--userns-uid-map"]
    /// `buildah pull`'s options (buildah 1.28's `--help`).
    static let pullFlags: Set<String> = ["-a", "--all-tags", "-h", "--help", "-q", "--quiet", "--remove-signatures", "--tls-verify"]
    static let pullValued: Set<String> = ["--arch", "--authfile", "--cert-dir", "--creds", "--decryption-key", "--os", "--platform", "--policy",
                                          "--retry", "--retry-delay", "--variant"]
    /// `buildah from`'s options (`--pull` reads a value only after `=`).
    static let fromFlags: Set<String> = ["-h", "--help", "--http-proxy", "--pull", "-q", "--quiet", "--tls-verify"]
    static let fromValued: Set<String> = [
        "--add-host", "--arch", "--authfile", "--cap-add", "--cap-drop", "--cert-dir", "--cgroup-parent", "--cgroupns", "--cidfile",
        "--cpu-period", "--cpu-quota", "-c", "--cpu-shares", "--cpuset-cpus", "--cpuset-mems", "--creds", "--decryption-key", "--device",
        "--dns", "--dns-option", "--dns-search", "-f", "--format", "--ipc", "--isolation", "-m", "--memory", "--memory-swap", "--name",
        "--network", "--os", "--pid", "--platform", "--retry", "--retry-delay", "--security-opt", "--shm-size", "--ulimit", "--userns",
        "--userns-gid-map", "--userns-gid-map-group", "--userns-uid-map", "--userns-uid-map-user", "--uts", "--variant", "-v", "--volume",
    ]
    /// The command groups whose verbs the shim reads.
    static let commandGroups: Set<String> = ["manifest", "source"]

    public static func run(_ arguments: [String], context: ShimContext) -> Int32 {
        let subcommand: Int
        var image: (index: Int, plainHTTP: Bool, platform: String?)
        do {
            subcommand = try ContainerShim.pastOptions(arguments, from: 0, flags: globalFlags, valued: globalValued,
                                                       what: "global option", next: "the subcommand")
            guard subcommand < arguments.count else { return context.passThrough(arguments) }
            // `manifest --debug add LIST IMAGE`: a root option hides the verb (red team K5).
            try ContainerShim.refuseOptionBeforeVerb(arguments, group: subcommand, groups: commandGroups)
            switch arguments[subcommand] {
            case "build", "bud", "build-using-dockerfile":
                return ContainerShim.withPolicy(context) { policy in
                    ContainerBuild.run(arguments, verbEnd: subcommand + 1, context: context, policy: policy)
                }
            case "pull", "from":
                guard let found = try operand(arguments, subcommand: subcommand) else { return context.passThrough(arguments) }
                image = found
            case "copy", "add":
                let verb = arguments[subcommand]
                let (operands, from) = try addCopyOperands(arguments, subcommand: subcommand)
                // `add|copy CONTAINER SRC… [DEST]`: buildah downloads a URL source itself, for copy too (the
                // destination is optional, so every word after the container is looked at).
                if let url = operands.dropFirst().first(where: isRemoteSource) {
                    return context.unsupported(nil, why: "\(verb) \(url): buildah downloads it itself, unverified; fetch it through the curl shim and \(verb) the file",
                                               arguments: arguments)
                }
                // `--from X`: a working container's root, else an image buildah pulls when absent (a short
                // name through registries.conf's aliases and search registries too).
                guard let from else { return context.passThrough(arguments) }
                if !from.contains("/"), workingContainers(globals: Array(arguments[..<subcommand]), context: context).contains(from) {
                    return context.passThrough(arguments)
                }
                return context.unsupported("--from", why: "\(from) is no working container, so buildah pulls that image, which Bouncer does not verify here; pull it through the shim first (buildah from IMAGE) and copy from that working container",
                                           arguments: arguments)
            case "manifest" where subcommand + 1 < arguments.count && ["create", "add"].contains(arguments[subcommand + 1]):
                guard let remote = ContainerShim.operandWords(arguments, after: subcommand + 1).dropFirst().first(where: { !ContainerShim.localTransports.contains(where: $0.hasPrefix) }) else {
                    return context.passThrough(arguments)
                }
                return context.unsupported(nil, why: "manifest \(arguments[subcommand + 1]) reads \(remote) from its registry into a list whose push copies it, which Bouncer does not verify (pull each image through the shim first and add it as containers-storage:IMAGE)",
                                           arguments: arguments)
            case "source" where subcommand + 1 < arguments.count && arguments[subcommand + 1] == "pull":
                return context.unsupported(nil, why: "source pull downloads a source image from a registry, which Bouncer does not verify", arguments: arguments)
            default:
                return context.passThrough(arguments)
            }
        } catch {
            return context.unsupported(nil, why: error.description, arguments: arguments)
        }
        let written = arguments[image.index]
        let (reference, viaDocker) = ContainerShim.registryReference(written)
        // `from scratch` starts from nothing; another transport names an image already here.
        guard !(arguments[subcommand] == "from" && written == "scratch"), viaDocker || !ContainerShim.localTransports.contains(where: written.hasPrefix) else {
            return context.passThrough(arguments)
        }
        return ContainerShim.withPolicy(context) { policy in
            do {
                let allowHTTP = image.plainHTTP || context.environment.variables["BOUNCER_IMAGE_ALLOW_HTTP"] == "1"
                switch try ContainerShim.check(reference, platform: image.platform, allowHTTP: allowHTTP, policy: policy, context: context,
                                               stopped: "nothing was pulled") {
                case .refused(let status):
                    return status
                case .pinned(let pinned):
                    var rewritten = arguments
                    rewritten[image.index] = (viaDocker ? "docker://" : "") + pinned
                    guard arguments[subcommand] == "pull", (try? ImageReference(parsing: reference))?.digest == nil else {
                        return context.passThrough(rewritten)
                    }
                    return try ContainerShim.pullThenTag(rewritten, globals: Array(arguments[..<subcommand]), pinned: pinned, written: reference,
                                                         context: context)
                }
            } catch {
                return ContainerShim.failed(error, context: context)
            }
        }
    }

    /// `buildah add`/`copy`'s options (buildah 1.28, hidden ones too); options end at the container.
    static let addCopyFlags: Set<String> = ["--add-history", "-h", "--help", "-q", "--quiet", "--remove-signatures", "--tls-verify"]
    static let addCopyValued: Set<String> = ["--authfile", "--blob-cache", "--cert-dir", "--chmod", "--chown", "--contextdir", "--creds",
                                             "--decryption-key", "--from", "--ignorefile", "--retry", "--retry-delay", "--signature-policy"]

    /// The operands of `add`/`copy` (the container, then its sources and destination) and the last
    /// `--from`. An option value is not an operand (`--chown 0:0 CTR URL`); an unknown option is refused.
    static func addCopyOperands(_ arguments: [String], subcommand: Int) throws(BouncerError) -> (operands: [String], from: String?) {
        var from: String? = nil
        let first = try ContainerShim.operandIndex(arguments, after: subcommand, flags: addCopyFlags, valued: addCopyValued,
                                                   what: arguments[subcommand], operand: "container") { (name, value) throws(BouncerError) in
            if name == "--from" { from = value }
        }
        return (first.map { Array(arguments[$0...]) } ?? [], from)
    }

    /// An `add` source buildah fetches itself: a URL, or a git repository.
    static func isRemoteSource(_ word: String) -> Bool {
        let lower = word.lowercased()
        return lower.contains("://") || lower.hasPrefix("git@") || lower.hasPrefix("github.com/")
    }

    /// The names and IDs of buildah's working containers (empty when buildah cannot say).
    static func workingContainers(globals: [String], context: ShimContext) -> Set<String> {
        guard let listed = try? Spawn.output(context.realTool, context.toolArguments + globals + ["containers", "--noheading", "--format", "{{.ContainerName}} {{.ContainerID}}"],
                                             environment: context.toolEnvironment), listed.status == 0 else { return [] }
        var names: Set<String> = []
        for line in String(decoding: listed.output, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            names.formUnion(fields)
            // An ID may be given shortened, as buildah takes it.
            if fields.count == 2 { names.insert(String(fields[1].prefix(12))) }
        }
        return names
    }

    /// The image operand of `pull` / `from`, with `--tls-verify=false` and the
    /// platform asked for (`--platform`, or `--os`/`--arch`/`--variant`).
    static func operand(_ arguments: [String], subcommand: Int) throws(BouncerError) -> (index: Int, plainHTTP: Bool, platform: String?)? {
        let verb = arguments[subcommand]
        var plainHTTP = false
        var platform: String? = nil
        var parts: [String: String] = [:]
        let index = try ContainerShim.operandIndex(arguments, after: subcommand, flags: verb == "pull" ? pullFlags : fromFlags,
                                                   valued: verb == "pull" ? pullValued : fromValued, what: verb, operand: "image") { (name, value) throws(BouncerError) in
            switch name {
            case "--tls-verify": plainHTTP = OptionWords.isFalse(value)
            case "--platform": platform = value
            case "--os", "--arch", "--variant": parts[name] = value
            case "-a", "--all-tags": throw .usage("pull \(name) pulls every tag of the repository, and Bouncer verifies one image; pull the tags by name")
            default: break
            }
        }
        guard let index else { return nil }
        return (index, plainHTTP, platform ?? ContainerShim.platform(os: parts["--os"], arch: parts["--arch"], variant: parts["--variant"]))
    }
}
