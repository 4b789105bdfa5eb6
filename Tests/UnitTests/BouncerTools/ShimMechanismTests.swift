import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools
import BouncerTestSupport

@Suite final class ShimMechanismTests {
    let root: String

    init() throws {
        root = try BouncerProcess.temporaryDirectory("bouncer-mechanism").path
    }

    // One folder per test, removed when the test is done with it.
    deinit { try? FileManager.default.removeItem(atPath: root) }

    func executable(_ path: String, _ text: String) throws {
        try FileManager.default.createDirectory(atPath: Filesystem.split(path).directory, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
    }

    func environment(path: [String], shim: String?) -> ShimEnvironment {
        ShimEnvironment(tool: "curl", shimPath: shim, cwd: root, variables: ["PATH": path.joined(separator: ":")])
    }

    @Test func realToolIsAfterTheShimDirectoryAndNeverAShim() throws {
        try executable(root + "/early/curl", "#!/bin/sh\necho early\n")
        try executable(root + "/shims/curl", ShimScript.repository(tool: "curl"))
        try executable(root + "/other-shims/curl", ShimScript.installed(tool: "curl", bouncerPath: "/x/bouncer"))
        try executable(root + "/real/curl", "#!/tmp/bouncer-shim-venv/bin/python3\n# not a shim, though its interpreter path says bouncer-shim\n")
        let env = environment(path: [root + "/early", root + "/shims", root + "/other-shims", root + "/real"], shim: root + "/shims/curl")
        #expect(try RealToolLocator.locate(env, bouncerExecutable: nil) == root + "/real/curl")
    }

    @Test func onlyShimsAfterTheShimIsALoop() throws {
        try executable(root + "/shims/curl", ShimScript.repository(tool: "curl"))
        try executable(root + "/again/curl", ShimScript.repository(tool: "curl"))
        let env = environment(path: [root + "/shims", root + "/again"], shim: root + "/shims/curl")
        #expect(throws: RealToolLocator.NotFound.self) { try RealToolLocator.locate(env, bouncerExecutable: nil) }
        do {
            _ = try RealToolLocator.locate(env, bouncerExecutable: nil)
        } catch {
            #expect(error.code == "shim-loop")
            #expect(error.description.contains(root + "/again/curl"))
        }
        // A symlink to the running bouncer binary is a shim too.
        try executable(root + "/bin/bouncer", "#!/bin/sh\n")
        try FileManager.default.createDirectory(atPath: root + "/links", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/links/curl", withDestinationPath: root + "/bin/bouncer")
        let linked = environment(path: [root + "/links"], shim: nil)
        #expect(throws: RealToolLocator.NotFound.self) { try RealToolLocator.locate(linked, bouncerExecutable: root + "/bin/bouncer") }
    }

    @Test func policyIsTheNearestAbove() throws {
        try FileManager.default.createDirectory(atPath: root + "/a/b/c", withIntermediateDirectories: true)
        try #"{"version": 1, "rules": []}"#.write(toFile: root + "/a/policy.json", atomically: true, encoding: .utf8)
        var skipped: [String] = []
        #expect(PolicyLocator.find(environment: [:], cwd: root + "/a/b/c", skipped: { skipped.append($0) }) == root + "/a/policy.json")
        #expect(PolicyLocator.find(environment: ["BOUNCER_POLICY": "/elsewhere.json"], cwd: root + "/a/b/c") == "/elsewhere.json")
        #expect(PolicyLocator.find(environment: [:], cwd: root, skipped: { _ in }).map { !$0.hasPrefix(root) } ?? true)
        #expect(skipped.isEmpty)
        // Another tool's policy.json on the way up is skipped, said, and the search goes on.
        try #"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]}"#
            .write(toFile: root + "/a/b/policy.json", atomically: true, encoding: .utf8)
        #expect(PolicyLocator.find(environment: [:], cwd: root + "/a/b/c", skipped: { skipped.append($0) }) == root + "/a/policy.json")
        #expect(skipped == [root + "/a/b/policy.json"])
        // Not JSON at all: it may be a broken Bouncer policy, so it is taken (and refused when loaded), never skipped.
        try "{\"version\": 1, \"rules\": [".write(toFile: root + "/a/b/policy.json", atomically: true, encoding: .utf8)
        #expect(PolicyLocator.find(environment: [:], cwd: root + "/a/b/c", skipped: { _ in }) == root + "/a/b/policy.json")
        // JSON but no object (an emptied policy: `[]`, `null`, a string) is taken too, not skipped: skipping it turned the guard off.
        for text in ["[]", "null", "\"x\"", "1"] {
            try text.write(toFile: root + "/a/b/policy.json", atomically: true, encoding: .utf8)
            #expect(PolicyLocator.find(environment: [:], cwd: root + "/a/b/c", skipped: { _ in }) == root + "/a/b/policy.json", "\(text)")
        }
    }

    /// The versioned names a shim is written for: every Python and pip a
    /// `-m pip` or an install can be run through (python2, 3.7m, 3.13t too).
    @Test func versionedPythonsAndPipsAreGuarded() {
        for (name, family) in [("python3.11", "python3"), ("python3.13t", "python3"), ("python3.7m", "python3"), ("python2", "python3"),
                               ("python2.7", "python3"), ("pip3.12", "pip3"), ("pip2", "pip3"), ("pip2.7", "pip3")] {
            #expect(ShimEnvironment.versionedFamily(name) == family, "\(name)")
            #expect(ShimEnvironment.isGuarded(name), "\(name)")
        }
        for name in ["python3", "pip3", "python3.11-config", "python3.x", "python30", "pip2x", "python3.1234", "python2.7-dbg"] {
            #expect(ShimEnvironment.versionedFamily(name) == nil, "\(name)")
        }
        #expect(ShimEnvironment.isInterpreter("python2.7") && !ShimEnvironment.isInterpreter("pip2"))
    }

    /// The files in shims/ are the scripts the code describes (and carry the marker the lookup relies on).
    /// After changing ShimScript: BOUNCER_REGENERATE_SHIMS=1 swift test --filter repositoryShimsMatchTheTemplate
    @Test func repositoryShimsMatchTheTemplate() throws {
        for tool in ShimEnvironment.tools {
            let path = Corpus.packageRoot.appendingPathComponent("shims/\(tool)").path
            if ProcessInfo.processInfo.environment["BOUNCER_REGENERATE_SHIMS"] != nil {
                try ShimScript.repository(tool: tool).write(toFile: path, atomically: true, encoding: .utf8)
                chmod(path, 0o755)
            }
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(text == ShimScript.repository(tool: tool), "shims/\(tool) differs from ShimScript.repository")
            #expect(FileManager.default.isExecutableFile(atPath: path))
            #expect(RealToolLocator.isShimScript(path))
        }
    }
}

@Suite struct ShimLoopTests {
    @Test func sameProcessBackAtTheShimIsALoop() {
        var env = ShimEnvironment(tool: "curl", shimPath: "/s/curl", cwd: "/", variables: [:])
        #expect(env.loopedThrough(pid: 42) == nil)
        env.variables = HandOver.environment([:], realTool: "/w/curl")
        #expect(env.loopedThrough(pid: getpid()) == "/w/curl")
        // A tool started by the real tool (another process) is a legitimate nested call.
        #expect(env.loopedThrough(pid: getpid() + 1) == nil)
        env.variables[ShimEnvironment.depthVariable] = String(ShimEnvironment.maximumDepth)
        #expect(env.loopedThrough(pid: getpid() + 1) == "/w/curl")
    }
}
