import Foundation
import Testing
import BouncerTestSupport
@testable import BouncerIO
@testable import BouncerPolicy

/// What a wheel installs that Python runs at every start, wherever in
/// site-packages it lands (a red-team pass installed each of the first four
/// past the old check: the data scheme's site-packages, `./`, sitecustomize).
@Suite struct StartupHookTests {
    @Test func hooksAnywhereInSitePackages() {
        for path in ["x.pth", "./dothook.pth", "a-1.0.data/data/lib/python3.11/site-packages/x.pth", "sitecustomize.py", "usercustomize.py",
                     "sitecustomize/__init__.py", "sitecustomize.cpython-311-x86_64-linux-gnu.so", "a-1.0.data/purelib/x.PTH",
                     "a-1.0.data/platlib/sitecustomize.py", "a-1.0.data/data/lib/python3/dist-packages/usercustomize.py", "./x/../y.pth",
                     "_distutils_hack/__init__.py", "_virtualenv.py", "__editable___evil_1_0_finder.py"] {
            #expect(ArtifactInspection.isStartupHook(path), "\(path)")
        }
        for path in ["pkg/x.pth", "pkg/sitecustomize.py", "a-1.0.data/scripts/x.pth", "a-1.0.data/data/share/x.pth",
                     "a-1.0.data/headers/sitecustomize.py", "a-1.0.dist-info/RECORD", "sitecustomize-1.0.dist-info/METADATA", "mod.py"] {
            #expect(!ArtifactInspection.isStartupHook(path), "\(path)")
        }
    }

    /// Files of another distribution's module the tools import (a red-team pass
    /// replaced pip/__init__.py, which every later pip ran); the owner ships its own.
    @Test func theToolsOwnModulesAreNotAWheelsToReplace() {
        for path in ["pip/__init__.py", "a-1.0.data/purelib/pip/_internal/cli/main.py", "setuptools/__init__.py", "pkg_resources/__init__.py",
                     "uv/__main__.py", "pipx/main.py", "wheel/cli.py", "./pip/x.py", "pip.py", "a-1.0.data/data/lib/python3.11/site-packages/pip/__init__.py"] {
            #expect(ArtifactInspection.replacesAToolModule(path, package: "evil"), "\(path)")
        }
        for path in ["pipx_extra/x.py", "mypkg/pip/__init__.py", "pip-24.0.dist-info/METADATA", "setuptools_scm/__init__.py", "a-1.0.data/scripts/pip.py"] {
            #expect(!ArtifactInspection.replacesAToolModule(path, package: "evil"), "\(path)")
        }
        #expect(!ArtifactInspection.replacesAToolModule("pip/__init__.py", package: "pip"))
        #expect(!ArtifactInspection.replacesAToolModule("pkg_resources/__init__.py", package: "setuptools"))
        #expect(ArtifactInspection.replacesAToolModule("pip/__init__.py", package: "setuptools"))
        // Round 2: what pip and pipx import when present, and `.data/data/` at a --target's top level.
        for path in ["urllib3_secure_extra.py", "_manylinux.py", "userpath/__init__.py", "evil-1.0.data/data/pip/__init__.py"] {
            #expect(ArtifactInspection.replacesAToolModule(path, package: "evil"), "\(path)")
        }
        #expect(!ArtifactInspection.replacesAToolModule("userpath/__init__.py", package: "userpath"))
        #expect(ArtifactInspection.isStartupHook("evil-1.0.data/data/sitecustomize.py"))
        #expect(ArtifactInspection.isStartupHook("evil-1.0.data/data/x.pth"))
        #expect(!ArtifactInspection.isStartupHook("evil-1.0.data/data/share/x.pth"))
        // The home scheme's library, which --target moves to its top level (round 3).
        #expect(ArtifactInspection.isStartupHook("evil-1.0.data/data/lib/python/sitecustomize.py"))
        #expect(ArtifactInspection.replacesAToolModule("evil-1.0.data/data/lib64/python/pip/__init__.py", package: "evil"))
    }

