import Foundation
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerIO
import BouncerPolicy

/// A `bouncer serve` of one install's own (design.md, "The verifying registry
/// proxy"): started on 127.0.0.1:0 over the index or registry the user's
/// command and configuration name, the real tool pointed at it through the
/// environment (so its children — pip's build isolation, npm's lifecycle
/// steps — go through it too), and stopped when the tool is done. What it
/// verified and refused comes back as events, for the shim to report.
struct EphemeralProxy {
    let pid: pid_t
    /// `http://127.0.0.1:PORT`.
    let base: String
    let directory: String

    /// One thing the proxy did: a verified artifact or a refusal.
    struct Event {
        enum Kind: String { case verified, refused, hidden }
        var kind: Kind
        var verified: Bool { kind == .verified }
        var url: String
        var package: String?
        var version: String?
        var message: String
        var hint: String?
        var exitCode: Int32
        var size: Int64
        var sha256: String
        var proofs: [String]
        var warnings: [String]
    }

    /// The `bouncer-serve` binary beside the running `bouncer`.
    static func serverBinary() throws(BouncerError) -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { throw .io("cannot tell where this bouncer binary is (/proc/self/exe)") }
        let own = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let server = Filesystem.split(own).directory + "/bouncer-serve"
        guard access(server, X_OK) == 0 else {
            throw BouncerError(.configuration, code: "serve-missing",
                               "\(server) is missing or not executable: the pip and npm shims run their installs through it")
        }
        return server
    }

    /// Starts the proxy with `arguments` (upstreams and the like) under the
    /// shim's policy and waits until it listens. Its own log goes to a file,
    /// shown only if it fails to start.
    static func start(_ arguments: [String], context: ShimContext, quiet: Bool = true) throws(BouncerError) -> EphemeralProxy {
        let server = try serverBinary()
        let directory = try Filesystem.makePrivateDirectory(prefix: "bouncer-serve")
        let ready = directory + "/ready", events = directory + "/events", log = directory + "/serve.log"
        let all = ["--listen", "127.0.0.1:0", "--policy", context.policy.path, "--ready-file", ready, "--events", events]
            + (quiet ? ["--quiet"] : []) + arguments
        let pid: pid_t
        do {
            pid = try HandOver.spawn(server, all, environment: context.environment.variables) { actions in
                posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
                posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
                posix_spawn_file_actions_addopen(&actions, 2, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            }
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        // Ready within seconds, or it said why it stopped.
        for _ in 0..<4000 {
            if let bytes = try? AtomicFile.read(ready, limit: 4096, code: "serve-ready"),
               let text = String(bytes: bytes, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty {
                return EphemeralProxy(pid: pid, base: text, directory: directory)
            }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                let said = (try? AtomicFile.read(log, limit: 64 << 10, code: "serve-log")).flatMap { $0 }.map { String(decoding: $0, as: UTF8.self) } ?? ""
                try? FileManager.default.removeItem(atPath: directory)
                throw BouncerError(.configuration, code: "serve-failed",
                                   "the verifying proxy did not start: " + said.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            usleep(5_000)
        }
        kill(pid, SIGKILL)
        _ = try? HandOver.wait(pid, server)
        try? FileManager.default.removeItem(atPath: directory)
        throw BouncerError(.transport, code: "serve-timeout", "the verifying proxy did not start within 20 s")
    }

    /// Asks the proxy to stop (it refuses new requests; `stop` then collects).
    func terminate() { kill(pid, SIGTERM) }

    /// Stops the proxy and returns what it did. SIGTERM lets it finish what is
    /// in flight; a request still waiting on its upstream a second later has no
    /// client left (the tool has exited), so it is killed: its store and lock
    /// writes are atomic renames, never half-written.
    func stop() -> [Event] {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        var waited = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            if waited == 200 { kill(pid, SIGKILL) }
            usleep(5_000)
            waited += 1
        }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        guard let bytes = (try? AtomicFile.read(directory + "/events", limit: 256 << 20, code: "serve-events")).flatMap({ $0 }) else { return [] }
        return bytes.split(separator: 0x0A).compactMap { line in
            guard let event = try? JSON.parse(Array(line)), case .string(let name)? = event["event"], let kind = Event.Kind(rawValue: name) else { return nil }
            func text(_ key: String) -> String? { if case .string(let value)? = event[key] { return value } else { return nil } }
            func number(_ key: String) -> Int64 { if case .integer(let value)? = event[key] { return value } else { return 0 } }
            func list(_ key: String) -> [String] {
                guard case .array(let items)? = event[key] else { return [] }
                return items.compactMap { if case .string(let value) = $0 { return value } else { return nil } }
            }
            return Event(kind: kind, url: text("url") ?? "", package: text("package"), version: text("version"),
                         message: text("message") ?? "", hint: text("hint"), exitCode: Int32(clamping: number("exit")),
                         size: number("size"), sha256: text("sha256") ?? "", proofs: list("proofs"), warnings: list("warnings"))
        }
    }

    /// What the proxy did, said as the shims always have: a line per verified
    /// artifact (unless quiet), every warning, and every refusal with its hint.
    /// Returns the exit status for the refusals (nil: none).
    static func report(_ events: [Event], tool: String, label: (Event) -> String, quiet: Bool, context: ShimContext) -> Int32? {
        var worst: Int32? = nil
        var said: Set<String> = []
        for event in events {
            let name = label(event)
            if event.verified {
                if !quiet {
                    let proofs = event.proofs.isEmpty ? "" : "; " + event.proofs.joined(separator: "; ")
                    ShimOutput.error("bouncer: \(name) <- \(event.url): \(event.size) bytes, sha256:\(event.sha256)\(proofs)")
                }
                for warning in event.warnings { ShimOutput.error("bouncer: WARNING: \(name): \(warning)") }
                if !event.warnings.isEmpty {
                    context.annotate("warning", "\(event.url): allowed with warnings: " + event.warnings.joined(separator: "; "))
                }
            } else if event.kind == .refused {
                // Several clients (pip and its retries) may ask for the same refused file: said once.
                guard said.insert(name + "\n" + event.message).inserted else { continue }
                ShimOutput.error("bouncer: \(tool): refused \(name) (\(event.url)): \(event.message)")
                context.annotateRefusal("refused \(name): \(event.message)")
                if let hint = event.hint { ShimOutput.error("hint: \(hint)") }
                let code = event.exitCode == 0 ? ErrorFamily.evidence.exitCode : event.exitCode
                if worst == nil || code == ErrorFamily.evidence.exitCode { worst = code }
            }
        }
        return worst
    }

    /// Why files were left off the pages, for a tool that then found nothing
    /// to install: a few per package, and how many more.
    static func reportHidden(_ events: [Event], tool: String) {
        var shown: [String: Int] = [:]
        var said: Set<String> = []
        for event in events where event.kind == .hidden && said.insert(event.url).inserted {
            let package = event.package ?? "?"
            shown[package, default: 0] += 1
            if shown[package, default: 0] <= 5 { ShimOutput.error("bouncer: \(tool): not offered: \(event.message)") }
        }
        for (package, count) in shown.sorted(by: { $0.key < $1.key }) where count > 5 {
            ShimOutput.error("bouncer: \(tool): ... and \(count - 5) more files of \(package) not offered")
        }
    }
}
