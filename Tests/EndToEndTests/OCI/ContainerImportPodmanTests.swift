import Foundation
import Testing
import BouncerTestSupport

/// `podman import URL` downloads a tarball and makes an image of it, past any
/// registry or signature: behind the shim the URL is a download like curl's,
/// verified under the policy (the loopback site's SHA256SUMS) before the real
/// podman imports the verified copy into a scratch storage.
@Suite(.blocking, .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/podman"), "needs podman"))
struct ContainerImportPodmanTests {
    @Test func anImportFromAURLIsAVerifiedDownload() throws {
        let harness = try ShimHarness("bouncer-import")
        let site = try DownloadSite(in: harness.root)
        let storage = try PodmanStorage()
        // Kept until the test ends (its deinit resets the storage).
        defer { withExtendedLifetime(storage) {} }
        let global = storage.global.joined(separator: " ")
        defer { harness.cleanup() }
        try harness.writePolicy()
        func tarball(_ content: String) throws -> [UInt8] {
            let dir = harness.root.appendingPathComponent("tar-" + UUID().uuidString.prefix(8))
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try content.write(to: dir.appendingPathComponent("hello.txt"), atomically: true, encoding: .utf8)
            let made = try BouncerProcess.runProgram("/usr/bin/tar", ["-C", dir.path, "--mtime=@0", "-cf", dir.path + ".tar", "hello.txt"])
            guard made.status == 0 else { throw SetupError("tar: \(made.err)") }
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir.path + ".tar")))
        }
        func images() throws -> [String] {
            let list = try harness.sh("/usr/bin/podman \(global) images --format '{{.Repository}}:{{.Tag}}'")
            return list.out.split(separator: "\n").map(String.init).sorted()
        }
        let genuine = try tarball("genuine")
        try site.publish("rootfs.tar", genuine)

        for (spelling, tag) in [("import", "v1"), ("image import --message=m -c 'ENV A=1'", "v2")] {
            let imported = try harness.sh("podman \(global) \(spelling) \(site.url("rootfs.tar")) e2e-import:\(tag)")
            #expect(imported.status == 0, "\(spelling): \(imported.err)")
            // Bouncer's own line for the verified download (podman's "Copying blob sha256:…" names the same digest).
            #expect(imported.err.contains("<- \(site.url("rootfs.tar")): \(genuine.count) bytes, sha256:\(site.sums["rootfs.tar"] ?? "?")"), "\(spelling): \(imported.err)")
        }
        #expect(try images() == ["localhost/e2e-import:v1", "localhost/e2e-import:v2"])
        #expect(((try? String(contentsOf: harness.file("bouncer.lock"), encoding: .utf8)) ?? "").contains(site.url("rootfs.tar")), "pinned in the lock")

        // The site serves other bytes than its SHA256SUMS lists, or a file it does not list: nothing is imported.
        try site.tamper("rootfs.tar", try tarball("tampered"))
        try Data(try tarball("unlisted")).write(to: site.dir.appendingPathComponent("files/unlisted.tar"))
        for (url, tag) in [(site.url("rootfs.tar"), "v3"), (site.url("unlisted.tar"), "v4")] {
            let refused = try harness.sh("podman \(global) import \(url) e2e-import:\(tag)")
            #expect(refused.status == 1, "\(url): \(refused.err)")
            #expect(refused.err.contains("nothing was imported"), "\(url): \(refused.err)")
        }
        #expect(try images() == ["localhost/e2e-import:v1", "localhost/e2e-import:v2"])

        // A local file is the user's own: through to podman as given.
        try Data(genuine).write(to: harness.file("local.tar"))
        let local = try harness.sh("podman \(global) import local.tar e2e-import:v5")
        #expect(local.status == 0, "\(local.err)")
        #expect(try images().contains("localhost/e2e-import:v5"))
    }
}
