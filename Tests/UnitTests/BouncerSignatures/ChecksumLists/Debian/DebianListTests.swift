import Foundation
import Testing
import BouncerTestSupport
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools

@Suite(.blocking) struct DebianListTests {
    static let hexA = String(repeating: "a", count: 64)
    static let hexB = String(repeating: "b", count: 64)

    func parse(_ text: String, now: Date = Date(timeIntervalSince1970: 1_795_000_000)) throws -> DebianLists.Parsed {
        try DebianLists.parse(Array(text.utf8), source: "L", now: now)
    }

    @Test func releaseSection() throws {
        let parsed = try parse("Origin: Debian\nSuite: stable\nMD5Sum:\n \(String(repeating: "c", count: 32)) 10 main/x\nSHA256:\n \(Self.hexA)   10 main/binary-amd64/Packages\n \(Self.hexB) 5 main/binary-amd64/Packages.xz\n")
        #expect(parsed.kind == .release)
        #expect(parsed.list.entries(named: "main/binary-amd64/Packages.xz").first?.size == 5)
        #expect(parsed.list.entries(named: "main/binary-amd64/Packages").first?.digest.hex == Self.hexA)
    }

    @Test func packagesStanzas() throws {
        let text = "Package: a\nFilename: pool/main/a/a_1_all.deb\nSize: 3\nSHA256: \(Self.hexA)\n\nPackage: b\nFilename: pool/main/b/b_1_all.deb\nSize: 4\nSHA256: \(Self.hexB)\n"
        let parsed = try parse(text)
        #expect(parsed.kind == .packages)
        #expect(parsed.list.resolve(baseName: "b_1_all.deb") == "pool/main/b/b_1_all.deb")
        #expect(parsed.list.entries(named: "pool/main/b/b_1_all.deb").first?.size == 4)
    }

    @Test func dsc() throws {
        let parsed = try parse("Format: 3.0 (quilt)\nSource: x\nChecksums-Sha256:\n \(Self.hexA) 12 x_1.orig.tar.xz\n \(Self.hexB) 7 x_1-1.debian.tar.xz\n")
        #expect(parsed.kind == .dsc)
        #expect(parsed.list.entries.count == 2)
    }

    @Test func sourcesIndex() throws {
        let parsed = try parse("Package: x\nDirectory: pool/main/x/x\nChecksums-Sha256:\n \(Self.hexA) 900 x_1.dsc\n \(Self.hexB) 7 x_1.tar.xz\n\nPackage: y\nDirectory: pool/main/y/y\nChecksums-Sha256:\n \(Self.hexA) 12 y_2.dsc\n")
        #expect(parsed.kind == .sources)
        #expect(parsed.list.entries(named: "pool/main/x/x/x_1.dsc").first?.size == 900)
        #expect(parsed.list.resolve(baseName: "y_2.dsc") == "pool/main/y/y/y_2.dsc")
        #expect(throws: DebianListError.self) { try parse("Package: x\nDirectory: ../x\nChecksums-Sha256:\n \(Self.hexA) 1 x.dsc\n") }
        #expect(throws: DebianListError.self) { try parse("Package: x\nDirectory: pool/x\nChecksums-Sha256:\n \(Self.hexA) 1 ../x.dsc\n") }
    }

