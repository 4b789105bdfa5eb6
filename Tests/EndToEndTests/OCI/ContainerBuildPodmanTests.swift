import Foundation
import Testing
import BouncerBase
import BouncerTestSupport

/// `podman build` pulls every image its Dockerfile names itself, past the
/// pull shim. Behind the shim each is verified under the policy (the
/// loopback registry's images, signed at test time with a key), and the real
/// podman builds from a copy whose references are the verified digests: an
/// unsigned image named by any route (FROM through a build argument, COPY
/// --from, a mount, podman's --from, a Dockerfile on standard input) is
/// refused and never lands in the storage.
@Suite(.blocking, .enabled(if: LoopbackRegistry.isAvailable && FileManager.default.isExecutableFile(atPath: "/usr/bin/podman")
                                 && FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"),
                           "needs docker-registry, podman and openssl"))
struct ContainerBuildPodmanTests {
    static let podman = "/usr/bin/podman"
    static let shims = Corpus.packageRoot.appendingPathComponent("shims").path

    /// A signed-images registry, a private podman storage, a project with a
    /// build context holding local.txt, and the shims' environment under a
    /// policy that verifies images with the fixture's key.
    static func setUp() throws -> (ContainerShimPodmanTests.Fixture, PodmanStorage, URL, URL, [String: String]) {
        let f = try ContainerShimPodmanTests.Fixture()
        let storage = try PodmanStorage()
        let work = f.dir.appendingPathComponent("project")
        let context = work.appendingPathComponent("ctx")
        try FileManager.default.createDirectory(at: context, withIntermediateDirectories: true)
        try "local".write(to: context.appendingPathComponent("local.txt"), atomically: true, encoding: .utf8)
        let policy = work.appendingPathComponent("policy.json").path
        try #"{"version": 1, "mode": "enforce", "unmatched": "deny", "rules": []}"#.write(toFile: policy, atomically: true, encoding: .utf8)
        let environment = ["PATH": "\(shims):/usr/local/bin:/usr/bin:/bin", "BOUNCER_BIN": BouncerProcess.executable,
                           "BOUNCER_POLICY": policy, "BOUNCER_IMAGE_KEY": f.publicKey, "BOUNCER_IMAGE_IGNORE_TLOG": "1", "CI": ""]
        return (f, storage, work, context, environment)
    }

