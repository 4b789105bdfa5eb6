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
}
