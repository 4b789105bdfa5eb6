import Foundation

/// A real forward HTTP proxy on 127.0.0.1 (Python's `http.server` relaying
/// plain-HTTP GETs with `urllib`), standing in for a company's proxy: it
/// relays what it is sent and records, per request, the client's
/// `User-Agent` and the absolute URL it was asked for.
public final class ForwardProxy: @unchecked Sendable {
    public let port: UInt16
    private let process: Process
    private let log: URL

    static let script = """
        import http.server, sys, urllib.error, urllib.request
        log, ready = sys.argv[1], sys.argv[2]
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        class Relay(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"
            def do_GET(self):
                with open(log, "a") as f:
                    f.write(f"{self.headers.get('User-Agent', '')}\\t{self.path}\\n")
                skip = {"host", "proxy-connection", "connection", "keep-alive"}
                request = urllib.request.Request(self.path, headers={k: v for k, v in self.headers.items() if k.lower() not in skip})
                try:
                    with direct.open(request, timeout=30) as answer:
                        status, headers, body = answer.status, answer.getheaders(), answer.read()
                except urllib.error.HTTPError as error:
                    status, headers, body = error.code, list(error.headers.items()), error.read()
                self.send_response(status)
                for key, value in headers:
                    if key.lower() not in {"transfer-encoding", "connection", "content-length"}:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def log_message(self, *args):
                pass
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Relay)
        with open(ready + ".tmp", "w") as f:
            f.write(str(server.server_address[1]))
        import os; os.rename(ready + ".tmp", ready)
        server.serve_forever()
        """

    /// Starts the proxy; its files live in `directory`.
    public init(directory: URL) throws {
        log = directory.appendingPathComponent("forward-proxy.log")
        let ready = directory.appendingPathComponent("forward-proxy.port")
        guard FileManager.default.createFile(atPath: log.path, contents: nil) else { throw NotStarted() }
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script, log.path, ready.path]
        process.environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var port: UInt16? = nil
        for _ in 0..<200 {
            if let text = try? String(contentsOf: ready, encoding: .utf8), let value = UInt16(text) { port = value; break }
            usleep(50_000)
        }
        guard let port else {
            kill(process.processIdentifier, SIGKILL)
            throw NotStarted()
        }
        self.port = port
    }

    public struct NotStarted: Error, CustomStringConvertible {
        public var description: String { "the forward proxy (python3 http.server) did not start" }
    }

    deinit { stop() }

    public var url: String { "http://127.0.0.1:\(port)" }

    /// (User-Agent, absolute URL) of every request relayed so far.
    public var requests: [(userAgent: String, url: String)] {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { line in
            let fields = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
            return (String(fields.first ?? ""), fields.count > 1 ? String(fields[1]) : "")
        }
    }

    public func stop() {
        if process.isRunning {
            // SIGKILL: a test process may run with SIGTERM blocked, and its children inherit that.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
