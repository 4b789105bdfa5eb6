import Foundation
import Testing
import BouncerTestSupport

/// minisign, signify and SSH signatures made at test time by the real tools,
/// checked through the real `bouncer` binary: `verify-signature` over a file
/// and `verify --checksums SHA256SUMS --signature SIG` over a signed list,
/// with the `--json` signer fields; then one flipped byte in the file, in the
/// list and in the signature, and the wrong key, each refused (exit 1) with
/// its specific reason. The tools also check their own signatures, so a
/// signature bouncer accepts is one its maker accepts too.
@Suite(.blocking) struct SignedListCLIInteropTests {
    enum Kind: String, CaseIterable, Sendable, CustomTestStringConvertible {
        /// minisign 0.10 and later sign prehashed (`ED`, BLAKE2b-512) by
        /// default; `-l` makes the legacy `Ed` form (`-H` is a verify option).
        case minisignPrehashed = "minisign ED (default)"
        case minisignLegacy = "minisign Ed (-l, legacy)"
        case signify = "signify-openbsd"
        case sshEd25519 = "ssh-keygen ed25519"
        case sshECDSA256 = "ssh-keygen ecdsa 256"
        case sshECDSA384 = "ssh-keygen ecdsa 384"
        case sshECDSA521 = "ssh-keygen ecdsa 521"
        case sshRSA512 = "ssh-keygen rsa (rsa-sha2-512)"
        case sshRSA256 = "ssh-keygen rsa (rsa-sha2-256)"

        var testDescription: String { rawValue }
    }

    /// One tool's key pair, an unrelated key, and how its signatures look in bouncer's report.
    struct Signer {
        let format: String
        /// The trusted key file, and one that does not hold the signer's key.
        let key: String
        let wrongKey: String
        /// --identity/--namespace, for the formats that need them.
        let options: [String]
        /// Signs a file with the real tool; returns the signature's path.
        let sign: (_ path: String) throws -> String
        /// Flips one byte inside the signature value, in place.
        let flipSignature: (_ path: String) throws -> Void
        /// The `signer` of a verified signature, and of a refused one.
        let signer: String
        let refusedSigner: String
        /// Details a verified signature over the named file must report.
        let details: (_ signedName: String) -> [String: String]
        let algorithmPrefix: String?
        let wrongKeyReason: String
        let badReason: String
    }

    struct Failed: Error, CustomStringConvertible { let description: String }

    /// Runs a peer tool; a non-zero exit is an error naming the command.
    @discardableResult
    static func run(_ program: String, _ arguments: [String], in dir: URL, stdin: Data? = nil) throws -> ProcessResult {
        let result = try BouncerProcess.runProgram(program, arguments, cwd: dir.path, stdin: stdin)
        guard result.status == 0 else {
            throw Failed(description: "\(program) \(arguments.joined(separator: " ")) exited \(result.status): \(result.err)")
        }
        return result
    }

