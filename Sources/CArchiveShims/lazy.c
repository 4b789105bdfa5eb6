#include <archive.h>
#include <archive_entry.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "CArchiveShims.h"

// libarchive is loaded on first use rather than linked: with its compression
// libraries it costs ~0.8 ms at every process start, and most bouncer runs
// (shims passing through, hash, signature checks) never open an archive.
// Each archive_* function Bouncer calls is defined here and forwards to the
// library's own; a function added in Swift needs its line here (the link
// fails otherwise).

static void *library;
static char load_error[512];
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void) {
    library = dlopen("libarchive.so.13", RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        const char *why = dlerror();
        snprintf(load_error, sizeof load_error, "cannot load libarchive.so.13: %s", why ? why : "unknown error");
    }
}

const char *bouncer_archive_load_error(void) {
    pthread_once(&load_once, load);
    return library ? NULL : load_error;
}

// Only archive_read_new can be reached before the library is loaded (every
// other function takes an archive or entry it returned), so it alone reports
// failure by returning NULL; a symbol missing from a loaded libarchive is a
// broken installation and aborts with its name.
static void *resolve(const char *name) {
    if (bouncer_archive_load_error() != NULL) return NULL;
    void *symbol = dlsym(library, name);
    if (symbol == NULL) {
        fprintf(stderr, "bouncer: libarchive.so.13 has no symbol %s\n", name);
        abort();
    }
    return symbol;
}

