import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools
import Foundation

/// A Sigstore instance minted at test time with the openssl CLI: a CA (root
/// and intermediate, named like GitHub's Fulcio by default), a timestamp
/// authority with its own root, and a transparency-log key. It writes the
/// trusted_root.json describing itself and signs bundles the way GitHub's
/// private instance does: a Fulcio-style leaf certificate, RFC 3161
/// timestamps, no log entry. Each refusal is a parameter away: another
/// identity or OIDC issuer in the leaf, a leaf expired when the timestamp was
/// made, a timestamp over other bytes or from another instance's TSA, a
/// trusted root listing a log (so the missing entry counts).
///
/// Not thread-safe: openssl keeps its serial numbers in files, so give each
/// test its own instance. Rekor entries (SET, inclusion proof, checkpoint)
/// are not minted.
public final class MintedSigstore {
    public static let gitHubActionsIssuer = "https://token.actions.githubusercontent.com"
    public static let workflowIdentity = "https://github.com/octo-org/private-repo/.github/workflows/release.yml@refs/tags/v1.0.0"
    /// The GitHub identity extensions of a Fulcio certificate (formats.md §5.8), for `workflowIdentity`.
    public static let gitHubExtensions: [(oid: String, value: String)] = [
        ("1.3.6.1.4.1.57264.1.9", "https://github.com/octo-org/private-repo/.github/workflows/release.yml@refs/tags/v1.0.0"),
        ("1.3.6.1.4.1.57264.1.10", "0123456789abcdef0123456789abcdef01234567"),
        ("1.3.6.1.4.1.57264.1.11", "github-hosted"),
        ("1.3.6.1.4.1.57264.1.12", "https://github.com/octo-org/private-repo"),
        ("1.3.6.1.4.1.57264.1.13", "0123456789abcdef0123456789abcdef01234567"),
        ("1.3.6.1.4.1.57264.1.14", "refs/tags/v1.0.0"),
        ("1.3.6.1.4.1.57264.1.15", "123456"),
        ("1.3.6.1.4.1.57264.1.16", "https://github.com/octo-org"),
        ("1.3.6.1.4.1.57264.1.17", "654321"),
        ("1.3.6.1.4.1.57264.1.18", "https://github.com/octo-org/private-repo/.github/workflows/release.yml@refs/tags/v1.0.0"),
        ("1.3.6.1.4.1.57264.1.19", "0123456789abcdef0123456789abcdef01234567"),
        ("1.3.6.1.4.1.57264.1.20", "push"),
        ("1.3.6.1.4.1.57264.1.21", "https://github.com/octo-org/private-repo/actions/runs/1/attempts/1"),
    ]

    public let directory: URL
    public let organization: String
    /// When the instance was minted; its CAs' windows start a day before.
    public let minted: Date
    public let rootDER: [UInt8]
    public let intermediateDER: [UInt8]
    public let tsaRootDER: [UInt8]
    public let tsaDER: [UInt8]
    public let logSPKIDER: [UInt8]
    private var counter = 0

    /// A leaf certificate and its private key (a PEM file in the instance's directory).
    public struct Leaf {
        public let der: [UInt8]
        public let keyPath: String
    }

    /// How a bundle's RFC 3161 timestamp is made.
    public enum Stamp {
        /// By this instance's TSA, over the bundle's signature (a good one).
        case overSignature
        /// By this instance's TSA, over other bytes.
        case over([UInt8])
        /// By another instance's TSA, over the bundle's signature.
        case byTSA(of: MintedSigstore)
    }

