import BouncerBase

/// `docker compose`: the compose plugin has the daemon pull each service's
/// image and build each service's Dockerfile itself, past the shim, so no
/// image it pulls or base it builds on is verified. In enforce mode a compose
/// command that may pull or build is refused unless it is told to use only
/// images already present (`--pull never`, and `--no-build` where compose
/// has it): the images are pulled through the shim first (`docker pull
/// IMAGE:TAG` verifies the image and tags it as named) and built with
/// `docker build` through the shim. (podman-compose runs `podman` by name,
/// so the podman shim guards each of its pulls, runs and builds: `podman
/// compose` is left to the provider it starts.)
enum DockerCompose {
    /// compose's own options before its subcommand that take a value.
    static let valueOptions: Set<String> = ["--ansi", "--env-file", "-f", "--file", "--parallel", "--profile", "--progress",
                                            "--project-directory", "-p", "--project-name"]
    static let flags: Set<String> = ["--all-resources", "--compatibility", "--dry-run", "--help", "-h", "--version", "-v"]

    /// The options of `up`, `create` and `run` that take a value, and that
    /// take none. Read as compose reads them, a value is no option (`up
    /// --exit-code-from --pull never` pulls: `--pull` is the value, `never`
    /// a service), and `run` reads options up to the service's name only
    /// (`run app sh --pull never` pulls: `--pull never` is sh's).
    static let upValueOptions: Set<String> = ["--attach", "--exit-code-from", "--no-attach", "--pull", "--scale", "-t", "--timeout", "--wait-timeout"]
    static let upFlags: Set<String> = ["--abort-on-container-exit", "--abort-on-container-failure", "--always-recreate-deps", "--attach-dependencies",
                                       "--build", "-d", "--detach", "--force-recreate", "--menu", "--no-build", "--no-color", "--no-deps",
                                       "--no-log-prefix", "--no-recreate", "--no-start", "--quiet-build", "--quiet-pull", "--remove-orphans", "-V",
                                       "--renew-anon-volumes", "--timestamps", "--wait", "-w", "--watch", "-y", "--yes", "--dry-run", "-h", "--help"]
    static let runValueOptions: Set<String> = ["--cap-add", "--cap-drop", "--entrypoint", "-e", "--env", "--env-from-file", "-l", "--label",
                                               "--name", "-p", "--publish", "--pull", "-u", "--user", "-v", "--volume", "-w", "--workdir"]
    static let runFlags: Set<String> = ["--build", "-d", "--detach", "-i", "--interactive", "-T", "--no-TTY", "-t", "--tty", "--no-deps",
                                        "-q", "--quiet", "--quiet-build", "--quiet-pull", "--remove-orphans", "--rm", "-P", "--service-ports",
                                        "--use-aliases", "--dry-run", "-h", "--help"]
    /// compose's commands that neither pull nor build (they act on the
    /// project's containers, or read its file); any other is refused, as the
    /// docker shim refuses a command it does not know.
    static let quietCommands: Set<String> = ["attach", "commit", "config", "convert", "cp", "down", "events", "exec", "export", "images",
                                             "kill", "logs", "ls", "pause", "port", "ps", "push", "restart", "rm", "start", "stats",
                                             "stop", "top", "unpause", "version", "volumes", "wait", "help"]

    /// Why this `docker compose` call (`arguments[subcommand]` is "compose")
    /// would have the daemon pull or build unverified; nil when it does neither.
    static func unverifiedPull(_ arguments: [String], compose subcommand: Int) throws(BouncerError) -> String? {
        let index = try ContainerShim.pastOptions(arguments, from: subcommand + 1, flags: flags, valued: valueOptions,
                                                  what: "compose option", next: "compose's command")
        guard index < arguments.count else { return nil }
        let verb = arguments[index]
        // The options compose reads for up, create (options and services interspersed) and run (options, then the service).
        var options: [(name: String, value: String?)] = []
        if ["up", "create", "run"].contains(verb) {
            let run = verb == "run"
            var position = index
            while let operand = try ContainerShim.operandIndex(arguments, after: position, flags: run ? runFlags : upFlags,
                                                               valued: run ? runValueOptions : upValueOptions,
                                                               what: "compose \(verb)", operand: "service", seen: { name, value in options.append((name, value)) }),
                  !run, arguments[operand - 1] != "--" {
                position = operand
            }
        }
        // As pflag reads them, the last one given counts.
        let pullsNever = options.last { $0.name == "--pull" }?.value == "never"
        let noBuild = options.last { $0.name == "--no-build" }.map { !OptionWords.isFalse($0.value) } ?? false
        let builds = options.last { $0.name == "--build" }.map { !OptionWords.isFalse($0.value) } ?? false
        let recipe = "pull each image through the shim first (docker pull IMAGE:TAG verifies it and tags it as named) and build with docker build through the shim"
        switch verb {
        case "pull", "build", "watch", "scale":
            return "compose \(verb) has the daemon pull or build images itself, which Bouncer does not verify: \(recipe), then run compose up --pull never --no-build"
        case "up", "create":
            guard !builds else {
                return "compose \(verb) --build has the daemon build the services' images, pulling their Dockerfiles' images unverified: \(recipe), then run compose \(verb) --pull never --no-build"
            }
            guard !(pullsNever && noBuild) else { return nil }
            return "compose \(verb) has the daemon pull and build the services' images itself, which Bouncer does not verify: \(recipe), then run compose \(verb) --pull never --no-build"
        case "run":
            guard !builds else {
                return "compose run --build has the daemon build the service's image, pulling its Dockerfile's images unverified: \(recipe), then run compose run --pull never"
            }
            // (A service's image that is missing and has a build section is still built: build it first.)
            guard !pullsNever else { return nil }
            return "compose \(verb) has the daemon pull a service's image itself, which Bouncer does not verify: \(recipe), then run compose \(verb) --pull never"
        default:
            guard quietCommands.contains(verb) || ["-h", "--help"].contains(verb) else {
                return "compose \(verb) is no compose command Bouncer knows to pull and build nothing, so it cannot tell what the daemon pulls: \(recipe), then run compose up --pull never --no-build"
            }
            return nil
        }
    }
}
