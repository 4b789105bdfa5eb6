import ArgumentParser
import FoundationEssentials
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools

struct VerifySignatureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-signature",
        abstract: "Verify a detached signature over a file, or a cleartext-signed file.",
        discussion: """
            With --signature SIG, SIG is a detached signature over FILE, its format detected \
            from its content: OpenPGP (armored or binary), minisign, signify, or an SSH \
            signature (ssh-keygen -Y sign). Without it, FILE must be an OpenPGP \
            cleartext-signed message (e.g. Debian InRelease) and its own signature is checked.

            KEY is what the format trusts: an OpenPGP key or keyring (armored or binary; every \
            key in it is trusted), a minisign or signify public key file, or an SSH \
            allowed_signers file. SSH signatures also need --identity (the principal) and \
            --namespace (e.g. 'file'). A message with several signatures passes when at least \
            one verifies from a trusted key; each is reported.

            Exit codes: 0 verified; 1 refused (bad, untrusted or malformed signature); \
            2 usage error or unusable key file; 3 a file could not be read.
            """
    )

    @Argument(help: "The signed file.")
    var file: String

    @Option(help: ArgumentHelp("Detached signature over FILE.", valueName: "SIG"))
    var signature: String?

    @Option(name: .customLong("key"), help: ArgumentHelp("Trusted key or keyring (repeatable).", valueName: "KEY"))
    var keys: [String] = []

    @Option(help: ArgumentHelp("The signer's principal (formats that need one).", valueName: "P"))
    var identity: String?

    @Option(help: ArgumentHelp("The signature namespace (formats that need one).", valueName: "NS"))
    var namespace: String?

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        if keys.isEmpty { throw ValidationError("give at least one --key KEY: a signature counts only against a named key") }
    }

    func run() throws {
        try VerifySignatureRun(file: file, signature: signature, keys: keys, identity: identity,
                               namespace: namespace, json: json).run()
    }
}

/// What `verify-signature` does once its arguments are known, in a plain
/// struct so the start-up shortcut (`parsePlain`) need not build an
/// ArgumentParser command, whose property wrappers alone cost about 0.5 ms.
struct VerifySignatureRun: Equatable {
    let file: String
    let signature: String?
    let keys: [String]
    let identity: String?
    let namespace: String?
    let json: Bool

    func run() throws {
        // An unreadable artifact is an I/O failure (exit 3), whatever else is wrong.
        guard FileManager.default.isReadableFile(atPath: file) else {
            throw BouncerError.io("cannot read \(file): \(FileManager.default.fileExists(atPath: file) ? "permission denied" : "no such file")")
        }
        let keyMaterial = try keys.map { KeyMaterial(path: $0, bytes: try readInput($0)) }
        let options = SignatureOptions(identity: identity, namespace: namespace)
        // The digest reported is computed in the same read as the signature
        // check, so it names exactly the bytes that were verified.
        var outcome: SignedEvidence.Outcome
        do {
            if let signature {
                outcome = try SignedEvidence.verifyDetached(fileAt: file, signature: try readInput(signature),
                                                            signaturePath: signature, keys: keyMaterial, options: options)
            } else {
                let message = try readArtifact(file)
                guard OpenPGPFormat.isClearsigned(message) else {
                    throw BouncerError(.evidence, code: "signature-missing",
                                       "\(file) is not a cleartext-signed message ('-----BEGIN PGP SIGNED MESSAGE-----'), and no --signature was given")
                }
                outcome = try SignedEvidence.verifyClearsignedOutcome(message, source: file, keys: keyMaterial, options: options)
                outcome.artifactSHA256 = Hasher.digest(message, .sha256)
                outcome.artifactSize = UInt64(message.count)
            }
        } catch let failure as BouncerFailure where failure.family == .evidence {
            outcome = .init(report: SignatureReport(outcomes: [.refused(signer: nil, reason: failure.description)]), format: nil)
        }
        let report = SignedEvidence.verificationReport(outcome, artifactName: file,
                                                       sha256: outcome.artifactSHA256?.hex, size: outcome.artifactSize)
        if json {
            Console.output(report.jsonLine())
        } else {
            for line in report.humanLines() {
                if report.verdict == .pass { Console.output(line) } else { Console.error(line) }
            }
        }
        if report.verdict != .pass { throw ExitCode(ErrorFamily.evidence.exitCode) }
    }
}

extension VerifySignatureCommand {
    /// `verify-signature FILE --key KEY ...` in its plain form (long options,
    /// each value a separate argument), parsed without ArgumentParser: its
    /// reflection-driven set-up (the whole command tree, a Mirror over every
    /// option, protocol-conformance scans of the binary) costs about 2 ms, a
    /// quarter of checking a Debian InRelease. Anything else (another shape,
    /// `--opt=value`, help, a repeated single option, a value that could be
    /// an option, a failed validation) returns nil and goes to ArgumentParser,
    /// which then parses it or reports the error exactly as before. A test
    /// checks that both parsers agree on what this one accepts.
    static func parsePlain(_ arguments: [String]) -> VerifySignatureRun? {
        guard arguments.first == "verify-signature" else { return nil }
        func plain(_ value: String) -> Bool { !value.isEmpty && !value.hasPrefix("-") && value != "help" }
        var file: String? = nil, signature: String? = nil, identity: String? = nil, namespace: String? = nil
        var keys: [String] = [], json = false
        var seen: [String] = []
        var rest = arguments.dropFirst()
        while let token = rest.popFirst() {
            if plain(token) {
                guard file == nil else { return nil }
                file = token
                continue
            }
            guard token == "--key" || !seen.contains(token) else { return nil }
            seen.append(token)
            if token == "--json" {
                json = true
                continue
            }
            guard let value = rest.popFirst(), plain(value) else { return nil }
            switch token {
            case "--key": keys.append(value)
            case "--signature": signature = value
            case "--identity": identity = value
            case "--namespace": namespace = value
            default: return nil
            }
        }
        // `validate()`'s one rule, so no validation error is ever produced here.
        guard let file, !keys.isEmpty else { return nil }
        return VerifySignatureRun(file: file, signature: signature, keys: keys, identity: identity, namespace: namespace, json: json)
    }
}

/// Reads the artifact itself: failing to read it is an I/O error (exit 3).
func readArtifact(_ path: String, limit: Int = 1 << 30) throws -> [UInt8] {
    switch WholeFile.contents(path, limit: limit) {
    case .success(let bytes): return bytes
    case .failure(.open(let why)), .failure(.read(let why)): throw BouncerError.io("cannot read \(path): \(why)")
    case .failure(.tooLarge): throw BouncerError.io("\(path) is larger than \(limit) bytes")
    }
}
