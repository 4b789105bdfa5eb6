import Foundation
import Testing
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools
import BouncerTestSupport

/// Mutated archives (bit flips, truncations, spliced bytes) must never crash
/// the reader, the inspector or the extractor: each either succeeds or
/// throws an ArchiveError, and a failed unpack leaves nothing behind.
@Suite struct ArchiveFuzzTests {
    @Test(arguments: ["tree.tar", "tree-ustar.tgz", "tree.tar.xz", "tree.tar.bz2", "tree.zip", "tree.deb"])
    func mutatedArchivesNeverCrash(_ name: String) throws {
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: try ArchiveFixtures.path(name))))
        let work = try BouncerProcess.temporaryDirectory("bouncer-fuzz")
        defer { try? FileManager.default.removeItem(at: work) }
        var generator = TestRandom.generator(name)
        var outcomes = [0, 0]
        for round in 0..<120 {
            var bytes = original
            switch round % 3 {
            case 0:
                for _ in 0..<(1 + Int(generator.next() % 8)) where !bytes.isEmpty {
                    let index = Int(generator.next() % UInt64(bytes.count))
                    bytes[index] ^= UInt8(truncatingIfNeeded: 1 << (generator.next() % 8))
                }
            case 1:
                bytes = Array(bytes.prefix(Int(generator.next() % UInt64(max(bytes.count, 1)))))
            default:
                let index = Int(generator.next() % UInt64(max(bytes.count, 1)))
                let junk = (0..<16).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                bytes.replaceSubrange(index..<min(bytes.count, index + 16), with: junk)
            }
            let file = work.appendingPathComponent("m-\(name)")
            try Data(bytes).write(to: file)
            let out = work.appendingPathComponent("out").path
            do {
                _ = try ArchiveInspector.inspect(try ArchiveReader(path: file.path))
                _ = try SafeExtractor.unpack(try ArchiveReader(path: file.path), into: out)
                try FileManager.default.removeItem(atPath: out)
                outcomes[0] += 1
            } catch is ArchiveError {
                outcomes[1] += 1
            }
            let left = try FileManager.default.contentsOfDirectory(atPath: work.path)
            #expect(left == ["m-\(name)"], "round \(round) left \(left)")
        }
        print("fuzz \(name): \(outcomes[0]) accepted, \(outcomes[1]) refused")
        #expect(outcomes[1] > 0, "no mutation of \(name) was refused: the fuzzing did nothing")
    }
}

/// A small deterministic generator, so a failing round can be replayed.
