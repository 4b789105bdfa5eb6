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
        abstract: "Run one command with the shims first on PATH: bouncer exec -- COMMAND [ARG...].",
        discussion: """
            The shims are (re)written into the Bouncer cache (BOUNCER_CACHE, else \
            $XDG_CACHE_HOME/bouncer, else ~/.cache/bouncer) under shims/, and COMMAND runs \
            with that directory first on PATH, so every curl, wget, pip, pip3, npm, npx, \
            `python3 -m pip`, docker and podman it \
            starts goes through Bouncer.

            Exit status: COMMAND's own; 127 when COMMAND is not found, 126 when it \
            cannot be run.
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
        let dir = Store.defaultRoot() + "/shims"
        try ShimInstaller.install(into: dir, bouncer: bouncer)
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = dir + ":" + (environment["PATH"] ?? SearchPath.unsetDefault)
        for (key, value) in environment { setenv(key, value, 1) }
        let argv = command.map { strdup($0) } + [nil]
        execvp(program, argv)
        let failure = errno
        // As a shell does: 127 for a command that is not there, 126 for one that cannot run.
        Console.error("bouncer: exec: cannot run \(program): \(String(cString: strerror(failure)))")
        throw ExitCode(failure == ENOENT || failure == ENOTDIR ? 127 : 126)
    }
}
