#include "CCurlShims.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

// The CA bundle parsed once per process, not once per TLS connection.
//
// Given a CA file (CURLOPT_CAINFO), libcurl parses it for every new TLS
// connection: ~140 PEM certificates, ~35 ms of CPU with OpenSSL 3.0, whose
// key decoders are slow to set up. (libcurl's own cache, CURLOPT_CA_CACHE_TIMEOUT,
// lives in one multi handle and is off whenever a CA directory is configured,
// as Debian's libcurl always has.) A proxy in front of uv, which asks for ~30
// files at once, opened ~30 connections and spent 61% of its CPU there.
//
// Here the bundle is parsed once into X509 objects; an easy handle that shares
// it has CURLOPT_CAINFO cleared and a CURLOPT_SSL_CTX_FUNCTION that adds those
// objects to each new connection's own certificate store (reference counts,
// ~0.5 ms), before libcurl adds its CA directory and verification flags to
// that store as usual. What is trusted is unchanged: the same file's
// certificates, the same CA directory. Each store stays the connection's own,
// so nothing libcurl writes to it is shared between threads.
//
// The file is checked (stat) whenever a transfer is set up and parsed again
// when it changed, so a certificate removed from the bundle is no longer
// trusted by the next transfer's new connections.
//
// (The callback also runs for an HTTPS proxy's connection, whose store gets
// the same certificates beside the proxy CA file libcurl loads for it.)

enum { BUNDLES_MAX = 8 };

struct ca_bundle {
    char path[PATH_MAX];
    // The file as last parsed, to notice that it changed.
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    // Certificates and CRLs, as X509_load_cert_crl_file reads them; NULL when
    // the file could not be read or held none.
    STACK_OF(X509_INFO) *entries;
    unsigned long parses;
};

static pthread_mutex_t bundles_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct ca_bundle bundles[BUNDLES_MAX];
static int bundle_count;

// From libssl, which Bouncer does not link (libcurl brings it when loaded).
static X509_STORE *(*ssl_ctx_get_cert_store)(const void *ssl_ctx);

static int same_file(const struct ca_bundle *bundle, const struct stat *st) {
    return bundle->dev == st->st_dev && bundle->ino == st->st_ino && bundle->size == st->st_size &&
           bundle->mtime.tv_sec == st->st_mtim.tv_sec && bundle->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

static int entry_count(const STACK_OF(X509_INFO) *entries) {
    int count = 0;
    for (int i = 0; i < sk_X509_INFO_num(entries); i++) {
        const X509_INFO *entry = sk_X509_INFO_value(entries, i);
        if (entry->x509 != NULL || entry->crl != NULL) count++;
    }
    return count;
}

// Parses the file again if it is not the one parsed last. Caller holds the
// mutex. Returns whether the bundle has entries.
static int refresh(struct ca_bundle *bundle) {
    struct stat st;
    if (stat(bundle->path, &st) != 0) goto unusable;
    if (bundle->entries != NULL && same_file(bundle, &st)) return 1;
    FILE *file = fopen(bundle->path, "r");
    if (file == NULL) goto unusable;
    // The identity of what is read, not of what stat saw before it was opened.
    if (fstat(fileno(file), &st) != 0) {
        fclose(file);
        goto unusable;
    }
    BIO *bio = BIO_new_fp(file, BIO_CLOSE);
    if (bio == NULL) {
        fclose(file);
        goto unusable;
    }
    STACK_OF(X509_INFO) *entries = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL);
    BIO_free(bio);
    bundle->parses++;
    if (entries != NULL && entry_count(entries) == 0) {
        sk_X509_INFO_pop_free(entries, X509_INFO_free);
        entries = NULL;
    }
    if (entries == NULL) goto unusable;
    if (bundle->entries != NULL) sk_X509_INFO_pop_free(bundle->entries, X509_INFO_free);
    bundle->entries = entries;
    bundle->dev = st.st_dev;
    bundle->ino = st.st_ino;
    bundle->size = st.st_size;
    bundle->mtime = st.st_mtim;
    return 1;
unusable:
    // A connection set up later must not trust what the file no longer holds.
    if (bundle->entries != NULL) sk_X509_INFO_pop_free(bundle->entries, X509_INFO_free);
    bundle->entries = NULL;
    return 0;
}

