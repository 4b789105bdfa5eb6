#include "CCurlShims.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

// libcurl is loaded on first use rather than linked: its dependency tree
// (about 30 shared libraries: GSSAPI, LDAP, SSH, HTTP/2, IDN...) costs ~4 ms
// at every process start, and most bouncer runs (shims passing through,
// verify, hash) never make a transfer.

static struct {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    const char *(*easy_strerror)(CURLcode);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_cleanup)(CURLM *);
    CURLMcode (*multi_add_handle)(CURLM *, CURL *);
    CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
    CURLMcode (*multi_perform)(CURLM *, int *);
    CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd *, unsigned int, int, int *);
    CURLMsg *(*multi_info_read)(CURLM *, int *);
    CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    curl_version_info_data *(*version_info)(CURLversion);
    CURLSH *(*share_init)(void);
    CURLSHcode (*share_setopt)(CURLSH *, CURLSHoption, ...);
} api;
static void *curl_library;

// One DNS cache for every easy handle. Each multi handle of the pool (below)
// otherwise keeps its own, and a proxy serving a client that asks for ~30
// files at once (uv) works through ~30 multi handles: it asked DNS once per
// new connection (26 lookups for one install), where one per host does, and
// each lookup is a chance to wait out a lost UDP answer (5 s here). libcurl
// supports a DNS cache shared by handles on several threads, given locks.
// (Not its connection cache, which the pool keeps per thread; not TLS
// sessions, which libcurl would resume without asking the CA callback of
// ca_bundle.c.)
static CURLSH *dns_share;
static pthread_mutex_t share_mutexes[CURL_LOCK_DATA_LAST];

static void share_lock(CURL *easy, curl_lock_data data, curl_lock_access access, void *userptr) {
    (void)easy, (void)access, (void)userptr;
    if (data >= 0 && data < CURL_LOCK_DATA_LAST) pthread_mutex_lock(&share_mutexes[data]);
}

static void share_unlock(CURL *easy, curl_lock_data data, void *userptr) {
    (void)easy, (void)userptr;
    if (data >= 0 && data < CURL_LOCK_DATA_LAST) pthread_mutex_unlock(&share_mutexes[data]);
}

static void share_dns(void) {
    CURLSH *share = api.share_init();
    if (share == NULL) return;
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) pthread_mutex_init(&share_mutexes[i], NULL);
    // Without it, each handle keeps using its multi handle's own cache.
    if (api.share_setopt(share, CURLSHOPT_LOCKFUNC, share_lock) != CURLSHE_OK ||
        api.share_setopt(share, CURLSHOPT_UNLOCKFUNC, share_unlock) != CURLSHE_OK ||
        api.share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK) return;
    dns_share = share;
}

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_status = -1;
static char load_error[512];

#define RESOLVE(field, name)                                                         \
    do {                                                                             \
        *(void **)(&api.field) = dlsym(handle, name);                                \
        if (api.field == NULL) {                                                     \
            snprintf(load_error, sizeof load_error, "libcurl has no symbol %s", name); \
            return;                                                                  \
        }                                                                            \
    } while (0)

