#include "COpenSSLShims.h"
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/objects.h>
#include <string.h>
#include <time.h>

// X.509 helpers for Sigstore: OpenSSL's STACK_OF macros and GENERAL_NAME
// unions do not import into Swift, so chain building and SAN reading live here.

static X509 *parse_der(const unsigned char *der, size_t len) {
    const unsigned char *cursor = der;
    if (der == NULL || len == 0 || len > (1 << 20)) return NULL;
    // In Bouncer's library context (bouncer_libctx): no openssl.cnf, and the
    // signature checks of X509_verify_cert fetch from it too.
    X509 *cert = X509_new_ex(bouncer_libctx(), NULL);
    if (cert == NULL) return NULL;
    if (d2i_X509(&cert, &cursor, (long)len) == NULL) { X509_free(cert); return NULL; }
    if (cert != NULL && cursor != der + len) { X509_free(cert); return NULL; } // trailing bytes
    bouncer_x509_cache_extensions(cert);
    return cert;
}

int bouncer_x509_verify_chain(const unsigned char *leaf, size_t leaf_len,
                              const unsigned char *const *untrusted, const size_t *untrusted_lens, size_t n_untrusted,
                              const unsigned char *anchor, size_t anchor_len,
                              int64_t at_time,
                              unsigned char **issuer_out, size_t *issuer_len, int *error_out) {
    int ok = 0;
    *error_out = -1;
    *issuer_out = NULL;
    *issuer_len = 0;
    X509 *leaf_cert = parse_der(leaf, leaf_len);
    X509 *anchor_cert = parse_der(anchor, anchor_len);
    X509 **chain = OPENSSL_zalloc((n_untrusted + 1) * sizeof(X509 *));
    size_t parsed = 0;
    if (leaf_cert && anchor_cert && chain) {
        for (; parsed < n_untrusted; parsed++) {
            if ((chain[parsed] = parse_der(untrusted[parsed], untrusted_lens[parsed])) == NULL) break;
        }
        if (parsed == n_untrusted) {
            ok = bouncer_x509_verify_chain_of(leaf_cert, chain, n_untrusted, anchor_cert, at_time,
                                              issuer_out, issuer_len, error_out);
        }
    }
    for (size_t i = 0; i < parsed; i++) X509_free(chain[i]);
    OPENSSL_free(chain);
    X509_free(anchor_cert);
    X509_free(leaf_cert);
    return ok;
}

int bouncer_x509_verify_chain_of(X509 *leaf, X509 *const *untrusted, size_t n_untrusted, X509 *anchor,
                                 int64_t at_time, unsigned char **issuer_out, size_t *issuer_len, int *error_out) {
    int ok = 0;
    *error_out = 0;
    *issuer_out = NULL;
    *issuer_len = 0;
    X509_STORE *store = X509_STORE_new();
    STACK_OF(X509) *chain = sk_X509_new_null();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new_ex(bouncer_libctx(), NULL);
    if (!leaf || !anchor || !store || !chain || !ctx) { *error_out = -1; goto done; }
    if (X509_STORE_add_cert(store, anchor) != 1) { *error_out = -1; goto done; }
    for (size_t i = 0; i < n_untrusted; i++) {
        // The stack does not own them (freed with sk_X509_free, not pop_free).
        if (!untrusted[i] || !sk_X509_push(chain, untrusted[i])) { *error_out = -1; goto done; }
    }
    if (X509_STORE_CTX_init(ctx, store, leaf, chain) != 1) { *error_out = -1; goto done; }
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
    // The check time is the verified signing time: Fulcio leaves expire after minutes.
    X509_VERIFY_PARAM_set_time(param, (time_t)at_time);
    if (X509_verify_cert(ctx) == 1) {
        STACK_OF(X509) *built = X509_STORE_CTX_get0_chain(ctx);
        if (built && sk_X509_num(built) >= 2) {
            X509 *issuer = sk_X509_value(built, 1);
            unsigned char *out = NULL;
            int n = i2d_X509(issuer, &out);
            if (n > 0) { *issuer_out = out; *issuer_len = (size_t)n; ok = 1; }
        } else {
            *error_out = -2; // the leaf itself is the anchor: not a Fulcio leaf
        }
    } else {
        *error_out = X509_STORE_CTX_get_error(ctx);
    }
done:
    X509_STORE_CTX_free(ctx);
    sk_X509_free(chain);
    X509_STORE_free(store);
    return ok;
}

