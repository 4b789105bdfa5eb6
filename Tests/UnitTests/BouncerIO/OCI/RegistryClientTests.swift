import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
import BouncerTestSupport

/// The registry client reads a manifest it already read once by digest from
/// memory (a build's base image is read again for its ONBUILD triggers), and
/// only then: another digest, or a tag, is asked for again.
@Suite struct RegistryClientTests {
    @Test func aManifestReadOnceIsNotAskedForAgainByDigest() throws {
        let root = try BouncerProcess.temporaryDirectory("bouncer-registry-client")
        defer { try? FileManager.default.removeItem(at: root) }
        let manifests = root.appendingPathComponent("v2/app/manifests")
        try FileManager.default.createDirectory(at: manifests, withIntermediateDirectories: true)
        func manifest(_ config: String) -> [UInt8] {
            Array(#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":2,"digest":"sha256:\#(config)"},"layers":[]}"#.utf8)
        }
        let first = manifest(String(repeating: "a", count: 64))
        let other = manifest(String(repeating: "b", count: 64))
        let firstDigest = Hasher.digest(first, .sha256)
        let otherDigest = Hasher.digest(other, .sha256)
        try Data(first).write(to: manifests.appendingPathComponent("v1"))
        try Data(first).write(to: manifests.appendingPathComponent(firstDigest.description))
        try Data(other).write(to: manifests.appendingPathComponent(otherDigest.description))
        let server = try DirectoryHTTPServer(root: root.path)
        defer { server.stop() }

        var options = FetchOptions()
        options.progress = false
        options.retries = 0
        let fetcher = Fetcher(store: Store(root: root.appendingPathComponent("store").path), options: options)
        let client = RegistryClient(registry: "127.0.0.1:\(server.port)", allowHTTP: true, fetcher: fetcher)

        let (byTag, _) = try client.manifest("app", reference: "v1", expected: nil)
        #expect(byTag.digest.matches(firstDigest))
        let (again, parsed) = try client.manifest("app", reference: firstDigest.description, expected: firstDigest)
        #expect(again.bytes == first)
        #expect(parsed.config?.digest.hex == String(repeating: "a", count: 64))
        #expect(server.requests == ["GET /v2/app/manifests/v1"])

        // Another digest, the same digest in another repository, and the tag again are asked for.
        _ = try client.manifest("app", reference: otherDigest.description, expected: otherDigest)
        #expect(throws: OCIError.self) { try client.manifest("other", reference: firstDigest.description, expected: firstDigest) }
        _ = try client.manifest("app", reference: "v1", expected: nil)
        #expect(server.requests == ["GET /v2/app/manifests/v1", "GET /v2/app/manifests/\(otherDigest)",
                                    "GET /v2/other/manifests/\(firstDigest)", "GET /v2/app/manifests/v1"])
    }
}
