#ifndef BOUNCER_COPENSSL_SHIMS_H
#define BOUNCER_COPENSSL_SHIMS_H
// Why this exists: a few OpenSSL names are macros, which Swift cannot import
// when they expand to calls or to expressions of other macros.
#include <stddef.h>

struct ossl_lib_ctx_st;
struct evp_md_st;
/// Bouncer's own OpenSSL library context, made on first use with only the
/// default provider: it reads no openssl.cnf (about 0.8 ms of every start-up
/// that verifies anything) and its algorithms are fetched once. The default
/// context, and so libcurl's TLS, keeps the system configuration. NULL (the
/// default context) if it could not be made.
struct ossl_lib_ctx_st *bouncer_libctx(void);
/// The digest fetched once from bouncer_libctx(): 0 MD5, 1 SHA-1, 2 SHA-256,
/// 3 SHA-384, 4 SHA-512; NULL for anything else or when the fetch failed.
const struct evp_md_st *bouncer_md(int which);

/// OPENSSL_free(ptr)
void bouncer_openssl_free(void *ptr);
/// EVP_PKEY_PUBLIC_KEY, the selection for EVP_PKEY_fromdata of a public key.
int bouncer_evp_pkey_public_key_selection(void);

struct evp_pkey_st;
/// An RSA public key from big-endian n and e, or NULL. Built in C because
/// OSSL_PARAM_BLD keeps the key-name and buffer pointers until
/// OSSL_PARAM_BLD_to_param, which Swift's temporary C strings do not outlive.
struct evp_pkey_st *bouncer_rsa_public_key(const unsigned char *n, size_t n_len,
                                           const unsigned char *e, size_t e_len);
/// An EC public key on the named group from a SEC1 point, or NULL.
struct evp_pkey_st *bouncer_ec_public_key(const char *group, const unsigned char *point, size_t point_len);
/// A DER SubjectPublicKeyInfo of the three shapes Sigstore uses (P-256 or
/// P-384 with an uncompressed point, Ed25519), built without OpenSSL 3's
/// decoder framework, which costs more than verifying a P-256 signature.
/// 1 and the key in *key_out; 0 for any other bytes (decode them with
/// d2i_PUBKEY_ex); -1 when the shape matches but the point is not on the curve.
int bouncer_spki_known_shape(const unsigned char *der, size_t len, struct evp_pkey_st **key_out);
#include <stdint.h>
/// Verifies the DER leaf against one DER trust anchor with untrusted DER
/// intermediates at `at_time` (Unix seconds). 1 when valid, and then the
/// issuer's DER (free with bouncer_openssl_free); 0 otherwise with the
/// X509_V_ERR code (or -1 parse error, -2 leaf is the anchor) in error_out.
int bouncer_x509_verify_chain(const unsigned char *leaf, size_t leaf_len,
                              const unsigned char *const *untrusted, const size_t *untrusted_lens, size_t n_untrusted,
                              const unsigned char *anchor, size_t anchor_len,
                              int64_t at_time,
                              unsigned char **issuer_out, size_t *issuer_len, int *error_out);
const char *bouncer_x509_verify_error_string(int error);
/// 1 self-signed, 0 not, -1 unparseable.
int bouncer_x509_is_self_signed(const unsigned char *der, size_t len);
/// Validity (Unix seconds), whether EKU includes codeSigning, and the DER SPKI
/// (free with bouncer_openssl_free). 1 on success; otherwise *spki_out is NULL.
int bouncer_x509_info(const unsigned char *der, size_t len, int64_t *not_before, int64_t *not_after,
                      int *code_signing, unsigned char **spki_out, size_t *spki_len);
long bouncer_x509_extension(const unsigned char *der, size_t len, const char *oid,
                            unsigned char *buf, size_t cap);
long bouncer_x509_san(const unsigned char *der, size_t len, int index, int *type, unsigned char *buf, size_t cap);

// The same, on a certificate parsed once (each parse decodes its public key
// through OpenSSL 3's decoder, the largest single cost of a Sigstore bundle).
struct x509_st;
/// A DER certificate (nothing after it), or NULL. Free with bouncer_x509_free.
struct x509_st *bouncer_x509_parse(const unsigned char *der, size_t len);
/// X509_get_extension_flags, computed with Bouncer's library context as the
/// thread's default (see shims.c); every certificate Bouncer parses has it done.
uint32_t bouncer_x509_cache_extensions(struct x509_st *cert);
void bouncer_x509_free(struct x509_st *cert);
int bouncer_x509_info_of(struct x509_st *cert, int64_t *not_before, int64_t *not_after,
                         int *code_signing, unsigned char **spki_out, size_t *spki_len);
