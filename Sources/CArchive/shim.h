#ifndef BOUNCER_CARCHIVE_SHIM_H
#define BOUNCER_CARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>
#endif
