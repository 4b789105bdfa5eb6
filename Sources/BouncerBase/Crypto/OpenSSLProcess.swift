import COpenSSL

public enum OpenSSLProcess {
    /// Call first thing in `main`, before any other OpenSSL use: OpenSSL then
    /// registers no atexit cleanup. That cleanup freed every provider, name
    /// map and cache one by one at exit, about 2% of a Debian InRelease check,
    /// for memory the kernel takes back anyway (it frees global tables; TLS
    /// state is libcurl's to free, and Bouncer holds no private keys).
    /// Nothing is loaded here; the configuration and providers still load on
    /// first use, as before.
    public static func skipCleanupAtExit() {
        _ = OPENSSL_init_crypto(UInt64(OPENSSL_INIT_NO_ATEXIT), nil)
    }

    /// For a process that only verifies files and makes no TLS connection
    /// (the start-up shortcuts of `verify-signature` and `verify-bundle`),
    /// three pieces of OpenSSL 3.0's first-use set-up are skipped. None of
    /// them changes a verdict; together they were about 10% of the
    /// instructions of an InRelease or a Sigstore bundle check.
    /// - The system openssl.cnf is not read. Verification runs in Bouncer's
    ///   own library context, which never reads it (bouncer_libctx), but
    ///   OpenSSL still loads it into the default context the first time an
    ///   ENGINE is looked up, which every digest and key operation does. The
    ///   file only matters to TLS (libcurl's).
    /// - Error strings are not loaded: 3.0 loads all of them when a thread
    ///   first records an error, and Bouncer never prints OpenSSL's strings
    ///   (libcurl does, for TLS failures, which such a process never has).
    /// - The legacy cipher table is not filled: 3.0 fills it, then copies
    ///   every name into a library context's name map, the first time that
    ///   context looks up an algorithm. Verification fetches digests and key
    ///   types by name, never a cipher; the random generator Bouncer's
    ///   context uses is a hash DRBG for the same reason.
    public static func prepareForOfflineVerification() {
        let options = OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS
            | OPENSSL_INIT_NO_ADD_ALL_CIPHERS
        _ = OPENSSL_init_crypto(UInt64(options), nil)
    }
}
