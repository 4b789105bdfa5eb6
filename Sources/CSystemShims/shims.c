#include "CSystemShims.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/resource.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/syscall.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <gnu/libc-version.h>
#endif

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434 // the same number on every Linux architecture
#endif

int bouncer_pidfd_open(int pid) {
#ifdef __linux__
    // A pidfd is close-on-exec by definition: children never inherit it.
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

const char *bouncer_glibc_version(void) {
#ifdef __GLIBC__
    return gnu_get_libc_version();
#else
    return 0;
#endif
}

int bouncer_lower_thread_priority(int nice) {
#ifdef __linux__
    // PRIO_PROCESS with a thread id addresses that one thread (setpriority(2), BUGS).
    id_t thread = (id_t)syscall(SYS_gettid);
    errno = 0;
    int current = getpriority(PRIO_PROCESS, thread);
    if (errno != 0) return -1;
    if (current >= nice) return 0;
    return setpriority(PRIO_PROCESS, thread, nice);
#else
    (void)nice;
    errno = ENOSYS;
    return -1;
#endif
}

int bouncer_end_with_parent(int signal) {
#ifdef __linux__
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0UL, 0UL, 0UL);
#else
    (void)signal;
    errno = ENOSYS;
    return -1;
#endif
}

// Slot states: 0 free, 1 being written (skipped by the handler), 2 tracked.
enum { CLEANUP_SLOTS = 64 };
static int cleanup_enabled;
static int cleanup_state[CLEANUP_SLOTS];
static char cleanup_paths[CLEANUP_SLOTS][PATH_MAX];

void bouncer_exit_cleanup_enable(void) {
    __atomic_store_n(&cleanup_enabled, 1, __ATOMIC_SEQ_CST);
}

int bouncer_exit_cleanup_track(const char *path) {
    if (!__atomic_load_n(&cleanup_enabled, __ATOMIC_SEQ_CST) || strlen(path) >= PATH_MAX) return -1;
    for (int slot = 0; slot < CLEANUP_SLOTS; slot++) {
        int expected = 0;
        if (__atomic_compare_exchange_n(&cleanup_state[slot], &expected, 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
            strcpy(cleanup_paths[slot], path);
            __atomic_store_n(&cleanup_state[slot], 2, __ATOMIC_SEQ_CST);
            return slot;
        }
    }
    return -1;
}

void bouncer_exit_cleanup_run(void) {
    for (int slot = 0; slot < CLEANUP_SLOTS; slot++) {
        if (__atomic_load_n(&cleanup_state[slot], __ATOMIC_SEQ_CST) == 2) unlink(cleanup_paths[slot]);
    }
}
