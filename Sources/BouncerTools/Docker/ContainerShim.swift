import FoundationEssentials
import BouncerBase
import BouncerIO
import BouncerSigstore
import BouncerPolicy

/// The docker and podman shims: `pull`, `run` and `create` name an image;
/// Bouncer resolves it to a digest, verifies its signatures for that digest,
/// and hands the real tool the reference rewritten to `REGISTRY/REPO@sha256:…`,
/// so it pulls exactly the verified manifest (layers are content-addressed by
/// it). `import URL` is a download, verified as curl's (`ContainerImport`);
/// `build` verifies every image its Dockerfile names (`ContainerBuild`).
/// Every other podman subcommand passes through untouched; a docker one only
/// when it is among docker's own that pull nothing (`dockerCommands`), since
/// docker runs any other word as a CLI plugin that may pull and run images.
///
/// The policy decides (`ImageGuard`): the first rule whose `match.image`
/// (or `"ecosystem": "oci"`) covers `REGISTRY/REPO` names the signer; an
/// image no rule covers is treated as `unmatched` says (refused under
/// `deny`); the lock pins the digest each tag resolved to and refuses a tag
/// that moved, in every mode. The environment may override the signer
/// explicitly (a first rule for every image):
/// - `BOUNCER_IMAGE_KEY=PEM`, or `BOUNCER_IMAGE_IDENTITY` (+ `_IDENTITY_REGEXP`)
///   with `BOUNCER_IMAGE_ISSUER` (+ `_ISSUER_REGEXP`);
/// - `BOUNCER_IMAGE_TRUSTED_ROOT=FILE`, `BOUNCER_IMAGE_IGNORE_TLOG=1` (key only).
/// Plain http to the registry only where the real tool was told so too
/// (`--tls-verify=false`) or `BOUNCER_IMAGE_ALLOW_HTTP=1`.
public enum ContainerShim {
    /// Global options of docker / podman that take a value as the next argument.
    static let globalValueOptions: Set<String> = [
        "--root", "--runroot", "--storage-driver", "--storage-opt", "--config", "--context", "-c", "-H", "--host",
        "--log-level", "-l", "--connection", "--url", "--identity", "--cgroup-manager", "--conmon", "--events-backend",
        "--hooks-dir", "--network-cmd-path", "--network-config-dir", "--runtime", "--runtime-flag", "--tmpdir",
        "--volumepath", "--imagestore", "--module", "--ssh", "--namespace", "--tlscacert", "--tlscert", "--tlskey",
        "--cdi-spec-dir", "--db-backend", "--network-backend", "--out", "--registries-conf",
    ]
    /// Global options of docker / podman that take no value. Any other
    /// global option is refused: taken for a flag, its value would be taken
    /// for the subcommand (`--tlscacert FILE pull IMAGE` is no pull), and
    /// the call passed through unverified.
    static let globalFlags: Set<String> = [
        "-D", "--debug", "--tls", "--tlsverify", "-v", "--version", "--help", "-h", "--noout", "-r", "--remote",
        "--syslog", "--transient-store",
    ]
    /// Options of run / create that take a value as the next argument (docker's and podman's, as
    /// their `--help` lists them, and a few of newer podman's).
    static let runValueOptions: Set<String> = [
        "--add-host", "--annotation", "--arch", "--attach", "--authfile", "--blkio-weight", "--blkio-weight-device", "--cap-add",
        "--cap-drop", "--cgroup-conf", "--cgroup-parent", "--cgroupns", "--cgroups", "--chrootdirs", "--cidfile",
        "--conmon-pidfile", "--cpu-count", "--cpu-percent", "--cpu-period", "--cpu-quota", "--cpu-rt-period",
        "--cpu-rt-runtime", "--cpu-shares", "--cpus", "--cpuset-cpus", "--cpuset-mems", "--detach-keys", "--device",
        "--device-cgroup-rule", "--device-read-bps", "--device-read-iops", "--device-write-bps", "--device-write-iops",
        "--dns", "--dns-option", "--dns-search", "--domainname", "--entrypoint", "--env", "--env-file", "--env-merge",
        "--expose", "--gidmap", "--gpus", "--group-add", "--health-cmd", "--health-interval", "--health-on-failure",
        "--health-retries", "--health-start-interval", "--health-start-period", "--health-timeout", "--hostname",
        "--hostuser", "--image-volume", "--init-ctr", "--init-path", "--io-maxbandwidth", "--io-maxiops", "--ip", "--ip6",
        "--ipc", "--isolation", "--kernel-memory", "--label", "--label-file", "--link", "--link-local-ip", "--log-driver",
        "--log-opt", "--mac-address", "--memory", "--memory-reservation", "--memory-swap", "--memory-swappiness", "--mount",
        "--name", "--network", "--net", "--network-alias", "--oom-score-adj", "--os", "--passwd-entry", "--personality",
        "--pid", "--pidfile", "--pids-limit", "--platform", "--pod", "--pod-id-file", "--preserve-fds", "--publish",
        "--pull", "--requires", "--restart", "--runtime", "--sdnotify", "--seccomp-policy", "--secret", "--security-opt",
        "--shm-size", "--stop-signal", "--stop-timeout", "--storage-opt", "--subgidname", "--subuidname", "--sysctl",
        "--systemd", "--timeout", "--tmpfs", "--tz", "--uidmap", "--ulimit", "--umask", "--unsetenv", "--user", "--userns",
        "--uts", "--variant", "--volume", "--volume-driver", "--volumes-from", "--workdir", "--creds", "--cert-dir",
        "--decryption-key", "--retry", "--retry-delay",
        // podman's older names, still read (podman-compose writes the healthcheck ones).
        "--healthcheck-command", "--healthcheck-interval", "--healthcheck-retries", "--healthcheck-start-period",
        "--healthcheck-timeout", "--override-arch", "--override-os", "--override-variant",
        "-a", "-c", "-e", "-h", "-l", "-m", "-p", "-u", "-v", "-w",
    ]
    /// Options of run / create that take no value.
    static let runFlags: Set<String> = [
        "--detach", "--disable-content-trust", "--env-host", "--help", "--http-proxy", "--init", "--interactive",
        "--no-healthcheck", "--no-hosts", "--oom-kill-disable", "--passwd", "--privileged", "--publish-all", "--quiet",
        "--read-only", "--read-only-tmpfs", "--replace", "--rm", "--rmi", "--rootfs", "--sig-proxy", "--tls-verify", "--tty",
        "--unsetenv-all", "--use-api-socket", "-P", "-d", "-i", "-q", "-t",
    ]
    /// Options of pull that take a value, and that take none (`-a`, `--all-tags` are known, to be
    /// refused: they pull every tag of a repository, and Bouncer verifies one image).
    static let pullValueOptions: Set<String> = ["--arch", "--authfile", "--cert-dir", "--creds", "--os", "--platform", "--variant",
                                                "--decryption-key", "--retry", "--retry-delay"]
    static let pullFlags: Set<String> = ["--disable-content-trust", "--quiet", "-q", "--tls-verify", "--help", "-a", "--all-tags"]