    /// Top-level modules named like the standard library's, or like one it or pip
    /// imports when present: a red-team pass ran msvcrt.py (subprocess) and org/
    /// (copy, pickle) from a wheel at nearly every later Python start. A backport's
    /// own distribution may ship its module.
    @Test func standardModulesAreNotAWheelsToShadow() {
        for path in ["msvcrt.py", "winreg.py", "_winapi.py", "org/python/core.py", "org/__init__.py", "socks.py", "attr/__init__.py",
                     "cPickle.py", "_distutils_system_mod.py", "_dbm.cpython-311-x86_64-linux-gnu.so", "nt.pyc", "_overlapped.pyd",
                     "a-1.0.data/purelib/msvcrt.py", "a-1.0.data/data/lib/python3.11/site-packages/_scproxy.py", "./json/__init__.py",
                     "enum.py", "cProfile.py", "asyncore.py"] {
            #expect(ArtifactInspection.shadowsAStandardModule(path, package: "evil"), "\(path)")
        }
        for path in ["msvcrt.txt", "mypkg/msvcrt.py", "org.txt", "orgs/x.py", "org.x/y.py", "a-1.0.data/scripts/msvcrt.py", "tests/x.py",
                     "msvcrt-1.0.dist-info/METADATA", "a-1.0.data/headers/json.py", "jsonx.py"] {
            #expect(!ArtifactInspection.shadowsAStandardModule(path, package: "evil"), "\(path)")
        }
        for (path, owner) in [("attr/__init__.py", "attrs"), ("socks.py", "PySocks"), ("enum/__init__.py", "enum34"), ("typing.py", "typing"),
                              ("concurrent/futures/__init__.py", "futures"), ("cgi.py", "legacy_cgi"), ("telnetlib.py", "Standard.Telnetlib")] {
            #expect(!ArtifactInspection.shadowsAStandardModule(path, package: owner), "\(path) of \(owner)")
        }
        #expect(ArtifactInspection.shadowsAStandardModule("socks.py", package: "attrs"))
        #expect(ArtifactInspection.shadowsAStandardModule("org/__init__.py", package: "org"))
    }