long bouncer_x509_extension_of(struct x509_st *cert, const char *oid, unsigned char *buf, size_t cap);
long bouncer_x509_san_of(struct x509_st *cert, int index, int *type, unsigned char *buf, size_t cap);
/// Whether a Fulcio CA chain intermediate <- root allows checking leaves with
/// the intermediate as anchor and exactly the full check's verdict (x509.c).
int bouncer_x509_link_eligible(struct x509_st *intermediate, struct x509_st *root);
/// The full check of the intermediate under the root, time left out. 1 verified.
int bouncer_x509_verify_link(struct x509_st *intermediate, struct x509_st *root);
/// A certificate's notBefore and notAfter in Unix seconds. 1 read, 0 not.
int bouncer_x509_validity(struct x509_st *cert, int64_t *not_before, int64_t *not_after);
/// The leaf with the intermediate as anchor at at_time, the intermediate and
/// the root (its validity window given) also valid then; 1 and the issuer's
/// DER, else 0 (check the full way).
int bouncer_x509_verify_under(struct x509_st *leaf, struct x509_st *intermediate, int64_t root_not_before,
                              int64_t root_not_after, int64_t at_time, unsigned char **issuer_out, size_t *issuer_len);
/// certs[0] <- certs[1] ... <- certs[count-1] (the anchor), exactly that chain,
/// by the full check with time left out (a TSA's chain, once per trusted root). 1 verified.
int bouncer_x509_verify_chain_except_time(struct x509_st *const *certs, size_t count);
/// 1 when every certificate is valid at at_time as X509_verify_cert judges it.
int bouncer_x509_all_valid_at(struct x509_st *const *certs, size_t count, int64_t at_time);
/// bouncer_x509_verify_chain on parsed certificates (none is freed or kept).
int bouncer_x509_verify_chain_of(struct x509_st *leaf, struct x509_st *const *untrusted, size_t n_untrusted,
                                 struct x509_st *anchor, int64_t at_time,
                                 unsigned char **issuer_out, size_t *issuer_len, int *error_out);


// Sigstore transparency-log helpers (sigstore_log.c).
/// The DER SubjectPublicKeyInfo of a DER certificate; 1 on success. Free with bouncer_openssl_free.
int bouncer_x509_spki(const unsigned char *der, size_t len, unsigned char **spki, size_t *spki_len);
/// As above, of a certificate parsed already.
int bouncer_x509_spki_of(struct x509_st *cert, unsigned char **spki, size_t *spki_len);
struct pkcs7_st;
/// A DER TimeStampResp (status granted) or TimeStampToken, read once for
/// bouncer_ts_info_of and the verifications; NULL with *status -1 (not DER)
/// or -2 (status not granted). Free with bouncer_ts_token_free.
struct pkcs7_st *bouncer_ts_token(const unsigned char *der, size_t len, int *status);
void bouncer_ts_token_free(struct pkcs7_st *token);
/// The token's imprint hash NID and bytes (*imprint_len is the buffer size
/// in, the digest size out) and genTime as Unix seconds. 0 ok; -1 no token,
/// -3 no TSTInfo, -4 bad imprint, -5 bad time.
int bouncer_ts_info_of(struct pkcs7_st *token, int *imprint_nid, unsigned char *imprint, size_t *imprint_len,
                       long long *gen_time);
/// Verifies the token's CMS signature (one signer), the signer's timeStamping
/// EKU, that the signer is certs[0] when that is a non-CA certificate, and the
/// signer's chain to the last of `certs` (leaf first, DER) at `at_time`;
/// 1 verified, else 0 with a reason in `error`.
int bouncer_ts_verify(struct pkcs7_st *token, const unsigned char *const *certs, const size_t *cert_lens, size_t count,
                      long long at_time, char *error, size_t error_len);
/// bouncer_ts_verify on the authority's certificates parsed already (kept by
/// the caller; the token is not freed either).
/// `chain_verified`: the caller found certs to be a chain that passes
/// bouncer_x509_verify_chain_except_time; when the signer is certs[0], the
/// chain is then only checked for time (and the full way if that fails).
int bouncer_ts_verify_token(struct pkcs7_st *token, struct x509_st *const *certs, size_t count,
                            long long at_time, int chain_verified, char *error, size_t error_len);
#endif
