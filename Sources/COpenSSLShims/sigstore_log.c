// X.509 and RFC 3161 helpers for the Sigstore transparency-log checks. In C
// because they walk OpenSSL structures through macros (STACK_OF, ASN1 types)
// that Swift cannot import directly.
#include "COpenSSLShims.h"
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int bouncer_x509_spki(const unsigned char *der, size_t len, unsigned char **spki, size_t *spki_len) {
    X509 *cert = bouncer_x509_parse(der, len);
    int ok = cert != NULL && bouncer_x509_spki_of(cert, spki, spki_len);
    X509_free(cert);
    return ok;
}

int bouncer_x509_spki_of(X509 *cert, unsigned char **spki, size_t *spki_len) {
    unsigned char *out = NULL;
    int n = cert != NULL ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &out) : 0;
    if (n <= 0 || out == NULL) { OPENSSL_free(out); return 0; }
    *spki = out;
    *spki_len = (size_t)n;
    return 1;
}

// The token of a granted TimeStampResp, read in place: d2i_TS_RESP followed
// by PKCS7_dup would decode the token's certificates twice (each decode of a
// key costs as much as a P-256 signature check). Only a response of exactly
// the shape d2i_TS_RESP accepts is taken this way: one definite-length
// SEQUENCE spanning the input, a PKIStatusInfo granting it, a token running
// to the end with a TSTInfo inside (d2i_TS_RESP reads that too). Anything
// else returns NULL and is left to the full path below.
static PKCS7 *granted_token_in_place(const unsigned char *der, size_t len) {
    const unsigned char *cursor = der;
    long body = 0;
    int tag = 0, class = 0;
    int flags = ASN1_get_object(&cursor, &body, &tag, &class, (long)len);
    if ((flags & 0x80) || flags != V_ASN1_CONSTRUCTED || tag != V_ASN1_SEQUENCE || class != V_ASN1_UNIVERSAL
        || cursor + body != der + len) return NULL;
    TS_STATUS_INFO *info = d2i_TS_STATUS_INFO(NULL, &cursor, body);
    long granted = info ? ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(info)) : -1;
    TS_STATUS_INFO_free(info);
    if ((granted != 0 && granted != 1) || cursor >= der + len) return NULL;
    PKCS7 *token = d2i_PKCS7(NULL, &cursor, (long)(der + len - cursor));
    TS_TST_INFO *tst = (token != NULL && cursor == der + len) ? PKCS7_to_TS_TST_INFO(token) : NULL;
    if (tst == NULL) { PKCS7_free(token); return NULL; }
    TS_TST_INFO_free(tst);
    return token;
}

// The token's own certificates, with their extension caches filled
// (bouncer_x509_cache_extensions) before any check reads them.
static PKCS7 *with_cached_extensions(PKCS7 *token) {
    STACK_OF(X509) *embedded = token != NULL && PKCS7_type_is_signed(token) && token->d.sign ? token->d.sign->cert : NULL;
    for (int i = 0; embedded != NULL && i < sk_X509_num(embedded); i++) bouncer_x509_cache_extensions(sk_X509_value(embedded, i));
    return token;
}

/// Reads a DER TimeStampResp (status must be granted) or a bare
/// TimeStampToken into a PKCS7 token. Returns NULL and sets *status.
PKCS7 *bouncer_ts_token(const unsigned char *der, size_t len, int *status) {
    const unsigned char *cursor = der;
    *status = -1;
    if (der == NULL || len == 0 || len > 1 << 20) return NULL;
    PKCS7 *in_place = granted_token_in_place(der, len);
    if (in_place != NULL) { *status = 0; return with_cached_extensions(in_place); }
    ERR_clear_error();
    TS_RESP *response = d2i_TS_RESP(NULL, &cursor, (long)len);
    if (response != NULL && cursor == der + len) {
        long granted = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(response)));
        PKCS7 *token = TS_RESP_get_token(response);
        if ((granted != 0 && granted != 1) || token == NULL) {
            TS_RESP_free(response);
            *status = -2;
            return NULL;
        }
        PKCS7 *copy = PKCS7_dup(token);
        TS_RESP_free(response);
        *status = copy ? 0 : -1;
        return with_cached_extensions(copy);
    }
    TS_RESP_free(response);
    cursor = der;
    PKCS7 *token = d2i_PKCS7(NULL, &cursor, (long)len);
    if (token != NULL && cursor == der + len) { *status = 0; return with_cached_extensions(token); }
    PKCS7_free(token);
    return NULL;
}

