#if canImport(Glibc)
import Glibc
#endif
import CSystemShims

/// The one way Bouncer starts another program: posix_spawn with an explicit
/// environment (nothing inherited by accident), exit statuses as shells
/// report them.
public enum Spawn {
    /// Starts a program without waiting for it; `streams` sets up its file descriptors.
    /// `ownProcessGroup`: the child leads a process group of its own, so a
    /// terminal's Ctrl-C (sent to the foreground group) does not reach it.
    /// `endsWithThisProcess`: the child is told this process's id
    /// (`starterVariable`), and one that calls `endWithStarter()` ends with it.
    public static func start(_ program: String, _ arguments: [String], environment: [String: String], ownProcessGroup: Bool = false,
                             endsWithThisProcess: Bool = false,
                             streams: (inout posix_spawn_file_actions_t) -> Void = { _ in }) throws(BouncerError) -> pid_t {
        var environment = environment
        if endsWithThisProcess { environment[starterVariable] = String(getpid()) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        if ownProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        streams(&actions)
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        fflush(nil)
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, program, &actions, &attributes, argv, envp)
        guard spawned == 0 else { throw .io("cannot run \(program): \(String(cString: strerror(spawned)))") }
        return pid
    }

    /// The process id of the process a child must end with.
    public static let starterVariable = "BOUNCER_SERVE_PARENT"

    /// In a child started `endsWithThisProcess`: it is killed (SIGKILL) when
    /// its starter ends, even one killed outright, instead of running on,
    /// orphaned. False when the starter is gone already (it ended before
    /// this call): the caller should not start. True when not asked.
    public static func endWithStarter() -> Bool {
        guard let text = getenv(starterVariable), let starter = Int32(String(cString: text)) else { return true }
        unsetenv(starterVariable)
        return bouncer_end_with_parent(SIGKILL) != 0 || getppid() == starter
    }

    /// Waits for a child (retrying on EINTR): its exit status, 128+signal when killed.
    public static func wait(_ pid: pid_t, _ program: String) throws(BouncerError) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { throw .io("waiting for \(program): \(String(cString: strerror(errno)))") }
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG spelled out (macros Swift cannot import).
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// Runs a program with no input and its errors discarded, and returns its
    /// exit status and standard output (kept in a private temp file, so a
    /// large output cannot stall it on a full pipe).
    public static func output(_ program: String, _ arguments: [String], environment: [String: String],
                              limit: Int = 1 << 20) throws(BouncerError) -> (status: Int32, output: [UInt8]) {
        let (fd, path) = try Filesystem.createExclusive(in: Filesystem.temporaryRoot, prefix: "bouncer-output")
        defer { close(fd); unlink(path) }
        let pid = try start(program, arguments, environment: environment) { actions in
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_adddup2(&actions, fd, 1)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }
        let status = try wait(pid, program)
        // Read back by name: the descriptor the child wrote through is write-only.
        guard case .success(let bytes) = WholeFile.contents(path, limit: limit) else { return (status, []) }
        return (status, bytes)
    }
}
