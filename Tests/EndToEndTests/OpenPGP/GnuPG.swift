import Foundation
import Testing
import BouncerTestSupport

/// A throwaway GnuPG home for interop tests: keys and signatures are made at
/// test time by the real `gpg`, never stored in the repository.
final class GnuPG {
    static let path = "/usr/bin/gpg"
    static var available: Bool { FileManager.default.isExecutableFile(atPath: path) }

    let home: URL
    let work: URL

    init() throws {
        home = try BouncerProcess.temporaryDirectory("bouncer-gnupg")
        work = try BouncerProcess.temporaryDirectory("bouncer-pgpwork")
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: home.path)
    }

    deinit {
        _ = try? BouncerProcess.runProgram("/usr/bin/gpgconf", ["--kill", "all"], environment: ["GNUPGHOME": home.path])
        try? FileManager.default.removeItem(at: home)
        try? FileManager.default.removeItem(at: work)
    }

    struct Failed: Error, CustomStringConvertible {
        let description: String
    }

    @discardableResult
    func run(_ arguments: [String], stdin: Data? = nil) throws -> ProcessResult {
        let result = try BouncerProcess.runProgram(Self.path, ["--batch", "--pinentry-mode", "loopback", "--passphrase", ""] + arguments,
                                                   cwd: work.path, environment: ["GNUPGHOME": home.path], stdin: stdin)
        guard result.status == 0 else { throw Failed(description: "gpg \(arguments.joined(separator: " ")): \(result.err)") }
        return result
    }

    /// Generates a key and returns its primary fingerprint.
    @discardableResult
    func generate(_ email: String, algorithm: String, expire: String = "never", fakedTime: String? = nil) throws -> String {
        var args = ["--quick-gen-key", "Test \(algorithm) <\(email)>", algorithm, "sign", expire]
        if let fakedTime { args = ["--faked-system-time", fakedTime] + args }
        try run(args)
        return try fingerprints(email)[0]
    }

    /// Primary then subkey fingerprints.
    func fingerprints(_ email: String) throws -> [String] {
        let out = try run(["--with-colons", "--list-keys", email]).out
        return out.split(separator: "\n").filter { $0.hasPrefix("fpr:") }.map { String($0.split(separator: ":", omittingEmptySubsequences: false)[9]) }
    }

    /// Exports the public key (binary or armored) to a file in the work dir.
    func export(_ email: String, to name: String, armor: Bool = false) throws -> String {
        let out = try run((armor ? ["--armor"] : []) + ["--export", email])
        let path = work.appendingPathComponent(name).path
        try out.stdout.write(to: URL(fileURLWithPath: path))
        return path
    }

    func write(_ name: String, _ text: String) throws -> String {
        let path = work.appendingPathComponent(name).path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func file(_ name: String) -> String { work.appendingPathComponent(name).path }

    /// Signs `input` into `output` with extra gpg options (--detach-sign, --clearsign ...).
    func sign(_ signer: String, _ input: String, _ output: String, _ options: [String], fakedTime: String? = nil) throws {
        var args = ["--yes", "-u", signer, "-o", file(output)] + options + [input]
        if let fakedTime { args = ["--faked-system-time", fakedTime, "--ignore-time-conflict"] + args }
        try run(args)
    }
}

/// Flips one bit of the byte at `offset` (negative: from the end).
func flipByte(_ path: String, at offset: Int) throws {
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    let index = offset >= 0 ? offset : bytes.count + offset
    bytes[index] ^= 0x01
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// Replaces the first occurrence of `old` with `new` in a text file.
func replaceText(_ path: String, _ old: String, _ new: String) throws {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    guard let range = text.range(of: old) else { throw GnuPG.Failed(description: "'\(old)' not in \(path)") }
    try text.replacingCharacters(in: range, with: new).write(toFile: path, atomically: true, encoding: .utf8)
}

/// The parsed `--json` output of a bouncer run.
func jsonObject(_ result: ProcessResult) -> [String: Any] {
    let line = result.out.split(separator: "\n").first.map(String.init) ?? ""
    return (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
}

func verifiedSigners(_ result: ProcessResult) -> [String] {
    let signatures = jsonObject(result)["signatures"] as? [[String: Any]] ?? []
    return signatures.filter { $0["status"] as? String == "verified" }.compactMap { $0["signer"] as? String }
}

/// A `--json` refusal because no signer is trusted: one refused entry per
/// signature, each naming its signing key (issuer fingerprint) in `signer`
/// and in its reason, and a top-level reason naming each key too.
func expectNotInKeyring(_ result: ProcessResult, signers: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    let json = jsonObject(result)
    #expect(json["verdict"] as? String == "fail", "\(result.out)", sourceLocation: sourceLocation)
    let entries = json["signatures"] as? [[String: Any]] ?? []
    #expect(entries.count == signers.count, "\(result.out)", sourceLocation: sourceLocation)
    let reasons = (json["reasons"] as? [[String: Any]] ?? []).compactMap { $0["message"] as? String }
    for fpr in signers {
        let phrase = "signing key \(fpr) is not in the trusted keyring"
        let entry = entries.first { $0["signer"] as? String == fpr }
        #expect(entry?["status"] as? String == "refused", "\(fpr): \(result.out)", sourceLocation: sourceLocation)
        #expect((entry?["reason"] as? String)?.contains(phrase) == true, "\(fpr): \(result.out)", sourceLocation: sourceLocation)
        #expect(reasons.contains { $0.contains(phrase) }, "\(fpr): \(reasons)", sourceLocation: sourceLocation)
    }
}
