#if canImport(Glibc)
import Glibc
#endif
import CSystemShims

/// Sleeping until a child exits, without polling: one pidfd per watched
/// process, and poll(2), which a caught signal also ends (EINTR).
///
/// A shim waits for the real tool as long as the install takes; a 2 ms
/// waitpid loop woke it 500 times a second, on a machine whose two cores
/// pip and the proxy need. Where pidfds are unavailable (Linux before 5.3, a
/// sandbox that forbids them) it naps 2 ms as that loop did.
public final class ExitWatch {
    private var watched: [Int32] = []
    /// Whether `sleep` blocks on the processes (pidfds) or naps.
    public let blocking: Bool

    /// Watches `pids`, children of this process not yet reaped; one already
    /// gone needs no watching (the caller's waitpid sees to it).
    public init(_ pids: [pid_t]) {
        var usable = true
        for pid in pids {
            let fd = bouncer_pidfd_open(pid)
            if fd >= 0 { watched.append(fd) } else if errno != ESRCH { usable = false }
        }
        blocking = usable
    }

    deinit { for fd in watched { close(fd) } }

    /// Returns once a watched process has exited, a signal has been caught,
    /// or `milliseconds` have passed, whichever comes first. Each exit wakes
    /// it once: an exited process stays readable, so its pidfd is dropped.
    public func sleep(milliseconds: Int32) {
        guard blocking else {
            usleep(UInt32(max(0, min(milliseconds, 2))) * 1000)
            return
        }
        var fds = watched.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        guard poll(&fds, nfds_t(fds.count), milliseconds) > 0 else { return }
        for entry in fds where entry.revents != 0 {
            close(entry.fd)
            watched.removeAll { $0 == entry.fd }
        }
    }
}
