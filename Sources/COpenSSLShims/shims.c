#include "COpenSSLShims.h"
#include <openssl/crypto.h>
#include <openssl/evp.h>

void bouncer_openssl_free(void *ptr) { OPENSSL_free(ptr); }
int bouncer_evp_pkey_public_key_selection(void) { return EVP_PKEY_PUBLIC_KEY; }
