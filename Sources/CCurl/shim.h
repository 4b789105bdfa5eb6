#ifndef BOUNCER_CCURL_SHIM_H
#define BOUNCER_CCURL_SHIM_H
#include <curl/curl.h>
#endif
