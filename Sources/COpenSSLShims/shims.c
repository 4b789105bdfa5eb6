#include "COpenSSLShims.h"
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/provider.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <string.h>

static OSSL_LIB_CTX *lib_ctx;
static EVP_MD *digests[5];
static const char *const digest_names[5] = { "MD5", "SHA1", "SHA256", "SHA384", "SHA512" };
static pthread_once_t lib_ctx_once = PTHREAD_ONCE_INIT;

static void lib_ctx_setup(void) {
    OSSL_LIB_CTX *ctx = OSSL_LIB_CTX_new();
    // The default provider, loaded explicitly (a context with no
    // configuration would load it on first fetch anyway).
    if (ctx == NULL || OSSL_PROVIDER_load(ctx, "default") == NULL) { OSSL_LIB_CTX_free(ctx); return; }
    // Verification draws random numbers only to blind EC arithmetic. The
    // default DRBG (CTR, AES-256) fetches the cipher table on first use; a
    // hash DRBG (SP 800-90A as well) uses SHA-256, which is fetched anyway.
    RAND_set_DRBG_type(ctx, "HASH-DRBG", NULL, NULL, "SHA256");
    lib_ctx = ctx;
}

OSSL_LIB_CTX *bouncer_libctx(void) {
    pthread_once(&lib_ctx_once, lib_ctx_setup);
    return lib_ctx;
}

// OpenSSL fills a certificate's extension cache (X509_get_extension_flags,
// and every check that needs it) after taking its SHA-1 fingerprint with the
// legacy EVP_sha1(), whose name is looked up in the thread's *default*
// library context: the first lookup in a process fills that context's name
// table (2.3M instructions), though Bouncer's context has one filled already.
// So the cache is filled here, with Bouncer's context as the thread's default
// for this one call (TLS and everything else keep the configured default).
uint32_t bouncer_x509_cache_extensions(X509 *cert) {
    OSSL_LIB_CTX *ctx = bouncer_libctx();
    OSSL_LIB_CTX *previous = ctx != NULL ? OSSL_LIB_CTX_set0_default(ctx) : NULL;
    uint32_t flags = X509_get_extension_flags(cert);
    if (previous != NULL) OSSL_LIB_CTX_set0_default(previous);
    return flags;
}

const EVP_MD *bouncer_md(int which) {
    if (which < 0 || which >= 5 || bouncer_libctx() == NULL) return NULL;
    // Fetched on first use, then kept: a run needs one or two of the five,
    // and each fetch costs about as much as verifying an Ed25519 signature.
    EVP_MD *known = __atomic_load_n(&digests[which], __ATOMIC_ACQUIRE);
    if (known != NULL) return known;
    EVP_MD *fetched = EVP_MD_fetch(lib_ctx, digest_names[which], NULL);
    if (fetched == NULL) return NULL;
    EVP_MD *expected = NULL;
    if (!__atomic_compare_exchange_n(&digests[which], &expected, fetched, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        EVP_MD_free(fetched);   // another thread stored its fetch first
        return expected;
    }
    return fetched;
}

void bouncer_openssl_free(void *ptr) { OPENSSL_free(ptr); }
int bouncer_evp_pkey_public_key_selection(void) { return EVP_PKEY_PUBLIC_KEY; }

static EVP_PKEY *from_params(const char *type, OSSL_PARAM_BLD *bld) {
    EVP_PKEY *key = NULL;
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = params ? EVP_PKEY_CTX_new_from_name(bouncer_libctx(), type, NULL) : NULL;
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1
        || EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        key = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return key;
}

EVP_PKEY *bouncer_rsa_public_key(const unsigned char *n, size_t n_len, const unsigned char *e, size_t e_len) {
    if (n_len > 4096 || e_len > 64) return NULL;
    BIGNUM *bn_n = BN_bin2bn(n, (int)n_len, NULL);
    BIGNUM *bn_e = BN_bin2bn(e, (int)e_len, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *key = NULL;
    if (bn_n && bn_e && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1
        && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1) {
        key = from_params("RSA", bld);
    }
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    return key;
}

EVP_PKEY *bouncer_ec_public_key(const char *group, const unsigned char *point, size_t point_len) {
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *key = NULL;
    if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) == 1
        && OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, point_len) == 1) {
        key = from_params("EC", bld);
    }
    OSSL_PARAM_BLD_free(bld);
    return key;
}

// Byte-exact DER prefixes: what follows is the point (or the raw Ed25519 key)
// and nothing else, so a match leaves no field for the decoder to read otherwise.
static const unsigned char p256_spki[] = { 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
                                           0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00 };
static const unsigned char p384_spki[] = { 0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
                                           0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00 };
static const unsigned char ed25519_spki[] = { 0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00 };

int bouncer_spki_known_shape(const unsigned char *der, size_t len, EVP_PKEY **key_out) {
    *key_out = NULL;
    if (len == sizeof ed25519_spki + 32 && memcmp(der, ed25519_spki, sizeof ed25519_spki) == 0) {
        *key_out = EVP_PKEY_new_raw_public_key_ex(bouncer_libctx(), "ED25519", NULL, der + sizeof ed25519_spki, 32);
        return *key_out ? 1 : -1;
    }
    const char *group = NULL;
    size_t prefix = 0;
    if (len == sizeof p256_spki + 65 && memcmp(der, p256_spki, sizeof p256_spki) == 0) {
        group = "prime256v1"; prefix = sizeof p256_spki;
    } else if (len == sizeof p384_spki + 97 && memcmp(der, p384_spki, sizeof p384_spki) == 0) {
        group = "secp384r1"; prefix = sizeof p384_spki;
    }
    if (group == NULL || der[prefix] != 0x04) return 0;
    EVP_PKEY *key = bouncer_ec_public_key(group, der + prefix, len - prefix);
    // fromdata does not check the point; the decoder would refuse one off the
    // curve, and so does this (the quick check: these curves have cofactor 1).
    EVP_PKEY_CTX *check = key ? EVP_PKEY_CTX_new_from_pkey(bouncer_libctx(), key, NULL) : NULL;
    int on_curve = check != NULL && EVP_PKEY_public_check_quick(check) == 1;
    EVP_PKEY_CTX_free(check);
    if (!on_curve) { EVP_PKEY_free(key); return -1; }
    *key_out = key;
    return 1;
}
