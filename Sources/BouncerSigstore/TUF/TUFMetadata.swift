import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerIO

/// One role's signing rule: which keys may sign and how many must.
public struct TUFRole: Sendable, Equatable {
    public let keyids: [String]
    public let threshold: Int
}

/// A key from `keys`. `publicKey` is nil for a type Bouncer does not know:
/// such a key is skipped (its signatures never count), as the spec says.
public struct TUFKey: @unchecked Sendable {
    public let keytype: String
    public let scheme: String
    let publicKey: PublicKey?
    let signatureScheme: SignatureScheme?

    /// ecdsa-sha2-nistp256 (keytype "ecdsa" or "ecdsa-sha2-nistp256"; PEM
    /// SPKI, or the hex SEC1 point of older Sigstore roots) and ed25519 (hex).
    init(keytype: String, scheme: String, publicText: String) {
        self.keytype = keytype
        self.scheme = scheme
        var key: PublicKey? = nil
        var sigScheme: SignatureScheme? = nil
        switch (keytype, scheme) {
        case ("ecdsa", "ecdsa-sha2-nistp256"), ("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256"):
            if publicText.hasPrefix("-----BEGIN") {
                key = try? PublicKey(pem: publicText)
            } else if let point = Hex.decode(publicText) {
                key = try? PublicKey(ecPoint: point, curve: .p256)
            }
            if let candidate = key, candidate.kind != .ecdsa(.p256) { key = nil }
            sigScheme = .ecdsa(.sha256, .der)
        case ("ed25519", "ed25519"):
            key = Hex.decode(publicText).flatMap { try? PublicKey(ed25519: $0) }
            sigScheme = .ed25519
        default:
            break
        }
        publicKey = key
        signatureScheme = key == nil ? nil : sigScheme
    }

    func verifies(_ signature: [UInt8], over message: [UInt8]) -> Bool {
        guard let publicKey, let signatureScheme else { return false }
        return publicKey.verify(signature: signature, message: message, scheme: signatureScheme)
    }
}

/// `{"signed": …, "signatures": […]}` with `signed` already canonicalised.
public struct TUFEnvelope: Sendable {
    public let file: String
    public let signed: JSON
    /// The bytes the signatures cover.
    public let canonical: [UInt8]
    public let signatures: [(keyid: String, sig: [UInt8])]
    public let type: String
    public let version: Int64
    public let expiresText: String

    public static func parse(_ bytes: [UInt8], file: String) throws(TUFError) -> TUFEnvelope {
        let json: JSON
        do { json = try JSON.parse(bytes) } catch { throw .malformed(file: file, why: error.description) }
        guard case .object(let top) = json, let signed = top["signed"], case .array(let sigItems)? = top["signatures"] else {
            throw .malformed(file: file, why: "expected an object with 'signed' and 'signatures'")
        }
        let canonical: [UInt8]
        do { canonical = try CanonicalJSON.encode(signed) } catch { throw .malformed(file: file, why: "signed\(error.description.dropFirst())") }
        var signatures: [(String, [UInt8])] = []
        for (index, item) in sigItems.prefix(1024).enumerated() {
            // A signature that is not hex cannot verify; skip it like a bad one.
            guard case .string(let keyid)? = item["keyid"], case .string(let sigHex)? = item["sig"] else {
                throw .malformed(file: file, why: "signatures[\(index)]: expected 'keyid' and 'sig' strings")
            }
            if let sig = Hex.decode(sigHex), !sig.isEmpty { signatures.append((keyid, sig)) }
        }
        let fields = try Fields(signed, file: file)
        return TUFEnvelope(file: file, signed: signed, canonical: canonical, signatures: signatures,
                           type: try fields.string("_type"), version: try fields.version("version"),
                           expiresText: try fields.string("expires"))
    }

    /// The expiry time; an unparsable one is malformed (checked only where it matters:
    /// the oldest Sigstore roots carry fractional seconds and offsets).
    public func expires() throws(TUFError) -> Date {
        guard let date = RFC3339.parse(expiresText) else { throw .malformed(file: file, why: "expires '\(expiresText.prefix(40))' is not an RFC 3339 time") }
        return date
    }

    func requireType(_ expected: String) throws(TUFError) {
        guard type == expected else { throw .wrongType(file: file, expected: expected, found: String(type.prefix(40))) }
    }

    /// How many distinct keyids of `role` signed `canonical` validly.
    func validSignatures(role: TUFRole, keys: [String: TUFKey]) -> Int {
        let allowed = Set(role.keyids)
        var counted = Set<String>()
        for (keyid, sig) in signatures where allowed.contains(keyid) && !counted.contains(keyid) {
            if let key = keys[keyid], key.verifies(sig, over: canonical) { counted.insert(keyid) }
        }
        return counted.count
    }

