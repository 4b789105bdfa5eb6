/// Every detached-signature format Bouncer knows, in detection order. A
/// signature file is handed to the first format that recognises its content;
/// new formats (minisign, signify, SSHSIG) join by adding one line here.
public enum SignatureFormats {
    /// Computed, so no shared mutable global is involved (metatypes of the
    /// protocol are not Sendable).
    public static var all: [any DetachedSignatureFormat.Type] {
        [
            OpenPGPFormat.self,
        ]
    }

    /// The format of a signature file, detected from its content.
    public static func detect(signature: [UInt8]) -> (any DetachedSignatureFormat.Type)? {
        all.first { $0.recognises(signature: signature) }
    }
}