const char *bouncer_x509_verify_error_string(int error) {
    if (error == -1) return "a certificate could not be parsed";
    if (error == -2) return "the certificate is itself a trust anchor";
    return X509_verify_cert_error_string(error);
}

int bouncer_x509_is_self_signed(const unsigned char *der, size_t len) {
    X509 *cert = parse_der(der, len);
    if (!cert) return -1;
    int ss = (X509_get_extension_flags(cert) & EXFLAG_SS) ? 1 : 0;
    X509_free(cert);
    return ss;
}

static int asn1_unix(const ASN1_TIME *t, int64_t *out) {
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
    *out = (int64_t)timegm(&tm);
    return 1;
}

struct x509_st *bouncer_x509_parse(const unsigned char *der, size_t len) { return parse_der(der, len); }
void bouncer_x509_free(struct x509_st *cert) { X509_free(cert); }

int bouncer_x509_info_of(X509 *cert, int64_t *not_before, int64_t *not_after,
                         int *code_signing, unsigned char **spki_out, size_t *spki_len) {
    *spki_out = NULL;
    if (!cert) return 0;
    int ok = asn1_unix(X509_get0_notBefore(cert), not_before) && asn1_unix(X509_get0_notAfter(cert), not_after);
    uint32_t flags = X509_get_extension_flags(cert);
    // Judged before the key is copied out: on failure the caller frees nothing.
    if (flags & EXFLAG_INVALID) ok = 0;
    *code_signing = (flags & EXFLAG_XKUSAGE) && (X509_get_extended_key_usage(cert) & XKU_CODE_SIGN) ? 1 : 0;
    unsigned char *spki = NULL;
    int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &spki);
    if (ok && n > 0) { *spki_out = spki; *spki_len = (size_t)n; } else { ok = 0; OPENSSL_free(spki); }
    return ok;
}

int bouncer_x509_info(const unsigned char *der, size_t len, int64_t *not_before, int64_t *not_after,
                      int *code_signing, unsigned char **spki_out, size_t *spki_len) {
    X509 *cert = parse_der(der, len);
    int ok = bouncer_x509_info_of(cert, not_before, not_after, code_signing, spki_out, spki_len);
    X509_free(cert);
    return ok;
}

/// Copies the raw value (the OCTET STRING contents) of the extension with this
/// dotted OID. Returns the value length, 0 when absent, -1 on error, -2 when the
/// extension appears more than once, -3 when the buffer is too small.
long bouncer_x509_extension(const unsigned char *der, size_t len, const char *oid,
                            unsigned char *buf, size_t cap) {
    X509 *cert = parse_der(der, len);
    long result = cert ? bouncer_x509_extension_of(cert, oid, buf, cap) : -1;
    X509_free(cert);
    return result;
}

long bouncer_x509_extension_of(X509 *cert, const char *oid, unsigned char *buf, size_t cap) {
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    long result = -1;
    if (!cert || !obj) goto done;
    int pos = X509_get_ext_by_OBJ(cert, obj, -1);
    if (pos < 0) { result = 0; goto done; }
    if (X509_get_ext_by_OBJ(cert, obj, pos) >= 0) { result = -2; goto done; }
    ASN1_OCTET_STRING *data = X509_EXTENSION_get_data(X509_get_ext(cert, pos));
    int n = ASN1_STRING_length(data);
    if (n < 0) goto done;
    if ((size_t)n > cap) { result = -3; goto done; }
    memcpy(buf, ASN1_STRING_get0_data(data), (size_t)n);
    result = n;
done:
    ASN1_OBJECT_free(obj);
    return result;
}

