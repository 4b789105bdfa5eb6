import ArgumentParser
import FoundationEssentials
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
        abstract: "Install, check or uninstall the curl, wget, pip, pip3, pipx, npm, npx, docker, podman, skopeo, buildah, python, python3, uv, uvx, yarn and yarnpkg shims (and the versioned pythons and pips found on PATH: python3.N, pip3.N, python2, python3.Nm).",
        subcommands: [Install.self, Check.self, Uninstall.self]
    )

    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the shims into DIR (default ~/.local/share/bouncer/shims); put DIR first on PATH.",
            discussion: """
                Each shim is a small sh script that runs this bouncer binary (or $BOUNCER_BIN) as \
                the tool. The real tool is looked up on PATH after the shim's directory. With no \
                policy.json in the working directory or above (and no BOUNCER_POLICY), a shim says \
                so once and runs the real tool unchanged. The python and python3 shims start \
                Bouncer only for `-m pip` (read as Python reads its options: `-Im pip`, \
                `-W ignore -m pip`); the interpreter started any other way is the real one, at \
                once and silently, whatever the policy.

                A file in DIR named like a tool that is not a Bouncer shim (no '# bouncer-shim:' \
                line) is never overwritten: install refuses (exit 2) and writes nothing. The PATH \
                line printed names DIR as an absolute path. `bouncer shims uninstall DIR` removes \
                the shims again.

                Versioned names on PATH (python3.12, pip3.12, python3.13t) get shims of their own, \
                written for those found when this runs (and a versioned shim whose Python is gone \
                is removed): install again after adding a Python (`bouncer shims check` reports \
                one without a shim as UNGUARDED).
                """
        )

        @Argument(help: "The directory to write the shims into.")
        var directory: String?

        func run() throws {
            let dir = ShimInstaller.absoluteDirectory(directory)
            guard let bouncer = ShimDispatch.currentExecutable() else {
                throw BouncerError.io("cannot tell where this bouncer binary is (/proc/self/exe)")
            }
            let names = try ShimInstaller.install(into: dir, bouncer: bouncer)
            Console.output("installed \(names.joined(separator: ", ")) shims in \(dir)")
            Console.output("put it first on PATH: export PATH=\"\(dir):$PATH\"")
        }
    }
}

extension ShimsCommand {
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that every guarded tool on PATH is reached through a Bouncer shim (exit 1 if not).",
            discussion: """
                For each TOOL (default: every tool Bouncer guards, and each versioned Python or pip \
                on PATH: python3.N, pip3.N, python2, python3.Nm), the first one on PATH must be a \
                Bouncer shim. A tool that is on PATH with no shim in front of it runs unguarded: \
                that is a refusal (exit 1), so a CI job that runs `bouncer shims check` first fails \
                hard when a shim is missing or PATH puts the real tool first. A tool that is not on \
                PATH at all is reported and passes (nothing can run). It also says whether pip's, \
                uv's and npm's configured index or registry is a running `bouncer serve` \
                (BASE/pypi/simple/, BASE/npm/), through which every client is guarded whatever its \
                name, and, for a client pointed at one, what else it takes packages from itself \
                (pip's extra indexes and find-links, uv's from its environment and configuration \
                files, npm's scope registries), which no proxy sees; those lines do not change the \
                exit status.
                """
        )

        @Argument(help: "The tools to check (default: all that Bouncer guards).")
        var tools: [String] = []

        @Flag(help: "Print one JSON object.")
        var json = false

        func validate() throws {
            for tool in tools where !ShimEnvironment.isGuarded(tool) {
                throw ValidationError("'\(tool)' is not a tool Bouncer guards (\(ShimEnvironment.tools.joined(separator: ", ")))")
            }
        }

        func run() throws {
            let variables = ProcessInfo.processInfo.environment
            let everyTool = ShimEnvironment.tools + ShimEnvironment.versionedNames(onPath: variables, cwd: FileManager.default.currentDirectoryPath)
            let survey = ShimCoverage.survey(tools: tools.isEmpty ? everyTool : tools,
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
            // Clients pointed at a running bouncer serve are guarded whatever their name (informational).
            var proxies: [[String: String]] = []
            for client in ProxyCoverage.survey(variables: ProcessInfo.processInfo.environment, cwd: FileManager.default.currentDirectoryPath) {
                let configured = client.configured.map { Redaction.url($0) }
                let direct = client.direct.map { Redaction.url($0) }
                proxies.append(["tool": client.tool, "configured": configured ?? "", "proxy": client.proxy ?? "",
                                "direct": direct.joined(separator: " ")])
                guard !json else { continue }
                if let proxy = client.proxy {
                    Console.output("\(client.tool) index: \(configured ?? "") (a running bouncer serve at \(proxy): every client using it is guarded)")
                } else if let configured {
                    Console.output("\(client.tool) index: \(configured) (not a running bouncer serve)")
                } else {
                    Console.output("\(client.tool) index: its built-in default (not a bouncer serve)")
                }
                // What the tool takes beside the proxy's index goes around it (through a shim, its own
                // proxy takes those too; without one, nothing is guarded anyway).
                if client.proxy != nil && !direct.isEmpty {
                    Console.output("\(client.tool) also takes packages from \(direct.joined(separator: ", ")) itself, NOT through bouncer serve: those are not guarded")
                    if client.tool == "pip" {
                        // A proxy started without --pypi-upstream serves what pip's configuration names.
                        Console.output("  (a bouncer serve started with no --pypi-upstream serves them too: start it first, then run pip with PIP_CONFIG_FILE=/dev/null and without PIP_EXTRA_INDEX_URL or PIP_FIND_LINKS)")
                    } else if client.tool == "npm" {
                        // Scope registries: served by the proxy for that scope once npm is pointed there.
                        Console.output("  (a bouncer serve started with no --npm-upstream serves them too, or give it --npm-scope-upstream @SCOPE=URL: start it first, then point each scope at it, e.g. env 'npm_config_@SCOPE:registry=\(client.proxy ?? "BASE")/npm/' npm ci)")
                    }
                }
            }
            if json {
                // Paths stay readable (no "\/"), as in every other --json output.
                func table(_ rows: [[String: String]]) -> JSON { .array(rows.map { .object($0.mapValues(JSON.string)) }) }
                let object = JSON.object(["verdict": .string(unguarded.isEmpty ? "pass" : "fail"), "tools": table(rows), "indexes": table(proxies)])
                Console.output(String(decoding: object.serialized(), as: UTF8.self))
            }
            guard unguarded.isEmpty else {
                throw BouncerError(.evidence, code: "shim-missing",
                                   "\(unguarded.joined(separator: ", ")) would run unguarded",
                                   hint: "bouncer shims install DIR, then put DIR first on PATH")
            }
        }
    }
}