    @Test func aBuildPullsOnlyVerifiedDigestsByEveryRoute() throws {
        let (f, storage, work, context, environment) = try Self.setUp()
        // Kept until the test ends (its deinit resets the storage).
        defer { withExtendedLifetime(storage) {} }
        let global = storage.global
        let shims = Self.shims
        let signed = f.image("e2e/signed")
        let unsigned = f.image("e2e/unsigned")
        let signedDigest = try #require(f.digests["e2e/signed"])

        func build(_ dockerfile: String, _ extra: [String] = [], stdin: String? = nil) throws -> ProcessResult {
            let file = context.appendingPathComponent("Dockerfile")
            try dockerfile.write(to: file, atomically: true, encoding: .utf8)
            return try BouncerProcess.runProgram(shims + "/podman", global + ["build", "--tls-verify=false"] + extra + [context.path],
                                                 cwd: work.path, environment: environment, stdin: stdin.map { Data($0.utf8) })
        }
        /// The digests of the registry's images in the storage (built images have digests of their own).
        func storedDigests() throws -> Set<String> {
            let list = try BouncerProcess.runProgram(Self.podman, global + ["images", "--digests", "--format", "{{.Repository}} {{.Digest}}"])
            return Set(list.out.split(whereSeparator: \.isNewline).filter { $0.hasPrefix(f.registry.host + "/") }
                .compactMap { $0.split(separator: " ").last.map(String.init) })
        }
        func builtTags() throws -> Set<String> {
            let list = try BouncerProcess.runProgram(Self.podman, global + ["images", "--format", "{{.Repository}}:{{.Tag}}"])
            return Set(list.out.split(whereSeparator: \.isNewline).map(String.init).filter { $0.hasPrefix("localhost/") })
        }

        // A genuine build: the base named through a build argument and a stage, copied from by name.
        let genuine = """
            ARG BASE=\(unsigned)
            FROM ${BASE} AS base
            FROM scratch
            COPY --from=base /hello.txt /from-base.txt
            COPY local.txt /local.txt

            """
        let built = try build(genuine, ["--build-arg", "BASE=\(signed)", "-t", "e2e-build:v1"])
        #expect(built.status == 0, "\(built.err)")
        // The builder was handed the verified digest, not the tag.
        let pinned = "\(f.registry.host)/e2e/signed@\(signedDigest)"
        #expect(built.out.contains("FROM \(pinned) AS base"), "\(built.out)")
        #expect(built.err.contains("line 2: FROM \(signed)"), "\(built.err)")
        #expect(try storedDigests() == [signedDigest])
        #expect(try builtTags() == ["localhost/e2e-build:v1"])
        let lock = (try? String(contentsOf: work.appendingPathComponent("bouncer.lock"), encoding: .utf8)) ?? ""
        #expect(lock.contains("e2e/signed") && lock.contains(String(signedDigest.dropFirst(7))), "pinned in the lock: \(lock)")
        // The user's Dockerfile is left as written.
        #expect((try? String(contentsOf: context.appendingPathComponent("Dockerfile"), encoding: .utf8)) == genuine)

        // Every route to the unsigned image: refused, nothing built, nothing of it pulled.
        let refusals: [(String, String, [String], String?)] = [
            ("the default build argument", genuine, ["-t", "e2e-build:r1"], nil),
            ("COPY --from", "FROM \(signed)\nCOPY --from=\(unsigned) /hello.txt /x\n", ["-t", "e2e-build:r2"], nil),
            ("RUN --mount from", "FROM \(signed)\nRUN --mount=type=bind,from=\(unsigned),target=/m true\n", ["-t", "e2e-build:r3"], nil),
            ("podman --from", "FROM \(signed)\nCOPY local.txt /l\n", ["--from", unsigned, "-t", "e2e-build:r4"], nil),
            // --from stands in for the first FROM only: a later stage's image is verified as ever.
            ("a later FROM beside podman --from", "FROM scratch AS a\nFROM \(unsigned)\n", ["--from", signed, "-t", "e2e-build:r6"], nil),
            ("a Dockerfile on standard input", "FROM \(signed)\n", ["-f", "-", "-t", "e2e-build:r5"], "FROM \(unsigned)\nCOPY local.txt /l\n"),
            // A continuation line keeps its leading space for the builder: `FROM\` then ` IMAGE` is `FROM IMAGE`.
            ("FROM continued on the next line", "FROM\\\n \(unsigned)\n", ["-t", "e2e-build:r7"], nil),
            ("COPY --from continued on the next line", "FROM \(signed)\nCOPY\\\n --from=\(unsigned) /hello.txt /x\n", ["-t", "e2e-build:r8"], nil),
        ]
        for (route, dockerfile, extra, stdin) in refusals {
            let refused = try build(dockerfile, extra, stdin: stdin)
            #expect(refused.status == 1, "\(route): \(refused.err)")
            #expect(refused.err.contains("nothing was built"), "\(route): \(refused.err)")
        }
        // What Bouncer cannot tell (exit 2): a FROM inside a here-document a builder without
        // here-documents reads as an instruction, an ADD of a URL, a remote context, --cache-from.
        let untellable: [(String, String, [String])] = [
            ("here-document", "FROM \(signed)\nRUN <<EOF\nFROM \(unsigned)\nEOF\n", []),
            ("ADD URL", "FROM \(signed)\nADD http://127.0.0.1:9/x.tgz /x\n", []),
            ("--cache-from", "FROM \(signed)\n", ["--cache-from", "\(f.registry.host)/e2e/cache"]),
            ("a build context that is no local directory", "FROM \(signed)\nCOPY --from=extra / /x\n", ["--build-context", "extra=\(unsigned)"]),
            ("a preprocessed Containerfile.in", "FROM \(signed)\n", ["-f", "ctx/Dockerfile.in"]),
            ("several platforms, an image per platform", "ARG T=\(signed)\nFROM ${T}-${TARGETARCH}\n", ["--platform", "linux/amd64,linux/arm64"]),
            // What buildah unescapes and BuildKit does not (red team C1-C3: podman pulled the unsigned image).
            ("an escaped COPY --from", "FROM scratch\nCOPY --from\\=\(unsigned) /hello.txt /x\n", []),
            ("an escaped stage name", "FROM scratch AS \(unsigned.dropLast())\\1\nFROM \(unsigned.dropLast())\\1\n", []),
            ("a quoted stage name", "FROM scratch AS \(unsigned.dropLast())\"1\"\nFROM \(unsigned.dropLast())\"1\"\n", []),
            ("an escaped mount field", "FROM \(signed)\nRUN --mount=type=bind,fr\\om=\(unsigned),target=/m true\n", []),
        ]
        try "#include \"other\"\n".write(to: context.appendingPathComponent("Dockerfile.in"), atomically: true, encoding: .utf8)
        for (route, dockerfile, extra) in untellable {
            let refused = try build(dockerfile, extra + ["-t", "e2e-build:u"])
            #expect(refused.status == 2, "\(route): \(refused.err)")
            #expect(refused.err.contains("enforce mode"), "\(route): \(refused.err)")
        }
        // A local build's name is on no registry: said so, not tried there as a fetch that fails.
        for (dockerfile, extra) in [("FROM localhost/e2e-build:v1\n", [String]()), ("FROM scratch\n", ["--from", "localhost/e2e-build:v1"])] {
            let local = try build(dockerfile, extra + ["-t", "e2e-build:u"])
            #expect(local.status == 2, "\(extra): \(local.err)")
            #expect(local.err.contains("an image of this machine's own"), "\(extra): \(local.err)")
        }
        let remote = try BouncerProcess.runProgram(shims + "/podman", global + ["build", "https://127.0.0.1:9/ctx.tar.gz"], cwd: work.path, environment: environment)
        #expect(remote.status == 2, "\(remote.err)")
        #expect(remote.err.contains("remote context"), "\(remote.err)")
        #expect(try storedDigests() == [signedDigest])
        #expect(try builtTags() == ["localhost/e2e-build:v1"])

        // BuildKit pulls the `# syntax=` frontend image, so the docker shim verifies it too (refused
        // here before docker starts); buildah ignores the line, so podman builds the same file.
        let withFrontend = "# syntax=\(unsigned)\nFROM \(signed)\nCOPY local.txt /l\n"
        try withFrontend.write(to: context.appendingPathComponent("Dockerfile"), atomically: true, encoding: .utf8)
        // (The shim runs only in front of a real docker; it never starts it here, so no daemon is needed.)
        if ["/usr/local/bin/docker", "/usr/bin/docker"].contains(where: FileManager.default.isExecutableFile(atPath:)) {
            let docker = try BouncerProcess.runProgram(shims + "/docker", ["build", "-t", "e2e-build:d1", context.path], cwd: work.path,
                                                       environment: environment.merging(["BOUNCER_IMAGE_ALLOW_HTTP": "1"]) { $1 })
            #expect(docker.status == 1, "\(docker.err)")
            #expect(docker.err.contains("line 1: # syntax \(unsigned)") && docker.err.contains("nothing was built"), "\(docker.err)")
        } else {
            print("NOTICE: no docker CLI on this machine: the docker shim's # syntax check is not exercised")
        }
        let podmanIgnores = try build(withFrontend, ["-t", "e2e-build:v3"])
        #expect(podmanIgnores.status == 0, "\(podmanIgnores.err)")
        #expect(!podmanIgnores.err.contains("# syntax"), "\(podmanIgnores.err)")

        // `-f FILE` right after `build`, beside a context whose own Dockerfile names the unsigned
        // image: the builder reads the verified copy of FILE, never the context's file.
        try "FROM \(unsigned)\n".write(to: context.appendingPathComponent("Dockerfile"), atomically: true, encoding: .utf8)
        let chosen = work.appendingPathComponent("Chosen.Dockerfile")
        try "FROM \(signed)\nCOPY local.txt /c\n".write(to: chosen, atomically: true, encoding: .utf8)
        let fileFirst = try BouncerProcess.runProgram(shims + "/podman", global + ["build", "-f", chosen.path, "--tls-verify=false", "-t", "e2e-build:v4", context.path],
                                                      cwd: work.path, environment: environment)
        #expect(fileFirst.status == 0, "\(fileFirst.err)")
        #expect(fileFirst.out.contains("FROM \(pinned)"), "\(fileFirst.out)")

        // A Dockerfile on standard input with a signed base builds from the verified digest.
        let piped = try build("FROM \(unsigned)\n", ["-f", "-", "-t", "e2e-build:v2"], stdin: "FROM \(signed)\nCOPY local.txt /l\n")
        #expect(piped.status == 0, "\(piped.err)")
        #expect(piped.out.contains("FROM \(pinned)"), "\(piped.out)")
        #expect(try builtTags() == ["localhost/e2e-build:v1", "localhost/e2e-build:v2", "localhost/e2e-build:v3", "localhost/e2e-build:v4"])
        #expect(try storedDigests() == [signedDigest])
    }

