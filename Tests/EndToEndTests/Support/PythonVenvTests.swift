import Foundation
import Testing
import BouncerTestSupport

/// The tests' venvs are copies of one template: each must be a venv of its
/// own, as `python3 -m venv` would have made it there.
@Suite(.blocking) struct PythonVenvTests {
    @Test func eachCopyIsItsOwnVenvWithItsOwnPip() throws {
        let root = try BouncerProcess.temporaryDirectory("venv-copies")
        defer { try? FileManager.default.removeItem(at: root) }
        let first = root.appendingPathComponent("first"), second = root.appendingPathComponent("second")
        for venv in [first, second] { try PythonVenv.make(at: venv) }
        for venv in [first, second] {
            // Run through the pip script itself, so its #! line must name this venv's python.
            let pip = try BouncerProcess.runProgram(venv.appendingPathComponent("bin/pip").path, ["--version"])
            #expect(pip.status == 0, "\(pip.err)")
            #expect(pip.out.contains(venv.path + "/lib/"), "pip runs from elsewhere: \(pip.out)")
            let prefix = try BouncerProcess.runProgram(venv.appendingPathComponent("bin/python").path,
                                                       ["-c", "import sys; print(sys.prefix)"])
            #expect(prefix.out.trimmingCharacters(in: .whitespacesAndNewlines) == venv.path)
            let config = try String(contentsOf: venv.appendingPathComponent("pyvenv.cfg"), encoding: .utf8)
            #expect(config.contains("include-system-site-packages = false"))
            #expect(!config.contains("bouncer-venv-template"), "pyvenv.cfg still names the template: \(config)")
        }
        // A file written into one venv's site-packages is not in the other's.
        let marker = try BouncerProcess.runProgram(first.appendingPathComponent("bin/python").path,
                                                   ["-c", "import sysconfig, pathlib; pathlib.Path(sysconfig.get_paths()['purelib'], 'marker_only_here.py').write_text('')"])
        #expect(marker.status == 0, "\(marker.err)")
        let other = try BouncerProcess.runProgram(second.appendingPathComponent("bin/python").path, ["-c", "import marker_only_here"])
        #expect(other.status != 0)
        let own = try BouncerProcess.runProgram(first.appendingPathComponent("bin/python").path, ["-c", "import marker_only_here"])
        #expect(own.status == 0, "\(own.err)")
    }

    @Test func systemSitePackagesIsTheOneLineVenvWouldChange() throws {
        let root = try BouncerProcess.temporaryDirectory("venv-system")
        defer { try? FileManager.default.removeItem(at: root) }
        // Whether the interpreter's own site-packages is on sys.path.
        let probe = "import sys; print(any(p.startswith(sys.base_prefix + '/') and p.endswith('site-packages') for p in sys.path))"
        for shared in [true, false] {
            let python = try PythonVenv.make(at: root.appendingPathComponent("v-\(shared)"), systemSitePackages: shared)
            let seen = try BouncerProcess.runProgram(python, ["-c", probe])
            #expect(seen.status == 0, "\(seen.err)")
            #expect(seen.out.trimmingCharacters(in: .whitespacesAndNewlines) == (shared ? "True" : "False"))
        }
    }
}