extension ShimsCommand {
    struct Uninstall: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove the Bouncer shims from DIR (default ~/.local/share/bouncer/shims).",
            discussion: """
                Only files that are Bouncer shims (their '# bouncer-shim:' line) are removed; \
                anything else named like a tool is left alone and reported. Remove DIR from PATH \
                yourself.
                """
        )

        @Argument(help: "The directory the shims were installed into.")
        var directory: String?

        func run() throws {
            let dir = ShimInstaller.absoluteDirectory(directory)
            var removed: [String] = []
            for tool in ShimEnvironment.tools + ShimInstaller.versionedFiles(in: dir) {
                let path = dir + "/" + tool
                var info = stat()
                guard lstat(path, &info) == 0 else { continue }
                guard ShimScript.isShim(atPath: path), (info.st_mode & S_IFMT) == S_IFREG else {
                    Console.error("bouncer: \(path) is not a Bouncer shim; left in place")
                    continue
                }
                guard unlink(path) == 0 else {
                    throw BouncerError.io("cannot remove \(path): \(String(cString: strerror(errno)))")
                }
                removed.append(tool)
            }
            Console.output(removed.isEmpty ? "no Bouncer shims in \(dir)" : "removed the \(removed.joined(separator: ", ")) shims from \(dir)")
        }
    }
}

enum ShimInstaller {
    /// DIR made absolute (default ~/.local/share/bouncer/shims): a relative PATH
    /// entry would follow the working directory.
    static func absoluteDirectory(_ directory: String?) -> String {
        let home = ProcessInfo.processInfo.environment["HOME"] ?? "/"
        let dir = directory ?? home + "/.local/share/bouncer/shims"
        let absolute = dir.hasPrefix("/") ? dir : FileManager.default.currentDirectoryPath + "/" + dir
        return URL(fileURLWithPath: absolute).standardizedFileURL.path
    }

    /// Writes every shim script atomically, mode 0755, for each tool and each
    /// versioned Python or pip on PATH; refuses, before writing any, when a
    /// file there is not a Bouncer shim (it may be the real tool). Returns the names written.
    @discardableResult
    static func install(into dir: String, bouncer: String) throws -> [String] {
        try Filesystem.makeDirectories(dir)
        let names = ShimEnvironment.tools + ShimEnvironment.versionedNames(onPath: ProcessInfo.processInfo.environment,
                                                                           cwd: FileManager.default.currentDirectoryPath, excluding: dir)
        for tool in names {
            let path = dir + "/" + tool
            var info = stat()
            if lstat(path, &info) == 0, (info.st_mode & S_IFMT) != S_IFREG || !ShimScript.isShim(atPath: path) {
                throw BouncerError(.configuration, code: "shim-overwrite",
                                   "\(path) exists and is not a Bouncer shim (no '# \(ShimEnvironment.shimMarker):' line); refusing to overwrite it, nothing was written",
                                   hint: "move it away, or install the shims into another directory")
            }
        }
        for tool in names {
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
        // A versioned shim whose Python is gone from PATH would make `command -v python3.N` find it.
        for stale in versionedFiles(in: dir) where !names.contains(stale) && ShimScript.isShim(atPath: dir + "/" + stale) {
            unlink(dir + "/" + stale)
        }
        return names
    }

    /// The files in `dir` named like a versioned Python or pip (shims or not: the callers check).
    static func versionedFiles(in dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { ShimEnvironment.versionedFamily($0) != nil }.sorted()
    }
}