    /// The distribution's tool, or nil after recording a failure: .ci/run
    /// installs them, and interop tests must not pass silently without them.
    static func tool(_ name: String, package: String) -> String? {
        for dir in ["/usr/bin", "/usr/local/bin", "/bin"] where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
            return "\(dir)/\(name)"
        }
        Issue.record("\(name) is not installed (apt-get install \(package))")
        return nil
    }

    static func text(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    /// Re-encodes base64 line `index` of a text file after `edit` changes its bytes.
    static func editBase64Line(_ path: String, line index: Int, _ edit: (inout [UInt8]) -> Void) throws {
        var lines = try text(path).components(separatedBy: "\n")
        guard index < lines.count, let decoded = Data(base64Encoded: lines[index]) else {
            throw Failed(description: "line \(index) of \(path) is not base64")
        }
        var bytes = [UInt8](decoded)
        edit(&bytes)
        lines[index] = Data(bytes).base64EncodedString()
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    // MARK: - SSHSIG, read and written here independently of bouncer

    static let sshBegin = "-----BEGIN SSH SIGNATURE-----", sshEnd = "-----END SSH SIGNATURE-----"

    static func dearmorSSH(_ path: String) throws -> [UInt8] {
        let body = try text(path).components(separatedBy: "\n").filter { !$0.hasPrefix("-----") && !$0.isEmpty }.joined()
        guard let data = Data(base64Encoded: body) else { throw Failed(description: "\(path) is not an armored SSH signature") }
        return [UInt8](data)
    }

    static func armorSSH(_ blob: [UInt8]) -> String {
        let base64 = Array(Data(blob).base64EncodedString())
        let lines = stride(from: 0, to: base64.count, by: 70).map { String(base64[$0..<min($0 + 70, base64.count)]) }
        return ([sshBegin] + lines + [sshEnd]).joined(separator: "\n") + "\n"
    }

    static func sshString(_ bytes: [UInt8]) -> [UInt8] {
        let n = UInt32(bytes.count)
        return [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + bytes
    }

    /// The strings of an SSH wire encoding, from `offset` on.
    static func sshStrings(_ bytes: [UInt8], from offset: Int) -> [[UInt8]] {
        var out: [[UInt8]] = [], index = offset
        while index + 4 <= bytes.count {
            let n = bytes[index..<(index + 4)].reduce(0) { $0 << 8 | Int($1) }
            guard index + 4 + n <= bytes.count else { break }
            out.append(Array(bytes[(index + 4)..<(index + 4 + n)]))
            index += 4 + n
        }
        return out
    }

    /// The signature algorithm inside an SSHSIG blob (magic, version, then
    /// key, namespace, reserved, hash, signature strings).
    static func sshSignatureType(_ blob: [UInt8]) -> String? {
        let fields = sshStrings(blob, from: 10)
        guard fields.count == 5 else { return nil }
        return sshStrings(fields[4], from: 0).first.map { String(decoding: $0, as: UTF8.self) }
    }

    // MARK: - The signers

    static func signer(_ kind: Kind, in dir: URL) throws -> Signer? {
        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
        switch kind {
        case .minisignPrehashed, .minisignLegacy:
            guard let minisign = tool("minisign", package: "minisign") else { return nil }
            let legacy = kind == .minisignLegacy
            try run(minisign, ["-G", "-W", "-p", "k.pub", "-s", "k.key"], in: dir)
            try run(minisign, ["-G", "-W", "-p", "other.pub", "-s", "other.key"], in: dir)
            // minisign names its key in the public key's comment: "minisign public key <ID>".
            func keyID(_ pub: String) throws -> String {
                try text(path(pub)).components(separatedBy: "\n")[0].split(separator: " ").last.map(String.init) ?? ""
            }
            let id = try keyID("k.pub"), other = try keyID("other.pub")
            return Signer(
                format: "minisign", key: path("k.pub"), wrongKey: path("other.pub"), options: [],
                sign: { file in
                    let name = URL(fileURLWithPath: file).lastPathComponent
                    try run(minisign, ["-S", "-s", "k.key", "-m", file, "-x", file + ".minisig",
                                       "-t", "file:\(name)\tbouncer interop"] + (legacy ? ["-l"] : []), in: dir)
                    // minisign's own check; -H accepts only the prehashed form.
                    try run(minisign, ["-V", "-p", "k.pub", "-m", file, "-x", file + ".minisig"], in: dir)
                    let prehashedOnly = try BouncerProcess.runProgram(minisign, ["-V", "-H", "-p", "k.pub", "-m", file, "-x", file + ".minisig"],
                                                                      cwd: dir.path)
                    #expect((prehashedOnly.status == 0) == !legacy, "minisign -V -H on a \(legacy ? "legacy" : "default") signature: \(prehashedOnly.err)")
                    return file + ".minisig"
                },
                flipSignature: { try editBase64Line($0, line: 1) { $0[20] ^= 0x80 } },  // bytes 10..<74 are the signature
                signer: id, refusedSigner: id,
                details: { ["keyId": id, "trustedComment": "file:\($0)\tbouncer interop", "keyFile": path("k.pub")] },
                algorithmPrefix: legacy ? "Ed " : "ED ",
                wrongKeyReason: "wrong key: signed by minisign key \(id), trusted keys are \(other)",
                badReason: "bad signature: the signature does not match the file for minisign key \(id)")

        case .signify:
            guard let signify = tool("signify-openbsd", package: "signify-openbsd") else { return nil }
            try run(signify, ["-G", "-n", "-p", "k.pub", "-s", "k.sec"], in: dir)
            try run(signify, ["-G", "-n", "-p", "other.pub", "-s", "other.sec"], in: dir)
            // The key number: bytes 2..<10 of the public key (after "Ed").
            func keyNumber(_ pub: String) throws -> String {
                let line = try text(path(pub)).components(separatedBy: "\n")[1]
                guard let raw = Data(base64Encoded: line), raw.count == 42 else { throw Failed(description: "\(pub) is not a signify key") }
                return raw[2..<10].map { String(format: "%02X", $0) }.joined()
            }
            let number = try keyNumber("k.pub"), other = try keyNumber("other.pub")
            return Signer(
                format: "signify", key: path("k.pub"), wrongKey: path("other.pub"), options: [],
                sign: { file in
                    try run(signify, ["-S", "-s", "k.sec", "-m", file, "-x", file + ".sig"], in: dir)
                    try run(signify, ["-V", "-q", "-p", "k.pub", "-m", file, "-x", file + ".sig"], in: dir)
                    return file + ".sig"
                },
                flipSignature: { try editBase64Line($0, line: 1) { $0[40] ^= 0x01 } },
                signer: number, refusedSigner: number,
                details: { _ in ["keyNumber": number, "keyFile": path("k.pub")] },
                algorithmPrefix: nil,
                wrongKeyReason: "wrong key: checked against wrong key (signed by key number \(number), trusted keys are \(other))",
                badReason: "bad signature: the signature does not match the file for signify key \(number)")

        case .sshEd25519, .sshECDSA256, .sshECDSA384, .sshECDSA521, .sshRSA512, .sshRSA256:
            guard let keygen = tool("ssh-keygen", package: "openssh-client") else { return nil }
            let (type, bits, keyType, signatureAlgorithm): (String, Int?, String, String) = switch kind {
            case .sshEd25519: ("ed25519", nil, "ssh-ed25519", "ssh-ed25519")
            case .sshECDSA256: ("ecdsa", 256, "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256")
            case .sshECDSA384: ("ecdsa", 384, "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384")
            case .sshECDSA521: ("ecdsa", 521, "ecdsa-sha2-nistp521", "ecdsa-sha2-nistp521")
            case .sshRSA256: ("rsa", 3072, "ssh-rsa", "rsa-sha2-256")
            default: ("rsa", 3072, "ssh-rsa", "rsa-sha2-512")
            }
            for name in ["signer", "other"] {
                try run(keygen, ["-q", "-t", type, "-N", "", "-C", "interop", "-f", name] + (bits.map { ["-b", "\($0)"] } ?? []), in: dir)
            }
            let pub = try text(path("signer.pub")).trimmingCharacters(in: .whitespacesAndNewlines)
            let otherPub = try text(path("other.pub")).trimmingCharacters(in: .whitespacesAndNewlines)
            try "alice@example.com \(pub)\n".write(toFile: path("allowed_signers"), atomically: true, encoding: .utf8)
            try "alice@example.com \(otherPub)\n".write(toFile: path("other_signers"), atomically: true, encoding: .utf8)
            let fingerprint = try run(keygen, ["-l", "-E", "sha256", "-f", "signer.pub"], in: dir).out
                .split(separator: " ").dropFirst().first.map(String.init) ?? ""
            let openssl = signatureAlgorithm == "rsa-sha2-256" ? tool("openssl", package: "openssl") : nil
            if signatureAlgorithm == "rsa-sha2-256" && openssl == nil { return nil }
            return Signer(
                format: "ssh", key: path("allowed_signers"), wrongKey: path("other_signers"),
                options: ["--identity", "alice@example.com", "--namespace", "file"],
                sign: { file in
                    try? FileManager.default.removeItem(atPath: file + ".sig")
                    let asked = signatureAlgorithm == "rsa-sha2-256" ? ["-t", "rsa-sha2-256"] : []
                    try run(keygen, ["-Y", "sign", "-f", "signer", "-n", "file"] + asked + [file], in: dir)
                    let made = sshSignatureType(try dearmorSSH(file + ".sig"))
                    if made != signatureAlgorithm, let openssl {
                        // ssh-keygen -Y sign always signs RSA with rsa-sha2-512 (OpenSSH 9.2
                        // ignores -t here): the rsa-sha2-256 signature is made with openssl
                        // over the exact SSHSIG signed data, and ssh-keygen checks it below.
                        try FileManager.default.removeItem(atPath: file + ".sig")
                        try craftRSASHA256(file, keyBlob: pub, openssl: openssl, keygen: keygen, in: dir)
                    }
                    #expect(sshSignatureType(try dearmorSSH(file + ".sig")) == signatureAlgorithm, "\(file).sig")
                    try run(keygen, ["-Y", "verify", "-f", "allowed_signers", "-I", "alice@example.com", "-n", "file", "-s", file + ".sig"],
                            in: dir, stdin: try Data(contentsOf: URL(fileURLWithPath: file)))
                    return file + ".sig"
                },
                flipSignature: { sig in
                    var blob = try dearmorSSH(sig)
                    blob[blob.count - 3] ^= 0x04   // inside the signature value, the last string
                    try armorSSH(blob).write(toFile: sig, atomically: true, encoding: .utf8)
                },
                signer: "alice@example.com", refusedSigner: fingerprint,
                details: { _ in ["principal": "alice@example.com", "fingerprint": fingerprint, "namespace": "file",
                                 "keyType": keyType, "signatureAlgorithm": signatureAlgorithm] },
                algorithmPrefix: nil,
                wrongKeyReason: "wrong key: the signature was made by \(keyType) key \(fingerprint), which is not in the allowed_signers",
                badReason: "bad signature: the \(signatureAlgorithm) signature does not verify with "
                    + (keyType == signatureAlgorithm ? "key \(fingerprint)" : "\(keyType) key \(fingerprint)"))
        }
    }

    /// An SSHSIG with an rsa-sha2-256 signature (PKCS#1 v1.5 over SHA-256)
    /// by openssl, written to `file`.sig.
    static func craftRSASHA256(_ file: String, keyBlob pub: String, openssl: String, keygen: String, in dir: URL) throws {
        if !(try text(dir.appendingPathComponent("signer").path).contains("BEGIN RSA PRIVATE KEY")) {
            try run(keygen, ["-p", "-q", "-P", "", "-N", "", "-m", "PEM", "-f", "signer"], in: dir)   // a key openssl reads
        }
        let digest = [UInt8](try run(openssl, ["dgst", "-sha512", "-binary", file], in: dir).stdout)
        let preamble = Array("SSHSIG".utf8)
        let signed = preamble + sshString(Array("file".utf8)) + sshString([]) + sshString(Array("sha512".utf8)) + sshString(digest)
        let signedPath = dir.appendingPathComponent("sshsig-signed-data").path
        try Data(signed).write(to: URL(fileURLWithPath: signedPath))
        let raw = [UInt8](try run(openssl, ["dgst", "-sha256", "-sign", "signer", signedPath], in: dir).stdout)
        guard let keyBlob = pub.split(separator: " ").dropFirst().first.flatMap({ Data(base64Encoded: String($0)) }) else {
            throw Failed(description: "signer.pub has no key blob")
        }
        let blob = preamble + [0, 0, 0, 1] + sshString([UInt8](keyBlob)) + sshString(Array("file".utf8)) + sshString([])
            + sshString(Array("sha512".utf8)) + sshString(sshString(Array("rsa-sha2-256".utf8)) + sshString(raw))
        try armorSSH(blob).write(toFile: file + ".sig", atomically: true, encoding: .utf8)
    }

    // MARK: - The test

    @Test(arguments: Kind.allCases)
    func signVerifyAndTamper(_ kind: Kind) throws {
        let dir = try BouncerProcess.temporaryDirectory("bouncer-signed-list")
        defer { try? FileManager.default.removeItem(at: dir) }
        guard let signer = try Self.signer(kind, in: dir) else { return }
        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
        let artifact = path("app-1.0.tar.gz"), list = path("SHA256SUMS")
        try Data(String(repeating: "payload \(kind.rawValue)\n", count: 500).utf8).write(to: URL(fileURLWithPath: artifact))
        let sums = try Self.run("/usr/bin/sha256sum", ["app-1.0.tar.gz"], in: dir).out
        let digest = String(sums.prefix(64))
        try sums.write(toFile: list, atomically: true, encoding: .utf8)
        let artifactSig = try signer.sign(artifact)
        let listSig = try signer.sign(list)
        let trust = ["--key", signer.key] + signer.options
        let distrust = ["--key", signer.wrongKey] + signer.options

        /// The one signature entry of a report: verified by the expected signer with the expected details.
        func expectVerified(_ result: ProcessResult, signed: String, _ what: String) {
            let json = jsonObject(result)
            #expect(result.status == 0, "\(kind) \(what): \(result.out) \(result.err)")
            #expect(json["verdict"] as? String == "pass", "\(kind) \(what)")
            let entries = json["signatures"] as? [[String: Any]] ?? []
            #expect(entries.count == 1, "\(kind) \(what): \(result.out)")
            let entry = entries.first ?? [:]
            #expect(entry["status"] as? String == "verified")
            #expect(entry["format"] as? String == signer.format)
            #expect(entry["signer"] as? String == signer.signer, "\(kind) \(what): \(result.out)")
            let details = entry["details"] as? [String: String] ?? [:]
            for (field, value) in signer.details(signed) {
                #expect(details[field] == value, "\(kind) \(what): details.\(field) in \(result.out)")
            }
            if let prefix = signer.algorithmPrefix {
                #expect(details["algorithm"]?.hasPrefix(prefix) == true, "\(kind) \(what): \(details)")
            }
        }

        /// Exit 1, and every reason (and the human form's stderr) says `expected`.
        func expectRefused(_ arguments: [String], code: String = "signature-refused", _ expected: String, _ what: String) throws {
            let result = try BouncerProcess.run(arguments + ["--json"])
            #expect(result.status == 1, "\(kind) \(what): \(result.out) \(result.err)")
            let json = jsonObject(result)
            #expect(json["verdict"] as? String == "fail", "\(kind) \(what)")
            let reasons = json["reasons"] as? [[String: Any]] ?? []
            #expect(!reasons.isEmpty, "\(kind) \(what): a refusal must say why")
            for reason in reasons {
                #expect(reason["code"] as? String == code, "\(kind) \(what): \(reason)")
                #expect((reason["message"] as? String)?.contains(expected) == true, "\(kind) \(what): expected '\(expected)' in \(reason)")
            }
            let human = try BouncerProcess.run(arguments)
            #expect(human.status == 1, "\(kind) \(what): \(human.err)")
            #expect(human.err.contains("REFUSED") && human.err.contains(expected), "\(kind) \(what): \(human.err)")
        }

        // Verified: the file's own signature, and the file through the signed list.
        let direct = try BouncerProcess.run(["verify-signature", artifact, "--signature", artifactSig] + trust + ["--json"])
        expectVerified(direct, signed: "app-1.0.tar.gz", "verify-signature")
        let directEvidence = (jsonObject(direct)["evidence"] as? [[String: Any]])?.first
        #expect(directEvidence?["kind"] as? String == "signature")
        #expect((directEvidence?["details"] as? [String: String])?["signer"] == signer.signer)
        #expect((jsonObject(direct)["artifact"] as? [String: Any])?["sha256"] as? String == digest)

        let listed = try BouncerProcess.run(["verify", artifact, "--checksums", list, "--signature", listSig] + trust + ["--json"])
        expectVerified(listed, signed: "SHA256SUMS", "verify --checksums")
        let listEvidence = (jsonObject(listed)["evidence"] as? [[String: Any]])?.first
        #expect(listEvidence?["kind"] as? String == "checksums")
        #expect(listEvidence?["proves"] as? [String] == ["integrity", "origin"])
        #expect((listEvidence?["details"] as? [String: String])?["signer"] == "\(signer.format) key \(signer.signer)")
        #expect((listEvidence?["details"] as? [String: String])?["digest"] == "sha256:\(digest)")

        // The wrong key: the refusal names the key that signed.
        try expectRefused(["verify-signature", artifact, "--signature", artifactSig] + distrust, signer.wrongKeyReason, "wrong key")
        try expectRefused(["verify", artifact, "--checksums", list, "--signature", listSig] + distrust, signer.wrongKeyReason, "wrong key, list")
        let wrong = try BouncerProcess.run(["verify", artifact, "--checksums", list, "--signature", listSig] + distrust + ["--json"])
        let refusedEntry = (jsonObject(wrong)["signatures"] as? [[String: Any]])?.first
        #expect(refusedEntry?["status"] as? String == "refused")
        #expect(refusedEntry?["signer"] as? String == signer.refusedSigner, "\(kind): \(wrong.out)")

        // One flipped byte in each signature.
        for (signed, signature) in [(artifact, artifactSig), (list, listSig)] {
            let flipped = signature + ".flipped"
            try FileManager.default.copyItem(atPath: signature, toPath: flipped)
            try signer.flipSignature(flipped)
            #expect(try Data(contentsOf: URL(fileURLWithPath: flipped)) != (try Data(contentsOf: URL(fileURLWithPath: signature))))
            if signed == artifact {
                try expectRefused(["verify-signature", artifact, "--signature", flipped] + trust, signer.badReason, "flipped signature")
            } else {
                try expectRefused(["verify", artifact, "--checksums", list, "--signature", flipped] + trust, signer.badReason, "flipped list signature")
            }
        }

        // One flipped byte in the list: a hex digit changed to another.
        let tamperedList = path("SHA256SUMS.tampered")
        try ((digest.first == "0" ? "1" : "0") + sums.dropFirst()).write(toFile: tamperedList, atomically: true, encoding: .utf8)
        try expectRefused(["verify", artifact, "--checksums", tamperedList, "--signature", listSig] + trust, signer.badReason, "flipped list")

        // One flipped byte in the file: its signature fails; the signed list
        // still verifies but lists another digest.
        let tamperedDir = dir.appendingPathComponent("tampered")
        try FileManager.default.createDirectory(at: tamperedDir, withIntermediateDirectories: true)
        let tampered = tamperedDir.appendingPathComponent("app-1.0.tar.gz").path
        try FileManager.default.copyItem(atPath: artifact, toPath: tampered)
        try flipByte(tampered, at: 100)
        try expectRefused(["verify-signature", tampered, "--signature", artifactSig] + trust, signer.badReason, "flipped file")
        try expectRefused(["verify", tampered, "--checksums", list, "--signature", listSig] + trust, code: "checksums-mismatch",
                          "sha256 of 'app-1.0.tar.gz' is", "flipped file, list")
        let stillSigned = try BouncerProcess.run(["verify", tampered, "--checksums", list, "--signature", listSig] + trust + ["--json"])
        #expect(verifiedSigners(stillSigned) == [signer.signer], "\(kind): \(stillSigned.out)")
    }
}
