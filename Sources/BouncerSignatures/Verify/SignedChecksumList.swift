import FoundationEssentials
import BouncerBase
import BouncerIO

/// Loads a checksum list for `bouncer verify`: decompresses a compressed
/// index, checks its signature (clearsigned, or a detached SIG) when keys
/// are given, and parses exactly the signed text as GNU/BSD sums or a Debian
/// Release, Packages or .dsc file.
public enum SignedChecksumList {
    public struct Loaded: Sendable {
        public let list: ChecksumList
        public let kind: String
        /// The signature outcome when the list was signed and checked.
        public let signature: SignedEvidence.Outcome?
        /// Release `Valid-Until`, when checked (freshness).
        public let validUntil: String?
        /// A Debian Release's own `Date`, when it states one.
        public var date: Date? = nil

        /// When the list was issued, by the newest signed word there is: the
        /// Release `Date`, else the newest verified signature's signed time.
        /// Nil for an unsigned list (nothing vouches for its time) and for
        /// formats that sign no time (signify, SSHSIG).
        public var issuedAt: Date? {
            guard let signature, signature.report.passed else { return nil }
            if let date { return date }
            return signature.report.verifiedSigners.compactMap(\.signedAt).max()
        }
    }

    public enum Result: Sendable {
        case loaded(Loaded)
        /// The list's signature did not verify: nothing in it may be used.
        case refused(SignedEvidence.Outcome)
    }

    public static func load(_ bytes: [UInt8], source: String, signature: (bytes: [UInt8], path: String)?,
                            keys: [KeyMaterial], options: SignatureOptions) throws -> Result {
        var outcome: SignedEvidence.Outcome? = nil
        var text = bytes
        if let signature {
            // A detached signature covers the file exactly as given (compressed or not).
            let checked = try SignedEvidence.verifyDetached(message: bytes, signature: signature.bytes,
                                                            signaturePath: signature.path, keys: keys, options: options)
            guard checked.report.passed else { return .refused(checked) }
            outcome = checked
        }
        if CompressedIndex.isCompressed(text) {
            do { text = try CompressedIndex.decompress(text, source: source) } catch {
                throw DebianListError.decompression(source: error.source, why: error.why)
            }
        }
        if OpenPGPFormat.isClearsigned(text) {
            if !keys.isEmpty && signature == nil {
                let checked = try SignedEvidence.verifyClearsigned(text, source: source, keys: keys, options: options)
                guard checked.outcome.report.passed else { return .refused(checked.outcome) }
                outcome = checked.outcome
                text = checked.text
            } else {
                // Unverified, but still only the signed part is ever used.
                text = try OpenPGPFormat.clearsignedText(text, source: source)
            }
        } else if !keys.isEmpty && signature == nil {
            throw BouncerError.usage("--key was given but \(source) is not clearsigned; give --signature SIG for a detached signature")
        }
        if DebianLists.looksLikeDeb822(text) {
            let parsed = try DebianLists.parse(text, source: source, now: options.now)
            return .loaded(Loaded(list: parsed.list, kind: parsed.kind.rawValue, signature: outcome, validUntil: parsed.validUntil, date: parsed.date))
        }
        let list = try ChecksumList.parse(text, source: source)
        return .loaded(Loaded(list: list, kind: "checksum list", signature: outcome, validUntil: nil))
    }
}
