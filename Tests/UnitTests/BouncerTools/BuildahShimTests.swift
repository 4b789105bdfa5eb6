import Testing
@testable import BouncerTools

/// How the buildah shim finds the image of `buildah pull` and `buildah from`.
@Suite struct BuildahShimTests {
    @Test func theImageIsFoundPastBuildahsOptions() throws {
        let pull = try #require(try BuildahShim.operand(["--root", "/r", "pull", "--tls-verify=false", "-q", "r/a:1"], subcommand: 2))
        #expect(pull.index == 5)
        #expect(pull.plainHTTP)
        #expect(pull.platform == nil)
        // `--pull` reads a value only after `=`: the next word is the image.
        let from = try #require(try BuildahShim.operand(["from", "--pull", "--name", "w", "--arch", "arm64", "r/a:1"], subcommand: 0))
        #expect(from.index == 6)
        #expect(from.platform == "linux/arm64")
        #expect(!from.plainHTTP)
        #expect(try BuildahShim.operand(["from", "--platform", "linux/s390x", "r/a"], subcommand: 0)?.platform == "linux/s390x")
        #expect(try BuildahShim.operand(["pull"], subcommand: 0) == nil)
        #expect(throws: (any Error).self) { try BuildahShim.operand(["pull", "-a", "r/a"], subcommand: 0) }
        #expect(throws: (any Error).self) { try BuildahShim.operand(["from", "--frobnicate", "x", "r/a"], subcommand: 0) }
    }

    /// `add`/`copy`: options and their values, then the container and every source (red team C4:
    /// `--chown 0:0` counted as operands hid the URL, and so did a missing destination).
    @Test func addAndCopyOperandsArePastTheirOptions() throws {
        let add = try BuildahShim.addCopyOperands(["--root", "/r", "add", "--chown", "0:0", "-q", "c", "http://h/x"], subcommand: 2)
        #expect(add.operands == ["c", "http://h/x"])
        #expect(add.from == nil)
        let copy = try BuildahShim.addCopyOperands(["copy", "--from", "w1", "--retry=2", "--", "c", "/a", "/b"], subcommand: 0)
        #expect(copy.operands == ["c", "/a", "/b"])
        #expect(copy.from == "w1")
        #expect(try BuildahShim.addCopyOperands(["copy", "--from=r/a"], subcommand: 0).from == "r/a")
        #expect(throws: (any Error).self) { try BuildahShim.addCopyOperands(["add", "--frobnicate", "x", "c", "/a"], subcommand: 0) }
    }
}
