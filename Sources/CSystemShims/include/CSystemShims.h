#ifndef BOUNCER_CSYSTEM_SHIMS_H
#define BOUNCER_CSYSTEM_SHIMS_H
// Why this exists: system calls Swift cannot reach. syscall(2) is variadic,
// which Swift cannot call, and glibc's own pidfd_open and gettid wrappers are
// too new (2.36, 2.30) for every distribution Bouncer builds on; gnu_get_libc_version
// sits in a header the Glibc module does not import.

/// A file descriptor that becomes readable when process `pid` (a child of
/// this process) exits, close-on-exec; -1 with errno set (ENOSYS before
/// Linux 5.3, or where a sandbox forbids it).
int bouncer_pidfd_open(int pid);

/// The C library's version when it is glibc ("2.36"), else NULL: which
/// manylinux wheels a Python on this machine can take. Static storage.
const char *bouncer_glibc_version(void);

/// Lowers the calling thread's own scheduling priority to nice `nice` (on
/// Linux nice is per thread; threads it starts later inherit it), unless it
/// is already that low. 0, or -1 with errno set. An unprivileged thread
/// cannot raise its priority again.
int bouncer_lower_thread_priority(int nice);

/// Has `signal` sent to this process when the thread that started it ends
/// (Linux's PR_SET_PDEATHSIG; prctl(2) is variadic). 0, or -1 with errno set.
int bouncer_end_with_parent(int signal);

/// Files a signal handler removes before it ends the process (curl's `-m`
/// timer ends the shim with _exit, mid-download): a fixed table, so that the
/// handler does only what a handler may (unlink(2)). Off until enabled, so a
/// long-running process never fills it; a full table tracks nothing more.
void bouncer_exit_cleanup_enable(void);
/// Tracks `path` (copied) when enabled; a slot, or -1 when not tracked. A
/// path renamed or removed since is harmless to unlink (it names nothing, or
/// only the store's hard link), so slots are never given back.
int bouncer_exit_cleanup_track(const char *path);
/// Unlinks every tracked path. Async-signal-safe.
void bouncer_exit_cleanup_run(void);

#endif
