import COpenSSL
import COpenSSLShims

/// A streaming hash through OpenSSL's EVP interface.
public final class Hasher {
    public let algorithm: HashAlgorithm
    private let context: OpaquePointer

    public init(_ algorithm: HashAlgorithm) {
        self.algorithm = algorithm
        // EVP_MD_CTX_new only fails when memory is exhausted, where a trap is the only answer.
        guard let context = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new: out of memory") }
        self.context = context
        reset()
    }

    private init(algorithm: HashAlgorithm, context: OpaquePointer) {
        self.algorithm = algorithm
        self.context = context
    }

    deinit { EVP_MD_CTX_free(context) }

    /// An independent hasher that continues from this one's state.
    public func copy() -> Hasher {
        guard let context = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new: out of memory") }
        guard EVP_MD_CTX_copy_ex(context, self.context) == 1 else { fatalError("EVP_MD_CTX_copy_ex failed for \(algorithm)") }
        return Hasher(algorithm: algorithm, context: context)
    }

    /// Starts over, as if newly created (used when a download is retried).
    public func reset() {
        guard EVP_DigestInit_ex(context, Hasher.evp(algorithm), nil) == 1 else {
            fatalError("EVP_DigestInit_ex failed for \(algorithm)")
        }
    }

    public func update(_ buffer: UnsafeRawBufferPointer) {
        guard buffer.count > 0 else { return }
        EVP_DigestUpdate(context, buffer.baseAddress, buffer.count)
    }

    public func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest of everything seen so far. The hasher must be reset before reuse.
    public func finalize() -> Digest {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &out, &length)
        return Digest(trusted: algorithm, bytes: Array(out.prefix(Int(length))))
    }

    /// One-shot digest of bytes in memory.
    public static func digest(_ bytes: [UInt8], _ algorithm: HashAlgorithm) -> Digest {
        let hasher = Hasher(algorithm)
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// The digest fetched once from Bouncer's library context: OpenSSL 3
    /// fetches a legacy `EVP_sha256()` again on every init, and that lookup
    /// cost more than hashing a key packet. The legacy getter is the fallback
    /// should the fetch have failed.
    static func evp(_ algorithm: HashAlgorithm) -> OpaquePointer? {
        switch algorithm {
        case .md5: bouncer_md(0) ?? EVP_md5()
        case .sha1: bouncer_md(1) ?? EVP_sha1()
        case .sha256: bouncer_md(2) ?? EVP_sha256()
        case .sha384: bouncer_md(3) ?? EVP_sha384()
        case .sha512: bouncer_md(4) ?? EVP_sha512()
        }
    }

    /// The name OpenSSL fetches the digest by (for `EVP_DigestVerifyInit_ex`).
    static func name(_ algorithm: HashAlgorithm) -> String {
        switch algorithm {
        case .md5: "MD5"
        case .sha1: "SHA1"
        case .sha256: "SHA256"
        case .sha384: "SHA384"
        case .sha512: "SHA512"
        }
    }
}

/// Several hashers fed in one pass (e.g. sha256 for the store and sha512 for
/// an npm integrity pin), so the bytes are read once.
public final class MultiHasher {
    public let hashers: [Hasher]
    public private(set) var byteCount: UInt64 = 0

    public init(_ algorithms: [HashAlgorithm]) {
        var unique: [HashAlgorithm] = []
        for algorithm in algorithms where !unique.contains(algorithm) { unique.append(algorithm) }
        hashers = unique.map(Hasher.init)
    }

    public func update(_ buffer: UnsafeRawBufferPointer) {
        for hasher in hashers { hasher.update(buffer) }
        byteCount += UInt64(buffer.count)
    }

    public func reset() {
        for hasher in hashers { hasher.reset() }
        byteCount = 0
    }

    public func finalize() -> [HashAlgorithm: Digest] {
        var out: [HashAlgorithm: Digest] = [:]
        for hasher in hashers { out[hasher.algorithm] = hasher.finalize() }
        return out
    }
}
