import Foundation
import Testing
import BouncerBase
import BouncerTestSupport

/// podman-compose (Debian's, a Python program) starts `podman` by name for
/// every pull, run and build, so with the shims first on PATH each image a
/// compose file names goes through the podman shim: verified under the
/// policy, handed to the real podman as its digest, and pinned. The real
/// podman-compose in front of the real podman, the loopback registry's
/// images signed at test time.
@Suite(.blocking, .enabled(if: LoopbackRegistry.isAvailable && FileManager.default.isExecutableFile(atPath: "/usr/bin/podman")
                                 && FileManager.default.isExecutableFile(atPath: "/usr/bin/podman-compose")
                                 && FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"),
                           "needs docker-registry, podman, podman-compose and openssl"))
struct PodmanComposeTests {
    @Test func composeUpAndPullGoThroughThePodmanShim() throws {
        let f = try ContainerShimPodmanTests.Fixture()
        let storage = try PodmanStorage()
        // Kept until the test ends (its deinit resets the storage).
        defer { withExtendedLifetime(storage) {} }
        let work = f.dir.appendingPathComponent("compose-project")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let policy = work.appendingPathComponent("policy.json").path
        try #"{"version": 1, "mode": "enforce", "unmatched": "deny", "rules": []}"#.write(toFile: policy, atomically: true, encoding: .utf8)
        // The scratch storage's options go before podman's subcommand, where podman-compose puts
        // none of its own: a podman of the test's after the shims, which the shim takes for the real one.
        let wrapper = f.dir.appendingPathComponent("storage-podman")
        try FileManager.default.createDirectory(at: wrapper, withIntermediateDirectories: true)
        let script = "#!/bin/sh\nexec /usr/bin/podman " + storage.global.joined(separator: " ") + " \"$@\"\n"
        try script.write(to: wrapper.appendingPathComponent("podman"), atomically: true, encoding: .utf8)
        _ = try ContainerShimPodmanTests.Fixture.run("/bin/chmod", ["+x", wrapper.appendingPathComponent("podman").path])
        let shims = Corpus.packageRoot.appendingPathComponent("shims").path
        let environment = ["PATH": "\(shims):\(wrapper.path):/usr/local/bin:/usr/bin:/bin", "BOUNCER_BIN": BouncerProcess.executable,
                           "BOUNCER_POLICY": policy, "BOUNCER_IMAGE_KEY": f.publicKey, "BOUNCER_IMAGE_IGNORE_TLOG": "1", "CI": ""]
        let signedDigest = try #require(f.digests["e2e/signed"])

        func compose(_ image: String, _ arguments: [String], service: String = "") throws -> ProcessResult {
            try "services:\n  app:\n    image: \(image)\n\(service)".write(to: work.appendingPathComponent("compose.yaml"), atomically: true, encoding: .utf8)
            // The loopback registry speaks plain http: podman is told so, and the shim reads it from the same option.
            return try BouncerProcess.runProgram("/usr/bin/podman-compose", ["--podman-pull-args=--tls-verify=false",
                                                                            "--podman-run-args=--tls-verify=false", "-f", "compose.yaml"] + arguments,
                                                 cwd: work.path, environment: environment)
        }

        // `pull`: the signed image is verified, pulled as its digest and pinned.
        let pulled = try compose(f.image("e2e/signed"), ["pull"])
        #expect(pulled.err.contains("e2e/signed@\(signedDigest): OK"), "\(pulled.out)\n\(pulled.err)")
        #expect(try storage.digests().contains(signedDigest), "\(pulled.out)\n\(pulled.err)")
        let lock = (try? String(contentsOf: work.appendingPathComponent("bouncer.lock"), encoding: .utf8)) ?? ""
        #expect(lock.contains("e2e/signed") && lock.contains(String(signedDigest.dropFirst(7))), "pinned in the lock: \(lock)")

        // `up -d` runs `podman run` with the options a service's settings become, podman's older
        // names among them (`--healthcheck-command`): read as podman reads them, the image verified.
        let settings = "    healthcheck:\n      test: [\"CMD\", \"true\"]\n      interval: 30s\n      retries: 3\n"
            + "    environment:\n      - A=1\n    ports:\n      - \"18080:80\"\n    working_dir: /\n    restart: \"no\"\n"
        let up = try compose(f.image("e2e/signed"), ["up", "-d"], service: settings)
        #expect(up.out.contains("--healthcheck-command"), "\(up.out)")
        #expect(up.err.contains("e2e/signed@\(signedDigest): OK"), "\(up.out)\n\(up.err)")
        #expect(!up.err.contains("cannot tell"), "\(up.err)")
        _ = try compose(f.image("e2e/signed"), ["down"])

        // `up -d` (podman run) and `pull` of an unsigned image: refused before podman pulls anything.
        for arguments in [["up", "-d"], ["pull"]] {
            let refused = try compose(f.image("e2e/unsigned"), arguments)
            #expect(refused.err.contains("REFUSED") || refused.err.contains("refused"), "\(arguments): \(refused.out)\n\(refused.err)")
            #expect(refused.err.contains("nothing was pulled"), "\(arguments): \(refused.err)")
            let unsignedDigest = try #require(f.digests["e2e/unsigned"])
            #expect(try !storage.digests().contains(unsignedDigest), "\(arguments): the unsigned image must not land")
        }

        // A service built from a Dockerfile: `podman build` through the shim, so its FROM is verified too.
        let context = work.appendingPathComponent("app")
        try FileManager.default.createDirectory(at: context, withIntermediateDirectories: true)
        try "FROM \(f.image("e2e/unsigned"))\n".write(to: context.appendingPathComponent("Dockerfile"), atomically: true, encoding: .utf8)
        try "services:\n  app:\n    image: localhost/composed:v1\n    build: ./app\n"
            .write(to: work.appendingPathComponent("compose.yaml"), atomically: true, encoding: .utf8)
        let built = try BouncerProcess.runProgram("/usr/bin/podman-compose", ["--podman-build-args=--tls-verify=false", "-f", "compose.yaml", "build"],
                                                  cwd: work.path, environment: environment)
        #expect(built.err.contains("line 1: FROM \(f.image("e2e/unsigned"))"), "\(built.out)\n\(built.err)")
        #expect(try !storage.digests().contains(try #require(f.digests["e2e/unsigned"])), "the unsigned base must not land")
    }
}