    @Test func refusals() {
        func code(_ text: String, now: Date = Date(timeIntervalSince1970: 1_795_000_000)) -> String {
            do { _ = try parse(text, now: now); return "parsed" } catch let error as DebianListError { return error.code } catch { return "\(error)" }
        }
        // The same Filename twice with different digests: ambiguous.
        let dup = "Filename: pool/a.deb\nSize: 3\nSHA256: \(Self.hexA)\n\nFilename: pool/a.deb\nSize: 3\nSHA256: \(Self.hexB)\n"
        #expect(code(dup) == "debian-malformed")
        #expect(code("Filename: pool/a.deb\nSize: 3\nSHA256: \(Self.hexA)\nSHA256: \(Self.hexB)\n") == "debian-malformed")
        #expect(code("Filename: ../etc/passwd\nSize: 3\nSHA256: \(Self.hexA)\n") == "debian-unsafe-filename")
        #expect(code("Filename: /abs.deb\nSize: 3\nSHA256: \(Self.hexA)\n") == "debian-unsafe-filename")
        #expect(code("Filename: pool/a.deb\nSize: x\nSHA256: \(Self.hexA)\n") == "debian-malformed")
        #expect(code("Filename: pool/a.deb\nSize: 3\nMD5sum: \(String(repeating: "c", count: 32))\n") == "debian-no-strong-hash")
        #expect(code("Origin: x\nMD5Sum:\n \(String(repeating: "c", count: 32)) 1 a\n") == "debian-no-strong-hash")
        #expect(code("Origin: x\nValid-Until: Sat, 01 Jan 2000 00:00:00 UTC\nSHA256:\n \(Self.hexA) 1 a\n") == "debian-expired")
        #expect(code("Origin: x\nValid-Until: Sat, 01 Jan 2000 00:00:00 +0200\nSHA256:\n \(Self.hexA) 1 a\n") == "debian-malformed")
        #expect(code("Origin: x\nSHA256:\n \(Self.hexA) 1\n") == "debian-malformed")
        #expect(code("Origin: x\nSHA256:\n \(Self.hexA) 1 a\n \(Self.hexB) 1 a\n") == "debian-malformed")
        #expect(code(" continuation first\n") == "debian-malformed")
    }

    @Test func dates() {
        #expect(DebianLists.parseDate("Sat, 01 Jan 2026 00:00:00 UTC")?.timeIntervalSince1970 == 1_767_225_600)
        #expect(DebianLists.parseDate("01 Jan 2026 00:00:00 GMT") != nil)
        #expect(DebianLists.parseDate("Sat, 01 Jan 2026 00:00:00 CET") == nil)
        #expect(DebianLists.parseDate("garbage") == nil)
    }

    @Test(arguments: [("gzip", "-c"), ("xz", "-c"), ("lz4", "-c")])
    func decompression(_ tool: (String, String)) throws {
        let program = "/usr/bin/\(tool.0)"
        guard FileManager.default.isExecutableFile(atPath: program) else { print("NOTICE: \(tool.0) absent, skipped"); return }
        let dir = try BouncerProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let plain = Array(String(repeating: "Package: x\nSize: 1\n\n", count: 2000).utf8)
        let input = dir.appendingPathComponent("Packages")
        try Data(plain).write(to: input)
        let compressed = try BouncerProcess.runProgram(program, [tool.1, input.path])
        let bytes = [UInt8](compressed.stdout)
        #expect(CompressedIndex.isCompressed(bytes))
        #expect(try CompressedIndex.decompress(bytes, source: "P") == plain)
        #expect(throws: DecompressionError.self) { try CompressedIndex.decompress(bytes, source: "P", limit: 100) }
        #expect(throws: DecompressionError.self) { try CompressedIndex.decompress(Array(bytes.prefix(bytes.count / 2)), source: "P") }
    }
}

@Suite(.blocking) struct DebianHostileTests {
    /// Random byte mutations of a Packages/Release text: a typed error or a
    /// parse, never a crash.
    @Test func mutatedIndexesNeverCrash() {
        let hex = String(repeating: "ab", count: 32)
        let seeds = [
            "Package: a\nFilename: pool/main/a/a_1_all.deb\nSize: 3\nSHA256: \(hex)\nDescription: x\n more\n\nPackage: b\nFilename: pool/b.deb\nSize: 4\nSHA256: \(hex)\n",
            "Origin: Debian\nValid-Until: Sat, 01 Jan 2050 00:00:00 UTC\nSHA256:\n \(hex) 10 main/binary-amd64/Packages\n \(hex) 5 main/binary-amd64/Packages.xz\n",
        ]
        var generator = TestRandom.generator()
        for seed in seeds {
            let bytes = Array(seed.utf8)
            for _ in 0..<500 {
                var mutated = bytes
                for _ in 0..<Int.random(in: 1...3, using: &generator) {
                    mutated[Int.random(in: 0..<mutated.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
                if Bool.random(using: &generator) { mutated = Array(mutated.prefix(Int.random(in: 0..<mutated.count, using: &generator))) }
                do {
                    let parsed = try DebianLists.parse(mutated, source: "m", now: Date(timeIntervalSince1970: 1_796_000_000))
                    #expect(!parsed.list.entries.isEmpty)
                    for entry in parsed.list.entries { #expect(DebianLists.isSafePath(entry.name)) }
                } catch {
                    #expect(!error.code.isEmpty)
                }
            }
        }
    }
}