void bouncer_ts_token_free(PKCS7 *token) {
    PKCS7_free(token);
}

int bouncer_ts_info_of(PKCS7 *token, int *imprint_nid, unsigned char *imprint, size_t *imprint_len,
                       long long *gen_time) {
    if (token == NULL) return -1;
    TS_TST_INFO *info = PKCS7_to_TS_TST_INFO(token);
    if (info == NULL) return -3;
    int result = -4;
    TS_MSG_IMPRINT *message = TS_TST_INFO_get_msg_imprint(info);
    X509_ALGOR *algorithm = TS_MSG_IMPRINT_get_algo(message);
    ASN1_OCTET_STRING *digest = TS_MSG_IMPRINT_get_msg(message);
    const ASN1_GENERALIZEDTIME *time = TS_TST_INFO_get_time(info);
    struct tm parts;
    memset(&parts, 0, sizeof parts);
    if (algorithm == NULL || digest == NULL || time == NULL) goto done;
    if (ASN1_STRING_length(digest) <= 0 || (size_t)ASN1_STRING_length(digest) > *imprint_len) goto done;
    if (ASN1_TIME_to_tm(time, &parts) != 1) { result = -5; goto done; }
    *imprint_nid = OBJ_obj2nid(algorithm->algorithm);
    *imprint_len = (size_t)ASN1_STRING_length(digest);
    memcpy(imprint, ASN1_STRING_get0_data(digest), *imprint_len);
    *gen_time = (long long)timegm(&parts);
    result = 0;
done:
    TS_TST_INFO_free(info);
    return result;
}

int bouncer_ts_verify(PKCS7 *token, const unsigned char *const *certs, const size_t *cert_lens, size_t count,
                      long long at_time, char *error, size_t error_len) {
    if (error_len > 0) error[0] = 0;
    X509 **parsed = OPENSSL_zalloc((count + 1) * sizeof(X509 *));
    if (parsed == NULL) { snprintf(error, error_len, "out of memory or empty chain"); return 0; }
    int verified = 0;
    size_t i = 0;
    for (; i < count; i++) {
        if ((parsed[i] = bouncer_x509_parse(certs[i], cert_lens[i])) == NULL) break;
    }
    if (i == count) {
        verified = bouncer_ts_verify_token(token, parsed, count, at_time, 0, error, error_len);
    } else {
        // An unreadable token is reported first.
        snprintf(error, error_len, token == NULL ? "not a timestamp token" : "authority certificate %zu is not DER X.509", i);
    }
    for (size_t j = 0; j < i; j++) X509_free(parsed[j]);
    OPENSSL_free(parsed);
    return verified;
}

