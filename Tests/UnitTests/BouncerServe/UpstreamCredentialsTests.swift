import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerServe
import BouncerTestSupport

/// What the proxy sends upstream: pip's `user:password@` for every URL of
/// that origin, npm's per-registry settings, and nothing for anything else.
@Suite struct UpstreamCredentialsTests {
    func basic(_ pair: String) -> String { "Basic " + Data(pair.utf8).base64EncodedString() }

    @Test func anIndexURLsCredentialsGoToEveryURLOfItsOrigin() {
        #expect(URLParts.basicAuthorization("https://alice:s3cret%21@Pkgs.Example:8443/simple/")?.origin == "https://pkgs.example:8443")
        #expect(URLParts.basicAuthorization("https://alice:s3cret%21@pkgs.example/simple/")?.authorization == basic("alice:s3cret!"))
        #expect(URLParts.basicAuthorization("https://__token__@pkgs.example/simple/")?.authorization == basic("__token__:"))
        #expect(URLParts.basicAuthorization("https://pkgs.example/simple/?next=a@b") == nil)
        #expect(URLParts.basicAuthorization("/local/wheels") == nil)

        let credentials = UpstreamCredentials(npmSettings: ["//npm.example/:_authToken": "npm-token"], npmRegistries: [])
        credentials.add(urls: ["https://alice:pw@pkgs.example/simple/", "https://pkgs.example/other/", "/local/dir"])
        #expect(credentials.authorization(for: "https://pkgs.example/files/a.whl") == basic("alice:pw"))
        #expect(credentials.authorization(for: "https://PKGS.example/simple/a/") == basic("alice:pw"))
        #expect(credentials.authorization(for: "http://pkgs.example/files/a.whl") == nil)         // another scheme
        #expect(credentials.authorization(for: "https://pkgs.example:444/files/a.whl") == nil)    // another port
        #expect(credentials.authorization(for: "https://cdn.example/files/a.whl") == nil)
        #expect(credentials.authorization(for: "https://npm.example/left-pad") == "Bearer npm-token")
        // The first credentials for an origin stay.
        credentials.add(urls: ["https://mallory:x@pkgs.example/simple/"])
        #expect(credentials.authorization(for: "https://pkgs.example/files/a.whl") == basic("alice:pw"))
        #expect(UpstreamCredentials(npmSettings: ["registry": "https://npm.example/"], npmRegistries: []).isEmpty)
    }

    /// The shim's file: origins to values; anything else refused, naming the file and the entry.
    @Test func theCredentialsFileIsReadStrictly() throws {
        let dir = try BouncerProcess.temporaryDirectory("bouncer-credentials")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("c.json").path
        try #"{"https://Pkgs.Example:8443": "Basic YTpi"}"#.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try UpstreamCredentials.read(file) == ["https://pkgs.example:8443": "Basic YTpi"])
        for (text, needle) in [(#"["x"]"#, "$ is not an object"), (#"{"https://a/b": "x"}"#, "$[\"https://a/b\"]"),
                               (#"{"https://a": "x\ny"}"#, "$[\"https://a\"]"), (#"{"https://a": 1}"#, "$[\"https://a\"]"), ("{", "c.json")] {
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            #expect(throws: BouncerError.self) { try UpstreamCredentials.read(file) }
            do { _ = try UpstreamCredentials.read(file) } catch { #expect(error.description.contains(needle), "\(text): \(error.description)") }
        }
        #expect(throws: BouncerError.self) { try UpstreamCredentials.read(dir.appendingPathComponent("missing").path) }
    }
}