    public static var openssl: String? {
        ["/usr/bin/openssl", "/usr/local/bin/openssl"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Mints a new instance, or prints a notice and returns nil when openssl is absent.
    public static func mint(organization: String = "GitHub, Inc.", for suite: String) throws -> MintedSigstore? {
        guard openssl != nil else {
            print("NOTICE: \(suite) skipped: openssl is not installed")
            return nil
        }
        return try MintedSigstore(organization: organization)
    }

    public init(organization: String = "GitHub, Inc.") throws {
        directory = try BouncerProcess.temporaryDirectory("bouncer-minted-sigstore")
        self.organization = organization
        minted = Date()
        let from = Self.x509Time(minted.addingTimeInterval(-2 * 86_400))
        let until = Self.x509Time(minted.addingTimeInterval(30 * 86_400))
        let dir = directory
        try Self.run(Self.setupScript, [from, until, organization], in: dir)
        rootDER = try Self.file("root.der", in: dir)
        intermediateDER = try Self.file("intermediate.der", in: dir)
        tsaRootDER = try Self.file("tsa-root.der", in: dir)
        tsaDER = try Self.file("tsa.der", in: dir)
        logSPKIDER = try Self.file("log.spki.der", in: dir)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    // MARK: - Trust material

    /// trusted_root.json as a JSON object (for tests to alter): the CA and the
    /// TSA, each valid from a day before minting; no CT log; the log only when asked.
    public func trustedRoot(withLog: Bool = false) -> [String: Any] {
        let start = Self.rfc3339(minted.addingTimeInterval(-86_400))
        var root: [String: Any] = [
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "certificateAuthorities": [[
                "subject": ["organization": organization, "commonName": "Fulcio Intermediate l2"],
                "uri": "fulcio.minted.test",
                "certChain": ["certificates": [["rawBytes": Base64.encode(intermediateDER)], ["rawBytes": Base64.encode(rootDER)]]],
                "validFor": ["start": start],
            ]],
            "timestampAuthorities": [[
                "subject": ["organization": organization, "commonName": "Minted TSA"],
                "uri": "timestamp.minted.test",
                "certChain": ["certificates": [["rawBytes": Base64.encode(tsaDER)], ["rawBytes": Base64.encode(tsaRootDER)]]],
                "validFor": ["start": start],
            ]],
        ]
        if withLog {
            root["tlogs"] = [[
                "baseUrl": "https://log.minted.test",
                "hashAlgorithm": "SHA2_256",
                "publicKey": ["rawBytes": Base64.encode(logSPKIDER), "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                              "validFor": ["start": start]],
                "logId": ["keyId": Base64.encode(Hasher.digest(logSPKIDER, .sha256).bytes)],
            ]]
        }
        return root
    }

    public func trustedRootJSON(withLog: Bool = false) throws -> [UInt8] {
        Array(try JSONSerialization.data(withJSONObject: trustedRoot(withLog: withLog), options: [.sortedKeys]))
    }

    // MARK: - Signing

    /// A Fulcio-style leaf: the SAN `identity`, the OIDC issuer in extension
    /// .1.8, code signing, and `extensions`; valid for ten minutes around now
    /// unless told otherwise.
    public func issueLeaf(identity: String = workflowIdentity, issuer: String = gitHubActionsIssuer,
                          notBefore: Date? = nil, notAfter: Date? = nil,
                          extensions: [(oid: String, value: String)] = gitHubExtensions) throws -> Leaf {
        let name = next("leaf")
        var ext = [
            "basicConstraints=critical,CA:FALSE",
            "keyUsage=critical,digitalSignature",
            "extendedKeyUsage=codeSigning",
            "subjectAltName=URI:\(identity)",
            "1.3.6.1.4.1.57264.1.8=ASN1:UTF8String:\(issuer)",
        ]
        ext += extensions.map { "\($0.oid)=ASN1:UTF8String:\($0.value)" }
        try Data((ext.joined(separator: "\n") + "\n").utf8).write(to: directory.appendingPathComponent("\(name).ext"))
        let from = Self.x509Time(notBefore ?? minted.addingTimeInterval(-300))
        let until = Self.x509Time(notAfter ?? minted.addingTimeInterval(300))
        try run(Self.leafScript, [name, from, until])
        return Leaf(der: try file("\(name).der"), keyPath: directory.appendingPathComponent("\(name).key").path)
    }

    /// An ECDSA P-256 / SHA-256 signature (DER) over `message` with the leaf's key.
    public func sign(_ message: [UInt8], with leaf: Leaf) throws -> [UInt8] {
        let name = next("message")
        try Data(message).write(to: directory.appendingPathComponent(name))
        try run("openssl dgst -sha256 -sign \"$1\" -out \"$2.sig\" \"$2\"", [leaf.keyPath, name])
        return try file("\(name).sig")
    }

    /// A DER TimeStampResp from this instance's TSA over SHA-256 of `data`, made now.
    public func timestamp(_ data: [UInt8]) throws -> [UInt8] {
        let name = next("stamp")
        try Data(data).write(to: directory.appendingPathComponent(name))
        try run("""
            openssl ts -query -data "$1" -sha256 -cert -out "$1.tsq"
            openssl ts -reply -queryfile "$1.tsq" -config tsa.cnf -out "$1.tsr"
            """, [name])
        return try file("\(name).tsr")
    }

    /// A v0.3 bundle over `artifact` (messageSignature), or over `statement`
    /// (a DSSE in-toto envelope) when given, signed by `leaf`, with the
    /// timestamps `stamps` and no log entry.
    public func bundle(artifact: [UInt8], leaf: Leaf, stamps: [Stamp] = [.overSignature], statement: [UInt8]? = nil) throws -> [UInt8] {
        var object: [String: Any] = ["mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"]
        let signature: [UInt8]
        if let statement {
            let payloadType = InTotoStatement.payloadType
            signature = try sign(DSSEEnvelope.pae(payloadType: payloadType, payload: statement), with: leaf)
            object["dsseEnvelope"] = ["payload": Base64.encode(statement), "payloadType": payloadType,
                                      "signatures": [["keyid": "", "sig": Base64.encode(signature)]]]
        } else {
            signature = try sign(artifact, with: leaf)
            object["messageSignature"] = [
                "messageDigest": ["algorithm": "SHA2_256", "digest": Base64.encode(Hasher.digest(artifact, .sha256).bytes)],
                "signature": Base64.encode(signature),
            ]
        }
        var tokens: [[UInt8]] = []
        for stamp in stamps {
            switch stamp {
            case .overSignature: tokens.append(try timestamp(signature))
            case .over(let other): tokens.append(try timestamp(other))
            case .byTSA(let other): tokens.append(try other.timestamp(signature))
            }
        }
        var material: [String: Any] = ["certificate": ["rawBytes": Base64.encode(leaf.der)], "tlogEntries": [Any]()]
        if !tokens.isEmpty {
            material["timestampVerificationData"] = ["rfc3161Timestamps": tokens.map { ["signedTimestamp": Base64.encode($0)] }]
        }
        object["verificationMaterial"] = material
        return Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    // MARK: - openssl

    /// Root and intermediate CA, TSA root and TSA certificate, log key, and
    /// the openssl ca / ts configuration. $1 $2: CA validity, $3: organization.
    static let setupScript = #"""
set -e
mkdir -p ca && : > ca/index.txt && echo 1000 > ca/serial && echo 01 > tsaserial
cat > ca.cnf <<'CNF'
[ca]
default_ca = c
[c]
dir = ./ca
database = ./ca/index.txt
serial = ./ca/serial
new_certs_dir = ./ca
default_md = sha256
policy = p
copy_extensions = none
unique_subject = no
[p]
organizationName = optional
commonName = optional
CNF
key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1.key"; }
# name subject signer(self or a name) extensions from until
issue() {
  key "$1"
  openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
  printf "$4" > "$1.ext"
  if [ "$3" = self ]; then
    openssl ca -batch -config ca.cnf -selfsign -keyfile "$1.key" -in "$1.csr" -startdate "$5" -enddate "$6" -extfile "$1.ext" -out "$1.pem" -notext 2>/dev/null
  else
    openssl ca -batch -config ca.cnf -cert "$3.pem" -keyfile "$3.key" -in "$1.csr" -startdate "$5" -enddate "$6" -extfile "$1.ext" -out "$1.pem" -notext 2>/dev/null
  fi
  openssl x509 -in "$1.pem" -outform DER -out "$1.der"
}
CA='basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n'
SUB='basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n'
issue root "/O=$3/CN=Fulcio Root" self "$CA" "$1" "$2"
issue intermediate "/O=$3/CN=Fulcio Intermediate l2" root "$SUB" "$1" "$2"
issue tsa-root "/O=$3/CN=Minted TSA Root" self "$CA" "$1" "$2"
issue tsa "/O=$3/CN=Minted Timestamp Authority" tsa-root 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n' "$1" "$2"
key log
openssl pkey -in log.key -pubout -outform DER -out log.spki.der
cat > tsa.cnf <<'CNF'
[tsa]
default_tsa = t
[t]
serial = ./tsaserial
crypto_device = builtin
signer_cert = ./tsa.pem
certs = ./tsa-root.pem
signer_key = ./tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.57264.2
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
CNF
"""#

    /// $1: the leaf's name (its .ext is written), $2 $3: its validity.
    static let leafScript = #"""
set -e
openssl ecparam -name prime256v1 -genkey -noout -out "$1.key"
openssl req -new -key "$1.key" -subj "/O=minted-leaf" -out "$1.csr"
openssl ca -batch -config ca.cnf -cert intermediate.pem -keyfile intermediate.key -in "$1.csr" -startdate "$2" -enddate "$3" -extfile "$1.ext" -out "$1.pem" -notext 2>/dev/null
openssl x509 -in "$1.pem" -outform DER -out "$1.der"
"""#

    private func run(_ script: String, _ arguments: [String]) throws { try Self.run(script, arguments, in: directory) }

    private func file(_ name: String) throws -> [UInt8] { try Self.file(name, in: directory) }

    private static func run(_ script: String, _ arguments: [String], in directory: URL) throws {
        let result = try BouncerProcess.runProgram("/bin/sh", ["-c", script, "minted-sigstore"] + arguments, cwd: directory.path)
        guard result.status == 0 else {
            throw BouncerError.usage("minting with openssl failed (exit \(result.status)): \(result.err)")
        }
    }

    private static func file(_ name: String, in directory: URL) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    private func next(_ prefix: String) -> String {
        counter += 1
        return "\(prefix)-\(counter)"
    }

    /// `20261205011652Z`, as openssl ca's -startdate and -enddate take it.
    static func x509Time(_ date: Date) -> String {
        rfc3339(date).filter { $0 != "-" && $0 != ":" && $0 != "T" }
    }

    /// `2026-12-05T01:16:52Z`.
    static func rfc3339(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}
