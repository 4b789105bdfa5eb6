import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools
import BouncerTestSupport

/// Signs DSSE envelopes at test time with the real openssl CLI: a P-256 key,
/// optionally a self-signed certificate carrying Fulcio-style extensions, and
/// ECDSA signatures over PAE(payloadType, payload) made by `openssl dgst`.
final class TestSigner {
    let dir: URL
    let keyPath: String
    let publicPath: String
    var certificatePath: String?

    init(extensions: [String: String] = [:], san: String? = nil) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("bouncer-att-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        keyPath = dir.appendingPathComponent("key.pem").path
        publicPath = dir.appendingPathComponent("pub.pem").path
        try Self.openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", keyPath], cwd: dir.path)
        try Self.openssl(["ec", "-in", keyPath, "-pubout", "-out", publicPath], cwd: dir.path)
        if !extensions.isEmpty || san != nil {
            var ext = "[req]\ndistinguished_name=dn\nprompt=no\n[dn]\nO=sigstore.dev\nCN=sigstore\n[v3]\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n"
            if let san { ext += "subjectAltName=critical,URI:\(san)\n" }
            for (oid, value) in extensions.sorted(by: { $0.key < $1.key }) { ext += "\(oid)=ASN1:UTF8String:\(value)\n" }
            try ext.write(to: dir.appendingPathComponent("ext.cnf"), atomically: true, encoding: .utf8)
            let cert = dir.appendingPathComponent("cert.pem").path
            try Self.openssl(["req", "-new", "-x509", "-key", keyPath, "-out", cert, "-days", "1",
                              "-config", "ext.cnf", "-extensions", "v3"], cwd: dir.path)
            certificatePath = cert
        }
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    static func openssl(_ args: [String], cwd: String, stdin: Data? = nil) throws {
        let result = try BouncerProcess.runProgram("/usr/bin/openssl", args, cwd: cwd, stdin: stdin)
        if result.status != 0 { Issue.record("openssl \(args.joined(separator: " ")): \(result.err)") }
    }

    var publicKey: PublicKey {
        get throws { try PublicKey(pem: String(contentsOfFile: publicPath, encoding: .utf8)) }
    }

    var certificate: SigningCertificate? {
        get throws {
            guard let certificatePath else { return nil }
            let pem = try String(contentsOfFile: certificatePath, encoding: .utf8)
            guard let der = PEM.decode(pem, label: "CERTIFICATE").first else { return nil }
            return try SigningCertificate(der: der)
        }
    }

    /// An ECDSA (DER) signature over `message` by openssl.
    func sign(_ message: [UInt8]) throws -> [UInt8] {
        let input = dir.appendingPathComponent("msg-\(UUID().uuidString)")
        let output = dir.appendingPathComponent("sig-\(UUID().uuidString)")
        try Data(message).write(to: input)
        try Self.openssl(["dgst", "-sha256", "-sign", keyPath, "-out", output.path, input.path], cwd: dir.path)
        return Array(try Data(contentsOf: output))
    }

    /// A DSSE envelope JSON over `payload` (signed over PAE with `signedType`,
    /// which a test may make differ from the declared `payloadType`).
    func envelope(_ payload: [UInt8], payloadType: String = InTotoStatement.payloadType,
                  signedType: String? = nil, extraSignatures: [[UInt8]] = []) throws -> [UInt8] {
        let sig = try sign(DSSEEnvelope.pae(payloadType: signedType ?? payloadType, payload: payload))
        let signatures = (extraSignatures + [sig]).map { ["keyid": "", "sig": Base64.encode($0)] }
        let object: [String: Any] = ["payload": Base64.encode(payload), "payloadType": payloadType, "signatures": signatures]
        return Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }
}

enum Statements {
    /// An in-toto statement (v1 by default) with a SLSA v1 GitHub-workflow predicate.
    static func slsaV1(subjectName: String = "app.tar.gz", digests: [String: String], repository: String = "https://github.com/org/repo",
                       ref: String = "refs/tags/v1.0.0", path: String = ".github/workflows/release.yml",
                       builder: String = "https://github.com/actions/runner/github-hosted",
                       predicateType: String = "https://slsa.dev/provenance/v1",
                       type: String = "https://in-toto.io/Statement/v1") -> [UInt8] {
        let statement: [String: Any] = [
            "_type": type,
            "subject": [["name": subjectName, "digest": digests]],
            "predicateType": predicateType,
            "predicate": [
                "buildDefinition": [
                    "buildType": "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
                    "externalParameters": ["workflow": ["ref": ref, "repository": repository, "path": path]],
                    "internalParameters": ["github": ["event_name": "push"]],
                    "resolvedDependencies": [["uri": "git+\(repository)@\(ref)", "digest": ["gitCommit": String(repeating: "ab", count: 20)]]],
                ],
                "runDetails": ["builder": ["id": builder], "metadata": ["invocationId": "https://github.com/org/repo/actions/runs/1/attempts/1"]],
            ],
        ]
        return Array((try? JSONSerialization.data(withJSONObject: statement, options: [.sortedKeys])) ?? Data())
    }
}

/// Corpus helpers for attestation tests.
enum AttestationCorpus {
    static func bytes(_ c: CorpusCase, _ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: c.path(name))))
    }

    /// The DSSE envelope and leaf certificate of a corpus bundle case.
    static func envelopeAndCertificate(_ name: String) throws -> (DSSEEnvelope, SigningCertificate, CorpusCase)? {
        guard let root = Corpus.rootOrNotice("attestation corpus (\(name))") else { return nil }
        let c = try CorpusCase.load(root.appendingPathComponent("dsse").appendingPathComponent(name))
        let bundle = try SigstoreBundle.parse(try bytes(c, c.signature ?? ""))
        guard case .dsse(let envelope) = bundle.content, case .certificates(let chain) = bundle.material, let leaf = chain.first else {
            Issue.record("\(name): not a keyless DSSE bundle")
            return nil
        }
        return (envelope, try SigningCertificate(der: leaf), c)
    }
}