    func requireThreshold(role name: String, of root: TUFRoot) throws(TUFError) {
        guard let role = root.roles[name] else { throw .malformed(file: file, why: "the trusted root defines no '\(name)' role") }
        try requireThreshold(role: name, role, keys: root.keys)
    }

    func requireThreshold(role name: String, _ role: TUFRole, keys: [String: TUFKey]) throws(TUFError) {
        let verified = validSignatures(role: role, keys: keys)
        guard verified >= role.threshold else {
            throw .threshold(file: file, role: name, verified: verified, threshold: role.threshold)
        }
    }
}

/// Typed access to an object's members, each complaint naming the file and member.
struct Fields {
    let members: [String: JSON]
    let file: String
    let path: String

    init(_ value: JSON, file: String, path: String = "signed") throws(TUFError) {
        guard case .object(let members) = value else { throw .malformed(file: file, why: "\(path): expected an object") }
        self.members = members
        self.file = file
        self.path = path
    }

    func fail(_ key: String, _ why: String) -> TUFError { .malformed(file: file, why: "\(path).\(key): \(why)") }

    func string(_ key: String) throws(TUFError) -> String {
        guard case .string(let s)? = members[key] else { throw fail(key, "expected a string") }
        return s
    }

    func integer(_ key: String) throws(TUFError) -> Int64 {
        guard case .integer(let n)? = members[key] else { throw fail(key, "expected an integer") }
        return n
    }

    func version(_ key: String) throws(TUFError) -> Int64 {
        let n = try integer(key)
        guard n >= 1 else { throw fail(key, "must be at least 1") }
        return n
    }

    func optionalBool(_ key: String) throws(TUFError) -> Bool? {
        guard let value = members[key] else { return nil }
        guard case .bool(let b) = value else { throw fail(key, "expected true or false") }
        return b
    }

    func object(_ key: String) throws(TUFError) -> Fields {
        guard let value = members[key] else { throw fail(key, "missing") }
        return try Fields(value, file: file, path: "\(path).\(key)")
    }

    func optionalObject(_ key: String) throws(TUFError) -> Fields? {
        guard members[key] != nil else { return nil }
        return try object(key)
    }

    func strings(_ key: String) throws(TUFError) -> [String] {
        guard case .array(let items)? = members[key] else { throw fail(key, "expected an array") }
        var out: [String] = []
        for item in items {
            guard case .string(let s) = item else { throw fail(key, "expected strings") }
            out.append(s)
        }
        return out
    }
}

/// A verified or trusted root: the keys and the four top-level roles.
public struct TUFRoot: @unchecked Sendable {
    public let envelope: TUFEnvelope
    public let bytes: [UInt8]
    public let consistentSnapshot: Bool
    public let keys: [String: TUFKey]
    public let roles: [String: TUFRole]
    public var version: Int64 { envelope.version }

    public static func parse(_ bytes: [UInt8], file: String) throws(TUFError) -> TUFRoot {
        let envelope = try TUFEnvelope.parse(bytes, file: file)
        try envelope.requireType("root")
        let fields = try Fields(envelope.signed, file: file)
        let keyFields = try fields.object("keys")
        var keys: [String: TUFKey] = [:]
        for (keyid, value) in keyFields.members {
            let key = try Fields(value, file: file, path: "signed.keys.\(keyid.prefix(64))")
            let keyval = try key.object("keyval")
            keys[keyid] = TUFKey(keytype: try key.string("keytype"), scheme: try key.string("scheme"),
                                 publicText: (try? keyval.string("public")) ?? "")
        }
        let roleFields = try fields.object("roles")
        var roles: [String: TUFRole] = [:]
        for name in ["root", "timestamp", "snapshot", "targets"] {
            let role = try roleFields.object(name)
            let threshold = try role.integer("threshold")
            guard threshold >= 1, threshold <= 1024 else { throw role.fail("threshold", "must be between 1 and 1024") }
            roles[name] = TUFRole(keyids: try role.strings("keyids"), threshold: Int(threshold))
        }
        return TUFRoot(envelope: envelope, bytes: bytes, consistentSnapshot: try fields.optionalBool("consistent_snapshot") ?? false,
                       keys: keys, roles: roles)
    }
}

/// `meta` entries of timestamp and snapshot: a version, optionally length and hashes.
public struct TUFMetaFile: Sendable, Equatable {
    public let version: Int64
    public let length: Int64?
    public let hashes: [String: String]

