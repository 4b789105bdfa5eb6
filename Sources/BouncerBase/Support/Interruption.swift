#if canImport(Glibc)
import Glibc
#endif

/// Ctrl-C (SIGINT), SIGTERM and SIGHUP while Bouncer holds something it must
/// put back (the project files `npm install NAME` lets the real npm rewrite).
/// Dying there would leave them half-changed, so inside `deferring` a signal
/// is only recorded: a running child (the real tool) still gets it from the
/// terminal and ends, a running download stops at its next check (at most
/// ~100 ms), the caller puts its state back and exits 128+signal as a shell
/// expects. Outside `deferring` the defaults apply (Bouncer writes nothing in
/// place before it has verified, so dying is safe there).
public enum Interruption {
    /// Written only by the handler (a plain aligned store, as sig_atomic_t would be), read by the main flow.
    nonisolated(unsafe) private static var caught: Int32 = 0

    static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    /// The signal received inside the current `deferring` call, if any.
    public static var signal: Int32? { caught == 0 ? nil : caught }

    /// Runs `body` with the signals recorded instead of fatal; the previous
    /// dispositions are restored afterwards. Handlers (unlike ignored
    /// signals) are reset to the default in the programs Bouncer starts.
    public static func deferring<T>(_ body: () throws -> T) rethrows -> T {
        caught = 0
        var previous: [(Int32, sigaction)] = []
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for number in signals {
            var old = sigaction()
            guard sigaction(number, nil, &old) == 0 else { continue }
            // Ignored (a background job's Ctrl-C): stays ignored, as for any program.
            if let handler = old.__sigaction_handler.sa_handler, unsafeBitCast(handler, to: Int.self) == 1 { continue }
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { received in Interruption.caught = received }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            if sigaction(number, &action, nil) == 0 {
                previous.append((number, old))
                sigaddset(&unblock, number)
            }
        }
        // A parent that spawned Bouncer from a thread with these signals
        // blocked (a libdispatch worker, for one) passed the mask on: unblock
        // them here, or a signal would wait unseen until the end.
        var mask = sigset_t()
        pthread_sigmask(SIG_UNBLOCK, &unblock, &mask)
        defer {
            pthread_sigmask(SIG_SETMASK, &mask, nil)
            for (number, old) in previous {
                var restore = old
                sigaction(number, &restore, nil)
            }
        }
        return try body()
    }

    /// The exit status a shell reports for a process ended by the signal.
    public static func exitStatus(_ signal: Int32) -> Int32 { 128 + signal }
}
