import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerIO
import BouncerTestSupport

/// A private registry's credentials (`FetchOptions.authorization`): sent with
/// the URL they are for, and never on to another host or port after a
/// redirect (a registry that sends its tarballs to a CDN must not hand the
/// CDN the token).
@Suite struct AuthorizationTests {
    @Test func credentialsGoToTheirURLAndNotThroughARedirect() throws {
        let root = try BouncerProcess.temporaryDirectory("bouncer-auth")
        defer { try? FileManager.default.removeItem(at: root) }
        try Data("tarball\n".utf8).write(to: root.appendingPathComponent("lib.tgz"))
        let target = try DirectoryHTTPServer(root: root.path)
        defer { target.stop() }
        let registry = try MisbehavingServer()
        defer { registry.stop() }
        registry.route("/lib.tgz", [.redirect(target.baseURL + "/lib.tgz")])

        var options = FetchOptions()
        options.progress = false
        options.retries = 0
        let asked = Locked<[String]>([])
        options.authorization = { url in
            asked.withLock { $0.append(url) }
            return "Bearer registry-token"
        }
        let fetcher = Fetcher(store: Store(root: root.appendingPathComponent("store").path), options: options)

        // Asked directly, the server gets the credentials.
        guard case .success(let direct) = fetcher.fetch(FetchRequest(url: target.baseURL + "/lib.tgz")) else {
            Issue.record("the direct fetch failed")
            return
        }
        fetcher.discard(direct)
        #expect(target.authorizations == ["Bearer registry-token"])

        // Sent there by the registry's redirect (another port), it gets none.
        guard case .success(let redirected) = fetcher.fetch(FetchRequest(url: registry.url("/lib.tgz"))) else {
            Issue.record("the redirected fetch failed")
            return
        }
        fetcher.discard(redirected)
        #expect(redirected.size == 8)
        #expect(target.authorizations == ["Bearer registry-token", nil], "\(target.authorizations)")
        #expect(asked.value == [target.baseURL + "/lib.tgz", registry.url("/lib.tgz")])

        // A request's own Authorization header wins (an OCI registry's token).
        var own = FetchRequest(url: target.baseURL + "/lib.tgz")
        own.headers = ["Authorization: Bearer its-own"]
        guard case .success(let third) = fetcher.fetch(own) else {
            Issue.record("the fetch with its own header failed")
            return
        }
        fetcher.discard(third)
        #expect(target.authorizations.last == "Bearer its-own")
    }
}
