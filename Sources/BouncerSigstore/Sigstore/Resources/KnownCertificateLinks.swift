import BouncerBase

/// The Fulcio intermediate-under-root links of the embedded trusted roots
/// (`EmbeddedTrustedRoots`), known to pass `bouncer_x509_verify_link` (the
/// full chain check but for time: the root's signature on the intermediate,
/// CA flags, key usage, path length). Whether they pass is a fact about the
/// two certificates alone, so it is kept here, keyed by the SHA-256 of each
/// DER, instead of being worked out with a P-384 signature check in every
/// process (about 0.8 ms of each `bouncer verify-bundle`). Any trusted root
/// holding the same two certificates gets the same answer; any other pair is
/// checked in full, once per process. Eligibility (`bouncer_x509_link_eligible`)
/// and the validity windows at the signing time are still checked every time.
///
/// `KnownCertificateLinksTests` checks that every entry verifies and that
/// every two-certificate chain of the embedded roots has one: refreshing the
/// embedded roots fails that test, which prints the lines to put here.
enum KnownCertificateLinks {
    static let verified: Set<String> = [
        // production: https://fulcio.sigstore.dev from 2022-04-13T20:06:15Z
        "15d795348226b4649f750f5802592c393bee7cc53c3b86982175b7ad087efe47:3ba7b6cc4e95469d4d334b49cb257ad8537076fa84b0ca87ff4ecfe6a54680c1",
        // staging: https://fulcio.sigstage.dev from 2022-04-14T21:38:40Z
        "66e08b3881fc311194779aeaad11b70677c316985bf847b6ca2c83d8c5700565:bca21d3cc62c9d6a52be9989e6a705f99e91a39d9114890990789ef75d382b39",
    ]

    static func key(intermediate: [UInt8], root: [UInt8]) -> String {
        Hasher.digest(intermediate, .sha256).hex + ":" + Hasher.digest(root, .sha256).hex
    }

    static func contains(intermediate: [UInt8], root: [UInt8]) -> Bool {
        verified.contains(key(intermediate: intermediate, root: root))
    }
}