    struct Call {
        var imageIndex: Int
        /// Where the subcommand is: the words before it are the global options.
        var globalsEnd: Int
        var subcommand: String
        var platform: String?
        var plainHTTP: Bool
    }

    /// Where the subcommand is, after the global options; nil when there is none.
    static func subcommandIndex(_ arguments: [String]) throws(BouncerError) -> Int? {
        let index = try pastOptions(arguments, from: 0, flags: globalFlags, valued: globalValueOptions, what: "global option", next: "the subcommand")
        guard index < arguments.count else { return nil }
        try refuseOptionBeforeVerb(arguments, group: index, groups: commandGroups)
        return index
    }

    /// The command groups whose verbs the shim reads (`image pull`, `container create`, `manifest add`, `kube play`…).
    static let commandGroups: Set<String> = ["image", "container", "manifest", "kube", "play", "pod", "machine", "plugin", "service",
                                             "stack", "buildx", "builder", "swarm", "farm", "artifact"]

    /// cobra takes the root's options after a command group too (`image
    /// --log-level=info pull IMAGE`): the word after the group would be taken
    /// for the verb, and the pull passed through unverified (red team K5).
    /// An option there is refused, but help (which runs nothing) and buildx's
    /// own `--builder` (`ContainerBuild.verbEnd` reads it).
    static func refuseOptionBeforeVerb(_ arguments: [String], group: Int, groups: Set<String>) throws(BouncerError) {
        guard groups.contains(arguments[group]), group + 1 < arguments.count else { return }
        let option = arguments[group + 1]
        guard option.hasPrefix("-"), option != "-h", option != "--help" else { return }
        if arguments[group] == "buildx", option == "--builder" || option.hasPrefix("--builder=") { return }
        throw .usage("option \(option) between '\(arguments[group])' and its command hides the command from Bouncer; give it before '\(arguments[group])'")
    }

    /// The index of the first word from `start` on that is no option (or
    /// `arguments.count`), each option known as a flag or as taking a value
    /// (`=VALUE`, the next word, or as pflag reads a word of one-letter
    /// options). An option neither list knows is refused: taken for a flag,
    /// its value would be taken for `next`.
    static func pastOptions(_ arguments: [String], from start: Int, flags: Set<String>, valued: Set<String>,
                            what: String, next: String) throws(BouncerError) -> Int {
        var index = start
        while index < arguments.count, arguments[index].hasPrefix("-") {
            let option = arguments[index]
            if option.contains("=") || flags.contains(option) {
                index += 1
            } else if valued.contains(option) {
                index += 2
            } else if let run = ShortOptions.read(option, flags: flags, valued: valued) {
                index += run.takesNextWord ? 2 : 1
            } else {
                throw .usage("cannot tell whether \(what) '\(option)' takes a value, so \(next) is unknown")
            }
        }
        return index
    }

