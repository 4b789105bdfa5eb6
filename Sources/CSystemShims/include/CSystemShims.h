#ifndef BOUNCER_CSYSTEM_SHIMS_H
#define BOUNCER_CSYSTEM_SHIMS_H
// Why this exists: system calls Swift cannot reach. syscall(2) is variadic,
// which Swift cannot call, and glibc's own pidfd_open wrapper is too new
// (2.36) for every distribution Bouncer builds on.

/// A file descriptor that becomes readable when process `pid` (a child of
/// this process) exits, close-on-exec; -1 with errno set (ENOSYS before
/// Linux 5.3, or where a sandbox forbids it).
int bouncer_pidfd_open(int pid);

#endif
