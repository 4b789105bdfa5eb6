import Foundation
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools

/// Runs the built `bouncer` binary (or any program) and captures its output,
/// for end-to-end tests that check what a person would see and the exit code.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: Data
    public let stderr: Data

    public var out: String { String(decoding: stdout, as: UTF8.self) }
    public var err: String { String(decoding: stderr, as: UTF8.self) }
}

public enum BouncerProcess {
    /// The `bouncer` executable next to the test bundle (.build/<config>/bouncer).
    public static var executable: String {
        if let override = ProcessInfo.processInfo.environment["BOUNCER_BIN"] { return override }
        var dir = Bundle.main.bundleURL
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("bouncer").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir.deleteLastPathComponent()
        }
        return Corpus.packageRoot.appendingPathComponent(".build/debug/bouncer").path
    }

    /// Runs `bouncer args...`.
    public static func run(_ arguments: [String], cwd: String? = nil, environment: [String: String] = [:],
                           stdin: Data? = nil) throws -> ProcessResult {
        try runProgram(executable, arguments, cwd: cwd, environment: environment, stdin: stdin)
    }

    /// Runs any program with extra environment variables; output is collected
    /// through temporary files so large outputs cannot dead-lock on a pipe.
    public static func runProgram(_ program: String, _ arguments: [String], cwd: String? = nil,
                                  environment: [String: String] = [:], stdin: Data? = nil) throws -> ProcessResult {
        try startProgram(program, arguments, cwd: cwd, environment: environment, stdin: stdin).wait()
    }

    /// Starts `bouncer args...` without waiting (several at once: `start` them all, then `wait` for each).
    /// `unsetting`: variables of the test's own environment the process does not get.
    public static func start(_ arguments: [String], cwd: String? = nil, environment: [String: String] = [:],
                             unsetting: [String] = []) throws -> RunningProcess {
        try startProgram(executable, arguments, cwd: cwd, environment: environment, unsetting: unsetting)
    }

    /// SIGPIPE ignored in the test process, once.
    private static let ignoreBrokenPipes: Void = { signal(SIGPIPE, SIG_IGN) }()

    /// Starts any program as `runProgram` would, without waiting for it.
    public static func startProgram(_ program: String, _ arguments: [String], cwd: String? = nil,
                                    environment: [String: String] = [:], stdin: Data? = nil,
                                    unsetting: [String] = []) throws -> RunningProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        var env = ProcessInfo.processInfo.environment
        for key in unsetting { env[key] = nil }
        for (key, value) in environment { env[key] = value }
        // Bouncer's freshness state is per call unless a test shares one on
        // purpose: tests never read or write the machine user's state.
        let tmp = FileManager.default.temporaryDirectory
        var privateState: URL? = nil
        if env["BOUNCER_STATE"] == nil {
            let state = tmp.appendingPathComponent("bouncer-state-\(UUID().uuidString)")
            env["BOUNCER_STATE"] = state.path
            privateState = state
        }
        process.environment = env
        let outURL = tmp.appendingPathComponent("bouncer-out-\(UUID().uuidString)")
        let errURL = tmp.appendingPathComponent("bouncer-err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let running = RunningProcess(process: process, outURL: outURL, errURL: errURL, privateState: privateState)
        let outHandle = try FileHandle(forWritingTo: outURL)
        let errHandle = try FileHandle(forWritingTo: errURL)
        running.handles = [outHandle, errHandle]
        process.standardOutput = outHandle
        process.standardError = errHandle
        let inPipe = Pipe()
        process.standardInput = stdin == nil ? FileHandle.nullDevice : inPipe
        try process.run()
        if let stdin {
            // A program that exits before reading all of its input closes the pipe: the write then
            // fails with EPIPE (as a shell's would), instead of SIGPIPE ending the whole test process.
            _ = ignoreBrokenPipes
            try? inPipe.fileHandleForWriting.write(contentsOf: stdin)
            try? inPipe.fileHandleForWriting.close()
        }
        return running
    }

    /// A fresh temporary directory, removed by the caller.
    public static func temporaryDirectory(_ prefix: String = "bouncer-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A fresh temporary directory for fixtures every test of the run shares
    /// (built once), removed when the test process exits.
    public static func runScopedDirectory(_ prefix: String) throws -> URL {
        let url = try temporaryDirectory(prefix)
        RunScopedDirectories.add(url.path)
        return url
    }
}

/// The run-scoped directories, removed by one exit handler.
private enum RunScopedDirectories {
    static let lock = NSLock()
    nonisolated(unsafe) static var paths: [String] = []
    nonisolated(unsafe) static var registered = false

    static func add(_ path: String) {
        lock.lock()
        defer { lock.unlock() }
        paths.append(path)
        if !registered {
            registered = true
            atexit { RunScopedDirectories.removeAll() }
        }
    }

    static func removeAll() {
        lock.lock()
        let all = paths
        paths = []
        lock.unlock()
        for path in all { try? FileManager.default.removeItem(atPath: path) }
    }
}

/// A program started by `BouncerProcess.start`: `wait()` collects its exit
/// status and output (once) and removes its temporary files.
public final class RunningProcess: @unchecked Sendable {
    let process: Process
    let outURL: URL
    let errURL: URL
    let privateState: URL?
    var handles: [FileHandle] = []

    init(process: Process, outURL: URL, errURL: URL, privateState: URL?) {
        self.process = process
        self.outURL = outURL
        self.errURL = errURL
        self.privateState = privateState
    }

    deinit { cleanup() }

    private func cleanup() {
        for handle in handles { try? handle.close() }
        handles = []
        try? FileManager.default.removeItem(at: outURL)
        try? FileManager.default.removeItem(at: errURL)
        if let privateState { try? FileManager.default.removeItem(at: privateState) }
    }

    public var processIdentifier: Int32 { process.processIdentifier }

    public func wait() throws -> ProcessResult {
        process.waitUntilExit()
        defer { cleanup() }
        for handle in handles { try handle.close() }
        handles = []
        return ProcessResult(status: process.terminationStatus,
                             stdout: try Data(contentsOf: outURL), stderr: try Data(contentsOf: errURL))
    }
}
