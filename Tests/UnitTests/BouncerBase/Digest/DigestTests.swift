import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools

@Suite struct DigestVectorTests {
    // FIPS 180-2 / NIST CSRC example vectors.
    static let vectors: [(String, HashAlgorithm, String)] = [
        ("abc", .sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("", .sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", .sha256,
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abc", .sha384, "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"),
        ("abc", .sha512, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"),
        ("abc", .sha1, "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ("abc", .md5, "900150983cd24fb0d6963f7d28e17f72"),
    ]

    @Test(arguments: 0..<vectors.count)
    func nistVector(_ index: Int) throws {
        let (message, algorithm, hex) = Self.vectors[index]
        let digest = Hasher.digest(Array(message.utf8), algorithm)
        #expect(digest.hex == hex)
        #expect(digest.description == "\(algorithm.rawValue):\(hex)")
    }
}

/// The names of hash algorithms read from lists, bundles and log entries.
@Suite struct HashAlgorithmNameTests {
    @Test func theSpellingsInTheWildAndNoOthers() {
        for name in ["sha256", "SHA256", "SHA-256", "sha-256", "Sha-256"] { #expect(HashAlgorithm(name: name) == .sha256, "\(name)") }
        #expect(HashAlgorithm(name: "sha-512") == .sha512)
        #expect(HashAlgorithm(name: "MD5") == .md5)
        // Found by the log-entry mutation test (seed 772024704): any dash anywhere was dropped.
        for name in ["sha25-6", "sha--256", "-sha256", "sha256-", "s-ha256", "md-5", "sha 256", ""] {
            #expect(HashAlgorithm(name: name) == nil, "\(name)")
        }
    }
}