static void load(void) {
    void *handle = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char *why = dlerror();
        snprintf(load_error, sizeof load_error, "cannot load libcurl.so.4: %s", why ? why : "unknown error");
        return;
    }
    curl_library = handle;
    RESOLVE(global_init, "curl_global_init");
    RESOLVE(easy_init, "curl_easy_init");
    RESOLVE(easy_cleanup, "curl_easy_cleanup");
    RESOLVE(easy_setopt, "curl_easy_setopt");
    RESOLVE(easy_getinfo, "curl_easy_getinfo");
    RESOLVE(easy_strerror, "curl_easy_strerror");
    RESOLVE(multi_init, "curl_multi_init");
    RESOLVE(multi_cleanup, "curl_multi_cleanup");
    RESOLVE(multi_add_handle, "curl_multi_add_handle");
    RESOLVE(multi_remove_handle, "curl_multi_remove_handle");
    RESOLVE(multi_perform, "curl_multi_perform");
    RESOLVE(multi_poll, "curl_multi_poll");
    RESOLVE(multi_info_read, "curl_multi_info_read");
    RESOLVE(multi_setopt, "curl_multi_setopt");
    RESOLVE(slist_append, "curl_slist_append");
    RESOLVE(slist_free_all, "curl_slist_free_all");
    RESOLVE(version_info, "curl_version_info");
    RESOLVE(share_init, "curl_share_init");
    RESOLVE(share_setopt, "curl_share_setopt");
    if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(load_error, sizeof load_error, "curl_global_init failed");
        return;
    }
    share_dns();
    load_status = 0;
}

const char *bouncer_curl_load(void) {
    pthread_once(&load_once, load);
    return load_status == 0 ? NULL : load_error;
}

// Every wrapper below is only reached after bouncer_curl_load() succeeded.

CURL *bouncer_curl_easy_init(void) {
    CURL *easy = api.easy_init();
    if (easy != NULL && dns_share != NULL) api.easy_setopt(easy, CURLOPT_SHARE, dns_share);
    return easy;
}
void bouncer_curl_easy_cleanup(CURL *easy) { api.easy_cleanup(easy); }
const char *bouncer_curl_easy_strerror(CURLcode code) { return api.easy_strerror(code); }
CURLMcode bouncer_curl_multi_add_handle(CURLM *multi, CURL *easy) { return api.multi_add_handle(multi, easy); }
CURLMcode bouncer_curl_multi_remove_handle(CURLM *multi, CURL *easy) { return api.multi_remove_handle(multi, easy); }
CURLMcode bouncer_curl_multi_perform(CURLM *multi, int *running) { return api.multi_perform(multi, running); }
CURLMcode bouncer_curl_multi_poll(CURLM *multi, int timeout_ms) {
    return api.multi_poll(multi, NULL, 0, timeout_ms, NULL);
}
CURLMsg *bouncer_curl_multi_info_read(CURLM *multi, int *left) { return api.multi_info_read(multi, left); }

CURLcode bouncer_curl_setopt_long(CURL *easy, CURLoption option, long value) {
    return api.easy_setopt(easy, option, value);
}
CURLcode bouncer_curl_setopt_off(CURL *easy, CURLoption option, curl_off_t value) {
    return api.easy_setopt(easy, option, value);
}
CURLcode bouncer_curl_setopt_string(CURL *easy, CURLoption option, const char *value) {
    return api.easy_setopt(easy, option, value);
}
CURLcode bouncer_curl_setopt_pointer(CURL *easy, CURLoption option, void *value) {
    return api.easy_setopt(easy, option, value);
}
CURLcode bouncer_curl_setopt_slist(CURL *easy, CURLoption option, struct curl_slist *value) {
    return api.easy_setopt(easy, option, value);
}
CURLcode bouncer_curl_setopt_write_function(CURL *easy, bouncer_curl_write_cb cb) {
    return api.easy_setopt(easy, CURLOPT_WRITEFUNCTION, cb);
}
CURLcode bouncer_curl_setopt_header_function(CURL *easy, bouncer_curl_write_cb cb) {
    return api.easy_setopt(easy, CURLOPT_HEADERFUNCTION, cb);
}
CURLcode bouncer_curl_setopt_xferinfo_function(CURL *easy, bouncer_curl_xferinfo_cb cb) {
    return api.easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, cb);
}
CURLcode bouncer_curl_setopt_ssl_ctx_function(CURL *easy, curl_ssl_ctx_callback cb) {
    return api.easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, cb);
}

const curl_version_info_data *bouncer_curl_version_info(void) { return api.version_info(CURLVERSION_NOW); }
// libcurl's own dependencies are searched too (its TLS library).
void *bouncer_curl_dlsym(const char *name) { return dlsym(curl_library, name); }