int bouncer_ts_verify_token(PKCS7 *token, X509 *const *certs, size_t count,
                            long long at_time, int chain_verified, char *error, size_t error_len) {
    int verified = 0;
    if (error_len > 0) error[0] = 0;
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *chain_ctx = X509_STORE_CTX_new_ex(bouncer_libctx(), NULL);
    STACK_OF(X509) *authority = sk_X509_new_null();   // leaf and intermediates of the authority
    STACK_OF(X509) *untrusted = sk_X509_new_null();   // those plus the token's own certificates
    STACK_OF(X509) *signers = NULL;
    X509 *first = NULL;
    if (token == NULL || store == NULL || chain_ctx == NULL || authority == NULL || untrusted == NULL || count == 0) {
        snprintf(error, error_len, "%s", token == NULL ? "not a timestamp token" : "out of memory or empty chain");
        goto done;
    }
    // The last certificate of the authority's chain is the trust anchor.
    for (size_t i = 0; i < count; i++) {
        X509 *cert = certs[i];
        if (cert == NULL) { snprintf(error, error_len, "authority certificate %zu is not DER X.509", i); goto done; }
        if (i == 0 && X509_up_ref(cert) == 1) first = cert;
        // The caller keeps its references: the store takes its own, and the
        // authority stack (freed with X509_free) is given one.
        int ok;
        if (i + 1 == count) {
            ok = X509_STORE_add_cert(store, cert) == 1;
        } else {
            ok = X509_up_ref(cert) == 1;
            if (ok && sk_X509_push(authority, cert) <= 0) { X509_free(cert); ok = 0; }
        }
        if (!ok) { snprintf(error, error_len, "cannot use authority certificate %zu", i); goto done; }
    }
    ERR_clear_error();
    // 1. The CMS signature over the TSTInfo (and its signed attributes), by
    //    the one signer, found among the token's and the authority's certificates.
    if (PKCS7_verify(token, authority, NULL, NULL, NULL, PKCS7_NOVERIFY) != 1) {
        snprintf(error, error_len, "the timestamp's CMS signature does not verify");
        goto done;
    }
    signers = PKCS7_get0_signers(token, authority, 0);
    if (signers == NULL || sk_X509_num(signers) != 1) {
        snprintf(error, error_len, "the timestamp must have exactly one signer");
        goto done;
    }
    X509 *signer = sk_X509_value(signers, 0);
    // 2. The signer must be usable for timestamps. OpenSSL's timestamp purpose
    //    also demands a critical EKU, which real TSAs (GitHub's) do not set.
    if (!(X509_get_extension_flags(signer) & EXFLAG_XKUSAGE) || !(X509_get_extended_key_usage(signer) & XKU_TIMESTAMP)) {
        snprintf(error, error_len, "the signer's certificate lacks the timeStamping extended key usage");
        goto done;
    }
    // 3. When the trusted root names the TSA's own certificate, it must be the signer.
    if (first != NULL && count > 1 && X509_check_ca(first) == 0 && X509_cmp(first, signer) != 0) {
        snprintf(error, error_len, "the signer is not the authority's timestamping certificate");
        goto done;
    }
    // 4. The signer chains to the authority's root at genTime, not now.
    //    The signer is certs[0] here (step 3): when that chain was verified
    //    but for time, the time is all that is left to check.
    if (chain_verified && first != NULL && count > 1 && X509_check_ca(first) == 0
        && bouncer_x509_all_valid_at(certs, count, at_time) == 1) {
        verified = 1;
        goto done;
    }
    for (int i = 0; i < sk_X509_num(authority); i++) {
        if (!sk_X509_push(untrusted, sk_X509_value(authority, i))) goto done;
    }
    STACK_OF(X509) *embedded = token->d.sign ? token->d.sign->cert : NULL;
    for (int i = 0; embedded != NULL && i < sk_X509_num(embedded); i++) {
        if (!sk_X509_push(untrusted, sk_X509_value(embedded, i))) goto done;
    }
    if (X509_STORE_CTX_init(chain_ctx, store, signer, untrusted) != 1) goto done;
    X509_STORE_CTX_set_time(chain_ctx, 0, (time_t)at_time);
    if (X509_verify_cert(chain_ctx) != 1) {
        snprintf(error, error_len, "the signer's chain does not verify at genTime: %s",
                 X509_verify_cert_error_string(X509_STORE_CTX_get_error(chain_ctx)));
        goto done;
    }
    verified = 1;
done:
    ERR_clear_error();
    sk_X509_free(signers);
    X509_STORE_CTX_free(chain_ctx);
    X509_STORE_free(store);
    sk_X509_free(untrusted);  // borrowed references only
    sk_X509_pop_free(authority, X509_free);
    X509_free(first);
    return verified;
}