static CURLcode add_bundle(CURL *easy, void *ssl_ctx, void *userdata) {
    (void)easy;
    struct ca_bundle *bundle = userdata;
    X509_STORE *store = ssl_ctx_get_cert_store(ssl_ctx);
    if (store == NULL) return CURLE_SSL_CACERT_BADFILE;
    int added = 0;
    pthread_mutex_lock(&bundles_mutex);
    for (int i = 0; bundle->entries != NULL && i < sk_X509_INFO_num(bundle->entries); i++) {
        const X509_INFO *entry = sk_X509_INFO_value(bundle->entries, i);
        // Both take a reference; a certificate already in the store counts as added.
        if (entry->x509 != NULL && X509_STORE_add_cert(store, entry->x509) == 1) added++;
        if (entry->crl != NULL && X509_STORE_add_crl(store, entry->crl) == 1) added++;
    }
    pthread_mutex_unlock(&bundles_mutex);
    // The file became unreadable since the transfer was set up: no connection
    // without the certificates it was to be checked against.
    return added > 0 ? CURLE_OK : CURLE_SSL_CACERT_BADFILE;
}

static pthread_once_t usable_once = PTHREAD_ONCE_INIT;
static int usable;

// Only with libcurl's OpenSSL backend is the callback's argument an SSL_CTX.
static void check_usable(void) {
    const curl_version_info_data *info = bouncer_curl_version_info();
    if (info == NULL || info->ssl_version == NULL || strncmp(info->ssl_version, "OpenSSL/", 8) != 0) return;
    *(void **)(&ssl_ctx_get_cert_store) = bouncer_curl_dlsym("SSL_CTX_get_cert_store");
    usable = ssl_ctx_get_cert_store != NULL;
}

// The bundle for `path` (NULL: libcurl's default CA file), parsed if it
// changed; NULL when sharing is not possible or the file has no certificates.
static struct ca_bundle *ready_bundle(const char *path) {
    pthread_once(&usable_once, check_usable);
    if (!usable) return NULL;
    if (path == NULL || path[0] == '\0') {
        const curl_version_info_data *info = bouncer_curl_version_info();
        path = info != NULL ? info->cainfo : NULL;
    }
    if (path == NULL || strlen(path) >= PATH_MAX) return NULL;
    struct ca_bundle *bundle = NULL;
    int ready = 0;
    pthread_mutex_lock(&bundles_mutex);
    for (int i = 0; i < bundle_count && bundle == NULL; i++) {
        if (strcmp(bundles[i].path, path) == 0) bundle = &bundles[i];
    }
    if (bundle == NULL && bundle_count < BUNDLES_MAX) {
        bundle = &bundles[bundle_count++];
        snprintf(bundle->path, sizeof bundle->path, "%s", path);
    }
    if (bundle != NULL) ready = refresh(bundle);
    pthread_mutex_unlock(&bundles_mutex);
    return ready ? bundle : NULL;
}

int bouncer_curl_share_ca_bundle(CURL *easy, const char *path) {
    struct ca_bundle *bundle = ready_bundle(path);
    // Unreadable or empty: libcurl is given the path and reports it in its own words.
    if (bundle == NULL) return 0;
    if (bouncer_curl_setopt_pointer(easy, CURLOPT_SSL_CTX_DATA, bundle) != CURLE_OK) return 0;
    if (bouncer_curl_setopt_ssl_ctx_function(easy, add_bundle) != CURLE_OK) return 0;
    if (bouncer_curl_setopt_string(easy, CURLOPT_CAINFO, NULL) != CURLE_OK) {
        bouncer_curl_setopt_ssl_ctx_function(easy, NULL);
        return 0;
    }
    return 1;
}

void bouncer_curl_preload_ca_bundle(const char *path) { (void)ready_bundle(path); }

unsigned long bouncer_curl_ca_bundle_parses(const char *path) {
    unsigned long count = 0;
    pthread_mutex_lock(&bundles_mutex);
    for (int i = 0; i < bundle_count; i++) {
        if (strcmp(bundles[i].path, path) == 0) count = bundles[i].parses;
    }
    pthread_mutex_unlock(&bundles_mutex);
    return count;
}
