#ifndef BOUNCER_CARCHIVE_SHIMS_H
#define BOUNCER_CARCHIVE_SHIMS_H
// libarchive is loaded on first use (see lazy.c); the archive_* functions
// Bouncer calls are defined there and forward to the loaded library.

/// NULL once libarchive is loaded, else why it could not be (archive_read_new
/// then returns NULL).
const char *bouncer_archive_load_error(void);

#endif