    /// Where the image argument is, or nil for a subcommand Bouncer does not guard.
    static func locate(_ arguments: [String]) throws(BouncerError) -> Call? {
        guard var index = try subcommandIndex(arguments) else { return nil }
        let globalsEnd = index
        var plainHTTP = false
        let subcommand = arguments[index]
        var images = false
        if subcommand == "image" || subcommand == "container", index + 1 < arguments.count {
            // `docker image pull`, `docker container run|create`.
            index += 1
            images = true
        }
        let verb = arguments[index]
        guard ["pull", "run", "create"].contains(verb), !(images && subcommand == "image" && verb != "pull") else { return nil }
        var platform: String? = nil
        let operand = try operandIndex(arguments, after: index, flags: verb == "pull" ? pullFlags : runFlags,
                                       valued: verb == "pull" ? pullValueOptions : runValueOptions, what: "\(verb)", operand: "image") { (name, value) throws(BouncerError) in
            if name == "--tls-verify" { plainHTTP = OptionWords.isFalse(value) }
            if name == "--platform" { platform = value }
            if verb == "pull", name == "-a" || name == "--all-tags" {
                throw .usage("pull \(name) pulls every tag of the repository, and Bouncer verifies one image; pull the tags by name")
            }
        }
        guard let operand else { return nil }
        if verb == "pull" {
            // podman pulls every image named (`pull IMAGE IMAGE…`, options between them too): Bouncer verifies one.
            let rest = try operandIndex(arguments, after: operand, flags: pullFlags, valued: pullValueOptions, what: "pull", operand: "image") { _, _ throws(BouncerError) in }
            if let rest { throw .usage("pull names more than one image (\(arguments[operand]), then \(arguments[rest])), and Bouncer verifies one image per pull; pull them one by one") }
        }
        return Call(imageIndex: operand, globalsEnd: globalsEnd, subcommand: verb, platform: platform, plainHTTP: plainHTTP)
    }

