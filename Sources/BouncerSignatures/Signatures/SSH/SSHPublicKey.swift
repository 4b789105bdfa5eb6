import BouncerBase
import BouncerIO
/// An SSH public key blob (the base64 part of `ssh-ed25519 AAAA...`), for the
/// key types Bouncer verifies. The blob itself is kept: trust is decided by
/// comparing blobs byte for byte, never by their text.
struct SSHPublicKey {
    enum Algorithm: Equatable {
        case ed25519
        case ecdsa(PublicKey.Curve)
        case rsa
        /// FIDO security keys: the signature also covers the key's application.
        case skEd25519
        case skECDSA
    }

    enum Failure: Error {
        case unsupported(String)
        case malformed(String)
    }

    let typeName: String
    let algorithm: Algorithm
    let key: PublicKey
    /// The FIDO application string (usually `ssh:`), for sk keys only.
    let application: [UInt8]
    let blob: [UInt8]

    /// `SHA256:<base64 without padding>`, as `ssh-keygen -l` prints it.
    var fingerprint: String {
        "SHA256:" + Base64.encode(Hasher.digest(blob, .sha256).bytes, padding: false)
    }

    static let curves: [String: PublicKey.Curve] = ["nistp256": .p256, "nistp384": .p384, "nistp521": .p521]

    static func parse(_ blob: [UInt8]) throws(Failure) -> SSHPublicKey {
        var reader = SSHWireReader(blob)
        do {
            let type = try reader.name("key type")
            let algorithm: Algorithm
            let key: PublicKey
            var application: [UInt8] = []
            switch type {
            case "ssh-ed25519", "sk-ssh-ed25519@openssh.com":
                let raw = try reader.string("Ed25519 key")
                key = try ed25519(raw)
                algorithm = type == "ssh-ed25519" ? .ed25519 : .skEd25519
            case "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
                 "sk-ecdsa-sha2-nistp256@openssh.com":
                let curveName = try reader.name("curve name")
                // The curve named inside must be the one the type names.
                guard let curve = curves[curveName], type.contains("-\(curveName)") else {
                    throw Failure.malformed("key type \(type) names curve '\(curveName)'")
                }
                let point = try reader.string("EC point")
                do { key = try PublicKey(ecPoint: point, curve: curve) } catch {
                    throw Failure.malformed(error.description)
                }
                algorithm = type.hasPrefix("sk-") ? .skECDSA : .ecdsa(curve)
            case "ssh-rsa":
                let e = try reader.mpint("RSA exponent")
                let n = try reader.mpint("RSA modulus")
                do { key = try PublicKey(rsaModulus: n, exponent: e) } catch {
                    throw Failure.malformed(error.description)
                }
                algorithm = .rsa
            default:
                if type.hasSuffix("-cert-v01@openssh.com") {
                    throw Failure.unsupported("\(type): SSH certificates are not supported")
                }
                throw Failure.unsupported(type)
            }
            if algorithm == .skEd25519 || algorithm == .skECDSA {
                application = try reader.string("security key application")
            }
            try reader.expectEnd("the public key")
            return SSHPublicKey(typeName: type, algorithm: algorithm, key: key, application: application, blob: blob)
        } catch let failure as Failure {
            throw failure
        } catch let failure as SSHWireReader.Failure {
            throw .malformed(failure.message)
        } catch {
            throw .malformed("\(error)")
        }
    }

    private static func ed25519(_ raw: [UInt8]) throws(Failure) -> PublicKey {
        do { return try PublicKey(ed25519: raw) } catch { throw .malformed(error.description) }
    }
}
