import ArgumentParser
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools

struct HashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash",
        abstract: "Print file digests, in the same format as sha256sum.",
        discussion: """
            With sha256 the output is byte-identical to `sha256sum FILE...` (names holding \
            a backslash, newline or carriage return are escaped the same way). `-` or no FILE \
            reads standard input. A file that cannot be read is reported and the rest are \
            still hashed; the exit code is then 3.
            """
    )

    enum Algorithm: String, ExpressibleByArgument, CaseIterable {
        case sha256, sha384, sha512
        var hash: HashAlgorithm { HashAlgorithm(rawValue: rawValue) ?? .sha256 }
    }

    @Option(name: .shortAndLong, help: "Digest algorithm.")
    var algorithm: Algorithm = .sha256

    @Flag(help: "Print Subresource Integrity strings (sha512-<base64>) instead of hex.")
    var sri = false

    @Argument(help: "Files to hash ('-' for standard input).")
    var files: [String] = []

    func run() throws {
        var failed = false
        for file in files.isEmpty ? ["-"] : files {
            do {
                let result = try FileHasher.hash(path: file, algorithms: [algorithm.hash])
                guard let digest = result.digests[algorithm.hash] else { continue }
                Console.output(ChecksumLine.format(digest: digest, name: file, sri: sri))
            } catch {
                Console.error("bouncer hash: \(error)")
                failed = true
            }
        }
        if failed { throw ExitCode(ErrorFamily.transport.exitCode) }
    }
}