    /// Where a subcommand's first operand is (its image, its source), past
    /// its options, each known as a flag or as taking a value: `--NAME=VALUE`,
    /// the next word, or — in a word of one-letter options — the rest of the
    /// word or the next one, as pflag reads them (`ShortOptions`: `-itv SRC:DST`,
    /// `-p8080:80`). `seen` is told each option, a run's one by one, with its
    /// value (nil for a flag). An option neither list knows is refused: taken
    /// for a flag, its value would be taken for the operand, and the real tool
    /// would use another, unverified one.
    static func operandIndex(_ arguments: [String], after subcommand: Int, flags: Set<String>, valued: Set<String>,
                             what: String, operand: String,
                             seen: (_ name: String, _ value: String?) throws(BouncerError) -> Void) throws(BouncerError) -> Int? {
        var index = subcommand + 1
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" { index += 1; break }
            guard argument.hasPrefix("-"), argument != "-" else { break }
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                try seen(String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
                index += 1
            } else if valued.contains(argument) {
                try seen(argument, index + 1 < arguments.count ? arguments[index + 1] : nil)
                index += 2
            } else if flags.contains(argument) {
                try seen(argument, nil)
                index += 1
            } else if let run = ShortOptions.read(argument, flags: flags, valued: valued) {
                for (position, option) in run.options.enumerated() {
                    let last = position == run.options.count - 1
                    try seen(option.name, last && run.takesNextWord && index + 1 < arguments.count ? arguments[index + 1] : option.value)
                }
                index += run.takesNextWord ? 2 : 1
            } else {
                throw .usage("\(what): cannot tell whether option '\(argument)' takes a value, so the \(operand) argument is unknown (write it as \(argument)=VALUE if it takes one)")
            }
        }
        return index < arguments.count ? index : nil
    }

    /// Why the real tool would pull images Bouncer cannot see, named by files
    /// or settings it does not read; nil for any other call. Refused in
    /// enforce mode, run unverified with a warning in audit mode, as any call
    /// the shim cannot read.
    static func unreadPull(_ arguments: [String], subcommand: Int) -> String? {
        let verb = arguments[subcommand]
        let object = subcommand + 1 < arguments.count ? arguments[subcommand + 1] : ""
        switch (verb, object) {
        case ("kube", "play"), ("play", "kube"):
            return "\(verb) \(object) pulls the images a Kubernetes YAML file names, which Bouncer does not read (pull each through the shim first, and name it in the file by its digest)"
        case ("auto-update", _):
            // A dry run only reports what would be updated.
            guard !OptionWords.lastBool("--dry-run", in: Array(arguments.dropFirst(subcommand + 1))) else { return nil }
            return "auto-update pulls a newer image for each container labelled for it, by the label, not through the shim"
        case ("plugin", "install"), ("plugin", "upgrade"):
            return "plugin \(object) pulls a plugin's image and runs it with the privileges it asks for, which Bouncer does not verify"
        case ("load", _), ("image", "load"):
            // podman downloads `load -i URL` itself (red team K1); any word naming a URL (`--input=URL`, `-qiURL`) is refused.
            guard let url = arguments.dropFirst(subcommand + (verb == "image" ? 2 : 1)).first(where: { $0.contains("://") }) else { return nil }
            return "load \(url): podman downloads the archive itself, unverified (fetch it through the curl shim, then load -i FILE)"
        case ("container", "runlabel"):
            return "container runlabel pulls its image when absent and runs the host command the image's label names, which Bouncer does not verify (pull the image through the shim, then run the label's command yourself)"
        case ("machine", "init"):
            // The VM image: a stream name (the default, `testing`), a URL, or a local file; only the last is no download.
            let rest = Array(arguments.dropFirst(subcommand + 2))
            let image = OptionWords.lastValue(of: "--image-path", in: rest) ?? OptionWords.lastValue(of: "--image", in: rest) ?? ""
            guard image.contains("://") || ["", "testing", "next", "stable"].contains(image) else { return nil }
            return "machine init downloads a virtual machine image (\(image.isEmpty ? "Fedora CoreOS's" : image)) and boots it, which Bouncer does not verify (download the image through the curl shim and give its path: --image-path FILE)"
        case ("machine", "os"):
            guard subcommand + 2 < arguments.count, arguments[subcommand + 2] == "apply" else { return nil }
            return "machine os apply pulls an operating system image into the virtual machine, which Bouncer does not verify"
        case ("pod", "create"), ("pod", "clone"):
            let rest = arguments.dropFirst(subcommand + 2)
            guard rest.contains(where: { $0 == "--infra-image" || $0.hasPrefix("--infra-image=") }) else { return nil }
            return "pod \(object) --infra-image pulls that image for the pod's infra container, which Bouncer does not verify (pull it through the shim first, then name it by its digest)"
        case ("container", "restore"), ("pod", "restore"):
            // `--import FILE`: the checkpoint archive names the image its container runs, pulled when absent.
            let rest = arguments.dropFirst(subcommand + 2)
            guard rest.contains(where: { $0 == "--import" || $0.hasPrefix("--import=") || ($0.hasPrefix("-") && !$0.hasPrefix("--") && $0.contains("i")) }) else { return nil }
            return "\(verb) restore --import pulls the image the checkpoint archive names, which Bouncer does not read (pull that image through the shim first)"
        case ("container", "clone"):
            // `container clone CONTAINER [NAME] [IMAGE]`: with an image, the clone runs that one, pulled when absent.
            guard operandWords(arguments, after: subcommand + 1).count >= 3 else { return nil }
            return "container clone with an image pulls that image for the clone, which Bouncer does not verify (pull it through the shim first, then name it by its digest)"
        case ("service", "create"), ("service", "update"), ("service", "rollback"), ("service", "scale"):
            // A swarm's nodes pull the service's image themselves, past every shim.
            return "service \(object) has the swarm's nodes pull the service's image themselves, which Bouncer does not verify (pull it through the shim and name it by its digest, REGISTRY/REPO@sha256:…, then check it with bouncer verify-image)"
        case ("stack", "deploy"), ("stack", "up"):
            return "stack \(object) has the swarm pull the images a compose file names, which Bouncer does not read (pull each through the shim first, and name it in the file by its digest)"
        case ("swarm", "join"):
            return "swarm join makes this machine a node of a swarm, whose services' images it then pulls itself, past the shim"
        case ("image", "scp"):
            // `image scp [USER@]HOST::IMAGE [DEST]`: an image of another machine's (or user's) storage lands in this one.
            guard let source = operandWords(arguments, after: subcommand + 1).first, source.contains("::") else { return nil }
            return "image scp \(source) copies an image from another machine's or user's storage into this one, which Bouncer does not verify (pull it from its registry through the shim)"
        case ("farm", "build"):
            return "farm build has the farm's machines pull the Containerfile's images and build, then brings the image here, which Bouncer does not verify (build through the shim with podman build)"
        case ("artifact", "pull"):
            return "artifact pull downloads an artifact from a registry, which Bouncer does not verify"
        case ("buildx", "create"):
            // The builder's own image (BuildKit's, or `--driver-opt image=…`) is pulled by the daemon.
            return "buildx create starts a builder from an image the daemon pulls (BuildKit's, or --driver-opt image=…), which Bouncer does not verify"
        case ("manifest", "create"), ("manifest", "add"):
            // `manifest create LIST [IMAGE…]`, `manifest add LIST IMAGE…`: each image's manifest is read from its registry,
            // and `manifest push --all` then copies the images themselves; a local one (`containers-storage:`) is no pull.
            let images = operandWords(arguments, after: subcommand + 1).dropFirst()
            guard let remote = images.first(where: { !$0.hasPrefix("containers-storage:") }) else { return nil }
            return "manifest \(object) reads \(remote) from its registry into a list whose push copies it, which Bouncer does not verify (pull each image through the shim first and add it as containers-storage:IMAGE@sha256:…)"
        default:
            return nil
        }
    }

    /// docker's own commands the shim lets through or reads itself. docker
    /// runs any other word as a CLI plugin (`docker model pull`, `debug IMAGE`,
    /// `extension install`, `scout cves IMAGE`) or a command of a newer docker,
    /// which pulls or runs images past the shim (red team round 9): in enforce
    /// mode the docker shim refuses a command not listed. nil for a group: every
    /// verb of it pulls nothing; else the verbs that pull nothing, or that the
    /// shim reads (`image pull`, `container run`, `buildx build`, refused ones
    /// it names itself: `plugin install`, `service create`).
    static let dockerCommands: [String: Set<String>?] = {
        let buildx: Set<String> = ["build", "b", "bake", "create", "du", "history", "imagetools", "inspect", "ls", "prune", "rm", "stop", "use", "version"]
        var commands: [String: Set<String>?] = [
            "image": ["build", "history", "import", "inspect", "load", "ls", "list", "prune", "pull", "push", "rm", "remove", "save", "tag"],
            "container": ["attach", "commit", "cp", "create", "diff", "exec", "export", "inspect", "kill", "logs", "ls", "list", "ps", "pause",
                          "port", "prune", "rename", "restart", "rm", "remove", "run", "start", "stats", "stop", "top", "unpause", "update", "wait"],
            "buildx": buildx,
            // `docker builder` is buildx's alias where buildx is installed.
            "builder": buildx,
            "manifest": ["annotate", "create", "add", "inspect", "push", "rm"],
            "plugin": ["create", "disable", "enable", "inspect", "install", "ls", "list", "push", "rm", "remove", "set", "upgrade"],
            // rollback and scale have the swarm's nodes pull the service's image, as create does.
            "service": ["create", "update", "inspect", "logs", "ls", "list", "ps", "rm", "remove"],
            "stack": ["deploy", "up", "config", "ls", "list", "ps", "rm", "remove", "down", "services"],
            // join makes this machine run the swarm's services, pulling their images.
            "swarm": ["ca", "init", "leave", "unlock", "unlock-key", "update"],
        ]
        for group in ["network", "volume", "system", "context", "config", "secret", "node", "checkpoint", "trust"] { commands[group] = .some(nil) }
        for command in ["pull", "run", "create", "build", "import", "load", "compose", "attach", "commit", "cp", "diff", "events", "exec",
                        "export", "history", "images", "info", "inspect", "kill", "login", "logout", "logs", "pause", "port", "ps", "push",
                        "rename", "restart", "rm", "rmi", "save", "search", "start", "stats", "stop", "tag", "top", "unpause", "update",
                        "version", "wait", "help"] {
            commands[command] = .some(nil)
        }
        return commands
    }()

    /// Why a docker command is none the shim knows to pull nothing, or reads
    /// itself (`dockerCommands`); nil for one it knows. `imagetools` of buildx
    /// is let through for `inspect` alone (`create` copies images between registries).
    static func unknownDockerCommand(_ arguments: [String], subcommand: Int) -> String? {
        let command = arguments[subcommand]
        let recipe = "pull each image through the shim (docker pull IMAGE:TAG verifies it and tags it as named), build with docker build, and run with docker run"
        guard let verbs = dockerCommands[command] else {
            return "docker \(command) is no docker command Bouncer knows (a CLI plugin, or a newer command), so it cannot tell what it pulls or runs: \(recipe)"
        }
        guard let verbs else { return nil }
        var index = subcommand + 1
        // buildx's own --builder may stand before its verb (`ContainerBuild.verbEnd`).
        if command == "buildx" || command == "builder" {
            while index < arguments.count, arguments[index] == "--builder" || arguments[index].hasPrefix("--builder=") {
                index += arguments[index] == "--builder" ? 2 : 1
            }
        }
        // The group alone, or its help, runs nothing (another option there is refused before: `refuseOptionBeforeVerb`).
        guard index < arguments.count, !["-h", "--help"].contains(arguments[index]) else { return nil }
        let verb = arguments[index]
        if verbs.contains(verb) {
            guard verb == "imagetools" else { return nil }
            let next = index + 1 < arguments.count ? arguments[index + 1] : "--help"
            if ["inspect", "-h", "--help"].contains(next) { return nil }
            return "docker \(command) imagetools \(next) is not one Bouncer knows to pull nothing (imagetools create copies images between registries unverified); inspect images with docker \(command) imagetools inspect"
        }
        return "docker \(command) \(verb) is no docker command Bouncer knows to pull nothing, so it cannot tell what it pulls or runs: \(recipe)"
    }

    /// The words after `start` that are no options (`--name=value` and flags
    /// skipped; a spaced option's value is counted, which can only count more).
    static func operandWords(_ arguments: [String], after start: Int) -> [String] {
        var words: [String] = []
        for word in arguments.dropFirst(start + 1) {
            if word == "--" { continue }
            if !word.hasPrefix("-") || word == "-" { words.append(word) }
        }
        return words
    }

    public static func run(_ arguments: [String], context: ShimContext) -> Int32 {
        let call: Call
        do {
            if let subcommand = try subcommandIndex(arguments) {
                if let why = unreadPull(arguments, subcommand: subcommand) ?? ContainersConf.infraPull(arguments, subcommand: subcommand,
                                                                                                    environment: context.environment.variables) {
                    return context.unsupported(nil, why: why, arguments: arguments)
                }
                if context.environment.tool == "docker", let why = unknownDockerCommand(arguments, subcommand: subcommand) {
                    return context.unsupported(nil, why: why, arguments: arguments)
                }
                // `docker compose`: the daemon pulls and builds; `podman compose` is left to its provider.
                if context.environment.tool == "docker", arguments[subcommand] == "compose",
                   let why = try DockerCompose.unverifiedPull(arguments, compose: subcommand) {
                    return context.unsupported(nil, why: why, arguments: arguments)
                }
                // `import URL`: a download, verified as curl's are.
                if let url = try ContainerImport.urlIndex(arguments, subcommand: subcommand) {
                    return ContainerImport.run(arguments, urlIndex: url, context: context)
                }
                // `build`: every image its Dockerfile names.
                if let verbEnd = try ContainerBuild.verbEnd(arguments, subcommand: subcommand) {
                    return withPolicy(context) { policy in ContainerBuild.run(arguments, verbEnd: verbEnd, context: context, policy: policy) }
                }
            }
            guard let located = try locate(arguments) else { return context.passThrough(arguments) }
            call = located
        } catch {
            // The error names the option or form it could not read (the first option given may be a fine one).
            return context.unsupported(nil, why: error.description, arguments: arguments)
        }
        let (written, viaDocker) = registryReference(arguments[call.imageIndex])
        let globals = Array(arguments[..<call.globalsEnd])
        // An image of this machine's own (a build's `localhost/NAME`, an image ID, a short name stored here):
        // run as it is, and never pulled (`--pull=never`, the last word before the image, outranks any other).
        // podman reads another transport's image from this machine's files (`oci:DIR`, `docker-archive:FILE`):
        // no registry is asked, so there is nothing to verify (docker knows no transports).
        if context.environment.tool != "docker", !viaDocker, localTransports.contains(where: written.hasPrefix) {
            return context.passThrough(arguments)
        }
        if call.subcommand != "pull", !viaDocker, isLocalImage(written, globals: globals, context: context) {
            var local = arguments
            local.insert("--pull=never", at: call.imageIndex)
            return context.passThrough(local)
        }
        return withPolicy(context) { policy in
            do {
                let allowHTTP = call.plainHTTP || context.environment.variables["BOUNCER_IMAGE_ALLOW_HTTP"] == "1"
                switch try check(written, platform: call.platform, allowHTTP: allowHTTP, policy: policy,
                                 context: context, stopped: "nothing was pulled") {
                case .refused(let status):
                    return status
                case .pinned(let pinned):
                    var rewritten = arguments
                    rewritten[call.imageIndex] = (viaDocker ? "docker://" : "") + pinned
                    guard call.subcommand == "pull", (try? ImageReference(parsing: written))?.digest == nil else { return context.passThrough(rewritten) }
                    return try pullThenTag(rewritten, globals: globals, pinned: pinned, written: written, context: context)
                }
            } catch {
                return failed(error, context: context)
            }
        }
    }

    /// containers/image transports naming an image in a file or store on this
    /// machine (podman, buildah, skopeo): nothing is pulled from a registry.
    static let localTransports = ["containers-storage:", "oci:", "oci-archive:", "dir:", "docker-archive:", "docker-daemon:",
                                  "sif:", "ostree:", "tarball:"]

    /// An image argument without podman's `docker://` transport (a registry
    /// image, the same one), and whether it had it (the rewritten argument keeps it).
    static func registryReference(_ written: String) -> (reference: String, viaDocker: Bool) {
        written.hasPrefix("docker://") ? (String(written.dropFirst("docker://".count)), true) : (written, false)
    }

    /// Whether `written` names an image of this machine's own, which the real
    /// tool runs without pulling: `localhost/NAME` (podman's name for a local
    /// build), an image ID (`sha256:HEX`, or 12 to 64 hex digits), or a short
    /// name (no registry) the tool's storage holds — podman looks there first,
    /// so verifying the registry's image of that name would check another one.
    static func isLocalImage(_ written: String, globals: [String], context: ShimContext) -> Bool {
        if ContainerBuild.isMachineOwn(written) { return true }
        // A short name: no registry before its first `/` (a domain has a `.` or a `:`).
        let first = written.split(separator: "/").first.map(String.init) ?? written
        guard !written.contains("@"), !(written.contains("/") && (first.contains(".") || first.contains(":"))) else { return false }
        let ask = context.environment.tool == "docker" ? ["image", "inspect", "--format", "{{.Id}}", written] : ["image", "exists", written]
        guard let found = try? Spawn.output(context.realTool, context.toolArguments + globals + ask, environment: context.toolEnvironment) else { return false }
        return found.status == 0
    }

    /// The real pull of the verified digest, then `tag DIGEST NAME:TAG`: a
    /// `pull NAME:TAG` leaves NAME:TAG on the machine, and what refers to it
    /// later (compose, a build, `run` by another route) uses that image; a
    /// pull by digest alone tags nothing.
    static func pullThenTag(_ rewritten: [String], globals: [String], pinned: String, written: String, context: ShimContext) throws -> Int32 {
        let pulled = try HandOver.run(context.realTool, context.toolArguments + rewritten, environment: context.toolEnvironment)
        guard pulled == 0 else { return pulled }
        let tagged = try HandOver.run(context.realTool, context.toolArguments + globals + ["tag", pinned, written], environment: context.toolEnvironment)
        if tagged != 0 { ShimOutput.error("bouncer: \(context.environment.tool): pulled \(pinned), but could not tag it \(written)") }
        return tagged
    }

    /// `OS/ARCH[/VARIANT]` from a tool's separate platform options (skopeo's
    /// `--override-*`, buildah's `--os`, `--arch`, `--variant`); the part not
    /// given is the one Bouncer picks from an index by default (linux/amd64).
    /// nil when none is given.
    static func platform(os: String?, arch: String?, variant: String?) -> String? {
        guard os != nil || arch != nil || variant != nil else { return nil }
        return [os ?? "linux", arch ?? "amd64"].joined(separator: "/") + (variant.map { "/" + $0 } ?? "")
    }

    /// The shim's policy (with the environment's override), or the failure to load it said and its status.
    static func withPolicy(_ context: ShimContext, _ body: (Policy) -> Int32) -> Int32 {
        do {
            guard let loaded = context.policy.loaded else {
                throw BouncerError(.configuration, code: "policy-unavailable", "no policy was loaded for the \(context.environment.tool) shim")
            }
            return body(try withOverride(loaded, context.environment.variables))
        } catch {
            return failed(error, context: context)
        }
    }

    /// An error that stopped the shim before the real tool ran: said, annotated, and its family's status.
    static func failed(_ error: any Error, context: ShimContext) -> Int32 {
        let tool = context.environment.tool
        guard let failure = error as? any BouncerFailure else {
            ShimOutput.error("bouncer: \(tool): \(error)")
            return ErrorFamily.configuration.exitCode
        }
        ShimOutput.error("bouncer: \(tool): \(failure)")
        if let hint = failure.hint { ShimOutput.error("hint: \(hint)") }
        context.annotateRefusal("\(failure)")
        return failure.family.exitCode
    }

    enum ImageCheck: Equatable {
        /// `REGISTRY/REPO@sha256:…`, verified (or allowed with warnings said).
        case pinned(String)
        /// Refused; the reasons and `stopped` are said; the status to exit with.
        case refused(Int32)
    }

    /// One image reference resolved to a digest and judged under the policy
    /// (`ImageGuard`: the rule's signer, the lock, the mode), its lines said.
    static func check(_ text: String, platform: String?, allowHTTP: Bool, policy: Policy, context: ShimContext,
                      stopped: String) throws -> ImageCheck {
        try checkedSource(text, platform: platform, allowHTTP: allowHTTP, policy: policy, context: context, stopped: stopped).check
    }

    /// `check`, with the registry it read the image from, for reading more of
    /// the verified image by digest (a build's base image: its ONBUILD triggers).
    static func checkedSource(_ text: String, platform: String?, allowHTTP: Bool, policy: Policy, context: ShimContext,
                              stopped: String) throws -> (check: ImageCheck, source: RegistryImageSource) {
        let tool = context.environment.tool
        let reference = try ImageReference(parsing: text)
        let platform = try platform.map(OCIPlatform.init(parsing:))
        var options = FetchOptions()
        options.progress = false
        let store = Store.standard()
        let source = RegistryImageSource(reference, allowHTTP: allowHTTP, platform: platform,
                                         fetcher: Fetcher(store: store, options: options))
        let result = ImageGuard(policy: policy, options: context.policy.guardOptions, store: store).evaluate(reference, registry: source)
        let outcome = result.outcome
        for line in outcome.humanLines() { ShimOutput.error("bouncer: \(tool): \(line)") }
        switch outcome.verdict {
        case .refused:
            context.annotateRefusal(outcome.error.message)
            ShimOutput.error("bouncer: \(tool): \(stopped)")
            return (.refused((outcome.family ?? .evidence).exitCode), source)
        case .warned:
            let warnings = (outcome.problems.map(\.message) + outcome.notes).joined(separator: "; ")
            ShimOutput.annotate("warning", "\(tool): \(outcome.shownURL): allowed with warnings: \(warnings)", variables: context.environment.variables)
        case .allowed:
            break
        }
        guard let pinned = result.pinned else {
            throw BouncerError(.evidence, code: "oci-unresolved", "\(reference) was not resolved to a digest")
        }
        return (.pinned(pinned), source)
    }

    /// The policy, with the environment's signer in a first rule for every
    /// image when `BOUNCER_IMAGE_KEY` or `BOUNCER_IMAGE_IDENTITY[_REGEXP]` is
    /// set (an explicit override; the policy's `match.image` rules are the
    /// normal route). The lock, the mode and the threat policies still apply.
    static func withOverride(_ policy: Policy, _ environment: [String: String]) throws -> Policy {
        // An empty variable is an unset one.
        let variables = environment.filter { !$0.value.isEmpty }
        let keyFile = variables["BOUNCER_IMAGE_KEY"]
        let identity = variables["BOUNCER_IMAGE_IDENTITY"].map { IdentityPolicy.Matcher.exact($0) } ?? variables["BOUNCER_IMAGE_IDENTITY_REGEXP"].map { .regex($0) }
        let issuer = variables["BOUNCER_IMAGE_ISSUER"].map { IdentityPolicy.Matcher.exact($0) } ?? variables["BOUNCER_IMAGE_ISSUER_REGEXP"].map { .regex($0) }
        guard keyFile != nil || identity != nil || issuer != nil else { return policy }
        var root: (root: SigstoreTrustedRoot, path: String)? = nil
        if let file = variables["BOUNCER_IMAGE_TRUSTED_ROOT"] {
            guard let bytes = FileManager.default.contents(atPath: file) else { throw BouncerError.usage("BOUNCER_IMAGE_TRUSTED_ROOT: cannot read \(file)") }
            root = (try SigstoreTrustedRoot.parse(Array(bytes), source: file), file)
        }
        var key: (path: String, bytes: [UInt8])? = nil
        if let keyFile {
            guard let bytes = FileManager.default.contents(atPath: keyFile) else { throw BouncerError.usage("BOUNCER_IMAGE_KEY: cannot read \(keyFile)") }
            do { _ = try PublicKey(pem: String(decoding: bytes, as: UTF8.self)) } catch { throw BouncerError.usage("BOUNCER_IMAGE_KEY \(keyFile): \(error)") }
            key = (keyFile, Array(bytes))
        }
        return try policy.overridingImageSigner(key: key, identity: identity, issuer: issuer,
                                                requireLog: variables["BOUNCER_IMAGE_IGNORE_TLOG"] != "1", trustedRoot: root)
    }

    /// A locked image (`bouncer check`, `bouncer lock`): its tag resolved
    /// again and verified under the policy; a tag that moved is refused.
    /// Plain http to a registry only with `BOUNCER_IMAGE_ALLOW_HTTP=1` (`allowHTTP`).
    public static func recheck(_ request: ArtifactRequest, policy: Policy, options: GuardOptions, allowHTTP: Bool) -> GuardOutcome {
        let version = request.version ?? "latest"
        let text = (request.package ?? "") + (version.hasPrefix("sha256:") ? "@" : ":") + version
        let store = Store.standard()
        var fetchOptions = FetchOptions()
        fetchOptions.progress = false
        do {
            let reference = try ImageReference(parsing: text)
            let source = RegistryImageSource(reference, allowHTTP: allowHTTP, platform: nil, fetcher: Fetcher(store: store, options: fetchOptions))
            return ImageGuard(policy: policy, options: options, store: store).evaluate(reference, registry: source).outcome
        } catch {
            return ImageGuard.refused(request, error)
        }
    }
}
