import Foundation
import Testing
import BouncerBase
import BouncerTestSupport

/// Real images in a loopback `docker-registry`, signed at test time the way
/// cosign lays out a key-based signature (simple-signing payload signed
/// with openssl, pushed as the `sha256-<hex>.sig` manifest), then verified
/// by `bouncer verify-image` and pulled through the podman shim into a
/// scratch podman storage.
@Suite(.blocking, .enabled(if: LoopbackRegistry.isAvailable && FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"),
                "needs docker-registry, curl and openssl"))
struct ContainerShimPodmanTests {
    static let podman = "/usr/bin/podman"

    final class Fixture {
        let registry: LoopbackRegistry
        let dir: URL
        let key: String
        let otherKey: String
        var publicKey: String { dir.appendingPathComponent("key.pub").path }
        /// Repository → the digest its tag v1 resolves to, computed here from the pushed bytes.
        var digests: [String: String] = [:]
        /// Manifest digest → its size in bytes (for an index's entries).
        var manifestSizes: [String: Int] = [:]

        init() throws {
            registry = try LoopbackRegistry()
            dir = try BouncerProcess.temporaryDirectory("bouncer-oci-e2e")
            key = dir.appendingPathComponent("key.pem").path
            otherKey = dir.appendingPathComponent("other.pem").path
            for path in [key, otherKey] {
                _ = try Self.run("/usr/bin/openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", path])
            }
            _ = try Self.run("/usr/bin/openssl", ["ec", "-in", key, "-pubout", "-out", publicKey])
            for (repository, content) in [("e2e/signed", "signed"), ("e2e/unsigned", "unsigned"), ("e2e/otherkey", "other key"), ("e2e/copied", "copied")] {
                digests[repository] = try pushImage(repository, content: content)
            }
            let signed = try #require(digests["e2e/signed"])
            try sign("e2e/signed", digest: signed, names: signed, with: key)
            try sign("e2e/otherkey", digest: try #require(digests["e2e/otherkey"]), names: try #require(digests["e2e/otherkey"]), with: otherKey)
            // A genuine signature, for another image's digest, copied under this image's .sig tag.
            try sign("e2e/copied", digest: try #require(digests["e2e/copied"]), names: signed, with: key)
        }

        deinit {
            registry.stop()
            try? FileManager.default.removeItem(at: dir)
        }

        @discardableResult
        static func run(_ program: String, _ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult {
            let result = try BouncerProcess.runProgram(program, arguments, environment: environment)
            guard result.status == 0 else { throw BouncerError.io("\(program) \(arguments.joined(separator: " ")): \(result.err)") }
            return result
        }

        /// A one-layer image (a gzip tar holding one file) tagged `tag`; returns the manifest's digest.
        /// `settings`: the config's `config` object, as JSON. `docker`: docker's schema 2 media
        /// types, whose config keeps settings OCI's has no field for (`OnBuild`).
        /// `extraMembers`: more top-level members of the config (`,"container_config":{…}`).
        func pushImage(_ repository: String, content: String, tag: String = "v1", settings: String = "{}", extraMembers: String = "",
                       docker: Bool = false) throws -> String {
            let work = dir.appendingPathComponent(repository.replacingOccurrences(of: "/", with: "_") + "-" + UUID().uuidString.prefix(8))
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
            try content.write(to: work.appendingPathComponent("hello.txt"), atomically: true, encoding: .utf8)
            let tar = work.appendingPathComponent("layer.tar").path
            try Self.run("/usr/bin/tar", ["-C", work.path, "--mtime=@0", "--owner=0", "--group=0", "-cf", tar, "hello.txt"])
            try Self.run("/usr/bin/gzip", ["-n", "-k", "-f", tar])
            let layer = Array(try Data(contentsOf: URL(fileURLWithPath: tar + ".gz")))
            let diffID = Hasher.digest(Array(try Data(contentsOf: URL(fileURLWithPath: tar))), .sha256)
            let config = Array("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":\(settings)\(extraMembers),\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"\(diffID)\"]}}".utf8)
            let configDigest = try registry.pushBlob(repository, config)
            let layerDigest = try registry.pushBlob(repository, layer)
            let (manifestType, configType, layerType) = docker
                ? ("application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.container.image.v1+json", "application/vnd.docker.image.rootfs.diff.tar.gzip")
                : ("application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.config.v1+json", "application/vnd.oci.image.layer.v1.tar+gzip")
            let manifest = Array("""
                {"schemaVersion":2,"mediaType":"\(manifestType)",\
                "config":{"mediaType":"\(configType)","size":\(config.count),"digest":"\(configDigest)"},\
                "layers":[{"mediaType":"\(layerType)","size":\(layer.count),"digest":"\(layerDigest)"}]}
                """.utf8)
            let digest = try registry.pushManifest(repository, reference: tag, manifest, mediaType: manifestType)
            manifestSizes[digest] = manifest.count
            return digest
        }

        /// An OCI index of images pushed here, tagged `tag`: each entry's digest, platform
        /// (`os/arch`) and media type (a manifest's own unless given); returns its digest.
        func pushIndex(_ repository: String, tag: String, _ entries: [(digest: String, platform: String, mediaType: String?)]) throws -> String {
            let manifests = try entries.map { entry in
                let parts = entry.platform.split(separator: "/")
                let size = try #require(manifestSizes[entry.digest])
                return "{\"mediaType\":\"\(entry.mediaType ?? "application/vnd.oci.image.manifest.v1+json")\",\"digest\":\"\(entry.digest)\",\"size\":\(size),"
                    + "\"platform\":{\"os\":\"\(parts[0])\",\"architecture\":\"\(parts[1])\"}}"
            }
            let index = Array("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[\(manifests.joined(separator: ","))]}".utf8)
            return try registry.pushManifest(repository, reference: tag, index, mediaType: "application/vnd.oci.image.index.v1+json")
        }

        /// cosign's key-based layout: payload naming `names`, ECDSA-SHA256 by openssl, under `digest`'s .sig tag.
        func sign(_ repository: String, digest: String, names: String, with key: String) throws {
            let payload = Array("{\"critical\":{\"identity\":{\"docker-reference\":\"\(registry.host)/\(repository)\"},\"image\":{\"docker-manifest-digest\":\"\(names)\"},\"type\":\"cosign container image signature\"},\"optional\":null}".utf8)
            let payloadFile = dir.appendingPathComponent("payload-\(UUID().uuidString)")
            let signatureFile = dir.appendingPathComponent("sig-\(UUID().uuidString)")
            try Data(payload).write(to: payloadFile)
            try Self.run("/usr/bin/openssl", ["dgst", "-sha256", "-sign", key, "-out", signatureFile.path, payloadFile.path])
            let signature = try Data(contentsOf: signatureFile).base64EncodedString()
            try registry.pushCosignSignatures(repository, signedDigest: digest, layers: [
                (payload, "application/vnd.dev.cosign.simplesigning.v1+json", ["dev.cosignproject.cosign/signature": signature]),
            ])
        }

        func image(_ repository: String, tag: String = "v1") -> String { "\(registry.host)/\(repository):\(tag)" }
    }

    @Test func verifyImageResolvesTheTagAndRefusesWhatIsNotSignedForThatDigest() throws {
        let f = try Fixture()
        let base = ["--key", f.publicKey, "--insecure-ignore-tlog", "--allow-http-registry", "--json"]
        let good = try BouncerProcess.run(["verify-image", f.image("e2e/signed")] + base)
        #expect(good.status == 0, "\(good.out) \(good.err)")
        let signedHex = try #require(f.digests["e2e/signed"]).dropFirst(7)
        #expect(good.out.contains("\"sha256\":\"\(signedHex)\""))
        #expect(good.out.contains("\"verdict\":\"pass\""))

        let cases: [(String, String)] = [("e2e/unsigned", "oci-no-signatures"), ("e2e/otherkey", "sigstore-signature"), ("e2e/copied", "oci-signature-digest")]
        for (repository, code) in cases {
            let result = try BouncerProcess.run(["verify-image", f.image(repository)] + base)
            #expect(result.status == 1, "\(repository): \(result.out) \(result.err)")
            #expect(result.out.contains("\"code\":\"\(code)\""), "\(repository): \(result.out)")
        }
        // Without --insecure-ignore-tlog a key signature needs a log entry.
        let noLog = try BouncerProcess.run(["verify-image", f.image("e2e/signed"), "--key", f.publicKey, "--allow-http-registry", "--json"])
        #expect(noLog.status == 1)
        #expect(noLog.out.contains("\"code\":\"oci-signature-no-log\""))
        // Plain http only when allowed: a TLS handshake with an http registry is a transport failure (3).
        let https = try BouncerProcess.run(["verify-image", f.image("e2e/signed"), "--key", f.publicKey, "--insecure-ignore-tlog"])
        #expect(https.status == 3)
        // A malformed reference is a usage error.
        let bad = try BouncerProcess.run(["verify-image", "\(f.registry.host)/UPPER:v1", "--key", f.publicKey, "--insecure-ignore-tlog"])
        #expect(bad.status == 2)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: podman), "needs podman"))
    func podmanShimPullsOnlyVerifiedDigests() throws {
        let f = try Fixture()
        let storage = try PodmanStorage()
        // Kept until the test ends (its deinit resets the storage).
        defer { withExtendedLifetime(storage) {} }
        let podmanGlobal = storage.global
        let work = f.dir.appendingPathComponent("project")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let policy = work.appendingPathComponent("policy.json").path
        try #"{"version": 1, "mode": "enforce", "unmatched": "deny", "rules": []}"#.write(toFile: policy, atomically: true, encoding: .utf8)
        let shims = Corpus.packageRoot.appendingPathComponent("shims").path
        let environment = ["PATH": "\(shims):/usr/local/bin:/usr/bin:/bin", "BOUNCER_BIN": BouncerProcess.executable,
                           "BOUNCER_POLICY": policy, "BOUNCER_IMAGE_KEY": f.publicKey, "BOUNCER_IMAGE_IGNORE_TLOG": "1",
                           // A CI job's CI=true would freeze the lock this test starts empty.
                           "CI": ""]

        func storedDigests() throws -> Set<String> { try storage.digests() }

        let pull = try BouncerProcess.runProgram(shims + "/podman", podmanGlobal + ["pull", "--tls-verify=false", f.image("e2e/signed")], environment: environment)
        #expect(pull.status == 0, "\(pull.err)")
        let signed = try #require(f.digests["e2e/signed"])
        #expect(try storedDigests() == [signed])
        // Pulled by the verified digest, and tagged as asked, as the real pull leaves it.
        let tags = try Fixture.run(Self.podman, podmanGlobal + ["images", "--format", "{{.Repository}}:{{.Tag}} {{.Digest}}"])
        #expect(tags.out.contains("\(f.image("e2e/signed")) \(signed)"), "\(tags.out)")

        for repository in ["e2e/unsigned", "e2e/otherkey", "e2e/copied"] {
            let refused = try BouncerProcess.runProgram(shims + "/podman", podmanGlobal + ["pull", "--tls-verify=false", f.image(repository)], environment: environment)
            #expect(refused.status == 1, "\(repository): \(refused.err)")
            #expect(refused.err.contains("nothing was pulled"), "\(repository): \(refused.err)")
        }
        // A global option with its value before the subcommand (podman's `--namespace NS`) is no
        // way around the check: once taken for a flag, its value was taken for the subcommand and
        // the pull of the unsigned image passed through.
        let behindAnOption = try BouncerProcess.runProgram(shims + "/podman", podmanGlobal + ["--namespace", "bouncer-e2e", "pull", "--tls-verify=false", f.image("e2e/unsigned")],
                                                           environment: environment)
        #expect(behindAnOption.status == 1, "\(behindAnOption.err)")
        #expect(behindAnOption.err.contains("nothing was pulled"), "\(behindAnOption.err)")
        // An option of `run` whose value is the signed image, before the unsigned one: once taken
        // for a flag, the signed image was verified and the unsigned one pulled and run.
        let shifted = try BouncerProcess.runProgram(shims + "/podman", podmanGlobal + ["run", "--rm", "--tls-verify=false", "--domainname", f.image("e2e/signed"),
                                                                                        f.image("e2e/unsigned"), "true"], environment: environment)
        #expect(shifted.status == 1, "\(shifted.err)")
        #expect(shifted.err.contains("nothing was pulled"), "\(shifted.err)")
        // An option the shim does not know: refused (2), the refusal naming that option, not the first one given.
        let unknown = try BouncerProcess.runProgram(shims + "/podman", podmanGlobal + ["run", "--rm", "--tls-verify=false", "--frobnicate", "x",
                                                                                        f.image("e2e/unsigned")], environment: environment)
        #expect(unknown.status == 2, "\(unknown.err)")
        #expect(unknown.err.contains("refused: run: cannot tell whether option '--frobnicate' takes a value"), "\(unknown.err)")
        #expect(!unknown.err.contains("--tls-verify=false"), "\(unknown.err)")
        // Routes a red-team pass found: a second image on one pull (podman pulls every one named), a
        // clone of a verified container onto another image, a manifest list that reads (and would copy)
        // the unsigned image, a pod whose infra image containers.conf names. Each refused before podman runs.
        let conf = work.appendingPathComponent("containers.conf")
        try "[engine]\ninfra_image = \"\(f.image("e2e/unsigned"))\"\n".write(to: conf, atomically: true, encoding: .utf8)
        var withConf = environment
        withConf["CONTAINERS_CONF"] = conf.path
        for (words, env, said) in [
            (["pull", "--tls-verify=false", f.image("e2e/signed"), f.image("e2e/unsigned")], environment, "pull names more than one image"),
            (["pull", f.image("e2e/signed"), "--tls-verify=false", f.image("e2e/unsigned")], environment, "pull names more than one image"),
            (["container", "clone", "c1", "c2", f.image("e2e/unsigned")], environment, "container clone with an image"),
            (["manifest", "create", "--tls-verify=false", "list1", f.image("e2e/unsigned")], environment, "manifest create reads"),
            (["pod", "create", "p1"], withConf, "infra_image \(conf.path) sets"),
            (["create", "--tls-verify=false", "--pod", "new:p2", f.image("e2e/signed"), "true"], withConf, "infra_image"),
        ] {
            let refused = try BouncerProcess.runProgram(shims + "/podman", podmanGlobal + words, environment: env)
            #expect(refused.status == 2, "\(words): \(refused.err)")
            #expect(refused.err.contains(said), "\(words): \(refused.err)")
        }
        // Nothing unverified landed.
        #expect(try storedDigests() == [signed])
        // podman's `docker://` transport names the same registry image: verified, not refused as a malformed name.
        let transport = try BouncerProcess.runProgram(shims + "/podman", podmanGlobal + ["create", "--tls-verify=false", "docker://" + f.image("e2e/signed"), "true"],
                                                      environment: environment)
        #expect(transport.status == 0 && transport.err.contains(signed), "\(transport.err)")
        // An image of this machine's own (a local build's localhost/NAME, a short name stored here, an ID):
        // used as it is, never pulled (`--pull=never` goes before the image, so a missing one fails instead).
        _ = try Fixture.run(Self.podman, podmanGlobal + ["tag", f.image("e2e/signed"), "localhost/mine:1", "mine2:1"])
        let id = try Fixture.run(Self.podman, podmanGlobal + ["image", "inspect", "--format", "{{.Id}}", "localhost/mine:1"]).out
            .trimmingCharacters(in: .whitespacesAndNewlines)
        for name in ["localhost/mine:1", "mine2:1", String(id.prefix(12))] {
            let local = try BouncerProcess.runProgram(shims + "/podman", podmanGlobal + ["create", name, "true"], environment: environment)
            #expect(local.status == 0, "\(name): \(local.err)")
            #expect(!local.err.contains("bouncer:"), "\(name): used as it is: \(local.err)")
        }
        let absent = try BouncerProcess.runProgram(shims + "/podman", podmanGlobal + ["create", "--pull=always", "localhost/nothere:1", "true"], environment: environment)
        #expect(absent.status != 0, "\(absent.err)")
        #expect(!absent.err.contains("Trying to pull"), "\(absent.err)")
        // Another transport reads an image from this machine's files (`oci-archive:FILE`): no registry
        // is asked, so podman gets it untouched (it had been read as a registry image named "oci-archive").
        let archive = f.dir.appendingPathComponent("mine.tar").path
        _ = try Fixture.run(Self.podman, podmanGlobal + ["save", "--format", "oci-archive", "-o", archive, "localhost/mine:1"])
        let fromFile = try BouncerProcess.runProgram(shims + "/podman", podmanGlobal + ["pull", "oci-archive:" + archive], environment: environment)
        #expect(fromFile.status == 0, "\(fromFile.err)")
        #expect(!fromFile.err.contains("bouncer:"), "passed through: \(fromFile.err)")
        // podman alone pulls both images of one pull: the refusal above is the shim's.
        _ = try Fixture.run(Self.podman, podmanGlobal + ["pull", "--tls-verify=false", "-q", f.image("e2e/signed"), f.image("e2e/unsigned")])
        #expect(try storedDigests().contains(try #require(f.digests["e2e/unsigned"])))

        // Other subcommands pass through untouched.
        let images = try BouncerProcess.runProgram(shims + "/podman", podmanGlobal + ["images", "--digests", "--format", "{{.Digest}}"], environment: environment)
        #expect(images.status == 0)
        #expect(images.out.contains(signed))
    }

    /// `skopeo copy docker://…` through the skopeo shim lands only verified
    /// images: the signed one is copied by its verified digest into a
    /// directory (its manifest there is the one signed), the unsigned one is
    /// refused before skopeo starts and nothing of it is written; `sync` from
    /// a registry is refused; `inspect` and local copies pass through.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/skopeo"), "needs skopeo"))
    func skopeoShimCopiesOnlyVerifiedImages() throws {
        let f = try Fixture()
        let work = f.dir.appendingPathComponent("skopeo")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let policy = work.appendingPathComponent("policy.json").path
        try #"{"version": 1, "mode": "enforce", "unmatched": "deny", "rules": []}"#.write(toFile: policy, atomically: true, encoding: .utf8)
        let shim = Corpus.packageRoot.appendingPathComponent("shims/skopeo").path
        let environment = ["PATH": "\(Corpus.packageRoot.appendingPathComponent("shims").path):/usr/local/bin:/usr/bin:/bin", "BOUNCER_BIN": BouncerProcess.executable,
                           "BOUNCER_POLICY": policy, "BOUNCER_IMAGE_KEY": f.publicKey, "BOUNCER_IMAGE_IGNORE_TLOG": "1", "CI": ""]
        func skopeo(_ arguments: [String]) throws -> ProcessResult { try BouncerProcess.runProgram(shim, arguments, environment: environment) }
        let signed = try #require(f.digests["e2e/signed"])

        // Options after the operands, as pflag takes them.
        let copied = work.appendingPathComponent("signed")
        let copy = try skopeo(["copy", "docker://" + f.image("e2e/signed"), "dir:" + copied.path, "--src-tls-verify=false"])
        #expect(copy.status == 0, "\(copy.err)")
        let manifest = try Data(contentsOf: copied.appendingPathComponent("manifest.json"))
        #expect("sha256:" + Hasher.digest(Array(manifest), .sha256).hex == signed)
        #expect(copy.err.contains(signed), "the shim says what it verified: \(copy.err)")

        for repository in ["e2e/unsigned", "e2e/copied"] {
            let target = work.appendingPathComponent(repository.replacingOccurrences(of: "/", with: "-"))
            let refused = try skopeo(["--override-os", "linux", "copy", "--src-tls-verify=false", "-q", "docker://" + f.image(repository), "dir:" + target.path])
            #expect(refused.status == 1, "\(repository): \(refused.err)")
            #expect(refused.err.contains("nothing was copied"), "\(refused.err)")
            #expect(!FileManager.default.fileExists(atPath: target.path), "\(repository) must not land")
        }
        // skopeo alone copies the unsigned image: the refusal above is the shim's.
        let alone = work.appendingPathComponent("alone")
        _ = try Fixture.run("/usr/bin/skopeo", ["copy", "--src-tls-verify=false", "docker://" + f.image("e2e/unsigned"), "dir:" + alone.path])
        #expect(FileManager.default.fileExists(atPath: alone.appendingPathComponent("manifest.json").path))

        // An option the shim does not know: its value could be the source.
        let unknown = try skopeo(["copy", "--frobnicate", "dir:" + alone.path, "docker://" + f.image("e2e/unsigned"), "dir:" + work.appendingPathComponent("x").path])
        #expect(unknown.status == 2, "\(unknown.err)")
        #expect(unknown.err.contains("'--frobnicate'"), "\(unknown.err)")
        let sync = try skopeo(["sync", "--src", "docker", "--dest", "dir", "--src-tls-verify=false", f.image("e2e/unsigned"), work.appendingPathComponent("sync").path])
        #expect(sync.status == 2, "\(sync.err)")
        #expect(sync.err.contains("skopeo sync copies every image"), "\(sync.err)")
        #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("sync").path))

        // Reading and local copies pass through.
        let inspect = try skopeo(["inspect", "--tls-verify=false", "--raw", "docker://" + f.image("e2e/unsigned")])
        #expect(inspect.status == 0, "\(inspect.err)")
        let local = try skopeo(["copy", "dir:" + alone.path, "oci:" + work.appendingPathComponent("layout").path + ":x"])
        #expect(local.status == 0, "\(local.err)")
    }

    /// The buildah shim in front of the real buildah: `pull` and `from` of the
    /// signed image are verified and use its digest (the pull tagged as asked);
    /// the unsigned image is refused by `pull`, `from`, a `bud` whose FROM names
    /// it and `copy --from`, and nothing of it lands in the storage, where
    /// buildah alone pulls it.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/buildah"), "needs buildah"))
    func buildahShimPullsOnlyVerifiedDigests() throws {
        let f = try Fixture()
        let storage = try PodmanStorage()
        defer { withExtendedLifetime(storage) {} }
        // buildah takes podman's storage options but --tmpdir.
        var global: [String] = []
        var index = 0
        while index < storage.global.count {
            if storage.global[index] != "--tmpdir" { global += [storage.global[index], storage.global[index + 1]] }
            index += 2
        }
        let work = f.dir.appendingPathComponent("buildah")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let policy = work.appendingPathComponent("policy.json").path
        try #"{"version": 1, "mode": "enforce", "unmatched": "deny", "rules": []}"#.write(toFile: policy, atomically: true, encoding: .utf8)
        let shims = Corpus.packageRoot.appendingPathComponent("shims").path
        let environment = ["PATH": "\(shims):/usr/local/bin:/usr/bin:/bin", "BOUNCER_BIN": BouncerProcess.executable, "BOUNCER_POLICY": policy,
                           "BOUNCER_IMAGE_KEY": f.publicKey, "BOUNCER_IMAGE_IGNORE_TLOG": "1", "CI": "", "TMPDIR": storage.directory.path]
        func buildah(_ arguments: [String]) throws -> ProcessResult {
            try BouncerProcess.runProgram(shims + "/buildah", global + arguments, environment: environment)
        }
        let signed = try #require(f.digests["e2e/signed"])

        let pulled = try buildah(["pull", "--tls-verify=false", "-q", f.image("e2e/signed")])
        #expect(pulled.status == 0, "\(pulled.err)")
        #expect(try storage.digests() == [signed])
        let tags = try Fixture.run(PodmanStorage.podman, storage.global + ["images", "--format", "{{.Repository}}:{{.Tag}} {{.Digest}}"])
        #expect(tags.out.contains("\(f.image("e2e/signed")) \(signed)"), "\(tags.out)")
        let from = try buildah(["from", "--tls-verify=false", "--name", "w1", "docker://" + f.image("e2e/signed")])
        #expect(from.status == 0, "\(from.err)")
        #expect(from.err.contains(signed), "\(from.err)")

        // A build from the signed image: the builder gets the digest (its own STEP line names it).
        let good = work.appendingPathComponent("good")
        try FileManager.default.createDirectory(at: good, withIntermediateDirectories: true)
        try "FROM \(f.image("e2e/signed"))\nLABEL checked=yes\n".write(to: good.appendingPathComponent("Containerfile"), atomically: true, encoding: .utf8)
        let built = try buildah(["bud", "--tls-verify=false", "-t", "good:1", good.path])
        #expect(built.status == 0, "\(built.err)")
        #expect(built.out.contains("FROM \(f.registry.host)/e2e/signed@\(signed)"), "\(built.out)")

        try "FROM \(f.image("e2e/unsigned"))\nRUN true\n".write(to: work.appendingPathComponent("Containerfile"), atomically: true, encoding: .utf8)
        for (words, stopped) in [(["pull", "--tls-verify=false", f.image("e2e/unsigned")], "nothing was pulled"),
                                 (["from", "--pull", "--tls-verify=false", f.image("e2e/unsigned")], "nothing was pulled"),
                                 (["bud", "--tls-verify=false", work.path], "nothing was built"),
                                 // buildah's third name for a build (red team: it passed through, pulling the unsigned image).
                                 (["build-using-dockerfile", "--tls-verify=false", work.path], "nothing was built")] {
            let refused = try buildah(words)
            #expect(refused.status == 1, "\(words): \(refused.err)")
            #expect(refused.err.contains(stopped), "\(words): \(refused.err)")
        }
        let copy = try buildah(["copy", "--from", f.image("e2e/unsigned"), "w1", "/hello.txt", "/x"])
        #expect(copy.status == 2, "\(copy.err)")
        // `--from` a name with no `/`: a working container's is copied from; anything else is an image
        // buildah would pull (an alias registries.conf names), refused. So is `add URL`, a manifest list of it.
        let fromContainer = try buildah(["copy", "--from", "w1", "w1", "/hello.txt", "/again.txt"])
        #expect(fromContainer.status == 0, "\(fromContainer.err)")
        for (words, said) in [(["copy", "--from", "evilalias", "w1", "/hello.txt", "/x"], "evilalias is no working container"),
                              (["add", "w1", "http://127.0.0.1:9/evil.sh", "/evil.sh"], "add http://127.0.0.1:9/evil.sh: buildah downloads it itself"),
                              // buildah copy downloads a URL too; the destination is optional; an option's value is no operand (red team C4).
                              (["add", "w1", "http://127.0.0.1:9/evil.sh"], "add http://127.0.0.1:9/evil.sh: buildah downloads it itself"),
                              (["copy", "w1", "http://127.0.0.1:9/evil.sh", "/evil.sh"], "copy http://127.0.0.1:9/evil.sh: buildah downloads it itself"),
                              (["add", "--chown", "0:0", "w1", "http://127.0.0.1:9/evil.sh"], "add http://127.0.0.1:9/evil.sh: buildah downloads it itself"),
                              (["manifest", "create", "list1", "docker://" + f.image("e2e/unsigned")], "manifest create reads"),
                              (["source", "pull", f.image("e2e/unsigned"), work.appendingPathComponent("src").path], "source pull")] {
            let refused = try buildah(words)
            #expect(refused.status == 2, "\(words): \(refused.err)")
            #expect(refused.err.contains(said), "\(words): \(refused.err)")
        }
        #expect(!(try storage.digests().contains(try #require(f.digests["e2e/unsigned"]))), "nothing of the unsigned image lands")
        // buildah alone pulls it: the refusals above are the shim's.
        _ = try Fixture.run("/usr/bin/buildah", global + ["pull", "--tls-verify=false", "-q", f.image("e2e/unsigned")],
                            environment: ["TMPDIR": storage.directory.path])
        #expect(try storage.digests().contains(try #require(f.digests["e2e/unsigned"])))
    }
}