    /// A base image's config carries ONBUILD triggers (`config.OnBuild`), and
    /// the builder runs them as the first instructions of a build FROM it: a
    /// signed base whose trigger is `COPY --from=UNSIGNED` made podman pull the
    /// unsigned image, past the shim. The shim reads the verified image's
    /// config and refuses such a base; a plain trigger builds.
    @Test func aBaseImagesOnbuildTriggersAreRead() throws {
        let (f, storage, work, context, environment) = try Self.setUp()
        // Kept until the test ends (its deinit resets the storage).
        defer { withExtendedLifetime(storage) {} }
        let global = storage.global
        let shims = Self.shims
        let unsigned = f.image("e2e/unsigned")
        let unsignedDigest = try #require(f.digests["e2e/unsigned"])
        // Both bases are signed: only their triggers differ.
        let hostile = "COPY --from=\(unsigned) /hello.txt /stolen.txt"
        let bases: [(String, String)] = [
            ("e2e/trigger-from", LoopbackRegistry.jsonString(hostile)),
            ("e2e/trigger-continued", LoopbackRegistry.jsonString("COPY \\") + "," + LoopbackRegistry.jsonString("--from=\(unsigned) /hello.txt /x")),
            ("e2e/trigger-plain", LoopbackRegistry.jsonString("COPY local.txt /onbuild.txt")),
        ]
        for (repository, triggers) in bases {
            let digest = try f.pushImage(repository, content: repository, settings: "{\"OnBuild\":[\(triggers)]}", docker: true)
            try f.sign(repository, digest: digest, names: digest, with: f.key)
        }
        // buildah reads container_config when config is null (red team, round 7).
        let fromContainerConfig = try f.pushImage("e2e/trigger-cc", content: "cc", settings: "null",
                                                  extraMembers: ",\"container_config\":{\"OnBuild\":[\(LoopbackRegistry.jsonString(hostile))]}")
        try f.sign("e2e/trigger-cc", digest: fromContainerConfig, names: fromContainerConfig, with: f.key)
        // Indexes: a clean linux/amd64 image (this machine's) beside one with the trigger, for
        // linux/arm64, or for linux/amd64 too under a media type Bouncer did not select by.
        let clean = try f.pushImage("e2e/multi", content: "clean", tag: "clean")
        let triggered = try f.pushImage("e2e/multi", content: "triggered", tag: "triggered", settings: "{\"OnBuild\":[\(LoopbackRegistry.jsonString(hostile))]}")
        let perPlatform = try f.pushIndex("e2e/multi", tag: "v1", [(clean, "linux/amd64", nil), (triggered, "linux/arm64", nil)])
        let oddType = try f.pushIndex("e2e/multi", tag: "odd", [(triggered, "linux/amd64", "application/x-anything"), (clean, "linux/amd64", nil)])
        for digest in [perPlatform, oddType] { try f.sign("e2e/multi", digest: digest, names: digest, with: f.key) }
        try "FROM \(f.image("e2e/trigger-from"))\n".write(to: context.appendingPathComponent("Dockerfile"), atomically: true, encoding: .utf8)

        // The hole, shown with the real podman alone: the trigger pulls the unsigned image.
        let bare = try BouncerProcess.runProgram(Self.podman, global + ["build", "--tls-verify=false", "-t", "e2e-onbuild:bare", context.path], cwd: work.path)
        #expect(bare.status == 0, "\(bare.err)")
        #expect(try storage.digests().contains(unsignedDigest), "podman ran the base image's trigger: \(bare.out)")
        _ = try BouncerProcess.runProgram(Self.podman, global + ["system", "reset", "--force"])

        // Through the shim: every hostile base refused, nothing pulled or built.
        let hostileBuilds: [(String, [String])] = [
            (f.image("e2e/trigger-from"), []), (f.image("e2e/trigger-continued"), []), (f.image("e2e/trigger-cc"), []),
            (f.image("e2e/multi"), ["--arch", "arm64"]), (f.image("e2e/multi"), ["--platform", "linux/amd64,linux/arm64"]),
            (f.image("e2e/multi"), ["--all-platforms"]), (f.image("e2e/multi", tag: "odd"), []),
        ]
        for (image, extra) in hostileBuilds {
            try "FROM \(image)\n".write(to: context.appendingPathComponent("Dockerfile"), atomically: true, encoding: .utf8)
            let refused = try BouncerProcess.runProgram(shims + "/podman", global + ["build", "--tls-verify=false", "-t", "e2e-onbuild:r"] + extra + [context.path],
                                                        cwd: work.path, environment: environment)
            #expect(refused.status == 2, "\(image) \(extra): \(refused.err)")
            #expect(refused.err.contains("carries the ONBUILD trigger") && refused.err.contains("line 1: FROM \(image)"), "\(image) \(extra): \(refused.err)")
            #expect(!(try storage.digests().contains(unsignedDigest)), "\(image) \(extra)")
        }
        // A named context's image built FROM by its name runs its triggers too.
        try "FROM base\n".write(to: context.appendingPathComponent("Dockerfile"), atomically: true, encoding: .utf8)
        let viaContext = try BouncerProcess.runProgram(shims + "/podman", global + ["build", "--tls-verify=false", "--build-context", "base=docker-image://" + f.image("e2e/trigger-from"),
                                                                                    context.path], cwd: work.path, environment: environment)
        #expect(viaContext.status == 2, "\(viaContext.err)")
        #expect(viaContext.err.contains("--build-context base=docker-image://") && viaContext.err.contains("carries the ONBUILD trigger"), "\(viaContext.err)")
        #expect(!(try storage.digests().contains(unsignedDigest)))
        // For this machine's platform alone, the index's clean image is what podman builds from.
        try "FROM \(f.image("e2e/multi"))\n".write(to: context.appendingPathComponent("Dockerfile"), atomically: true, encoding: .utf8)
        let hostOnly = try BouncerProcess.runProgram(shims + "/podman", global + ["build", "--tls-verify=false", "-t", "e2e-onbuild:host", context.path],
                                                     cwd: work.path, environment: environment)
        #expect(hostOnly.status == 0, "\(hostOnly.err)")
        #expect(!(try storage.digests().contains(unsignedDigest)))
        // podman's --from stands in for the first FROM: its triggers are read too.
        try "FROM scratch\n".write(to: context.appendingPathComponent("Dockerfile"), atomically: true, encoding: .utf8)
        let viaFrom = try BouncerProcess.runProgram(shims + "/podman", global + ["build", "--tls-verify=false", "--from", f.image("e2e/trigger-from"), context.path],
                                                    cwd: work.path, environment: environment)
        #expect(viaFrom.status == 2, "\(viaFrom.err)")
        #expect(viaFrom.err.contains("--from \(f.image("e2e/trigger-from"))") && viaFrom.err.contains("carries the ONBUILD trigger"), "\(viaFrom.err)")
        #expect(!(try storage.digests().contains(unsignedDigest)))

        // A plain trigger runs, from the verified digest.
        try "FROM \(f.image("e2e/trigger-plain"))\n".write(to: context.appendingPathComponent("Dockerfile"), atomically: true, encoding: .utf8)
        let plain = try BouncerProcess.runProgram(shims + "/podman", global + ["build", "--tls-verify=false", "-t", "e2e-onbuild:plain", context.path],
                                                  cwd: work.path, environment: environment)
        #expect(plain.status == 0, "\(plain.err)")
        #expect(plain.out.contains("COPY local.txt /onbuild.txt"), "the trigger ran: \(plain.out)")
        #expect(!(try storage.digests().contains(unsignedDigest)))
    }

