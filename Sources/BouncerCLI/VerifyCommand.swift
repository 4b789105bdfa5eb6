import ArgumentParser
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify files against a sha256 pin or a checksum list.",
        discussion: """
            LIST may be GNU style (`sha256sum` output, text or binary marker, escaped names) \
            or BSD style (`SHA256 (name) = hex`), with sha256, sha384 or sha512 digests. A \
            file is looked up by exact name: its base name, or --name. MD5 and SHA-1 entries \
            never count. A name listed twice with different digests makes the list ambiguous \
            and it is refused. With --checksums and no FILE, every entry of LIST is checked \
            against the file of that name under the current directory (like `sha256sum -c`); \
            absolute names and names with '..' are refused.

            LIST may also be clearsigned (Debian InRelease, a signed SHA256SUMS, a .dsc), a \
            Debian Release, Packages (also .gz/.xz/.lz4) or .dsc file; their sizes are checked \
            too. With --key, LIST must carry a valid signature from a trusted key (clearsigned, \
            or detached with --signature SIG) or every file is refused. Without --key a \
            clearsigned LIST is read as unsigned (only its signed text is used).

            An unsigned list proves integrity against the list only, not who published it.

            Exit codes: 0 verified; 1 refused; 2 usage error or unreadable/malformed input \
            given on the command line; 3 a file could not be read.
            """
    )

    @Argument(help: "Files to verify.")
    var files: [String] = []

    @Option(help: ArgumentHelp("Expected sha256 digest (hex, or sha256:<hex>) of the single FILE.", valueName: "HEX"))
    var sha256: String?

    @Option(help: ArgumentHelp("A checksum list.", valueName: "LIST"))
    var checksums: String?

    @Option(help: ArgumentHelp("The entry to look up in LIST (default: the file's base name).", valueName: "ENTRY"))
    var name: String?

    @Option(help: ArgumentHelp("Detached signature over LIST (OpenPGP, minisign, signify or SSH; detected from content).", valueName: "SIG"))
    var signature: String?

    @Option(name: .customLong("key"), help: ArgumentHelp("Trusted key for LIST's signature: OpenPGP key or keyring, minisign/signify public key, SSH allowed_signers (repeatable).", valueName: "KEY"))
    var keys: [String] = []

    @Option(help: ArgumentHelp("The signer's principal (formats that need one).", valueName: "P"))
    var identity: String?

    @Option(help: ArgumentHelp("The signature namespace (formats that need one).", valueName: "NS"))
    var namespace: String?

    @Flag(help: "With --checksums and no FILE: skip entries whose file is absent (at least one must be verified).")
    var ignoreMissing = false

    @Flag(help: "Print one JSON object per file instead of text.")
    var json = false

    func validate() throws {
        guard sha256 != nil || checksums != nil else {
            throw ValidationError("nothing to verify against: give --sha256 HEX or --checksums LIST")
        }
        if files.isEmpty && checksums == nil { throw ValidationError("give at least one FILE") }
        if files.count != 1 && sha256 != nil { throw ValidationError("--sha256 needs exactly one FILE") }
        if files.count != 1 && name != nil { throw ValidationError("--name needs exactly one FILE") }
        if ignoreMissing && !files.isEmpty { throw ValidationError("--ignore-missing applies only without FILE") }
        if (signature != nil || !keys.isEmpty) && checksums == nil {
            throw ValidationError("--signature and --key apply to a checksum list: give --checksums LIST")
        }
        if signature != nil && keys.isEmpty {
            throw ValidationError("--signature needs --key KEY: a signature counts only against a named key")
        }
    }

    func run() throws {
        var pins: [Digest] = []
        if let sha256 {
            let text = sha256.hasPrefix("sha256:") ? sha256 : "sha256:" + sha256
            do { pins.append(try Digest(parsing: text)) } catch { throw BouncerError.usage("--sha256: \(error)") }
        }
        var list: ChecksumList? = nil
        var signed: SignedEvidence.Outcome? = nil
        var validUntil: String? = nil
        if let checksums {
            let keyMaterial = try keys.map { KeyMaterial(path: $0, bytes: try readInput($0)) }
            let signatureInput = try signature.map { (bytes: try readInput($0), path: $0) }
            let options = SignatureOptions(identity: identity, namespace: namespace)
            let result: SignedChecksumList.Result
            do {
                result = try SignedChecksumList.load(try readInput(checksums), source: checksums, signature: signatureInput,
                                                     keys: keyMaterial, options: options)
            } catch let failure as BouncerFailure where failure.family == .evidence && !keys.isEmpty {
                // A malformed signed list is refused like a bad signature, per file.
                result = .refused(.init(report: SignatureReport(outcomes: [.refused(signer: nil, reason: failure.description)]), format: nil))
            }
            switch result {
            case .loaded(let loaded):
                list = loaded.list
                signed = loaded.signature
                validUntil = loaded.validUntil
            case .refused(let outcome):
                try refuseAll(outcome, list: checksums)
                return
            }
        }
        var targets: [(path: String, entry: String?)] = files.map { ($0, name) }
        if files.isEmpty, let list {
            targets = try checkModeTargets(list)
        }
        var outcome = Outcome()
        for target in targets {
            let inputs = DigestEvidence.Inputs(pins: pins, list: list, listName: target.entry,
                                               listSigner: signed?.signerSummary)
            do {
                var report = try DigestEvidence.verify(path: target.path, displayName: target.path, inputs: inputs)
                if let signed { report.signatures = SignedEvidence.entries(signed.report, format: signed.format) }
                // A signed Release with a Valid-Until that was checked also proves freshness.
                if let validUntil, signed != nil {
                    for index in report.evidence.indices where report.evidence[index].kind == "checksums" {
                        report.evidence[index].proves.append("freshness")
                        report.evidence[index].details["validUntil"] = validUntil
                    }
                }
                outcome.record(report, json: json)
            } catch {
                outcome.recordUnreadable(target.path, error, json: json)
            }
        }
        try outcome.finish()
    }

    /// The list's signature failed: every file is refused, each report
    /// naming why each signature did not count.
    private func refuseAll(_ signed: SignedEvidence.Outcome, list: String) throws {
        var outcome = Outcome()
        for file in files.isEmpty ? [list] : files {
            var reasons = signed.report.outcomes.compactMap { item -> VerificationReport.Reason? in
                if case .refused(_, let reason) = item { return .init(code: "signature-refused", message: "\(list): \(reason)") }
                return nil
            }
            if reasons.isEmpty { reasons = [.init(code: "signature-refused", message: "\(list): no signature verified")] }
            var report = VerificationReport(artifact: .init(name: file, sha256: nil), reasons: reasons)
            report.signatures = SignedEvidence.entries(signed.report, format: signed.format)
            outcome.record(report, json: json)
        }
        try outcome.finish()
    }

    /// Check mode: every entry names a local file, which must stay inside the current directory.
    private func checkModeTargets(_ list: ChecksumList) throws -> [(path: String, entry: String?)] {
        var targets: [(path: String, entry: String?)] = []
        var seen = Set<String>()
        for entry in list.entries where seen.insert(entry.name).inserted {
            guard ChecksumListCheck.isSafeLocalName(entry.name) else {
                throw ChecksumListError.unsafeName(source: list.source, line: entry.line, name: entry.name)
            }
            if ignoreMissing && !FileManager.default.fileExists(atPath: entry.name) { continue }
            targets.append((entry.name, entry.name))
        }
        guard !targets.isEmpty else {
            throw BouncerError(.evidence, code: "nothing-verified", "no file listed in \(list.source) is present; nothing was verified")
        }
        return targets
    }
}

