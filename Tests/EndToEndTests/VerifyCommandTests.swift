import Foundation
import Testing
import BouncerTestSupport

/// `bouncer verify` with pins and unsigned checksum lists written by the real sha256sum/sha512sum.
@Suite(.blocking) struct VerifyCommandTests {
    let dir: URL

    init() throws {
        dir = try BouncerProcess.temporaryDirectory("bouncer-verify")
        try Data("alpha\n".utf8).write(to: dir.appendingPathComponent("a.txt"))
        try Data("beta\n".utf8).write(to: dir.appendingPathComponent("b file.txt"))
        let gnu = try BouncerProcess.runProgram("/usr/bin/sha256sum", ["a.txt", "b file.txt"], cwd: dir.path)
        try gnu.stdout.write(to: dir.appendingPathComponent("SHA256SUMS"))
        let bsd = try BouncerProcess.runProgram("/usr/bin/sha512sum", ["--tag", "a.txt", "b file.txt"], cwd: dir.path)
        try bsd.stdout.write(to: dir.appendingPathComponent("SHA512SUMS.bsd"))
    }

    func verify(_ arguments: [String]) throws -> ProcessResult {
        try BouncerProcess.run(["verify"] + arguments, cwd: dir.path)
    }

    func sha256(_ name: String) throws -> String {
        String(try BouncerProcess.runProgram("/usr/bin/sha256sum", [name], cwd: dir.path).out.prefix(64))
    }

    @Test func pinnedDigest() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = try verify(["a.txt", "--sha256", try sha256("a.txt")])
        #expect(good.status == 0, "\(good.err)")
        #expect(good.out.contains("a.txt: OK"))
        let bad = try verify(["a.txt", "--sha256", try sha256("b file.txt")])
        #expect(bad.status == 1)
        #expect(bad.err.contains("a.txt: REFUSED"))
    }

    @Test func gnuAndBsdLists() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        for list in ["SHA256SUMS", "SHA512SUMS.bsd"] {
            let result = try verify(["a.txt", "b file.txt", "--checksums", list])
            #expect(result.status == 0, "\(list): \(result.err)")
            #expect(result.out.contains("unsigned"), "an unsigned list must say it proves no origin")
        }
        try Data("tampered\n".utf8).write(to: dir.appendingPathComponent("a.txt"))
        let tampered = try verify(["a.txt", "--checksums", "SHA512SUMS.bsd", "--json"])
        #expect(tampered.status == 1)
        let object = try JSONSerialization.jsonObject(with: tampered.stdout) as? [String: Any]
        #expect(object?["verdict"] as? String == "fail")
        let reasons = object?["reasons"] as? [[String: Any]]
        #expect(reasons?.first?["code"] as? String == "checksums-mismatch")
    }

    @Test func checkModeLikeSha256sumC() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try verify(["--checksums", "SHA256SUMS"])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.split(separator: "\n").count == 2)
        try FileManager.default.removeItem(at: dir.appendingPathComponent("b file.txt"))
        let missing = try verify(["--checksums", "SHA256SUMS"])
        #expect(missing.status == 3)
        #expect(missing.err.contains("b file.txt"))
        let ignoring = try verify(["--checksums", "SHA256SUMS", "--ignore-missing"])
        #expect(ignoring.status == 0, "\(ignoring.err)")
    }

    @Test func entryNameAndUnlistedFile() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("alpha\n".utf8).write(to: dir.appendingPathComponent("renamed.txt"))
        let unlisted = try verify(["renamed.txt", "--checksums", "SHA256SUMS"])
        #expect(unlisted.status == 1)
        #expect(unlisted.err.contains("'renamed.txt' is not listed in SHA256SUMS"), "\(unlisted.err)")
        let named = try verify(["renamed.txt", "--checksums", "SHA256SUMS", "--name", "a.txt"])
        #expect(named.status == 0, "\(named.err)")
    }

    @Test func hostileListsAreRefused() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = try sha256("a.txt")
        let b = try sha256("b file.txt")
        try Data("\(a)  a.txt\n\(b)  a.txt\n".utf8).write(to: dir.appendingPathComponent("AMBIGUOUS"))
        let ambiguous = try verify(["a.txt", "--checksums", "AMBIGUOUS"])
        #expect(ambiguous.status == 1)
        #expect(ambiguous.err.contains("listed twice with different digests (lines 1 and 2)"), "\(ambiguous.err)")

        try Data("\(a)  ../a.txt\n".utf8).write(to: dir.appendingPathComponent("ESCAPE"))
        let escape = try verify(["--checksums", "ESCAPE"])
        #expect(escape.status == 1)
        #expect(escape.err.contains("ESCAPE:1"), "\(escape.err)")

        try Data("\(a)  a.txt\ngarbage here\n".utf8).write(to: dir.appendingPathComponent("MALFORMED"))
        let malformed = try verify(["a.txt", "--checksums", "MALFORMED"])
        #expect(malformed.status == 1)
        #expect(malformed.err.contains("MALFORMED:2: malformed checksum line"), "\(malformed.err)")
    }

    @Test func usageAndIOErrors() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try verify(["a.txt"]).status == 2)
        #expect(try verify(["a.txt", "--sha256", "xyz"]).status == 2)
        #expect(try verify(["a.txt", "--checksums", "NO_SUCH_LIST"]).status == 2)
        let missing = try verify(["nope.txt", "--sha256", try sha256("a.txt")])
        #expect(missing.status == 3)
        #expect(missing.err.contains("nope.txt"))
        let help = try BouncerProcess.run(["verify", "--help"])
        #expect(help.status == 0)
        #expect(help.out.contains("--checksums"))
    }
}
