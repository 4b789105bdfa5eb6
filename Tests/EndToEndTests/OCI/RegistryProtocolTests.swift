import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import BouncerBase
import BouncerTestSupport

/// The distribution-API paths the plain loopback registry does not exercise:
/// Bearer-token authentication (docker-registry with `auth: token:` and a
/// token server on 127.0.0.1 that signs real JWTs, the registry checking
/// them) and the OCI referrers API (docker-registry 2.8 has none, so a
/// loopback HTTP server serves `/v2/<repo>/referrers/<digest>`).
@Suite(.blocking) struct RegistryProtocolTests {
    typealias Fixture = ContainerShimPodmanTests.Fixture

    /// The token endpoint of distribution's token authentication: anonymous
    /// GET /token?service=…&scope=repository:NAME:pull answers {"token": JWT},
    /// an ES256 JWT whose x5c certificate the registry trusts
    /// (`rootcertbundle`). Every token issued is appended to a file, so the
    /// test can look for it in Bouncer's output.
    static let tokenServer = #"""
        import base64, http.server, json, os, sys, time, urllib.parse
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, utils
        key = serialization.load_pem_private_key(open(sys.argv[1], 'rb').read(), None)
        der = x509.load_pem_x509_certificate(open(sys.argv[2], 'rb').read()).public_bytes(serialization.Encoding.DER)
        issued, port_file = sys.argv[3], sys.argv[4]
        def b64(data): return base64.urlsafe_b64encode(data).rstrip(b'=').decode()
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                url = urllib.parse.urlparse(self.path)
                if url.path != '/token':
                    self.send_response(404); self.end_headers(); return
                query = urllib.parse.parse_qs(url.query)
                access = []
                for scope in query.get('scope', []):
                    parts = scope.split(':')
                    kind, name, actions = parts[0], ':'.join(parts[1:-1]), parts[-1]
                    access.append({'type': kind, 'name': name, 'actions': [a for a in actions.split(',') if a == 'pull']})
                now = int(time.time())
                header = {'alg': 'ES256', 'typ': 'JWT', 'x5c': [base64.b64encode(der).decode()]}
                claims = {'iss': 'bouncer-test-issuer', 'sub': '', 'aud': query.get('service', [''])[0], 'exp': now + 300,
                          'nbf': now - 10, 'iat': now, 'jti': os.urandom(8).hex(), 'access': access}
                signing = b64(json.dumps(header).encode()) + '.' + b64(json.dumps(claims).encode())
                r, s = utils.decode_dss_signature(key.sign(signing.encode(), ec.ECDSA(hashes.SHA256())))
                token = signing + '.' + b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))
                with open(issued, 'a') as log: log.write(token + '\n')
                body = json.dumps({'token': token}).encode()
                self.send_response(200)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def log_message(self, *args): pass
        server = http.server.HTTPServer(('127.0.0.1', 0), Handler)
        with open(port_file + '.tmp', 'w') as f: f.write(str(server.server_address[1]))
        os.rename(port_file + '.tmp', port_file)
        server.serve_forever()
        """#

    static var tokenServerAvailable: Bool {
        (try? BouncerProcess.runProgram("/usr/bin/env", ["python3", "-c", "import cryptography"]).status) == 0
    }

    @Test(.enabled(if: LoopbackRegistry.isAvailable && FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") && tokenServerAvailable,
                   "needs docker-registry, curl, openssl and python3 with cryptography"))
    func bearerTokenChallengeIsAnsweredAndTheTokenNeverPrinted() throws {
        let f = try Fixture()
        // The token server's signing key and the certificate the registry trusts.
        let tokenKey = f.dir.appendingPathComponent("token-key.pem").path
        let tokenCert = f.dir.appendingPathComponent("token-cert.pem").path
        try Fixture.run("/usr/bin/openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                             "-keyout", tokenKey, "-out", tokenCert, "-days", "1", "-subj", "/CN=bouncer-test-token"])
        let script = f.dir.appendingPathComponent("token_server.py").path
        try Self.tokenServer.write(toFile: script, atomically: true, encoding: .utf8)
        let issued = f.dir.appendingPathComponent("issued-tokens").path
        let portFile = f.dir.appendingPathComponent("token-port").path
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = ["python3", script, tokenKey, tokenCert, issued, portFile]
        server.standardOutput = FileHandle.nullDevice
        try server.run()
        // SIGKILL: the test runner's blocked SIGTERM is inherited, and Python would never see it.
        func stopServer() { if server.isRunning { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() } }
        defer { stopServer() }
        var tokenPort = ""
        for _ in 0..<200 where tokenPort.isEmpty {
            tokenPort = (try? String(contentsOfFile: portFile, encoding: .utf8)) ?? ""
            if tokenPort.isEmpty { usleep(25_000) }
        }
        #expect(!tokenPort.isEmpty, "the token server did not start")

        // The premise of the referrers-API test below: docker-registry 2.8 has no referrers API (its
        // referrers come from the sha256-<hex> tag fallback, which VerifyImageCorpusTests exercises).
        let signedDigest = try #require(f.digests["e2e/signed"])
        let referrersAPI = try BouncerProcess.runProgram("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}",
                                                                            "http://\(f.registry.host)/v2/e2e/signed/referrers/\(signedDigest)"])
        #expect(referrersAPI.out == "404", "\(referrersAPI.out)")

        // The images were pushed to the open registry; this one serves the same storage behind token auth.
        let guarded = try LoopbackRegistry(sharing: f.registry, extraConfig: """
            auth:
              token:
                realm: http://127.0.0.1:\(tokenPort)/token
                service: bouncer-test
                issuer: bouncer-test-issuer
                rootcertbundle: \(tokenCert)
            """)
        defer { guarded.stop() }
        // It really demands a token: an anonymous read is challenged.
        let anonymous = try BouncerProcess.runProgram("/usr/bin/curl", ["-s", "-D", "-", "-o", "/dev/null",
                                                                         "http://\(guarded.host)/v2/e2e/signed/manifests/v1"])
        #expect(anonymous.out.hasPrefix("HTTP/1.1 401"), "\(anonymous.out)")
        #expect(anonymous.out.lowercased().contains("www-authenticate: bearer realm="), "\(anonymous.out)")

        let image = "\(guarded.host)/e2e/signed:v1"
        let verify = try BouncerProcess.run(["verify-image", image, "--key", f.publicKey, "--insecure-ignore-tlog", "--allow-http-registry", "--json"])
        #expect(verify.status == 0, "\(verify.out) \(verify.err)")
        #expect(verify.out.contains("\"sha256\":\"\(try #require(f.digests["e2e/signed"]).dropFirst(7))\""), "\(verify.out)")
        let tokens = ((try? String(contentsOfFile: issued, encoding: .utf8)) ?? "").split(whereSeparator: \.isNewline).map(String.init)
        #expect(!tokens.isEmpty, "no token was asked for")
        for token in tokens {
            #expect(!verify.out.contains(token) && !verify.err.contains(token), "a token was printed")
            // Not even its signature part (a partial leak).
            let signature = String(token.split(separator: ".").last ?? "")
            #expect(!verify.out.contains(signature) && !verify.err.contains(signature))
        }
        // A failure carries no token either: the wrong key refuses, and says only why.
        let refused = try BouncerProcess.run(["verify-image", "\(guarded.host)/e2e/otherkey:v1", "--key", f.publicKey, "--insecure-ignore-tlog",
                                              "--allow-http-registry"])
        #expect(refused.status == 1, "\(refused.out) \(refused.err)")
        let allTokens = ((try? String(contentsOfFile: issued, encoding: .utf8)) ?? "").split(whereSeparator: \.isNewline).map(String.init)
        #expect(allTokens.count > tokens.count)
        for token in allTokens { #expect(!refused.out.contains(token) && !refused.err.contains(token)) }

        // Without the token server the challenge cannot be answered: a transport failure (3), named as auth.
        stopServer()
        let noServer = try BouncerProcess.run(["verify-image", image, "--key", f.publicKey, "--insecure-ignore-tlog", "--allow-http-registry", "--json"])
        #expect(noServer.status == 3, "\(noServer.out) \(noServer.err)")
        #expect((noServer.out + noServer.err).contains("oci-auth") || (noServer.out + noServer.err).contains("authentication failed"),
                "\(noServer.out) \(noServer.err)")
    }

    /// A corpus case signed with cosign 3 (a Sigstore bundle referrer) served
    /// through the referrers API only: no `.sig` tag, no tag-fallback index.
    @Test(.enabled(if: Corpus.isPresent, "needs ../shared/corpus (absent here)"))
    func referrersAPIIsReadAndItsAbsenceRefuses() throws {
        let root = try #require(Corpus.rootOrNotice("RegistryProtocolTests"))
        let caseDir = root.appendingPathComponent("oci/dat-ecr-cosign3-sign-referrers")
        let info = try JSON.parse(Array(try Data(contentsOf: caseDir.appendingPathComponent("case.json"))))
        guard case .string(let digest)? = info["manifest_digest"], case .string(let san)? = info["identity"]?["san"],
              case .string(let issuer)? = info["identity"]?["issuer"] else {
            Issue.record("case.json lacks manifest_digest or identity")
            return
        }
        let derived = caseDir.appendingPathComponent("derived")
        let referrer = Array(try Data(contentsOf: derived.appendingPathComponent("referrer-manifest.json")))
        let referrerDigest = "sha256:" + Hasher.digest(referrer, .sha256).hex
        let bundle = Array(try Data(contentsOf: derived.appendingPathComponent("bundle.sigstore.json")))
        let bundleDigest = "sha256:" + Hasher.digest(bundle, .sha256).hex
        let listing = Array(try Data(contentsOf: derived.appendingPathComponent("referrers-response.json")))
        #expect(String(decoding: listing, as: UTF8.self).contains(referrerDigest), "the API answer lists the referrer")

        // The layout a registry with the referrers API serves, as files.
        let serveRoot = try BouncerProcess.temporaryDirectory("bouncer-referrers")
        defer { try? FileManager.default.removeItem(at: serveRoot) }
        let repo = serveRoot.appendingPathComponent("v2/test/app")
        for sub in ["manifests", "blobs", "referrers"] {
            try FileManager.default.createDirectory(at: repo.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try Data(referrer).write(to: repo.appendingPathComponent("manifests/\(referrerDigest)"))
        try Data(bundle).write(to: repo.appendingPathComponent("blobs/\(bundleDigest)"))
        let api = repo.appendingPathComponent("referrers/\(digest)")
        try Data(listing).write(to: api)
        let server = try DirectoryHTTPServer(root: serveRoot.path)
        defer { server.stop() }

        let arguments = ["verify-image", "127.0.0.1:\(server.port)/test/app@\(digest)", "--allow-http-registry", "--json",
                         "--trusted-root", caseDir.appendingPathComponent("trust/public-good.trusted_root.json").path,
                         "--certificate-identity", san, "--certificate-oidc-issuer", issuer]
        let good = try BouncerProcess.run(arguments)
        #expect(good.status == 0, "\(good.out) \(good.err)")
        #expect(good.out.contains("\"verdict\":\"pass\""), "\(good.out)")
        #expect(server.requests.contains("GET /v2/test/app/referrers/\(digest)"), "\(server.requests)")
        // The tag fallback was looked for too, and is absent here: the API alone carried the bundle.
        #expect(server.requests.contains("GET /v2/test/app/manifests/sha256-\(digest.dropFirst(7))"), "\(server.requests)")

        // Without the API's answer nothing else names the bundle: refused.
        try FileManager.default.removeItem(at: api)
        let none = try BouncerProcess.run(arguments)
        #expect(none.status == 1, "\(none.out) \(none.err)")
        #expect(none.out.contains("\"verdict\":\"fail\""), "\(none.out)")
    }
}