    /// `FROM --platform=linux/${TARGETARCH:-arm64} INDEX`: BuildKit reads
    /// linux/amd64, buildah 1.28 (without --platform) linux/arm64, whose
    /// image's trigger pulls an unsigned image; Bouncer read the first and
    /// checked the clean image's triggers only (red team round 9). It now reads
    /// the platform as buildah does, and the triggers of every image of the
    /// index whenever FROM's platform is written with a variable.
    @Test func aFromPlatformWrittenWithAVariableHasEveryImagesTriggersRead() throws {
        let (f, storage, work, context, environment) = try Self.setUp()
        defer { withExtendedLifetime(storage) {} }
        let global = storage.global
        let unsigned = f.image("e2e/unsigned")
        let unsignedDigest = try #require(f.digests["e2e/unsigned"])
        let hostile = "COPY --from=\(unsigned) /hello.txt /stolen.txt"
        let clean = try f.pushImage("e2e/multi", content: "clean", tag: "clean")
        let triggered = try f.pushImage("e2e/multi", content: "triggered", tag: "triggered", settings: "{\"OnBuild\":[\(LoopbackRegistry.jsonString(hostile))]}")
        let index = try f.pushIndex("e2e/multi", tag: "v1", [(clean, "linux/amd64", nil), (triggered, "linux/arm64", nil)])
        try f.sign("e2e/multi", digest: index, names: index, with: f.key)
        let multi = f.image("e2e/multi")
        func build(_ dockerfile: String, _ extra: [String] = [], through tool: String) throws -> ProcessResult {
            try dockerfile.write(to: context.appendingPathComponent("Dockerfile"), atomically: true, encoding: .utf8)
            return try BouncerProcess.runProgram(tool, global + ["build", "--tls-verify=false", "-t", "e2e-platform:x"] + extra + [context.path],
                                                 cwd: work.path, environment: environment)
        }
        let variable = "FROM --platform=linux/${TARGETARCH:-arm64} \(multi)\nLABEL a=b\n"

        // The hole, shown with the real podman alone: it builds on the arm64 image and runs its trigger
        // (then fails to commit, the fixture's config giving no history for the trigger's layer: the pull is done).
        let bare = try build(variable, through: Self.podman)
        #expect(try storage.digests().contains(unsignedDigest), "podman ran the arm64 image's trigger: \(bare.out) \(bare.err)")
        _ = try BouncerProcess.runProgram(Self.podman, global + ["system", "reset", "--force"])

        // Through the shim: refused, however the variable is written, and nothing of it lands.
        let hostileBuilds: [(String, [String])] = [
            (variable, []),
            ("ARG P=linux/amd64\nFROM --platform=$P \(multi)\n", []),
            ("FROM --platform=linux/${TARGETARCH:-amd64} \(multi)\n", ["--platform", "linux/arm64"]),
        ]
        for (dockerfile, extra) in hostileBuilds {
            let refused = try build(dockerfile, extra, through: Self.shims + "/podman")
            #expect(refused.status == 2, "\(dockerfile) \(extra): \(refused.err)")
            #expect(refused.err.contains("carries the ONBUILD trigger") && refused.err.contains("@\(triggered)"), "\(dockerfile): \(refused.err)")
            #expect(!(try storage.digests().contains(unsignedDigest)), "\(dockerfile) \(extra)")
        }
        // The clean image's platform written plainly builds.
        let plain = try build("FROM --platform=linux/amd64 \(multi)\nLABEL a=b\n", through: Self.shims + "/podman")
        #expect(plain.status == 0, "\(plain.err)")
        #expect(!(try storage.digests().contains(unsignedDigest)))
    }
}
