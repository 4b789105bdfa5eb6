import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools

struct ShimsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shims",
        abstract: "Install the curl, wget, pip, pip3 and npm shims, or check that they are in front.",
        subcommands: [Install.self, Check.self]
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

extension ShimsCommand {
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that every guarded tool on PATH is reached through a Bouncer shim (exit 1 if not).",
            discussion: """
                For each TOOL (default: curl, wget, pip, pip3, npm), the first one on PATH must be a \
                Bouncer shim. A tool that is on PATH with no shim in front of it runs unguarded: \
                that is a refusal (exit 1), so a CI job that runs `bouncer shims check` first fails \
                hard when a shim is missing or PATH puts the real tool first. A tool that is not on \
                PATH at all is reported and passes (nothing can run).
                """
        )

        @Argument(help: "The tools to check (default: all that Bouncer guards).")
        var tools: [String] = []

        @Flag(help: "Print one JSON object.")
        var json = false

        func validate() throws {
            for tool in tools where !ShimEnvironment.tools.contains(tool) {
                throw ValidationError("'\(tool)' is not a tool Bouncer guards (\(ShimEnvironment.tools.joined(separator: ", ")))")
            }
        }

        func run() throws {
            let survey = ShimCoverage.survey(tools: tools.isEmpty ? ShimEnvironment.tools : tools,
                                             variables: ProcessInfo.processInfo.environment,
                                             cwd: FileManager.default.currentDirectoryPath,
                                             bouncerExecutable: ShimDispatch.currentExecutable())
            var unguarded: [String] = []
            var rows: [[String: String]] = []
            for entry in survey {
                switch entry.status {
                case .guarded(let shim, let real):
                    rows.append(["tool": entry.tool, "status": "guarded", "shim": shim, "realTool": real ?? ""])
                    if !json { Console.output("\(entry.tool): guarded by \(shim)" + (real.map { " (real \(entry.tool): \($0))" } ?? " (no real \(entry.tool) behind it)")) }
                case .unguarded(let real):
                    unguarded.append(entry.tool)
                    rows.append(["tool": entry.tool, "status": "unguarded", "realTool": real])
                    if !json { Console.output("\(entry.tool): UNGUARDED: \(real) is first on PATH, with no Bouncer shim before it") }
                case .absent:
                    rows.append(["tool": entry.tool, "status": "absent"])
                    if !json { Console.output("\(entry.tool): not on PATH") }
                }
            }
            if json {
                let object: [String: Any] = ["verdict": unguarded.isEmpty ? "pass" : "fail", "tools": rows]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                Console.output(String(decoding: data, as: UTF8.self))
            }
            guard unguarded.isEmpty else {
                throw BouncerError(.evidence, code: "shim-missing",
                                   "\(unguarded.joined(separator: ", ")) would run unguarded",
                                   hint: "bouncer shims install DIR, then put DIR first on PATH")
            }
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
