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

#endif
