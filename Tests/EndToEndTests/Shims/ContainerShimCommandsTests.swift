import Foundation
import Testing
import BouncerBase
import BouncerTestSupport

/// The docker shim passed any command not on its list of pullers through to
/// docker: CLI plugins and commands that pull or run images unverified
/// (`docker model pull IMAGE`, `debug IMAGE`, `compose run --build`; red team
/// round 9). A fake docker (and podman) after the shims logs each call it
/// gets: a refused form never reaches it, an ordinary one does, untouched.
@Suite(.blocking) struct ContainerShimCommandsTests {
    let root: URL
    let log: URL
    let environment: [String: String]

    init() throws {
        root = try BouncerProcess.temporaryDirectory("bouncer-container-commands")
        log = root.appendingPathComponent("log")
        let fake = root.appendingPathComponent("fake")
        try FileManager.default.createDirectory(at: fake, withIntermediateDirectories: true)
        for tool in ["docker", "podman"] {
            let script = fake.appendingPathComponent(tool)
            try "#!/bin/sh\necho \"\(tool) $*\" >> '\(log.path)'\nexit 0\n".write(to: script, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        }
        let shims = Corpus.packageRoot.appendingPathComponent("shims").path
        environment = ["PATH": "\(shims):\(fake.path):/usr/bin:/bin", "BOUNCER_BIN": BouncerProcess.executable, "HOME": root.path,
                       "BOUNCER_CACHE": root.appendingPathComponent("cache").path, "BOUNCER_POLICY": root.appendingPathComponent("policy.json").path,
                       "CI": ""]
        try "services:\n  app:\n    build: .\n    image: app:dev\n".write(to: root.appendingPathComponent("compose.yml"), atomically: true, encoding: .utf8)
    }

    func run(_ tool: String, _ arguments: [String], mode: String = "enforce") throws -> ProcessResult {
        try "{\"version\": 1, \"mode\": \"\(mode)\", \"unmatched\": \"deny\", \"rules\": []}"
            .write(toFile: environment["BOUNCER_POLICY"] ?? "", atomically: true, encoding: .utf8)
        try? FileManager.default.removeItem(at: log)
        return try BouncerProcess.runProgram(Corpus.packageRoot.appendingPathComponent("shims/\(tool)").path, arguments, cwd: root.path, environment: environment)
    }

    /// What the fake tool was handed, one call a line.
    var handed: [String] { ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }

    @Test func dockerCommandsBouncerDoesNotKnowAreRefusedAndOrdinaryOnesPassThrough() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let image = "127.0.0.1:1/evil/x:1"
        let refused: [[String]] = [
            ["model", "pull", image], ["model", "run", image], ["model", "install-runner"], ["extension", "install", image],
            ["debug", image], ["mcp", "server", "enable", "evil"], ["app", "install", image], ["scout", "cves", image], ["sbom", image],
            ["init"], ["bake"], ["--context", "default", "model", "pull", image], ["-l", "info", "debug", image],
            ["service", "rollback", "svc"], ["service", "scale", "svc=3"], ["swarm", "join", "--token", "t", "10.0.0.1:2377"],
            ["buildx", "debug", "build", "."], ["buildx", "--builder", "b", "dial-stdio"], ["buildx", "imagetools", "create", "-t", "a", "b"],
            ["builder", "imagetools", "create", "a"], ["image", "frobnicate"], ["container", "frobnicate"],
            // compose: a daemon build, a pull policy read from the service's command, one read as an option's value, unknown commands.
            ["compose", "run", "--pull", "never", "--build", "app"], ["compose", "run", "--build=true", "--pull=never", "app"],
            ["compose", "up", "--pull", "never", "--no-build", "--build"], ["compose", "create", "--build", "--pull=never", "--no-build"],
            ["compose", "run", "app", "sh", "--pull", "never"], ["compose", "up", "--no-build", "--exit-code-from", "--pull", "never"],
            ["compose", "run", "--frobnicate", "--pull", "never", "app"], ["compose", "alpha", "watch"], ["compose", "publish", "r/x:1"],
        ]
        for arguments in refused {
            let result = try run("docker", arguments)
            #expect(result.status == 2, "\(arguments): \(result.err)")
            #expect(result.err.contains("bouncer: docker: refused: "), "\(arguments): \(result.err)")
            #expect(handed.isEmpty, "\(arguments) reached docker: \(handed)")
        }
        let plugin = try run("docker", ["model", "pull", image])
        #expect(plugin.err.contains("docker model is no docker command Bouncer knows (a CLI plugin, or a newer command), so it cannot tell what it pulls or runs"), "\(plugin.err)")
        let verb = try run("docker", ["buildx", "debug", "build", "."])
        #expect(verb.err.contains("docker buildx debug is no docker command Bouncer knows to pull nothing"), "\(verb.err)")
        let build = try run("docker", ["compose", "run", "--pull", "never", "--build", "app"])
        #expect(build.err.contains("compose run --build has the daemon build the service's image"), "\(build.err)")
        // In audit mode it runs, with a warning.
        let audit = try run("docker", ["model", "pull", image], mode: "audit")
        #expect(audit.status == 0, "\(audit.err)")
        #expect(audit.err.contains("bouncer: AUDIT: docker: docker model is no docker command Bouncer knows"), "\(audit.err)")
        #expect(handed == ["docker model pull \(image)"])

        let ordinary: [[String]] = [
            ["ps"], ["images"], ["logs", "x"], ["version"], ["image", "ls"], ["image", "--help"], ["container", "ls", "-a"], ["network", "ls"],
            ["volume", "create", "v"], ["system", "df"], ["buildx", "ls"], ["buildx", "--builder", "b", "inspect"], ["buildx", "imagetools", "inspect", image],
            ["service", "ls"], ["compose", "ps"], ["compose", "run", "--pull", "never", "app", "sh", "--build"],
            ["compose", "up", "--pull", "never", "--no-build", "-d", "app"], ["compose", "up", "--no-build", "app", "--pull=never"],
        ]
        for arguments in ordinary {
            let result = try run("docker", arguments)
            #expect(result.status == 0, "\(arguments): \(result.err)")
            #expect(!result.err.contains("bouncer:"), "\(arguments): \(result.err)")
            #expect(handed == ["docker " + arguments.joined(separator: " ")], "\(arguments)")
        }
    }

    /// podman runs no plugins, and its unknown commands still pass (podman
    /// refuses them); `image scp` from another machine's or user's storage
    /// lands an image here unverified, and is refused.
    @Test func podmanImageScpFromElsewhereIsRefused() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        for arguments in [["image", "scp", "user@host::app:1"], ["image", "scp", "-q", "root@localhost::app:1", "::app:1"], ["farm", "build", "."]] {
            let result = try run("podman", arguments)
            #expect(result.status == 2, "\(arguments): \(result.err)")
            #expect(result.err.contains("bouncer: podman: refused: "), "\(arguments): \(result.err)")
            #expect(handed.isEmpty, "\(arguments) reached podman: \(handed)")
        }
        let scp = try run("podman", ["image", "scp", "user@host::app:1"])
        #expect(scp.err.contains("image scp user@host::app:1 copies an image from another machine's or user's storage into this one"), "\(scp.err)")
        for arguments in [["image", "scp", "app:1", "user@host::"], ["ps"], ["frobnicate"], ["model", "pull", "x"]] {
            let result = try run("podman", arguments)
            #expect(result.status == 0, "\(arguments): \(result.err)")
            #expect(handed == ["podman " + arguments.joined(separator: " ")], "\(arguments)")
        }
    }
}