/// Collects per-file results and turns them into the exit code: 1 if any
/// file was refused, else 3 if any could not be read, else 0.
struct Outcome {
    var refused = false
    var unreadable = false

    mutating func record(_ report: VerificationReport, json: Bool) {
        if json {
            Console.output(report.jsonLine())
        } else {
            for line in report.humanLines() {
                if report.verdict == .pass { Console.output(line) } else { Console.error(line) }
            }
        }
        if report.verdict == .fail { refused = true }
    }

    mutating func recordUnreadable(_ path: String, _ error: Error, json: Bool) {
        unreadable = true
        let message = "\(error)"
        if json {
            var report = VerificationReport(artifact: .init(name: path, sha256: nil),
                                            reasons: [.init(code: "io", message: message)])
            report.verdict = .fail
            Console.output(report.jsonLine())
        } else {
            Console.error("\(path): ERROR: \(message)")
        }
    }

    func finish() throws {
        if refused { throw ExitCode(ErrorFamily.evidence.exitCode) }
        if unreadable { throw ExitCode(ErrorFamily.transport.exitCode) }
    }
}

/// Reads a file named on the command line (`-` is standard input). A file
/// given as an input that cannot be read is a usage error (exit 2).
func readInput(_ path: String, limit: Int = 512 << 20) throws -> [UInt8] {
    if path != "-" {
        switch WholeFile.contents(path, limit: limit) {
        case .success(let bytes): return bytes
        case .failure(.open(let why)): throw BouncerError.usage("cannot read \(path): \(why)")
        case .failure(.read): return []  // as before (FileHandle): a read error reads as empty
        case .failure(.tooLarge): throw BouncerError.usage("\(path) is larger than \(limit) bytes")
        }
    }
    switch WholeFile.contents(fd: STDIN_FILENO, limit: limit) {
    case .success(let bytes): return bytes
    case .failure(.tooLarge): throw BouncerError.usage("\(path) is larger than \(limit) bytes")
    case .failure: return []  // as before: a read error reads as empty
    }
}
