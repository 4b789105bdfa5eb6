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
    /// (the start-up shortcuts of `verify-signature` and `verify-bundle`):
    /// the system openssl.cnf is not read. Verification runs in Bouncer's own
    /// library context, which never reads it (bouncer_libctx), but OpenSSL
    /// 3.0 still loads it into the default context the first time an ENGINE
    /// is looked up, which every digest and key operation does. The file only
    /// matters to TLS (libcurl's), which such a process never starts.
    public static func skipConfigurationForOfflineVerification() {
        _ = OPENSSL_init_crypto(UInt64(OPENSSL_INIT_NO_LOAD_CONFIG), nil)
    }
}