/// The SAN entry at `index`: type 1 rfc822Name, 2 URI, 3 otherName with the
/// Fulcio username OID 1.3.6.1.4.1.57264.1.7 (UTF8String), 4 DNS, 0 anything
/// else. Returns the value length, -1 past the end or on error, -3 buffer too small.
long bouncer_x509_san(const unsigned char *der, size_t len, int index, int *type, unsigned char *buf, size_t cap) {
    X509 *cert = parse_der(der, len);
    *type = 0;
    long result = cert ? bouncer_x509_san_of(cert, index, type, buf, cap) : -1;
    X509_free(cert);
    return result;
}

long bouncer_x509_san_of(X509 *cert, int index, int *type, unsigned char *buf, size_t cap) {
    long result = -1;
    GENERAL_NAMES *names = NULL;
    *type = 0;
    if (!cert) return -1;
    names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    if (!names || index < 0 || index >= sk_GENERAL_NAME_num(names)) goto done;
    GENERAL_NAME *name = sk_GENERAL_NAME_value(names, index);
    const ASN1_STRING *value = NULL;
    switch (name->type) {
    case GEN_EMAIL: *type = 1; value = name->d.rfc822Name; break;
    case GEN_URI: *type = 2; value = name->d.uniformResourceIdentifier; break;
    case GEN_DNS: *type = 4; value = name->d.dNSName; break;
    case GEN_OTHERNAME: {
        char oid[64];
        OBJ_obj2txt(oid, sizeof oid, name->d.otherName->type_id, 1);
        ASN1_TYPE *v = name->d.otherName->value;
        if (strcmp(oid, "1.3.6.1.4.1.57264.1.7") == 0 && v && v->type == V_ASN1_UTF8STRING) {
            *type = 3; value = v->value.utf8string;
        }
        break;
    }
    default: break;
    }
    if (value == NULL) { result = 0; goto done; }
    int n = ASN1_STRING_length(value);
    if (n < 0) goto done;
    if ((size_t)n > cap) { result = -3; goto done; }
    memcpy(buf, ASN1_STRING_get0_data(value), (size_t)n);
    result = n;
done:
    GENERAL_NAMES_free(names);
    return result;
}

// --- The intermediate-to-root link, verified once per trusted root ---------
// A Fulcio chain is leaf <- intermediate <- root. The intermediate's signature
// by the root (a P-384 check, half the cost of a bundle) is the same for every
// bundle, so it is verified once (bouncer_x509_verify_link) and each leaf is
// then verified with the intermediate as its anchor (bouncer_x509_verify_under).
// Only where that can pass exactly when the full chain check passes
// (bouncer_x509_link_eligible); whatever fails is checked again the full way.

static int has_path_extensions(X509 *x) {
    return X509_get_ext_by_NID(x, NID_name_constraints, -1) >= 0
        || X509_get_ext_by_NID(x, NID_policy_constraints, -1) >= 0
        || X509_get_ext_by_NID(x, NID_inhibit_any_policy, -1) >= 0
        || X509_get_ext_by_NID(x, NID_policy_mappings, -1) >= 0;
}

int bouncer_x509_link_eligible(X509 *intermediate, X509 *root) {
    if (!intermediate || !root) return 0;
    // Distinct names: the full check can then never take the root as the
    // leaf's issuer where the shortcut took the intermediate.
    if (X509_NAME_cmp(X509_get_subject_name(intermediate), X509_get_subject_name(root)) == 0) return 0;
    // No constraint of either that reaches down to the leaf (the shortcut
    // leaves the root out of the leaf's chain).
    if (has_path_extensions(intermediate) || has_path_extensions(root)) return 0;
    // The root must allow the one intermediate below it (its path length is
    // checked only in the full chain).
    long root_pathlen = X509_get_pathlen(root);
    return root_pathlen == -1 || root_pathlen >= 1;
}

int bouncer_x509_verify_link(X509 *intermediate, X509 *root) {
    int ok = 0;
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new_ex(bouncer_libctx(), NULL);
    if (intermediate && root && store && ctx && X509_STORE_add_cert(store, root) == 1
        && X509_STORE_CTX_init(ctx, store, intermediate, NULL) == 1) {
        // Everything but time, which depends on the bundle: checked on each use.
        X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx), X509_V_FLAG_NO_CHECK_TIME);
        if (X509_verify_cert(ctx) == 1) {
            STACK_OF(X509) *built = X509_STORE_CTX_get0_chain(ctx);
            ok = built && sk_X509_num(built) == 2 && X509_cmp(sk_X509_value(built, 1), root) == 0;
        }
    }
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return ok;
}

