import BouncerBase
import BouncerIO
/// Every detached-signature format Bouncer knows, in detection order. A
/// signature file is handed to the first format that recognises its content;
/// a new format joins by adding one line here. minisign precedes signify:
/// both start with `untrusted comment:`, only minisign has a trusted comment.
public enum SignatureFormats {
    /// Computed, so no shared mutable global is involved (metatypes of the
    /// protocol are not Sendable).
    public static var all: [any DetachedSignatureFormat.Type] {
        [
            OpenPGPFormat.self,
            SSHSignatureFormat.self,
            MinisignFormat.self,
            SignifyFormat.self,
        ]
    }

    /// The format of a signature file, detected from its content.
    public static func detect(signature: [UInt8]) -> (any DetachedSignatureFormat.Type)? {
        all.first { $0.recognises(signature: signature) }
    }
}
