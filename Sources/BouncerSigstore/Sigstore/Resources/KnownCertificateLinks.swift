import BouncerBase

/// The Fulcio intermediate-under-root links of the embedded trusted roots
/// (`EmbeddedTrustedRoots`), known to be eligible (`bouncer_x509_link_eligible`)
/// and to pass `bouncer_x509_verify_link` (the full chain check but for time:
/// the root's signature on the intermediate, CA flags, key usage, path
/// length), with the root's validity window. All three are facts about the
/// two certificates alone, so they are kept here, keyed by the SHA-256 of each
/// DER, instead of being worked out in every process: a P-384 signature check
/// (about 0.8 ms of each `bouncer verify-bundle`) and parsing the root (a key
/// decoder, about 7% of its instructions). Any trusted root holding the same
/// two certificates gets the same answer; any other pair is checked in full,
/// once per process. The validity windows at the signing time are still
/// checked every time.
///
/// `KnownCertificateLinksTests` checks every entry against the certificates
/// and that every two-certificate chain of the embedded roots has one:
/// refreshing the embedded roots fails that test, which prints the lines to
/// put here.
enum KnownCertificateLinks {
    static let verified: [String: ValidityWindow] = [
        // production: https://fulcio.sigstore.dev from 2022-04-13T20:06:15Z
        "15d795348226b4649f750f5802592c393bee7cc53c3b86982175b7ad087efe47:3ba7b6cc4e95469d4d334b49cb257ad8537076fa84b0ca87ff4ecfe6a54680c1":
            ValidityWindow(notBefore: 1633615019, notAfter: 1948975018),
        // staging: https://fulcio.sigstage.dev from 2022-04-14T21:38:40Z
        "66e08b3881fc311194779aeaad11b70677c316985bf847b6ca2c83d8c5700565:bca21d3cc62c9d6a52be9989e6a705f99e91a39d9114890990789ef75d382b39":
            ValidityWindow(notBefore: 1648227046, notAfter: 1963587045),
    ]

    static func key(intermediate: [UInt8], root: [UInt8]) -> String {
        Hasher.digest(intermediate, .sha256).hex + ":" + Hasher.digest(root, .sha256).hex
    }

    /// The root's validity window when the link is known; nil when not.
    static func rootWindow(intermediate: [UInt8], root: [UInt8]) -> ValidityWindow? {
        verified[key(intermediate: intermediate, root: root)]
    }
}
