import Foundation
import Testing
@testable import BouncerIO
import BouncerTestSupport

/// A host that admits clients by certificate (mutual TLS): real libcurl and
/// OpenSSL against a loopback HTTPS server that requires a certificate from a
/// client CA of its own, both made by `openssl` at test time.
@Suite struct ClientCertificateTests {
    func fetch(_ server: LoopbackTLSServer, _ environment: [String: String]) -> Result<FetchedArtifact, FetchError> {
        var options = FetchOptions(environment: environment.merging(["BOUNCER_CA_BUNDLE": server.certificate]) { $1 })
        options.progress = false
        options.retries = 0
        let store = Store(root: server.directory.appendingPathComponent("store").path)
        let result = Fetcher(store: store, options: options).fetch(FetchRequest(url: server.url("/files/file.txt")))
        if case .success(let fetched) = result { unlink(fetched.path) }
        return result
    }

    @Test func theCertificateInBouncerClientCertIsPresented() throws {
        let server = try LoopbackTLSServer(requiringClientCertificates: true)
        defer { server.stop() }
        try server.register("file.txt", Array("admitted by certificate\n".utf8))

        guard case .failure(let refused) = fetch(server, [:]) else {
            Issue.record("the server admitted a client without a certificate")
            return
        }
        #expect(refused.description.contains(server.url("/files/file.txt")), "\(refused)")
        // When the server's alert arrives before it closes (not always: it may close first), it is explained.
        if refused.description.contains("alert certificate required") {
            #expect(refused.description.contains("set BOUNCER_CLIENT_CERT"), "the error says how to give a certificate: \(refused)")
        }

        // pip's form: the key in the certificate's file.
        let bundled = fetch(server, ["BOUNCER_CLIENT_CERT": server.clientBundle])
        #expect((try? bundled.get())?.size == 24, "\(bundled)")
        // The key in a file of its own.
        let separate = fetch(server, ["BOUNCER_CLIENT_CERT": server.clientCertificate, "BOUNCER_CLIENT_KEY": server.clientKey])
        #expect((try? separate.get())?.size == 24, "\(separate)")
        // A certificate without its key cannot be used: the error says which file.
        guard case .failure(let keyless) = fetch(server, ["BOUNCER_CLIENT_CERT": server.clientCertificate]) else {
            Issue.record("a certificate without its private key was accepted")
            return
        }
        #expect(keyless.description.contains("client.pem") || keyless.description.contains("private key"), "\(keyless)")
        guard case .failure(let missing) = fetch(server, ["BOUNCER_CLIENT_CERT": server.directory.appendingPathComponent("absent.pem").path]) else {
            Issue.record("a missing certificate file went unnoticed")
            return
        }
        #expect(missing.description.contains("absent.pem"), "\(missing)")
    }
}