// The resolved pointer is cached per function; threads may race to store
// the same value, so the cache is read and written atomically.
#define FORWARD(name, ret, params, args)                        \
    static ret (*cached) params;                                 \
    ret (*fn) params = __atomic_load_n(&cached, __ATOMIC_ACQUIRE); \
    if (fn == NULL) {                                            \
        *(void **)(&fn) = resolve(#name);                        \
        if (fn == NULL) return (ret)0;                           \
        __atomic_store_n(&cached, fn, __ATOMIC_RELEASE);         \
    }                                                            \
    return fn args

struct archive *archive_read_new(void) {
    FORWARD(archive_read_new, struct archive *, (void), ());
}
int archive_read_free(struct archive *a0) {
    FORWARD(archive_read_free, int, (struct archive *), (a0));
}
int archive_read_support_filter_all(struct archive *a0) {
    FORWARD(archive_read_support_filter_all, int, (struct archive *), (a0));
}
int archive_read_support_filter_gzip(struct archive *a0) {
    FORWARD(archive_read_support_filter_gzip, int, (struct archive *), (a0));
}
int archive_read_support_filter_bzip2(struct archive *a0) {
    FORWARD(archive_read_support_filter_bzip2, int, (struct archive *), (a0));
}
int archive_read_support_filter_xz(struct archive *a0) {
    FORWARD(archive_read_support_filter_xz, int, (struct archive *), (a0));
}
int archive_read_support_filter_lzma(struct archive *a0) {
    FORWARD(archive_read_support_filter_lzma, int, (struct archive *), (a0));
}
int archive_read_support_filter_lz4(struct archive *a0) {
    FORWARD(archive_read_support_filter_lz4, int, (struct archive *), (a0));
}
int archive_read_support_filter_zstd(struct archive *a0) {
    FORWARD(archive_read_support_filter_zstd, int, (struct archive *), (a0));
}
int archive_read_support_format_tar(struct archive *a0) {
    FORWARD(archive_read_support_format_tar, int, (struct archive *), (a0));
}
int archive_read_support_format_gnutar(struct archive *a0) {
    FORWARD(archive_read_support_format_gnutar, int, (struct archive *), (a0));
}
int archive_read_support_format_zip_streamable(struct archive *a0) {
    FORWARD(archive_read_support_format_zip_streamable, int, (struct archive *), (a0));
}
int archive_read_support_format_zip_seekable(struct archive *a0) {
    FORWARD(archive_read_support_format_zip_seekable, int, (struct archive *), (a0));
}
int archive_read_support_format_ar(struct archive *a0) {
    FORWARD(archive_read_support_format_ar, int, (struct archive *), (a0));
}
int archive_read_support_format_raw(struct archive *a0) {
    FORWARD(archive_read_support_format_raw, int, (struct archive *), (a0));
}
int archive_read_open(struct archive *a0, void *a1, archive_open_callback *a2, archive_read_callback *a3, archive_close_callback *a4) {
    FORWARD(archive_read_open, int, (struct archive *, void *, archive_open_callback *, archive_read_callback *, archive_close_callback *), (a0, a1, a2, a3, a4));
}
int archive_read_open_fd(struct archive *a0, int a1, size_t a2) {
    FORWARD(archive_read_open_fd, int, (struct archive *, int, size_t), (a0, a1, a2));
}
int archive_read_open_memory(struct archive *a0, const void *a1, size_t a2) {
    FORWARD(archive_read_open_memory, int, (struct archive *, const void *, size_t), (a0, a1, a2));
}
int archive_read_next_header(struct archive *a0, struct archive_entry **a1) {
    FORWARD(archive_read_next_header, int, (struct archive *, struct archive_entry **), (a0, a1));
}
la_ssize_t archive_read_data(struct archive *a0, void *a1, size_t a2) {
    FORWARD(archive_read_data, la_ssize_t, (struct archive *, void *, size_t), (a0, a1, a2));
}
int archive_read_data_block(struct archive *a0, const void **a1, size_t *a2, la_int64_t *a3) {
    FORWARD(archive_read_data_block, int, (struct archive *, const void **, size_t *, la_int64_t *), (a0, a1, a2, a3));
}
int archive_errno(struct archive *a0) {
    FORWARD(archive_errno, int, (struct archive *), (a0));
}
const char *archive_error_string(struct archive *a0) {
    FORWARD(archive_error_string, const char *, (struct archive *), (a0));
}
int archive_format(struct archive *a0) {
    FORWARD(archive_format, int, (struct archive *), (a0));
}
const char *archive_format_name(struct archive *a0) {
    FORWARD(archive_format_name, const char *, (struct archive *), (a0));
}
int archive_filter_count(struct archive *a0) {
    FORWARD(archive_filter_count, int, (struct archive *), (a0));
}
const char *archive_filter_name(struct archive *a0, int a1) {
    FORWARD(archive_filter_name, const char *, (struct archive *, int), (a0, a1));
}
la_int64_t archive_filter_bytes(struct archive *a0, int a1) {
    FORWARD(archive_filter_bytes, la_int64_t, (struct archive *, int), (a0, a1));
}
const char *archive_entry_pathname(struct archive_entry *a0) {
    FORWARD(archive_entry_pathname, const char *, (struct archive_entry *), (a0));
}
const char *archive_entry_pathname_utf8(struct archive_entry *a0) {
    FORWARD(archive_entry_pathname_utf8, const char *, (struct archive_entry *), (a0));
}
const char *archive_entry_hardlink(struct archive_entry *a0) {
    FORWARD(archive_entry_hardlink, const char *, (struct archive_entry *), (a0));
}
const char *archive_entry_hardlink_utf8(struct archive_entry *a0) {
    FORWARD(archive_entry_hardlink_utf8, const char *, (struct archive_entry *), (a0));
}
const char *archive_entry_symlink(struct archive_entry *a0) {
    FORWARD(archive_entry_symlink, const char *, (struct archive_entry *), (a0));
}
const char *archive_entry_symlink_utf8(struct archive_entry *a0) {
    FORWARD(archive_entry_symlink_utf8, const char *, (struct archive_entry *), (a0));
}
mode_t archive_entry_filetype(struct archive_entry *a0) {
    FORWARD(archive_entry_filetype, mode_t, (struct archive_entry *), (a0));
}
mode_t archive_entry_mode(struct archive_entry *a0) {
    FORWARD(archive_entry_mode, mode_t, (struct archive_entry *), (a0));
}
la_int64_t archive_entry_size(struct archive_entry *a0) {
    FORWARD(archive_entry_size, la_int64_t, (struct archive_entry *), (a0));
}
int archive_entry_size_is_set(struct archive_entry *a0) {
    FORWARD(archive_entry_size_is_set, int, (struct archive_entry *), (a0));
}
time_t archive_entry_mtime(struct archive_entry *a0) {
    FORWARD(archive_entry_mtime, time_t, (struct archive_entry *), (a0));
}
int archive_entry_mtime_is_set(struct archive_entry *a0) {
    FORWARD(archive_entry_mtime_is_set, int, (struct archive_entry *), (a0));
}
int archive_entry_sparse_count(struct archive_entry *a0) {
    FORWARD(archive_entry_sparse_count, int, (struct archive_entry *), (a0));
}
int archive_entry_is_encrypted(struct archive_entry *a0) {
    FORWARD(archive_entry_is_encrypted, int, (struct archive_entry *), (a0));
}
int archive_read_data_skip(struct archive *a0) {
    FORWARD(archive_read_data_skip, int, (struct archive *), (a0));
}
