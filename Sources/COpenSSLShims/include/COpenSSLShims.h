#ifndef BOUNCER_COPENSSL_SHIMS_H
#define BOUNCER_COPENSSL_SHIMS_H
// Why this exists: a few OpenSSL names are macros, which Swift cannot import
// when they expand to calls or to expressions of other macros.
#include <stddef.h>

/// OPENSSL_free(ptr)
void bouncer_openssl_free(void *ptr);
/// EVP_PKEY_PUBLIC_KEY, the selection for EVP_PKEY_fromdata of a public key.
int bouncer_evp_pkey_public_key_selection(void);
#endif
