import Testing
@testable import BouncerTools

/// How the skopeo shim reads `skopeo copy` and `skopeo sync` as pflag does:
/// options anywhere, one-letter runs, a flag's value only after `=`.
@Suite struct SkopeoShimTests {
    @Test func copysOperandsAndSourceTransportAreFoundWhereverTheOptionsStand() throws {
        let words = ["copy", "--src-tls-verify=false", "docker://r/a:1", "-qa", "--format", "oci", "dir:/d", "--retry-times", "3"]
        let copy = try SkopeoShim.readCopy(words, from: 1)
        #expect(copy.operands == [2, 6])
        #expect(copy.plainHTTP)
        #expect(!copy.help)
        // A bool flag takes no next word: `--src-tls-verify false` leaves TLS on and `false` an operand.
        let spaced = try SkopeoShim.readCopy(["--src-tls-verify", "false", "docker://r/a", "dir:/d"], from: 0)
        #expect(!spaced.plainHTTP)
        #expect(spaced.operands == [1, 2, 3])
        // The last one given counts.
        #expect(try !SkopeoShim.readCopy(["--src-tls-verify=false", "--src-tls-verify", "docker://r/a", "dir:/d"], from: 0).plainHTTP)
        // `-fFORMAT` and `-f=FORMAT` keep the format out of the operands; after `--` everything is one.
        #expect(try SkopeoShim.readCopy(["-qfoci", "docker://r/a", "--", "-dir"], from: 0).operands == [1, 3])
        #expect(try SkopeoShim.readCopy(["-h"], from: 0).help)
        // An option the shim does not know: its value could be the source.
        #expect(throws: (any Error).self) { try SkopeoShim.readCopy(["--frobnicate", "docker://r/a", "dir:/d"], from: 0) }
        #expect(throws: (any Error).self) { try SkopeoShim.readCopy(["-qz", "docker://r/a"], from: 0) }
    }

    @Test func syncsSourceTransportAndTheOverriddenPlatform() throws {
        #expect(SkopeoShim.syncSource(["--src", "dir", "--dest", "dir", "a", "b"]) == "dir")
        #expect(SkopeoShim.syncSource(["-s", "dir", "--src=docker", "a", "b"]) == "docker")
        #expect(SkopeoShim.syncSource(["-sdir"]) == "dir")
        #expect(SkopeoShim.syncSource(["-as", "dir"]) == nil, "a run is read as a registry (refused), never as dir")
        #expect(SkopeoShim.syncSource(["a", "b"]) == nil)
        #expect(SkopeoShim.overriddenPlatform(["--override-arch", "arm64", "--override-variant=v8"]) == "linux/arm64/v8")
        #expect(SkopeoShim.overriddenPlatform(["--debug"]) == nil)
        // Persistent: after `copy` too.
        #expect(SkopeoShim.overriddenPlatform(["copy", "--override-arch", "arm64", "docker://r/a", "dir:/d"]) == "linux/arm64")
    }
}
