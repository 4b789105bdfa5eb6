import Foundation

/// Fresh Python virtual environments for the tests, each with its own pip.
///
/// `python3 -m venv` spends ~3 s of CPU installing pip through ensurepip, and
/// the suite needs dozens of venvs: that was the largest single cost of a
/// test run. The first venv of a test process is made by `python3 -m venv`
/// as a template; every venv after it is a copy of that template, with the
/// absolute paths venv wrote (the scripts' `#!` lines, `activate`,
/// `pyvenv.cfg`) changed to the copy's own. The result is what `venv` would
/// have made there: pip is inside it, installs land in it, and nothing is
/// shared between two venvs.
public enum PythonVenv {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var template: URL?

    /// Makes a venv at `directory` (which must not exist) and returns its python.
    /// `systemSitePackages`: as `venv --system-site-packages`, which only
    /// changes one line of `pyvenv.cfg`.
    @discardableResult
    public static func make(at directory: URL, systemSitePackages: Bool = false) throws -> String {
        let source = try templateDirectory()
        let copied = try BouncerProcess.runProgram("/bin/cp", ["-a", source.path, directory.path])
        guard copied.status == 0 else { throw Failure(description: "copying the template venv failed: \(copied.err)") }
        for file in try paths(in: directory) {
            try rewrite(file, from: source.path, to: directory.path)
        }
        if systemSitePackages {
            let changed = try rewrite(directory.appendingPathComponent("pyvenv.cfg"),
                                      from: "include-system-site-packages = false", to: "include-system-site-packages = true")
            guard changed else { throw Failure(description: "the template's pyvenv.cfg has no include-system-site-packages line") }
        }
        return directory.appendingPathComponent("bin/python").path
    }

    /// The files venv writes its own location into.
    private static func paths(in venv: URL) throws -> [URL] {
        let bin = venv.appendingPathComponent("bin")
        let names = try FileManager.default.contentsOfDirectory(atPath: bin.path)
        return names.map { bin.appendingPathComponent($0) } + [venv.appendingPathComponent("pyvenv.cfg")]
    }

    /// Replaces `old` with `new` in a regular file; false when it was not there.
    @discardableResult
    private static func rewrite(_ file: URL, from old: String, to new: String) throws -> Bool {
        // bin/python* are links to the interpreter: leave them alone.
        let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        guard attributes[.type] as? FileAttributeType == .typeRegular else { return false }
        let text = String(decoding: try Data(contentsOf: file), as: UTF8.self)
        guard text.contains(old) else { return false }
        try Data(text.replacingOccurrences(of: old, with: new).utf8).write(to: file)
        return true
    }

    /// The process's template venv, made once (tests ask for venvs in parallel).
    private static func templateDirectory() throws -> URL {
        lock.lock()
        defer { lock.unlock() }
        if let template { return template }
        // A name no copy's path contains, so rewriting it cannot touch anything else.
        let made = FileManager.default.temporaryDirectory
            .appendingPathComponent("bouncer-venv-template-\(getpid())-\(UUID().uuidString)")
        let result = try BouncerProcess.runProgram("/usr/bin/env", ["python3", "-m", "venv", made.path])
        guard result.status == 0 else { throw Failure(description: "python3 -m venv failed: \(result.err)") }
        template = made
        atexit { PythonVenv.removeTemplate() }
        return made
    }

    private static func removeTemplate() {
        if let template { try? FileManager.default.removeItem(at: template) }
    }
}
