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

struct ExecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run one command with the shims first on PATH (and, under a policy, a verifying proxy of its own): bouncer exec -- COMMAND [ARG...].",
        discussion: """
            The shims are (re)written into the Bouncer cache (BOUNCER_CACHE, else \
            $XDG_CACHE_HOME/bouncer, else ~/.cache/bouncer) under shims/, and COMMAND runs \
            with that directory first on PATH, so every curl, wget, pip, pip3, pipx, npm, npx, \
            `python3 -m pip`, docker, podman, skopeo, buildah, uv, uvx and yarn it \
            starts goes through Bouncer.

            With a policy in force (BOUNCER_POLICY, else policy.json in the working directory \
            or above), COMMAND also runs with a verifying proxy of its own in its environment \
            (`bouncer serve` over the index and registry pip's and npm's configuration name): \
            PIP_INDEX_URL (with PIP_CONFIG_FILE=/dev/null and pip's other settings as PIP_* \
            variables), npm_config_registry and each scope's registry (npm keeps recording the \
            registry's tarball URLs in its lockfile), and a private npm cache. So a pip or npm \
            no shim stands in front of (an activated venv's, venv/bin/pip, npm by its path) \
            fetches through Bouncer as well. uv is not pointed at it (its project commands write \
            the index's address into uv.lock): its shim runs it only against a bouncer serve of \
            the user's own, and so does yarn's. The shims under it read the user's own settings and \
            run their tools through proxies of their own, as without exec. A client whose \
            configuration already names a running `bouncer serve` of the user's own under \
            the same policy stays pointed at it, with no proxy of exec's over it. What the \
            proxy verified and refused is said when COMMAND ends. The policy holds wherever \
            COMMAND goes: BOUNCER_POLICY names it in COMMAND's environment, so a folder \
            without a policy.json (or with another one) changes nothing; a login shell \
            (bash -l, su -, sudo) resets PATH, and what runs in it is unguarded.

            Exit status: COMMAND's own; 127 when COMMAND is not found, 126 when it \
            cannot be run; 2 when the policy in force does not load, or when the shims' \
            folder would have a ':' in its path, which PATH would split (COMMAND does not run).
            """
    )

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments.")
    var command: [String] = []

    func run() throws {
        var command = self.command
        // The arguments are captured verbatim, so help is asked for here (before any "--").
        if command.first == "--help" || command.first == "-h" {
            Console.output(BouncerCommand.helpMessage(for: ExecCommand.self))
            return
        }
        if command.first == "--" { command.removeFirst() }
        guard let program = command.first else { throw BouncerError.usage("give a command: bouncer exec -- COMMAND [ARG...]") }
        guard let bouncer = ShimDispatch.currentExecutable() else {
            throw BouncerError.io("cannot tell where this bouncer binary is (/proc/self/exe)")
        }
        let cwd = FileManager.default.currentDirectoryPath
        // What an exec above this one pointed at its proxy is the user's own again here.
        var environment = ExecProxyEnvironment.restored(ProcessInfo.processInfo.environment)
        // A relative cache, state or home folder is this folder's: the shims' PATH entry (and the
        // store and freshness state the shims use) must not move with the command's `cd`.
        for variable in ["BOUNCER_CACHE", "BOUNCER_STATE", "HOME"] {
            if let value = environment[variable], !value.isEmpty, !value.hasPrefix("/") { environment[variable] = Filesystem.absolute(value, cwd: cwd) }
        }
        let dir = Store.defaultRoot(environment: environment) + "/shims"
        guard !dir.contains(":") else {
            throw BouncerError(.configuration, code: "exec-shims",
                               "the shims' folder \(dir) has a ':' in its path, which PATH would split, so no shim would be found; set BOUNCER_CACHE to a folder without one")
        }
        try ShimInstaller.install(into: dir, bouncer: bouncer)
        environment["PATH"] = dir + ":" + (environment["PATH"] ?? SearchPath.unsetDefault)
        if let policyPath = PolicyLocator.find(environment: environment, cwd: cwd) {
            return try runThroughProxy(command, policyPath: policyPath, environment: environment, cwd: cwd)
        }
        for (key, value) in environment { setenv(key, value, 1) }
        for (key, _) in ProcessInfo.processInfo.environment where environment[key] == nil { unsetenv(key) }
        let argv = command.map { strdup($0) } + [nil]
        execvp(program, argv)
        throw Self.cannotRun(program, errno)
    }

    /// As a shell does: 127 for a command that is not there, 126 for one that cannot run.
    static func cannotRun(_ program: String, _ failure: Int32) -> ExitCode {
        Console.error("bouncer: exec: cannot run \(program): \(String(cString: strerror(failure)))")
        return ExitCode(failure == ENOENT || failure == ENOTDIR ? 127 : 126)
    }

    /// Under a policy: COMMAND as a child, with the exec's own verifying proxy in its environment.
    func runThroughProxy(_ command: [String], policyPath: String, environment: [String: String], cwd: String) throws {
        guard let name = command.first else { return }
        guard let program = name.contains("/") ? name : SearchPath.firstExecutable(name, environment: environment) else {
            throw Self.cannotRun(name, ENOENT)
        }
        guard access(program, X_OK) == 0 else { throw Self.cannotRun(name, errno) }
        // The policy found here holds for the whole command: a shim in a directory the
        // command moves to (`cd "$(mktemp -d)" && curl … | sh`) would find none and run unguarded.
        var environment = environment
        environment["BOUNCER_POLICY"] = policyPath
        let shimEnvironment = ShimEnvironment(tool: "exec", shimPath: nil, cwd: cwd, variables: environment)
        let guarded: GuardedPolicy
        do {
            guarded = try ShimGuards.make(policyPath: policyPath, environment: shimEnvironment)
        } catch let failure as BouncerFailure {
            Console.error("bouncer: exec: \(failure)")
            if let hint = failure.hint { Console.error("hint: \(hint)") }
            throw ExitCode(failure.family.exitCode)
        }
        let status: Int32
        do {
            status = try ExecProxy.run(program, Array(command.dropFirst()), environment: shimEnvironment, policy: guarded)
        } catch let failure as BouncerFailure {
            Console.error("bouncer: exec: \(failure)")
            throw ExitCode(failure.family.exitCode)
        }
        throw ExitCode(status)
    }
}
