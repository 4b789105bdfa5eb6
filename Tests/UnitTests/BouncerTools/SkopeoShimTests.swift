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
        // `--help=false` is no help, and skopeo copies (red team: it passed through unverified).
        #expect(try !SkopeoShim.readCopy(["--help=false", "docker://r/a", "dir:/d"], from: 0).help)
        #expect(try SkopeoShim.readCopy(["--help=true", "docker://r/a", "dir:/d"], from: 0).help)
        // An option the shim does not know: its value could be the source.
        #expect(throws: (any Error).self) { try SkopeoShim.readCopy(["--frobnicate", "docker://r/a", "dir:/d"], from: 0) }
        #expect(throws: (any Error).self) { try SkopeoShim.readCopy(["-qz", "docker://r/a"], from: 0) }
    }

    @Test func syncsSourceTransportAndTheOverriddenPlatform() throws {
        #expect(SkopeoShim.syncSource(["--src", "dir", "--dest", "dir", "a", "b"]) == "dir")
        #expect(SkopeoShim.syncSource(["-s", "dir", "--src=docker", "a", "b"]) == "docker")
        #expect(SkopeoShim.syncSource(["-sdir"]) == "dir")
        #expect(SkopeoShim.syncSource(["-as", "dir"]) == "dir", "-a -s dir, as pflag reads it")
        // A run after a plain `--src dir` is read too (red team: `-asdocker` synced from a registry past the shim).
        #expect(SkopeoShim.syncSource(["--src", "dir", "-asdocker", "--dest", "dir", "r/evil", "./out"]) == "docker")
        #expect(SkopeoShim.syncSource(["--src", "dir", "-as", "docker", "r/evil", "./out"]) == "docker")
        // A run with a letter the shim does not know cannot be read: no `dir` (refused).
        #expect(SkopeoShim.syncSource(["--src", "dir", "-zsdir", "a", "b"]) == nil)
        #expect(SkopeoShim.syncSource(["a", "b"]) == nil)
        #expect(SkopeoShim.overriddenPlatform(["--override-arch", "arm64", "--override-variant=v8"]) == "linux/arm64/v8")
        #expect(SkopeoShim.overriddenPlatform(["--debug"]) == nil)
        // Persistent: after `copy` too.
        #expect(SkopeoShim.overriddenPlatform(["copy", "--override-arch", "arm64", "docker://r/a", "dir:/d"]) == "linux/arm64")
    }
}
