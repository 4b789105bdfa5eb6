import Testing
@testable import BouncerTools

/// Where the docker / podman shims find the image: past the global options
/// (each known as a flag or as taking the next word), the subcommand, and
/// its options.
@Suite struct ContainerArgumentsTests {
    @Test func theImageIsFoundPastGlobalOptionsWithValues() throws {
        for arguments in [["--tlscacert", "/ca.pem", "--tlsverify", "pull", "img"], ["--namespace", "ns", "pull", "img"],
                          ["-D", "--log-level", "debug", "--config=/c", "pull", "img"], ["--root", "/r", "image", "pull", "img"],
                          ["--remote", "--url", "unix:/s", "run", "--rm", "-e", "A=1", "img", "sh"]] {
            let call = try ContainerShim.locate(arguments)
            #expect(call.map { arguments[$0.imageIndex] } == "img", "\(arguments)")
        }
        #expect(try ContainerShim.locate(["--version"]) == nil)
        #expect(try ContainerShim.locate(["--host", "tcp://h:2375", "images"]) == nil)
    }

    /// A global option the shim does not know: taken for a flag, its value
    /// would be taken for the subcommand (`--tlscacert FILE pull IMAGE` was
    /// no pull), and the pull passed through unverified. Refused instead.
    @Test func anUnknownGlobalOptionIsRefusedRatherThanGuessed() {
        #expect(throws: (any Error).self) { try ContainerShim.locate(["--frobnicate", "/x", "pull", "img"]) }
        #expect(throws: (any Error).self) { try ContainerShim.locate(["-cmyctx", "pull", "img"]) }
    }
}
