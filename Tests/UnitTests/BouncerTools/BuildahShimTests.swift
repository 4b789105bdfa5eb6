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
}
