import Foundation
import Testing
import BouncerBase
import BouncerTestSupport
import BouncerTools

/// Issue 15, the CLI around the shims: `exec` help and exit codes, `shims
/// install` that never overwrites another program, `shims uninstall`.
@Suite(.blocking) struct GateHoleCLITests {
    let root: URL

    init() throws { root = try BouncerProcess.temporaryDirectory("bouncer-gate-cli") }

    var environment: [String: String] { ["BOUNCER_CACHE": root.appendingPathComponent("cache").path, "HOME": root.path, "CI": ""] }

    @Test func execHelpPrintsHelp() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        for flag in ["--help", "-h"] {
            let result = try BouncerProcess.run(["exec", flag], cwd: root.path, environment: environment)
            #expect(result.status == 0, "\(flag): \(result.err)")
            #expect(result.out.contains("USAGE: bouncer exec"), "\(flag): \(result.out)")
            #expect(!result.err.contains("cannot run"), "\(result.err)")
        }
    }

    /// The docker shim in front of the real docker CLI: `docker compose up`
    /// (the daemon would pull and build the images itself) is refused in
    /// enforce mode before docker starts, and passed through, with a warning,
    /// in audit mode; told to use only images present, it goes to docker.
    @Test(.enabled(if: SearchPath.firstExecutable("docker", environment: ["PATH": "/usr/local/bin:/usr/bin:/bin"]) != nil, "needs the docker CLI"))
    func dockerComposeThatWouldPullIsRefusedInEnforceMode() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let shims = Corpus.packageRoot.appendingPathComponent("shims").path
        let policy = root.appendingPathComponent("policy.json")
        var env = environment
        env["PATH"] = "\(shims):/usr/local/bin:/usr/bin:/bin"
        env["BOUNCER_BIN"] = BouncerProcess.executable
        func docker(_ arguments: [String], mode: String) throws -> ProcessResult {
            try "{\"version\": 1, \"mode\": \"\(mode)\", \"unmatched\": \"deny\", \"rules\": []}".write(to: policy, atomically: true, encoding: .utf8)
            return try BouncerProcess.runProgram(shims + "/docker", arguments, cwd: root.path, environment: env)
        }
        let refused = try docker(["compose", "-f", "compose.yaml", "up", "-d"], mode: "enforce")
        #expect(refused.status == 2, "\(refused.err)")
        #expect(refused.err.contains("refused: compose up has the daemon pull and build"), "\(refused.err)")
        #expect(refused.err.split(separator: "\n").count == 1, "docker did not start: \(refused.err)")
        let audit = try docker(["compose", "-f", "compose.yaml", "up", "-d"], mode: "audit")
        #expect(audit.err.contains("AUDIT: docker: compose up has the daemon pull"), "\(audit.err)")
        let present = try docker(["compose", "-f", "compose.yaml", "up", "-d", "--pull", "never", "--no-build"], mode: "enforce")
        #expect(!present.err.contains("bouncer:"), "handed to docker untouched: \(present.err)")
    }

    @Test func execOfAMissingCommandExits127() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let result = try BouncerProcess.run(["exec", "--", "no-such-command-\(UUID().uuidString)"], cwd: root.path, environment: environment)
        #expect(result.status == 127, "\(result.err)")
        #expect(result.err.contains("cannot run no-such-command-"), "\(result.err)")
        // The shell gives the same status for the same command (the reference).
        let shell = try BouncerProcess.runProgram("/bin/sh", ["-c", "no-such-command-x"], cwd: root.path)
        #expect(shell.status == result.status)
    }

    /// Under a policy exec runs its command beside a proxy of its own: the
    /// command's status and the shell's 127/126 still come through, a policy
    /// that does not load stops it before anything runs (exit 2), and the
    /// proxy ends with exec, even when exec is killed outright.
    @Test func execUnderAPolicyKeepsItsStatusesAndItsProxyEndsWithIt() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let policy = root.appendingPathComponent("policy.json")
        try #"{"version": 1, "mode": "enforce", "rules": []}"#.write(to: policy, atomically: true, encoding: .utf8)
        var env = environment
        env["BOUNCER_POLICY"] = policy.path
        let status = try BouncerProcess.run(["exec", "--", "sh", "-c", "test -n \"$BOUNCER_EXEC_PROXY\" && exit 7"], cwd: root.path, environment: env)
        #expect(status.status == 7, "\(status.err)")
        let missing = try BouncerProcess.run(["exec", "--", "no-such-command-\(UUID().uuidString)"], cwd: root.path, environment: env)
        #expect(missing.status == 127 && missing.err.contains("cannot run no-such-command-"), "\(missing.err)")
        try "#!/bin/sh\n".write(to: root.appendingPathComponent("not-executable"), atomically: true, encoding: .utf8)
        let denied = try BouncerProcess.run(["exec", "--", "./not-executable"], cwd: root.path, environment: env)
        #expect(denied.status == 126, "\(denied.err)")
        try "{".write(to: policy, atomically: true, encoding: .utf8)
        let broken = try BouncerProcess.run(["exec", "--", "sh", "-c", "echo ran"], cwd: root.path, environment: env)
        #expect(broken.status == 2 && !broken.out.contains("ran"), "\(broken.out) \(broken.err)")
        #expect(broken.err.contains("policy.json"), "\(broken.err)")

        // Killed outright (SIGKILL: nothing of exec's runs), its proxy does not serve on, orphaned.
        try #"{"version": 1, "mode": "enforce", "rules": []}"#.write(to: policy, atomically: true, encoding: .utf8)
        let pidFile = root.appendingPathComponent("proxy.pid").path
        // The command reports the proxy's pid (the process listening at BOUNCER_EXEC_PROXY's port: exec's other child).
        let commandFile = root.appendingPathComponent("command.pid").path
        let script = "echo $$ > \(commandFile); ps -o pid=,comm= --ppid $PPID | awk '$2 == \"bouncer-serve\" { print $1 }' > \(pidFile); exec sleep 60"
        let exec = try BouncerProcess.start(["exec", "--", "sh", "-c", script], cwd: root.path, environment: env)
        var proxyPID: Int32? = nil
        for _ in 0..<100 where proxyPID == nil {
            proxyPID = (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            if proxyPID == nil { usleep(100_000) }
        }
        let pid = try #require(proxyPID, "the command saw exec's proxy")
        #expect(kill(pid, 0) == 0, "the proxy runs while exec does")
        kill(exec.processIdentifier, SIGKILL)
        var ended = false
        // (A bounded wait for the proxy's end, not a timing: it has 5 s to finish transfers in flight.)
        for _ in 0..<300 where !ended {
            ended = kill(pid, 0) != 0 || (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?.contains(") Z ") == true
            if !ended { usleep(100_000) }
        }
        #expect(ended, "the proxy \(pid) still runs after exec was killed: \((try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? "")")
        kill(pid, SIGKILL)
        // The command itself is left as any killed parent's child is; end it here.
        if let command = (try? String(contentsOfFile: commandFile, encoding: .utf8)).flatMap({ Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) {
            kill(command, SIGKILL)
        }
        _ = try? exec.wait()
    }

    @Test func shimsInstallNeverOverwritesAnotherProgram() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let dir = root.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let mine = Data("#!/bin/sh\necho my own curl\n".utf8)
        try mine.write(to: dir.appendingPathComponent("curl"))
        let refused = try BouncerProcess.run(["shims", "install", "bin"], cwd: root.path, environment: environment)
        #expect(refused.status == 2, "\(refused.err)")
        #expect(refused.err.contains("\(dir.path)/curl exists and is not a Bouncer shim"), "\(refused.err)")
        #expect(try Data(contentsOf: dir.appendingPathComponent("curl")) == mine)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["curl"], "nothing else was written")

        // A relative DIR: the PATH advice is absolute; installing again over shims is fine.
        let other = root.appendingPathComponent("shimdir")
        for _ in 0..<2 {
            let installed = try BouncerProcess.run(["shims", "install", "shimdir"], cwd: root.path, environment: environment)
            #expect(installed.status == 0, "\(installed.err)")
            #expect(installed.out.contains("export PATH=\"\(other.path):$PATH\""), "\(installed.out)")
        }
        // The fixed names, and a shim for each versioned Python and pip on PATH (python3.11, pip3.11, python2, pip2.7).
        let written = try FileManager.default.contentsOfDirectory(atPath: other.path).sorted()
        let versioned = written.filter { ShimEnvironment.versionedFamily($0) != nil }
        #expect(written.filter { !versioned.contains($0) } == ["buildah", "curl", "docker", "npm", "npx", "pip", "pip3", "pipx", "podman", "python", "python3", "skopeo", "uv", "uvx", "wget", "yarn", "yarnpkg"])
        for name in versioned {
            #expect(SearchPath.firstExecutable(name, environment: ProcessInfo.processInfo.environment) != nil, "\(name) is on PATH")
        }
    }

    @Test func shimsUninstallRemovesOnlyShims() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let dir = root.appendingPathComponent("shimdir")
        let installed = try BouncerProcess.run(["shims", "install", dir.path], cwd: root.path, environment: environment)
        #expect(installed.status == 0, "\(installed.err)")
        // Someone replaced one shim with their own program: it stays.
        let mine = Data("#!/bin/sh\necho my own npm\n".utf8)
        try FileManager.default.removeItem(at: dir.appendingPathComponent("npm"))
        try mine.write(to: dir.appendingPathComponent("npm"))
        try Data("notes".utf8).write(to: dir.appendingPathComponent("README"))
        let removed = try BouncerProcess.run(["shims", "uninstall", dir.path], cwd: root.path, environment: environment)
        #expect(removed.status == 0, "\(removed.err)")
        #expect(removed.err.contains("\(dir.path)/npm is not a Bouncer shim; left in place"), "\(removed.err)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["README", "npm"])
        #expect(try Data(contentsOf: dir.appendingPathComponent("npm")) == mine)
        let help = try BouncerProcess.run(["shims", "--help"], cwd: root.path, environment: environment)
        #expect(help.out.contains("uninstall"), "\(help.out)")
    }
}