    /// A module in the environment's command folder: Python puts a script's own
    /// folder first on sys.path, so a wheel's bin/re.py (by `.data/scripts/` or
    /// `.data/data/bin/`) replaced `re` at every later pip (red team, round 8).
    /// Other scripts, docutils' `rst2html.py`, are no module anything imports.
    @Test func modulesInTheCommandFolderAreNotAWheelsToShadow() {
        for path in ["quietbin-1.0.data/scripts/re.py", "quietdbin-1.0.data/data/bin/re.py", "a-1.0.data/scripts/msvcrt.pyc",
                     "a-1.0.data/scripts/re.cpython-311-x86_64-linux-gnu.so", "a-1.0.data/scripts/re.abi3.so", "a-1.0.data/scripts/os.pyw",
                     "a-1.0.data/scripts/json/__init__.py", "a-1.0.data/data/Scripts/org/x.py", "a-1.0.data/scripts/pip/__init__.py",
                     "a-1.0.data/scripts/pip.py", "a-1.0.data/data/./bin/socks.py", "A-1.0.DATA/SCRIPTS/RE.PY", "a-1.0.data/scripts/packaging.py"] {
            #expect(ArtifactInspection.shadowsFromTheCommandFolder(path, package: "evil"), "\(path)")
        }
        for path in ["a-1.0.data/scripts/rst2html.py", "a-1.0.data/data/bin/rst2html.py", "a-1.0.data/scripts/re", "a-1.0.data/scripts/re.sh",
                     "a-1.0.data/data/share/re.py", "a-1.0.data/data/bin2/re.py", "re.py", "a-1.0.data/purelib/bin/re.py", "bin/re.py"] {
            #expect(!ArtifactInspection.shadowsFromTheCommandFolder(path, package: "evil"), "\(path)")
        }
        #expect(!ArtifactInspection.shadowsFromTheCommandFolder("a-1.0.data/scripts/enum.py", package: "enum34"))
        #expect(!ArtifactInspection.shadowsFromTheCommandFolder("a-1.0.data/scripts/pip.py", package: "pip"))
        #expect(ArtifactInspection.shadowsFromTheCommandFolder("a-1.0.data/scripts/pip.py", package: "setuptools"))

        // Through the guard's judgement: both entry forms and an entry point's command, refused; rst2html.py not.
        func report(_ paths: [String], scripts: [String] = []) -> InspectionReport {
            var report = InspectionReport(archive: "evil-1.0-py3-none-any.whl", format: "zip", compression: "deflate", totalBytes: 0)
            report.entries = paths.map { .init(path: $0, type: .file, size: 0, mode: "0644", sha256: nil, linkTarget: nil) }
            report.wheel = .init(record: "evil-1.0.dist-info/RECORD", verified: 0, scripts: scripts)
            return report
        }
        for (paths, scripts) in [(["evil-1.0.data/scripts/re.py"], [String]()), (["evil-1.0.data/data/bin/re.py"], []), ([], ["re.py"])] {
            let problem = ArtifactInspection.installScriptProblem(report(["evil/__init__.py"] + paths, scripts: scripts), package: "evil")
            #expect(problem?.code == .installScript, "\(paths) \(scripts)")
            #expect(problem?.message.contains("first on sys.path of every console script") == true, "\(problem?.message ?? "")")
        }
        #expect(ArtifactInspection.installScriptProblem(report(["docutils/__init__.py", "docutils-1.0.data/scripts/rst2html.py"],
                                                               scripts: ["rst2html"]), package: "docutils") == nil)
    }

    /// Data files in the prefix's lib/pythonX.Y outside site-packages: outside a
    /// venv, the interpreter's standard library (round 4: a sitecustomize.py
    /// there ran at every start of a pyenv Python).
    @Test func theStandardLibraryFolderIsNotAWheelsToWriteInto() {
        for path in ["a-1.0.data/data/lib/python3.11/sitecustomize.py", "a-1.0.data/data/lib/python3.11/json/__init__.py",
                     "a-1.0.data/data/lib64/python3.12/os.py", "a-1.0.data/data/lib/python3.13t/lib-dynload/_ssl.so",
                     "a-1.0.data/data/lib/python311.zip", "a-1.0.data/data/./lib/python3.11/x.py", "A-1.0.DATA/DATA/LIB/PYTHON3.11/X.PY"] {
            #expect(ArtifactInspection.writesIntoTheStandardLibrary(path), "\(path)")
        }
        for path in ["a-1.0.data/data/lib/python3.11/site-packages/mod.py", "a-1.0.data/data/lib/python3/dist-packages/mod.py",
                     "a-1.0.data/data/lib/python/mod.py", "a-1.0.data/data/share/python3.11/x.py", "a-1.0.data/purelib/lib/python3.11/x.py",
                     "lib/python3.11/x.py", "a-1.0.data/data/lib/pythonx/y.py", "a-1.0.data/data/lib/libfoo.zip"] {
            #expect(!ArtifactInspection.writesIntoTheStandardLibrary(path), "\(path)")
        }
    }

    /// pip's site configuration at the prefix's top (a red-team pass found it
    /// refused only because `pip.conf` read as the module `pip`).
    @Test func pipsSiteConfigurationIsNotAWheelsToWrite() {
        for path in ["a-1.0.data/data/pip.conf", "a-1.0.data/data/./PIP.CONF", "a-1.0.data/data/pip.ini"] {
            #expect(ArtifactInspection.configuresPip(path), "\(path)")
        }
        for path in ["pip.conf", "a-1.0.data/data/etc/pip.conf", "a-1.0.data/purelib/pip.conf", "a-1.0.data/data/share/pip.conf"] {
            #expect(!ArtifactInspection.configuresPip(path), "\(path)")
        }
    }

    /// What an interpreter reads or loads at start beside its executable or from
    /// the prefix's lib (round 6): `bin/python3._pth`, a shared library there.
    @Test func whatTheInterpreterReadsAtStartIsNotAWheelsToWrite() {
        for path in ["a-1.0.data/scripts/python3._pth", "a-1.0.data/data/bin/python3.11._PTH", "x/python311._pth"] {
            #expect(ArtifactInspection.isPathConfiguration(path), "\(path)")
        }
        #expect(!ArtifactInspection.isPathConfiguration("a-1.0.data/scripts/x.pth"))
        for path in ["a-1.0.data/data/lib/libpython3.11.so.1.0", "a-1.0.data/data/lib64/libc.so.6", "a-1.0.data/data/lib/libz.so"] {
            #expect(ArtifactInspection.loadsIntoTheInterpreter(path), "\(path)")
        }
        for path in ["a-1.0.data/data/lib/pkgconfig/x.pc", "a-1.0.data/data/lib/x/libz.so", "a/lib/libz.so", "a-1.0.data/data/lib/libz.a"] {
            #expect(!ArtifactInspection.loadsIntoTheInterpreter(path), "\(path)")
        }
        // Commands other programs' scripts run by name (npm runs every script through `sh`).
        #expect(ArtifactInspection.replacesACommand("a-1.0.data/scripts/sh"))
        #expect(ArtifactInspection.replacesACommand("a-1.0.data/data/bin/env"))
        #expect(ArtifactInspection.entryPointReplacesACommand("git"))
        #expect(!ArtifactInspection.replacesACommand("a-1.0.data/scripts/cmake"), "a build tool wheels ship")
        #expect(!ArtifactInspection.entryPointReplacesACommand("shdemo"))
    }

    /// What CPython's getpath reads in the interpreter's own folder: the build-tree
    /// landmarks `pybuilddir.txt` and `Modules/Setup.local` and a `pyvenv.cfg` there
    /// made a pyenv Python take the wheel's `bin/Lib` for its standard library, its
    /// `encodings` run at every start (red team, round 9); at the prefix's top too
    /// (a Windows interpreter's folder). Elsewhere they are plain data.
    @Test func whatGetpathReadsBesideTheInterpreterIsNotAWheelsToWrite() {
        for path in ["helper-1.0.data/data/bin/pybuilddir.txt", "a-1.0.data/scripts/pybuilddir.txt", "a-1.0.data/scripts/Modules/Setup.local",
                     "a-1.0.data/data/bin/modules/setup.local", "a-1.0.data/scripts/pyvenv.cfg", "a-1.0.data/data/Scripts/pyvenv.cfg",
                     "a-1.0.data/data/./bin/PYBUILDDIR.TXT", "a-1.0.data/data/pybuilddir.txt", "a-1.0.data/data/Modules/Setup.local"] {
            #expect(ArtifactInspection.isPathConfiguration(path), "\(path)")
        }
        for path in ["pybuilddir.txt", "pkg/pybuilddir.txt", "a-1.0.data/data/share/pybuilddir.txt", "a-1.0.data/purelib/pybuilddir.txt",
                     "a-1.0.data/scripts/Setup.local", "a-1.0.data/scripts/Modules/Setup", "a-1.0.data/scripts/x/Modules/Setup.local",
                     "a-1.0.data/data/etc/pyvenv.cfg", "a-1.0.data/scripts/Lib/encodings/__init__.py", "a-1.0.data/scripts/tool"] {
            #expect(!ArtifactInspection.isPathConfiguration(path), "\(path)")
        }
        // The standard library's landmark, which getpath searches for from the executable's folder up:
        // bin/lib/python3.11/os.py made a pyenv Python import bin/lib/python3.11/encodings at start.
        for path in ["a-1.0.data/scripts/lib/python3.11/os.py", "a-1.0.data/data/bin/lib/python3.11/encodings/__init__.py",
                     "a-1.0.data/scripts/lib64/python3.13t/lib-dynload/_ssl.so", "a-1.0.data/scripts/Lib/Python3.12/os.pyc",
                     // The zip landmark getpath looks for first (round 10: bin/lib/python311.zip held encodings/).
                     "helper-1.0.data/data/bin/lib/python311.zip", "a-1.0.data/scripts/lib64/python313t.zip"] {
            #expect(ArtifactInspection.isPathConfiguration(path), "\(path)")
        }
        for path in ["a-1.0.data/scripts/lib/x.py", "a-1.0.data/scripts/lib/python/os.py", "a-1.0.data/data/lib/python3.11/site-packages/x.py",
                     "a-1.0.data/scripts/lib/data.zip", "a-1.0.data/scripts/python311.zip.txt",
                     "a-1.0.data/purelib/lib/python3.11/os.py", "a-1.0.data/scripts/x/lib/python3.11/os.py"] {
            #expect(!ArtifactInspection.isPathConfiguration(path), "\(path)")
        }
    }

    /// `_sysconfigdata_*` (which sysconfig imports by a name `sys.stdlib_module_names`
    /// lacks) is a standard module's name: from the command folder it ran at every
    /// later pip (red team, round 9); as a top-level module too.
    @Test func sysconfigDataIsAStandardModulesName() {
        for path in ["helper-1.0.data/scripts/_sysconfigdata__x86_64-linux-gnu.py", "a-1.0.data/scripts/_sysconfigdata__linux_x86_64-linux-gnu.py",
                     "a-1.0.data/data/bin/_sysconfigdata_t_linux_x86_64-linux-gnu.pyc", "a-1.0.data/scripts/_sysconfigdata/__init__.py"] {
            #expect(ArtifactInspection.shadowsFromTheCommandFolder(path, package: "helper"), "\(path)")
        }
        for path in ["_sysconfigdata__linux_x86_64-linux-gnu.py", "a-1.0.data/purelib/_sysconfigdata_m_darwin_darwin.py"] {
            #expect(ArtifactInspection.shadowsAStandardModule(path, package: "helper"), "\(path)")
        }
        for path in ["a-1.0.data/scripts/_sysconfigdata.txt", "a-1.0.data/scripts/sysconfigdata.py", "pkg/_sysconfigdata__x.py"] {
            #expect(!ArtifactInspection.shadowsFromTheCommandFolder(path, package: "helper") && !ArtifactInspection.shadowsAStandardModule(path, package: "helper"),
                    "\(path)")
        }
    }

    /// Commands Python and pip run by a PATH lookup: pip's vendored distro runs
    /// `lsb_release -a` at every index session (red team, round 9: a wheel's
    /// console script of that name ran at every later pip), ctypes.util `objdump`.
    @Test func commandsPythonAndPipRunAreNotAWheelsToTake() {
        // Round 10: pip runs rustc for its User-Agent; a build runs the compiler sysconfig names
        // (Debian's x86_64-linux-gnu-gcc) and the tools it finds by PATH.
        for name in ["lsb_release", "objdump", "ldconfig", "LSB_RELEASE", "rustc", "cargo", "pkg-config", "clang",
                     "x86_64-linux-gnu-gcc", "aarch64-linux-gnu-g++-12", "gcc-12", "x86_64-linux-gnu-pkg-config", "arm-none-eabi-ld"] {
            #expect(ArtifactInspection.entryPointReplacesACommand(name, package: "tool"), "\(name)")
            #expect(ArtifactInspection.replacesACommand("tool-1.0.data/scripts/" + name, package: "tool"), "\(name)")
        }
        for name in ["lsb_release_info", "django-admin", "my-cc", "black-as", "gcc-wrapper", "pre-commit", "cmake", "ninja"] {
            #expect(!ArtifactInspection.entryPointReplacesACommand(name, package: "tool"), "\(name)")
        }
    }

    /// The red team's round-9 wheels, crafted with Python's zipfile (RECORD and all) and
    /// judged end to end by the guard's inspection: each is refused, naming what it installs.
    @Test func theRoundNineWheelsAreRefused() throws {
        let dir = try BouncerProcess.temporaryDirectory("bouncer-round9")
        defer { try? FileManager.default.removeItem(at: dir) }
        try ArchiveFixtures.runPython(#"""
import base64, hashlib, os, sys, zipfile
os.chdir(sys.argv[1])
def h(b): return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(b).digest()).rstrip(b"=").decode()
def wheel(name, files):
    di = f"{name}-1.0.dist-info"
    files = {f"{name}.py": b"def main(): pass\n", f"{di}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n\n".encode(),
             f"{di}/WHEEL": b"Wheel-Version: 1.0\nGenerator: x\nRoot-Is-Purelib: true\nTag: py3-none-any\n", **files}
    record = "".join(f"{k},{h(v)},{len(v)}\n" for k, v in files.items()) + f"{di}/RECORD,,\n"
    with zipfile.ZipFile(f"{name}-1.0-py3-none-any.whl", "w") as z:
        for k, v in files.items(): z.writestr(k, v)
        z.writestr(f"{di}/RECORD", record)
wheel("helper", {"helper-1.0.data/data/bin/pybuilddir.txt": b"Lib\n", "helper-1.0.data/data/bin/Lib/encodings/__init__.py": b"import posix\n"})
wheel("setuplocal", {"setuplocal-1.0.data/scripts/Modules/Setup.local": b"", "setuplocal-1.0.data/scripts/Lib/encodings/__init__.py": b"x = 1\n"})
wheel("binvenv", {"binvenv-1.0.data/scripts/pyvenv.cfg": b"home = /tmp/elsewhere\n"})
wheel("sysdata", {"sysdata-1.0.data/scripts/_sysconfigdata__x86_64-linux-gnu.py": b"build_time_vars = {}\n",
                  "sysdata-1.0.data/scripts/_sysconfigdata__linux_x86_64-linux-gnu.py": b"build_time_vars = {}\n"})
wheel("tool", {"tool-1.0.dist-info/entry_points.txt": b"[console_scripts]\nlsb_release = tool:main\n"})
wheel("plain", {"plain-1.0.dist-info/entry_points.txt": b"[console_scripts]\nplain = plain:main\n",
                "plain-1.0.data/data/share/plain/pybuilddir.txt": b"Lib\n", "plain-1.0.data/scripts/plain-helper.py": b"x = 1\n"})
"""#, arguments: [dir.path])
        func judged(_ name: String) -> ArtifactInspection.Result {
            let request = ArtifactRequest(url: "file://\(dir.path)/\(name)-1.0-py3-none-any.whl", ecosystem: .pypi, package: name, version: "1.0")
            return ArtifactInspection.inspect(dir.appendingPathComponent("\(name)-1.0-py3-none-any.whl").path, as: .wheel(name: name, version: "1.0"),
                                              request: request, archive: ArchivePolicy(), threats: ThreatPolicy())
        }
        for (name, named, why) in [("helper", "helper-1.0.data/data/bin/pybuilddir.txt", "take the package's files for its standard library"),
                                   ("setuplocal", "setuplocal-1.0.data/scripts/Modules/Setup.local", "take the package's files for its standard library"),
                                   ("binvenv", "binvenv-1.0.data/scripts/pyvenv.cfg", "pyvenv.cfg in its folder"),
                                   ("sysdata", "sysdata-1.0.data/scripts/_sysconfigdata__x86_64-linux-gnu.py", "first on sys.path of every console script"),
                                   ("tool", "the command lsb_release (entry_points.txt)", "run by name")] {
            let result = judged(name)
            #expect(result.refusal == nil, "\(name): \(result.refusal?.message ?? "")")
            #expect(result.installScripts?.code == .installScript, "\(name)")
            #expect(result.installScripts?.message.contains(named) == true && result.installScripts?.message.contains(why) == true,
                    "\(name): \(result.installScripts?.message ?? "nil")")
        }
        // Its own command, a pybuilddir.txt among its data and a script in bin pass.
        let plain = judged("plain")
        #expect(plain.refusal == nil && plain.installScripts == nil, "\(plain.refusal?.message ?? plain.installScripts?.message ?? "")")
    }

    /// Files and commands pip would write over the environment's python, pip or
    /// activate script (a red-team pass replaced venv/bin/python3 by a wheel's
    /// `.data/scripts/python3`); pip's own wheel may install the pip commands.
    @Test func theEnvironmentsOwnCommandsAreNotAWheelsToReplace() {
        for path in ["a-1.0.data/scripts/python3", "a-1.0.data/scripts/python3.12", "a-1.0.data/scripts/pip", "a-1.0.data/scripts/Python.exe",
                     "a-1.0.data/scripts/activate", "a-1.0.data/scripts/Activate.ps1", "a-1.0.data/data/bin/python", "a-1.0.data/data/pyvenv.cfg",
                     "a-1.0.data/data/Scripts/pip3.exe", "a-1.0.data/scripts/./pythonw", "a-1.0.data/scripts/python3.7m", "a-1.0.data/scripts/pypy3"] {
            #expect(ArtifactInspection.replacesACommand(path), "\(path)")
        }
        for path in ["a-1.0.data/scripts/tool", "a-1.0.data/scripts/pipxx", "a-1.0.data/scripts/python-config-helper", "a/python3",
                     "a-1.0.data/data/share/python3", "a-1.0.data/data/bin/tool", "a-1.0.data/headers/python3", "a-1.0.data/data/etc/pyvenv.cfg"] {
            #expect(!ArtifactInspection.replacesACommand(path), "\(path)")
        }
        #expect(!ArtifactInspection.replacesACommand("pip-24.0.data/scripts/pip3", package: "pip"))
        #expect(ArtifactInspection.replacesACommand("pip-24.0.data/scripts/python3", package: "pip"))
        // The tools the shims hand over to (an activated venv's bin comes right after the shims), unless the package ships them.
        #expect(ArtifactInspection.replacesACommand("evil-1.0.data/scripts/npm"))
        #expect(ArtifactInspection.replacesACommand("evil-1.0.data/data/bin/curl"))
        #expect(ArtifactInspection.replacesACommand("evil-1.0.data/scripts/pipx"))
        #expect(!ArtifactInspection.replacesACommand("pipx-1.7.data/scripts/pipx", package: "pipx"))
        #expect(!ArtifactInspection.replacesACommand("uv-0.5.data/scripts/uvx", package: "uv"))
        #expect(ArtifactInspection.replacesACommand("evil-1.0.data/scripts/uv", package: "evil"))
        // Entry points: a name with a path lands wherever it points (a red-team pass wrote bin/pip3 as `./pip3`).
        for name in ["./pip3", "x/../python3", "../lib/python3.11/site-packages/x.pth", "a\\b", "npm", "pip", "x pip", "!python3", "x@curl", ".hidden"] {
            #expect(ArtifactInspection.entryPointReplacesACommand(name, package: "evil"), "\(name)")
        }
        #expect(!ArtifactInspection.entryPointReplacesACommand("black", package: "black"))
        #expect(!ArtifactInspection.entryPointReplacesACommand("jupyter-lab", package: "jupyterlab"))
        #expect(!ArtifactInspection.entryPointReplacesACommand("f2py3.12", package: "numpy"))
        #expect(!ArtifactInspection.entryPointReplacesACommand("pip3.12", package: "pip"))
        #expect(WheelEntryPoints.scriptNames(Array("[console_scripts]\n pip3 = x:y\n# c\ntool=x:z\n[other]\npython=x:y\n[gui_scripts]\npythonw = a:b\n".utf8))
                == ["pip3", "tool", "pythonw"])
        // Section names as loosely as pip's readers take them (a red-team pass replaced bin/pip under `[[console_scripts]]`),
        // lines as Python splits them, `;` lines not skipped.
        #expect(WheelEntryPoints.scriptNames(Array("[[console_scripts]]\npip = a:b\n[ gui_scripts ]\r\nnpm = a:b\u{1C}[x]\ncurl = a:b\n[console_scripts]]\n;x = a:b\n".utf8))
                == ["pip", "npm", ";x"])
    }

    /// A wheel is a file whose name ends in `.whl` in lower case, as pip
    /// tells one; pip builds a `.WHL` as a source archive, running its
    /// setup.py (a red-team pass did), so the guard takes it for one too.
    @Test func onlyALowerCaseWhlIsAWheel() {
        let wheel = ArtifactRequest(url: "file:///v/evil-1.0-py3-none-any.whl", ecosystem: .pypi, package: "evil", version: "1.0")
        let upper = ArtifactRequest(url: "file:///v/evil-1.0-py3-none-any.WHL", ecosystem: .pypi, package: "evil", version: "1.0")
        #expect(ArtifactInspection.kind(of: wheel) == .wheel(name: "evil", version: "1.0"))
        #expect(ArtifactInspection.kind(of: upper) == nil)
        #expect(ArtifactInspection.sdistProblem(wheel, threats: ThreatPolicy()) == nil)
        #expect(ArtifactInspection.sdistProblem(upper, threats: ThreatPolicy()) != nil)
    }
}
