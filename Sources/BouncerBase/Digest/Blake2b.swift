import COpenSSL

extension Hasher {
    /// Unkeyed BLAKE2b with a 64-byte output (RFC 7693), as minisign's
    /// prehashed `ED` signatures sign it. Deliberately not a `HashAlgorithm`:
    /// it is an input to a signature here, never a digest pin or a list entry.
    public static func blake2b512(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = bytes.withUnsafeBytes { buffer in
            EVP_Digest(buffer.baseAddress, buffer.count, &out, &length, EVP_blake2b512(), nil)
        }
        // Only an allocation failure inside OpenSSL can fail here; an empty
        // result then makes every signature check fail (fail closed).
        guard ok == 1, length == 64 else { return [] }
        return Array(out.prefix(64))
    }
}
