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

    /// Why this `docker compose` call (`arguments[subcommand]` is "compose")
    /// would have the daemon pull or build unverified; nil when it does neither.
    static func unverifiedPull(_ arguments: [String], compose subcommand: Int) throws(BouncerError) -> String? {
        let index = try ContainerShim.pastOptions(arguments, from: subcommand + 1, flags: flags, valued: valueOptions,
                                                  what: "compose option", next: "compose's command")
        guard index < arguments.count else { return nil }
        let verb = arguments[index]
        let rest = Array(arguments.dropFirst(index + 1))
        // As pflag reads them, the last one given counts.
        let pullsNever = OptionWords.lastValue(of: "--pull", in: rest) == "never"
        let noBuild = OptionWords.lastBool("--no-build", in: rest)
        let recipe = "pull each image through the shim first (docker pull IMAGE:TAG verifies it and tags it as named) and build with docker build through the shim"
        switch verb {
        case "pull", "build", "watch", "scale":
            return "compose \(verb) has the daemon pull or build images itself, which Bouncer does not verify: \(recipe), then run compose up --pull never --no-build"
        case "up", "create":
            guard !(pullsNever && noBuild) else { return nil }
            return "compose \(verb) has the daemon pull and build the services' images itself, which Bouncer does not verify: \(recipe), then run compose \(verb) --pull never --no-build"
        case "run":
            // (A service's image that is missing and has a build section is still built: build it first.)
            guard !pullsNever else { return nil }
            return "compose \(verb) has the daemon pull a service's image itself, which Bouncer does not verify: \(recipe), then run compose \(verb) --pull never"
        default:
            return nil
        }
    }
}
