import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerIO
import BouncerPolicy

/// Runs the real tool: either in place of Bouncer (`exec`, for pass-through,
/// so signals, exit status and terminal behave exactly as without the shim)
/// or as a child whose exit status Bouncer reports (after verification).
public enum HandOver {
    /// The environment handed to the real tool: marks the file handed over to,
    /// so a shim reached again through it reports a loop instead of recursing.
    public static func environment(_ base: [String: String], realTool: String) -> [String: String] {
        var env = base
        // "PID:PATH": exec keeps the process id, so a shim that finds its own
        // pid here was exec'd straight back by the "real" tool (a loop).
        env[ShimEnvironment.handOverVariable] = "\(getpid()):\(realTool)"
        env[ShimEnvironment.depthVariable] = String((Int(base[ShimEnvironment.depthVariable] ?? "") ?? 0) + 1)
        return env
    }

    /// Replaces this process with the real tool. Returns only on failure.
    public static func exec(_ program: String, _ arguments: [String], environment: [String: String]) -> BouncerError {
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        fflush(nil)
        execve(program, argv, envp)
        let reason = String(cString: strerror(errno))
        for pointer in argv { free(pointer) }
        for pointer in envp { free(pointer) }
        return .io("cannot run \(program): \(reason)")
    }

    /// Runs the real tool with the same standard streams and waits for it.
    /// Returns its exit status (128+signal when killed, as shells report it).
    /// `stopWhen`, asked while it waits, ends the tool (SIGTERM) once it says
    /// so; it is asked again whenever a process in `wakeFor` (the shim's
    /// proxy) exits.
    public static func run(_ program: String, _ arguments: [String], environment: [String: String],
                           quietStdout: Bool = false, onInterruption: (() -> Void)? = nil,
                           stopWhen: (() -> Bool)? = nil, wakeFor: [pid_t] = []) throws(BouncerError) -> Int32 {
        let pid = try Spawn.start(program, arguments, environment: environment) { actions in
            if quietStdout { posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0) }
        }
        return try waitPassingOnInterruption(pid, program, onInterruption: onInterruption, stopWhen: stopWhen, wakeFor: wakeFor)
    }

    /// Waits for the real tool; a signal Bouncer records meanwhile (`Interruption`,
    /// e.g. a SIGINT sent to the shim alone) is passed on to it once, so it stops
    /// as it would have without the shim, and Bouncer then cleans up.
    /// `onInterruption` runs then too (the shims stop their proxy, as a terminal's
    /// Ctrl-C would, so a tool rolling back is not left waiting on it).
    /// It sleeps until the tool or a process in `wakeFor` exits or a signal
    /// arrives (`ExitWatch`); at most 100 ms, which bounds how late a signal
    /// caught just before the sleep is passed on.
    static func waitPassingOnInterruption(_ pid: pid_t, _ program: String, onInterruption: (() -> Void)? = nil,
                                          stopWhen: (() -> Bool)? = nil, wakeFor: [pid_t] = []) throws(BouncerError) -> Int32 {
        let exits = ExitWatch([pid] + wakeFor)
        var passedOn = false
        var stopped = false
        while true {
            var status: Int32 = 0
            let done = waitpid(pid, &status, WNOHANG)
            if done == pid {
                let signal = status & 0x7f
                return signal == 0 ? (status >> 8) & 0xff : 128 + signal
            }
            if done < 0 && errno != EINTR { throw .io("waiting for \(program): \(String(cString: strerror(errno)))") }
            if !passedOn, let signal = Interruption.signal {
                kill(pid, signal)
                onInterruption?()
                passedOn = true
            }
            if !stopped, stopWhen?() == true {
                kill(pid, SIGTERM)
                stopped = true
            }
            exits.sleep(milliseconds: 100)
        }
    }

    /// Removes a scratch directory after the shim has answered: a detached
    /// `rm -rf` in its own session (an npm cache of a few hundred tarballs
    /// takes longer to delete than the shim takes to report). Removed here
    /// and now if that cannot be started.
    static func removeInBackground(_ path: String) {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // POSIX_SPAWN_SETSID (0x80 in glibc; hidden from Swift behind _GNU_SOURCE): its own session.
        posix_spawnattr_setflags(&attributes, 0x80)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd: Int32 in [0, 1, 2] { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0) }
        let words: [String] = ["rm", "-rf", "--", path]
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let envp: [UnsafeMutablePointer<CChar>?] = [nil]
        var pid: pid_t = 0
        if posix_spawn(&pid, "/bin/rm", &actions, &attributes, argv, envp) != 0 {
            try? FileManager.default.removeItem(atPath: path)
        }
    }

}
