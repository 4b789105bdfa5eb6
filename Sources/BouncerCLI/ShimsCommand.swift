import ArgumentParser
import BouncerCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct ShimsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shims",
        abstract: "Install the curl, wget, pip, pip3 and npm shims.",
        subcommands: [Install.self]
    )

    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the shims into DIR (default ~/.local/share/bouncer/shims); put DIR first on PATH.",
            discussion: """
                Each shim is a small sh script that runs this bouncer binary (or $BOUNCER_BIN) as \
                the tool. The real tool is looked up on PATH after the shim's directory. With no \
                policy.json in the working directory or above (and no BOUNCER_POLICY), a shim says \
                so once and runs the real tool unchanged.
                """
        )

        @Argument(help: "The directory to write the shims into.")
        var directory: String?

        func run() throws {
            let home = ProcessInfo.processInfo.environment["HOME"] ?? "/"
            let dir = directory ?? home + "/.local/share/bouncer/shims"
            guard let bouncer = ShimDispatch.currentExecutable() else {
                throw BouncerError.io("cannot tell where this bouncer binary is (/proc/self/exe)")
            }
            try ShimInstaller.install(into: dir, bouncer: bouncer)
            print("installed \(ShimEnvironment.tools.joined(separator: ", ")) shims in \(dir)")
            print("put it first on PATH: export PATH=\"\(dir):$PATH\"")
        }
    }
}

enum ShimInstaller {
    /// Writes every shim script atomically, mode 0755.
    static func install(into dir: String, bouncer: String) throws {
        try Filesystem.makeDirectories(dir)
        for tool in ShimEnvironment.tools {
            let path = dir + "/" + tool
            let (fd, temporary) = try Filesystem.createExclusive(in: dir, prefix: tool)
            var done = false
            defer {
                close(fd)
                if !done { unlink(temporary) }
            }
            let text = ShimScript.installed(tool: tool, bouncerPath: bouncer)
            let bytes = Array(text.utf8)
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written == bytes.count, fchmod(fd, 0o755) == 0, rename(temporary, path) == 0 else {
                throw BouncerError.io("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            done = true
        }
    }
}