    static func parse(_ fields: Fields) throws(TUFError) -> TUFMetaFile {
        let length = fields.members["length"] == nil ? nil : try fields.integer("length")
        if let length, length < 0 { throw fields.fail("length", "negative") }
        return TUFMetaFile(version: try fields.version("version"), length: length,
                           hashes: try parseHashes(fields.optionalObject("hashes")))
    }
}

func parseHashes(_ fields: Fields?) throws(TUFError) -> [String: String] {
    guard let fields else { return [:] }
    var hashes: [String: String] = [:]
    for (name, _) in fields.members { hashes[name] = try fields.string(name) }
    return hashes
}

public struct TUFTimestamp: Sendable {
    public let envelope: TUFEnvelope
    public let snapshot: TUFMetaFile
    public var version: Int64 { envelope.version }
}

public struct TUFSnapshot: Sendable {
    public let envelope: TUFEnvelope
    public let meta: [String: TUFMetaFile]
    public var version: Int64 { envelope.version }
}

public struct TUFTargetFile: Sendable, Equatable {
    public let length: Int64
    public let hashes: [String: String]
}

public struct TUFTargets: @unchecked Sendable {
    /// "targets", or the delegated role's name.
    public let role: String
    public let envelope: TUFEnvelope
    public let targets: [String: TUFTargetFile]
    public let delegations: TUFDelegations?
    public var version: Int64 { envelope.version }
}

/// `delegations`: the keys and the ordered roles a targets file hands paths to.
public struct TUFDelegations: @unchecked Sendable {
    public let keys: [String: TUFKey]
    public let roles: [TUFDelegatedRole]

    static func parse(_ fields: Fields) throws(TUFError) -> TUFDelegations {
        var keys: [String: TUFKey] = [:]
        let keyFields = try fields.object("keys")
        for (keyid, value) in keyFields.members {
            let key = try Fields(value, file: fields.file, path: "\(keyFields.path).\(keyid.prefix(64))")
            keys[keyid] = TUFKey(keytype: try key.string("keytype"), scheme: try key.string("scheme"),
                                 publicText: (try? key.object("keyval").string("public")) ?? "")
        }
        guard case .array(let items)? = fields.members["roles"] else { throw fields.fail("roles", "expected an array") }
        var roles: [TUFDelegatedRole] = []
        for (index, item) in items.prefix(1024).enumerated() {
            let role = try Fields(item, file: fields.file, path: "\(fields.path).roles[\(index)]")
            let name = try role.string("name")
            // The name becomes a file name: nothing that could leave metadata/.
            guard !name.isEmpty, !name.contains("/"), !name.hasPrefix("."), name != "root", name != "timestamp", name != "snapshot", name != "targets" else {
                throw role.fail("name", "'\(name.prefix(80))' is not a usable role name")
            }
            let threshold = try role.integer("threshold")
            guard threshold >= 1, threshold <= 1024 else { throw role.fail("threshold", "must be between 1 and 1024") }
            let paths = role.members["paths"] == nil ? nil : try role.strings("paths")
            let prefixes = role.members["path_hash_prefixes"] == nil ? nil : try role.strings("path_hash_prefixes")
            guard (paths == nil) != (prefixes == nil) else { throw role.fail("paths", "exactly one of paths and path_hash_prefixes is required") }
            roles.append(TUFDelegatedRole(name: name, role: TUFRole(keyids: try role.strings("keyids"), threshold: Int(threshold)),
                                          paths: paths, pathHashPrefixes: prefixes,
                                          terminating: try role.optionalBool("terminating") ?? false))
        }
        return TUFDelegations(keys: keys, roles: roles)
    }
}

public struct TUFDelegatedRole: Sendable, Equatable {
    public let name: String
    public let role: TUFRole
    public let paths: [String]?
    public let pathHashPrefixes: [String]?
    public let terminating: Bool

    /// Whether this role is trusted for `target`: a `paths` pattern matching
    /// segment by segment (`*` stays within a segment, as python-tuf), or a
    /// prefix of the hex sha256 of the path.
    public func covers(_ target: String) -> Bool {
        if let prefixes = pathHashPrefixes {
            let hash = Hasher.digest(Array(target.utf8), .sha256).hex
            return prefixes.contains { hash.hasPrefix($0.lowercased()) }
        }
        let parts = target.split(separator: "/", omittingEmptySubsequences: false)
        return (paths ?? []).contains { pattern in
            let patternParts = pattern.split(separator: "/", omittingEmptySubsequences: false)
            guard patternParts.count == parts.count else { return false }
            return zip(patternParts, parts).allSatisfy { fnmatch(String($0), String($1), 0) == 0 }
        }
    }
}
