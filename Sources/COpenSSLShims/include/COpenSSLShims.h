#ifndef BOUNCER_COPENSSL_SHIMS_H
#define BOUNCER_COPENSSL_SHIMS_H
// Why this exists: a few OpenSSL names are macros, which Swift cannot import
// when they expand to calls or to expressions of other macros.
#include <stddef.h>

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
#endif
