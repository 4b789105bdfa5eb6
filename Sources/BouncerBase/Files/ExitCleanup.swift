import CSystemShims

/// Temporary files a signal handler removes before it ends the process:
/// curl's `-m` ends the shim from a timer signal, mid-download, and a
/// download's temp file in the store would outlive it. Off unless enabled
/// (only a short-lived shim process with a timer does), so the fixed table
/// in C is never filled by a long-running one.
public enum ExitCleanup {
    public static func enable() { bouncer_exit_cleanup_enable() }

    /// Removed if the process ends from a signal handler that runs the cleanup.
    public static func track(_ path: String) { _ = bouncer_exit_cleanup_track(path) }
}