// Valid at t exactly as X509_verify_cert judges it (x509_check_cert_time).
static int valid_at(X509 *x, time_t t) {
    return X509_cmp_time(X509_get0_notBefore(x), &t) < 0 && X509_cmp_time(X509_get0_notAfter(x), &t) > 0;
}

// --- A timestamp authority's chain, verified once per trusted root ---------
// A TSA's chain (its signing certificate <- intermediates <- root) is all
// trust material, the same for every token: its signatures, CA flags and
// constraints are checked once (bouncer_x509_verify_chain_except_time); each
// token then only needs every certificate valid at its genTime
// (bouncer_x509_all_valid_at). Whatever fails is checked again the full way.

int bouncer_x509_verify_chain_except_time(X509 *const *certs, size_t count) {
    if (certs == NULL || count < 2) return 0;
    for (size_t i = 0; i < count; i++) if (certs[i] == NULL) return 0;
    int ok = 0;
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new_ex(bouncer_libctx(), NULL);
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    if (!store || !ctx || !untrusted || X509_STORE_add_cert(store, certs[count - 1]) != 1) goto done;
    for (size_t i = 1; i + 1 < count; i++) {
        if (!sk_X509_push(untrusted, certs[i])) goto done;  // borrowed
    }
    if (X509_STORE_CTX_init(ctx, store, certs[0], untrusted) != 1) goto done;
    X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx), X509_V_FLAG_NO_CHECK_TIME);
    if (X509_verify_cert(ctx) == 1) {
        // Exactly the given chain, in order: nothing else was used to build it.
        STACK_OF(X509) *built = X509_STORE_CTX_get0_chain(ctx);
        ok = built && (size_t)sk_X509_num(built) == count;
        for (size_t i = 0; ok && i < count; i++) ok = X509_cmp(sk_X509_value(built, (int)i), certs[i]) == 0;
    }
done:
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    sk_X509_free(untrusted);
    return ok;
}

int bouncer_x509_all_valid_at(X509 *const *certs, size_t count, int64_t at_time) {
    if (certs == NULL || count == 0) return 0;
    for (size_t i = 0; i < count; i++) {
        if (certs[i] == NULL || !valid_at(certs[i], (time_t)at_time)) return 0;
    }
    return 1;
}

int bouncer_x509_validity(X509 *cert, int64_t *not_before, int64_t *not_after) {
    return cert && asn1_unix(X509_get0_notBefore(cert), not_before) && asn1_unix(X509_get0_notAfter(cert), not_after);
}

int bouncer_x509_verify_under(X509 *leaf, X509 *intermediate, int64_t root_not_before, int64_t root_not_after,
                              int64_t at_time, unsigned char **issuer_out, size_t *issuer_len) {
    int ok = 0;
    *issuer_out = NULL;
    *issuer_len = 0;
    time_t t = (time_t)at_time;
    // The root as valid_at judges it (X509_cmp_time counts equal as earlier):
    // given as numbers, so a known root need not be parsed at all.
    int root_valid = root_not_before <= at_time && at_time < root_not_after;
    if (!leaf || !intermediate || !root_valid || has_path_extensions(leaf)
        || !valid_at(intermediate, t)) return 0;
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new_ex(bouncer_libctx(), NULL);
    if (store && ctx && X509_STORE_add_cert(store, intermediate) == 1
        && X509_STORE_CTX_init(ctx, store, leaf, NULL) == 1) {
        X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
        X509_VERIFY_PARAM_set_time(param, t);
        X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
        if (X509_verify_cert(ctx) == 1) {
            STACK_OF(X509) *built = X509_STORE_CTX_get0_chain(ctx);
            if (built && sk_X509_num(built) == 2 && X509_cmp(sk_X509_value(built, 1), intermediate) == 0) {
                unsigned char *out = NULL;
                int n = i2d_X509(intermediate, &out);
                if (n > 0) { *issuer_out = out; *issuer_len = (size_t)n; ok = 1; }
            }
        }
    }
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return ok;
}
