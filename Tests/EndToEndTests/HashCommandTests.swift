import Foundation
import Testing
import BouncerTestSupport

@Suite(.blocking) struct HashCommandTests {
    /// `bouncer hash` must be byte-identical to sha256sum, including escaped names.
    @Test func matchesSha256sum() throws {
        let dir = try BouncerProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var names: [String] = []
        for (index, size) in [0, 1, 4095, 4096, (1 << 20) + 1].enumerated() {
            var bytes = [UInt8](repeating: 0, count: size)
            for i in 0..<size { bytes[i] = UInt8.random(in: 0...255) }
            let name = ["plain", "with space", "new\nline", "back\\slash", "cr\rname"][index]
            try Data(bytes).write(to: dir.appendingPathComponent(name))
            names.append(name)
        }
        let ours = try BouncerProcess.run(["hash"] + names, cwd: dir.path)
        let theirs = try BouncerProcess.runProgram("/usr/bin/sha256sum", names, cwd: dir.path)
        #expect(ours.status == 0, "\(ours.err)")
        #expect(theirs.status == 0)
        #expect(ours.stdout == theirs.stdout)
        #expect(ours.out.split(separator: "\n").count >= 5)
    }

    @Test func missingFileIsAnIOError() throws {
        let result = try BouncerProcess.run(["hash", "/nonexistent/file"])
        #expect(result.status == 3)
        #expect(result.err.contains("/nonexistent/file"))
    }
}
