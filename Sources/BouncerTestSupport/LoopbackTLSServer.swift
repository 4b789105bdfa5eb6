import Foundation
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools

/// An HTTPS server on 127.0.0.1 with a certificate made at test time by the
/// real `openssl` (Python's ssl module serves it). Routes: `/files/NAME`
/// serves `files/NAME` under its directory; `/to?URL` redirects to URL;
/// `/tree/PATH` serves `tree/PATH` (a folder's `index.html`), for an index.
/// Made `requiringClientCertificates`, it admits only clients presenting a
/// certificate from a client CA of its own (mutual TLS), made by `openssl`
/// too: `clientCertificate` and `clientKey`, or both in `clientBundle`.
public final class LoopbackTLSServer {
    public let directory: URL
    public let certificate: String
    public let clientCertificate: String
    public let clientKey: String
    /// The client certificate and its key in one PEM file (pip's `--client-cert`).
    public let clientBundle: String
    public private(set) var port: UInt16 = 0
    private let process = Process()

    static let script = """
        import http.server, os, ssl, sys
        root, cert, key, client_ca = sys.argv[1:5]
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path.startswith("/to?"):
                    self.send_response(302); self.send_header("Location", self.path[4:])
                    self.send_header("Content-Length", "0"); self.end_headers(); return
                if self.path.startswith("/tree/"):
                    path = os.path.realpath(os.path.join(root, "tree", self.path[6:].split("?")[0].split("#")[0]))
                    if os.path.isdir(path): path = os.path.join(path, "index.html")
                    if not path.startswith(os.path.realpath(os.path.join(root, "tree")) + "/") or not os.path.isfile(path):
                        self.send_error(404); return
                else:
                    path = os.path.join(root, "files", os.path.basename(self.path))
                if not self.path.startswith(("/files/", "/tree/")) or not os.path.isfile(path):
                    self.send_error(404); return
                data = open(path, "rb").read()
                self.send_response(200); self.send_header("Content-Length", str(len(data)))
                self.end_headers(); self.wfile.write(data)
            def log_message(self, *a): pass
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        if client_ca:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(client_ca)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """

    public init(requiringClientCertificates: Bool = false) throws {
        directory = try BouncerProcess.temporaryDirectory("bouncer-tls")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("files"), withIntermediateDirectories: true)
        certificate = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let made = try BouncerProcess.runProgram("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", key, "-out", certificate])
        guard made.status == 0 else { throw ServerError("openssl req failed: \(made.err)") }
        clientCertificate = directory.appendingPathComponent("client.pem").path
        clientKey = directory.appendingPathComponent("client-key.pem").path
        clientBundle = directory.appendingPathComponent("client-bundle.pem").path
        var clientCA = ""
        if requiringClientCertificates {
            clientCA = directory.appendingPathComponent("client-ca.pem").path
            let caKey = directory.appendingPathComponent("client-ca-key.pem").path
            let request = directory.appendingPathComponent("client.csr").path
            for arguments in [
                ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                 "-subj", "/CN=Bouncer test client CA", "-keyout", caKey, "-out", clientCA],
                ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-subj", "/CN=bouncer-test-client", "-keyout", clientKey, "-out", request],
                ["x509", "-req", "-in", request, "-CA", clientCA, "-CAkey", caKey, "-CAcreateserial", "-days", "2",
                 "-extfile", "/dev/stdin", "-out", clientCertificate],
            ] {
                let step = try BouncerProcess.runProgram("/usr/bin/openssl", arguments, stdin: Data("extendedKeyUsage=clientAuth\n".utf8))
                guard step.status == 0 else { throw ServerError("openssl \(arguments[0]) failed: \(step.err)") }
            }
            let bundle = try Data(contentsOf: URL(fileURLWithPath: clientCertificate)) + Data(contentsOf: URL(fileURLWithPath: clientKey))
            try bundle.write(to: URL(fileURLWithPath: clientBundle))
        }
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script, directory.path, certificate, key, clientCA]
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while let byte = try output.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data([0x0a]) {
            line += byte
        }
        guard let port = UInt16(String(decoding: line, as: UTF8.self)) else {
            kill(process.processIdentifier, SIGKILL)
            throw ServerError("the TLS test server did not start")
        }
        self.port = port
    }

    public func url(_ path: String) -> String { "https://127.0.0.1:\(port)\(path)" }

    /// Where `/tree/PATH` is served from.
    public var tree: URL { directory.appendingPathComponent("tree") }

    public func register(_ name: String, _ body: [UInt8]) throws {
        try Data(body).write(to: directory.appendingPathComponent("files/\(name)"))
    }

    public func stop() {
        // SIGKILL: the test runner's threads block SIGTERM and the child
        // inherits that mask, so terminate() would never end it.
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}
