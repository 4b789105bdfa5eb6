import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools
import BouncerTestSupport

/// Shared helpers for the minisign, signify and SSHSIG tests.
enum SigTest {
    static func bytes(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func write(_ bytes: [UInt8], _ path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    static func key(_ path: String) throws -> KeyMaterial {
        KeyMaterial(path: path, bytes: try bytes(path))
    }

    /// The real tool from the distribution, or nil after recording a failure:
    /// interop tests must not pass silently when the tool is missing.
    static func tool(_ name: String, package: String) -> String? {
        for dir in ["/usr/bin", "/usr/local/bin", "/bin"] {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        Issue.record("\(name) is not installed (apt-get install \(package))")
        return nil
    }

    /// Runs a tool and records a failure (with its stderr) when it exits non-zero.
    @discardableResult
    static func run(_ program: String, _ arguments: [String], cwd: String? = nil, stdin: Data? = nil) throws -> ProcessResult {
        let result = try BouncerProcess.runProgram(program, arguments, cwd: cwd, stdin: stdin)
        if result.status != 0 {
            Issue.record("\(program) \(arguments.joined(separator: " ")) exited \(result.status): \(result.err)")
        }
        return result
    }

    /// The corpus cases a test ran are exactly the format's case folders,
    /// and as many as the corpus README counts: a folder without a readable
    /// case.json, or a case the loop skipped, fails the test.
    static func expectAllRan(_ ran: Set<String>, format: String, count: Int,
                             sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(ran == Corpus.folderNames(format: format),
                "\(format): ran \(ran.sorted()), folders \(Corpus.folderNames(format: format).sorted())", sourceLocation: sourceLocation)
        #expect(ran.count == count, "\(format): \(ran.count) cases ran, the corpus has \(count)", sourceLocation: sourceLocation)
    }

    static func reason(_ report: SignatureReport) -> String? {
        guard report.outcomes.count == 1, case .refused(_, let reason) = report.outcomes[0] else { return nil }
        return reason
    }

    static func fact(_ report: SignatureReport) -> SignerFact? {
        guard report.outcomes.count == 1, case .verified(let fact) = report.outcomes[0] else { return nil }
        return fact
    }

    /// The text lines of a file, without their line ends.
    static func lines(_ bytes: [UInt8]) -> [String] {
        String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    /// Re-encodes base64 line `index` of a text signature after `edit` changes its bytes.
    static func editBase64Line(_ file: [UInt8], line index: Int, _ edit: (inout [UInt8]) -> Void) -> [UInt8] {
        var lines = lines(file)
        guard index < lines.count, var raw = Base64.decode(lines[index]) else {
            Issue.record("line \(index) is not base64")
            return file
        }
        edit(&raw)
        lines[index] = Base64.encode(raw)
        return Array(lines.joined(separator: "\n").utf8)
    }
}

/// The parts of a corpus `case.json` `extra` object these tests use.
struct SigCaseExtra: Decodable {
    struct Wrapper: Decodable { let extra: SigCaseExtra? }
    let trusted_comment: String?
    let namespace: String?
    let principal: String?

    static func load(_ directory: URL) throws -> SigCaseExtra? {
        let data = try Data(contentsOf: directory.appendingPathComponent("case.json"))
        return try JSONDecoder().decode(Wrapper.self, from: data).extra
    }
}
