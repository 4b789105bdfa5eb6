import Foundation
import BouncerBase

/// Debian's `docker-registry` (the CNCF distribution registry) on 127.0.0.1,
/// with a config file and storage in a temporary directory, for tests. It
/// speaks plain http, so clients need --allow-http-registry / --tls-verify=false.
/// Objects are pushed with the curl program (not Bouncer's client), so a
/// test's registry content never depends on the code under test.
public final class LoopbackRegistry: @unchecked Sendable {
    public static let program = "/usr/bin/docker-registry"
    public static var isAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: program) && FileManager.default.isExecutableFile(atPath: "/usr/bin/curl")
    }

    public let directory: URL
    public let port: Int
    private let process: Process
    /// `127.0.0.1:PORT`
    public var host: String { "127.0.0.1:\(port)" }
    var base: String { "http://\(host)" }

    /// `sharing`: serve another registry's storage (pushed there, read here);
    /// `extraConfig`: more top-level YAML (an `auth:` block, say). A registry
    /// that answers `/v2/` with 401 (its auth challenge) is up too.
    public init(sharing other: LoopbackRegistry? = nil, extraConfig: String = "") throws {
        directory = try BouncerProcess.temporaryDirectory("bouncer-registry")
        let data = (other?.directory ?? directory).appendingPathComponent("data").path
        var lastError = "no attempt"
        for _ in 0..<5 {
            let port = try Self.freePort()
            let config = """
                version: 0.1
                log:
                  level: error
                storage:
                  filesystem:
                    rootdirectory: \(data)
                  delete:
                    enabled: true
                http:
                  addr: 127.0.0.1:\(port)
                \(extraConfig)
                """
            let configURL = directory.appendingPathComponent("config.yml")
            try config.write(to: configURL, atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.program)
            process.arguments = ["serve", configURL.path]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            for _ in 0..<100 {
                if let result = try? BouncerProcess.runProgram("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/v2/"]),
                   result.out == "200" || result.out == "401" {
                    self.port = port
                    self.process = process
                    return
                }
                if !process.isRunning { break }
                usleep(50_000)
            }
            lastError = "docker-registry did not answer on 127.0.0.1:\(port)"
            if process.isRunning { process.terminate(); process.waitUntilExit() }
        }
        throw BouncerError.io(lastError)
    }

    deinit { stop() }

    public func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    static func freePort() throws -> Int { Int(try LoopbackListener.freePort()) }

    // MARK: - Pushing (curl)

    /// Pushes a blob (monolithic upload); returns its digest `sha256:<hex>`.
    @discardableResult
    public func pushBlob(_ repository: String, _ bytes: [UInt8]) throws -> String {
        let digest = "sha256:" + Hasher.digest(bytes, .sha256).hex
        let file = directory.appendingPathComponent("upload-\(UUID().uuidString)")
        try Data(bytes).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let start = try BouncerProcess.runProgram("/usr/bin/curl", ["-s", "-D", "-", "-o", "/dev/null", "-X", "POST", "\(base)/v2/\(repository)/blobs/uploads/"])
        guard let line = start.out.split(whereSeparator: \.isNewline).first(where: { $0.lowercased().hasPrefix("location:") }) else {
            throw BouncerError.io("registry: no upload location for \(repository): \(start.out)")
        }
        var location = line.dropFirst("location:".count).trimmingCharacters(in: .whitespaces)
        if location.hasPrefix("/") { location = base + location }
        location += (location.contains("?") ? "&" : "?") + "digest=" + digest
        let put = try BouncerProcess.runProgram("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT",
                                                                  "-H", "Content-Type: application/octet-stream", "--data-binary", "@" + file.path, location])
        guard put.out == "201" else { throw BouncerError.io("registry: blob upload to \(repository) answered \(put.out)") }
        return digest
    }

    /// Pushes manifest bytes exactly as given under a tag or digest; returns their digest.
    @discardableResult
    public func pushManifest(_ repository: String, reference: String? = nil, _ bytes: [UInt8], mediaType: String) throws -> String {
        let digest = "sha256:" + Hasher.digest(bytes, .sha256).hex
        let file = directory.appendingPathComponent("manifest-\(UUID().uuidString)")
        try Data(bytes).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let put = try BouncerProcess.runProgram("/usr/bin/curl", ["-s", "-o", "/dev/stderr", "-w", "%{http_code}", "-X", "PUT",
                                                                  "-H", "Content-Type: \(mediaType)", "--data-binary", "@" + file.path,
                                                                  "\(base)/v2/\(repository)/manifests/\(reference ?? digest)"])
        guard put.out == "201" else { throw BouncerError.io("registry: manifest push to \(repository):\(reference ?? digest) answered \(put.out): \(put.err)") }
        return digest
    }

    /// cosign's `.sig` layout: an OCI manifest whose config is `{}` and whose
    /// layers are simple-signing payloads with the signature annotations,
    /// tagged `sha256-<hex>.sig` for the signed digest.
    public func pushCosignSignatures(_ repository: String, signedDigest: String, layers: [(payload: [UInt8], mediaType: String, annotations: [String: String])]) throws {
        let config = Array("{}".utf8)
        let configDigest = try pushBlob(repository, config)
        var descriptors: [String] = []
        for layer in layers {
            let digest = try pushBlob(repository, layer.payload)
            let annotations = layer.annotations.keys.sorted().map { "\(Self.jsonString($0)):\(Self.jsonString(layer.annotations[$0] ?? ""))" }.joined(separator: ",")
            descriptors.append("{\"mediaType\":\(Self.jsonString(layer.mediaType)),\"size\":\(layer.payload.count),\"digest\":\"\(digest)\",\"annotations\":{\(annotations)}}")
        }
        let manifest = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"size\":2,\"digest\":\"\(configDigest)\"},\"layers\":[\(descriptors.joined(separator: ","))]}"
        let hex = signedDigest.hasPrefix("sha256:") ? String(signedDigest.dropFirst(7)) : signedDigest
        try pushManifest(repository, reference: "sha256-\(hex).sig", Array(manifest.utf8), mediaType: "application/vnd.oci.image.manifest.v1+json")
    }

    /// A JSON string literal (test-side writer, independent of Bouncer's encoder).
    public static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