CURLcode bouncer_curl_getinfo_long(CURL *easy, CURLINFO info, long *value) {
    return api.easy_getinfo(easy, info, value);
}
CURLcode bouncer_curl_getinfo_double(CURL *easy, CURLINFO info, double *value) {
    return api.easy_getinfo(easy, info, value);
}
CURLcode bouncer_curl_getinfo_off(CURL *easy, CURLINFO info, curl_off_t *value) {
    return api.easy_getinfo(easy, info, value);
}
CURLcode bouncer_curl_getinfo_string(CURL *easy, CURLINFO info, const char **value) {
    return api.easy_getinfo(easy, info, value);
}
CURLcode bouncer_curl_getinfo_pointer(CURL *easy, CURLINFO info, void **value) {
    return api.easy_getinfo(easy, info, value);
}

// Multi handles kept from one fetch to the next. Each fetch made its own
// multi handle and cleaned it up when it ended, and with it what the handle
// keeps: its open connections and DNS answers. A proxy serving pip makes one
// fetch per page and file, so it opened a new TLS connection for each (~90
// for one install), and parsed the system's ~140 CA certificates for each.
// A fetch now takes a multi handle from this pool and gives it back once its
// transfers have ended: the one last given back for the same origin (its
// connections are to that server), else a new one; the oldest beyond
// MULTI_POOL_MAX is cleaned up. One fetch, on one thread, uses a handle at a
// time, as libcurl requires. libcurl reuses a connection only for the same
// host, port, proxy and TLS settings.
enum { MULTI_POOL_MAX = 64, ORIGIN_MAX = 256 };
static pthread_mutex_t multi_pool_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct { CURLM *multi; char origin[ORIGIN_MAX]; } multi_pool[MULTI_POOL_MAX];
static int multi_pool_count;

CURLM *bouncer_curl_multi_take(const char *origin) {
    CURLM *multi = NULL;
    pthread_mutex_lock(&multi_pool_mutex);
    for (int i = multi_pool_count - 1; i >= 0; i--) {
        if (strncmp(multi_pool[i].origin, origin, ORIGIN_MAX - 1) == 0) {
            multi = multi_pool[i].multi;
            memmove(&multi_pool[i], &multi_pool[i + 1], (size_t)(multi_pool_count - i - 1) * sizeof multi_pool[0]);
            multi_pool_count--;
            break;
        }
    }
    pthread_mutex_unlock(&multi_pool_mutex);
    return multi != NULL ? multi : api.multi_init();
}

void bouncer_curl_multi_give(CURLM *multi, const char *origin) {
    if (multi == NULL) return;
    CURLM *oldest = NULL;
    pthread_mutex_lock(&multi_pool_mutex);
    if (multi_pool_count == MULTI_POOL_MAX) {
        oldest = multi_pool[0].multi;
        memmove(&multi_pool[0], &multi_pool[1], (size_t)(MULTI_POOL_MAX - 1) * sizeof multi_pool[0]);
        multi_pool_count--;
    }
    multi_pool[multi_pool_count].multi = multi;
    snprintf(multi_pool[multi_pool_count].origin, ORIGIN_MAX, "%s", origin);
    multi_pool_count++;
    pthread_mutex_unlock(&multi_pool_mutex);
    // Its connections are closed.
    if (oldest != NULL) api.multi_cleanup(oldest);
}

CURLMcode bouncer_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value) {
    return api.multi_setopt(multi, option, value);
}

// Request headers (OCI Accept and Authorization): curl copies each string.
struct curl_slist *bouncer_curl_slist_append(struct curl_slist *list, const char *header) {
    return api.slist_append(list, header);
}
void bouncer_curl_slist_free_all(struct curl_slist *list) {
    if (list != NULL) api.slist_free_all(list);
}
