#ifndef BOUNCER_CCURL_SHIMS_H
#define BOUNCER_CCURL_SHIMS_H
// Why this exists: libcurl is loaded lazily with dlopen (see shims.c), so
// every call goes through these wrappers; and curl_easy_setopt,
// curl_easy_getinfo and curl_multi_setopt are variadic, which Swift cannot
// call: one wrapper per argument type keeps the types checked in Swift.
#include <curl/curl.h>

/// Loads libcurl and runs curl_global_init, once per process. Returns NULL on
/// success, or a message saying why libcurl is unusable. Call it before any
/// other function here.
const char *bouncer_curl_load(void);

/// A new easy handle, sharing the process's one DNS cache (shims.c).
CURL *bouncer_curl_easy_init(void);
void bouncer_curl_easy_cleanup(CURL *easy);
const char *bouncer_curl_easy_strerror(CURLcode code);
CURLMcode bouncer_curl_multi_add_handle(CURLM *multi, CURL *easy);
CURLMcode bouncer_curl_multi_remove_handle(CURLM *multi, CURL *easy);
CURLMcode bouncer_curl_multi_perform(CURLM *multi, int *running);
CURLMcode bouncer_curl_multi_poll(CURLM *multi, int timeout_ms);
CURLMsg *bouncer_curl_multi_info_read(CURLM *multi, int *left);

typedef size_t (*bouncer_curl_write_cb)(char *data, size_t size, size_t nmemb, void *userdata);
typedef int (*bouncer_curl_xferinfo_cb)(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
                                        curl_off_t ultotal, curl_off_t ulnow);

/// Request headers (curl_slist); free the list after the transfer ends.
struct curl_slist *bouncer_curl_slist_append(struct curl_slist *list, const char *value);
void bouncer_curl_slist_free_all(struct curl_slist *list);

CURLcode bouncer_curl_setopt_long(CURL *easy, CURLoption option, long value);
CURLcode bouncer_curl_setopt_off(CURL *easy, CURLoption option, curl_off_t value);
CURLcode bouncer_curl_setopt_string(CURL *easy, CURLoption option, const char *value);
CURLcode bouncer_curl_setopt_pointer(CURL *easy, CURLoption option, void *value);
CURLcode bouncer_curl_setopt_slist(CURL *easy, CURLoption option, struct curl_slist *value);
CURLcode bouncer_curl_setopt_write_function(CURL *easy, bouncer_curl_write_cb cb);
CURLcode bouncer_curl_setopt_header_function(CURL *easy, bouncer_curl_write_cb cb);
CURLcode bouncer_curl_setopt_xferinfo_function(CURL *easy, bouncer_curl_xferinfo_cb cb);
CURLcode bouncer_curl_setopt_ssl_ctx_function(CURL *easy, curl_ssl_ctx_callback cb);

/// libcurl's version and build defaults (its CA file), and a symbol looked up
/// in libcurl and the libraries it loaded.
const curl_version_info_data *bouncer_curl_version_info(void);
void *bouncer_curl_dlsym(const char *name);

/// Lets `easy` take its CA certificates from one copy of the PEM file `path`
/// (NULL: libcurl's default CA file) parsed once per process and again when
/// the file changes, instead of libcurl parsing it for each TLS connection
/// (ca_bundle.c). Returns 1 when set up (CURLOPT_CAINFO is then cleared), 0
/// when libcurl is to be given the file as usual: not OpenSSL, or the file
/// unreadable or without certificates, which libcurl then reports.
int bouncer_curl_share_ca_bundle(CURL *easy, const char *path);
/// Parses that file now (a proxy starting, before its first client), so
/// that the first transfers do not wait for it.
void bouncer_curl_preload_ca_bundle(const char *path);
/// How many times the function above parsed the CA file `path` (for tests).
unsigned long bouncer_curl_ca_bundle_parses(const char *path);

CURLcode bouncer_curl_getinfo_long(CURL *easy, CURLINFO info, long *value);
CURLcode bouncer_curl_getinfo_double(CURL *easy, CURLINFO info, double *value);
CURLcode bouncer_curl_getinfo_off(CURL *easy, CURLINFO info, curl_off_t *value);
CURLcode bouncer_curl_getinfo_string(CURL *easy, CURLINFO info, const char **value);
CURLcode bouncer_curl_getinfo_pointer(CURL *easy, CURLINFO info, void **value);

CURLMcode bouncer_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value);

/// A multi handle for one fetch at a time, from a pool: the one last given
/// back for `origin` (scheme://host:port), with the connections it kept; a
/// new one when there is none (NULL if libcurl cannot make one). Give it back
/// with no easy handle left in it. (DNS answers and the CA file are shared by
/// every handle: shims.c, ca_bundle.c.)
CURLM *bouncer_curl_multi_take(const char *origin);
void bouncer_curl_multi_give(CURLM *multi, const char *origin);
#endif
