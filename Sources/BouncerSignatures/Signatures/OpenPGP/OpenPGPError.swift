import BouncerBase
import BouncerIO
/// Errors from the OpenPGP code. Malformed evidence (a signature or signed
/// message) is the evidence's fault (exit 1); a key file the user gave that
/// cannot be used is local configuration (exit 2).
public enum OpenPGPError: BouncerFailure, Equatable {
    /// A signature, signed message or armor block that does not parse.
    case malformed(String)
    /// A cleartext-signed message that breaks the framework's rules.
    case cleartext(String)
    /// A key file that is unreadable as OpenPGP (path, why).
    case keyFile(path: String, String)

    public var family: ErrorFamily {
        switch self {
        case .malformed, .cleartext: .evidence
        case .keyFile: .configuration
        }
    }

    public var code: String {
        switch self {
        case .malformed: "openpgp-malformed"
        case .cleartext: "openpgp-cleartext"
        case .keyFile: "openpgp-key-file"
        }
    }

    public var description: String {
        switch self {
        case .malformed(let why): "malformed OpenPGP data: \(why)"
        case .cleartext(let why): "malformed cleartext-signed message: \(why)"
        case .keyFile(let path, let why): "\(path): not a usable OpenPGP key file: \(why)"
        }
    }

    public var hint: String? {
        switch self {
        case .keyFile: "give an OpenPGP public key or keyring (armored .asc or binary .gpg, e.g. from `gpg --export`)"
        default: nil
        }
    }
}
