import Foundation
import Testing
import BouncerTestSupport

/// The litellm incident (2026): a wheel that installs a `.pth` file, which
/// Python's site module executes at every interpreter start, and sdists,
/// whose build runs `setup.py`. `installScripts` refuses both unless the
/// policy names the package: nothing lands and no marker file appears, not
/// at install and not at the next Python start.
@Suite(.blocking, .serialized) struct PthStartupHookTests {
    let root: URL

    init() throws {
        root = try BouncerProcess.temporaryDirectory("bouncer-threat-pth")
    }

    /// A wheel `hooked` 1.0 with a top-level `.pth` that writes `marker` when Python starts.
    func publishHookedWheel(marker: URL) throws -> (JSONIndex, String) {
        let index = try JSONIndex(root: root.appendingPathComponent("index"))
        let file = try ThreatFixtures.wheel("hooked", "1.0", marker: "hooked", extra: [
            "hooked_startup.pth": "import os; open(\(String(reflecting: marker.path)), 'w').write('ran')\n",
        ], into: index.packages)
        try index.page("hooked", [(file, ThreatFixtures.longAgo)])
        return (index, file)
    }

    /// An sdist `built` 1.0 whose setup.py writes `marker` when anything builds it.
    func publishSdist(marker: URL, into index: JSONIndex) throws -> String {
        let file = "built-1.0.tar.gz"
        let script = #"""
            import io, sys, tarfile
            out, marker = sys.argv[1:3]
            setup = f"open({marker!r}, 'w').write('ran')\nfrom setuptools import setup\nsetup(name='built', version='1.0')\n".encode()
            pkg = b"Metadata-Version: 2.1\nName: built\nVersion: 1.0\n"
            with tarfile.open(out, "w:gz") as t:
                for path, data in [("built-1.0/setup.py", setup), ("built-1.0/PKG-INFO", pkg)]:
                    info = tarfile.TarInfo(path); info.size = len(data); t.addfile(info, io.BytesIO(data))
            """#
        let made = try BouncerProcess.runProgram("/usr/bin/env", ["python3", "-c", script, index.packages.appendingPathComponent(file).path, marker.path])
        guard made.status == 0 else { throw SetupError("sdist build failed: \(made.err)") }
        try index.page("built", [(file, ThreatFixtures.longAgo)])
        return file
    }

    func shimHarness() throws -> ShimHarness { try ThreatFixtures.pipHarness("bouncer-threat-pth-shim") }

    static let pip = ThreatFixtures.pipInstall

    @Test func aWheelWithAPthFileIsRefusedByThePipShimAndNeverRuns() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let marker = root.appendingPathComponent("pth-ran")
        let (index, _) = try publishHookedWheel(marker: marker)
        let harness = try shimHarness()
        defer { harness.cleanup() }

        let result = try harness.sh("\(Self.pip) --index-url '\(index.url)' hooked==1.0")
        #expect(result.status == 1, "\(result.out)\n\(result.err)")
        #expect(result.err.contains("hooked_startup.pth"), "\(result.err)")
        #expect(result.err.contains("installScripts.allow"), "\(result.err)")
        let started = try harness.sh("python -c 'import hooked'")
        #expect(started.status != 0, "hooked must not be installed")
        #expect(!FileManager.default.fileExists(atPath: marker.path), "the .pth ran")
        #expect(ThreatFixtures.lockEntries(harness.file("bouncer.lock"))["pypi:hooked@1.0"] == nil)
    }

    /// A wheel whose `NAME.data/scripts/` holds a `python3`: pip writes it over the
    /// environment's own python3, which every later python (and pip, whose shebang
    /// names it) then runs. Refused like a `.pth`; the venv's python stays its own.
    @Test func aWheelThatReplacesTheEnvironmentsPythonIsRefused() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let marker = root.appendingPathComponent("python-replaced")
        let index = try JSONIndex(root: root.appendingPathComponent("index"))
        let file = try ThreatFixtures.wheel("shadowpy", "1.0", marker: "shadowpy", extra: [
            "shadowpy-1.0.data/scripts/python3": "#!/bin/sh\necho ran > \(marker.path)\nexec /usr/bin/python3 \"$@\"\n",
        ], into: index.packages)
        try index.page("shadowpy", [(file, ThreatFixtures.longAgo)])
        let harness = try shimHarness()
        defer { harness.cleanup() }
        let python = harness.root.appendingPathComponent("venv/bin/python3")
        let before = try FileManager.default.destinationOfSymbolicLink(atPath: python.path)

        let result = try harness.sh("\(Self.pip) --index-url '\(index.url)' shadowpy==1.0")
        #expect(result.status == 1, "\(result.out)\n\(result.err)")
        #expect(result.err.contains("shadowpy-1.0.data/scripts/python3"), "\(result.err)")
        #expect(result.err.contains("in place of the environment's own python"), "\(result.err)")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: python.path)) == before, "the venv's python3 was replaced")
        _ = try harness.sh("python3 -c 0")
        #expect(!FileManager.default.fileExists(atPath: marker.path), "the wheel's python3 ran")
        #expect(ThreatFixtures.lockEntries(harness.file("bouncer.lock"))["pypi:shadowpy@1.0"] == nil)
    }

    /// A wheel whose files go into pip's own module (`pip/__init__.py`): pip writes them
    /// over the environment's pip, and every later pip (the shim hands over to it) runs
    /// them (a red-team pass). Refused; the venv's pip module stays its own.
    @Test func aWheelThatWritesIntoPipsOwnModuleIsRefused() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let index = try JSONIndex(root: root.appendingPathComponent("index"))
        let file = try ThreatFixtures.wheel("pipshadow", "1.0", marker: "pipshadow", extra: [
            "pip/__init__.py": "open('\(root.appendingPathComponent("pip-replaced").path)', 'w').write('ran')\n",
        ], into: index.packages)
        try index.page("pipshadow", [(file, ThreatFixtures.longAgo)])
        let harness = try shimHarness()
        defer { harness.cleanup() }
        let module = try #require(FileManager.default.enumerator(atPath: harness.root.appendingPathComponent("venv/lib").path)?
            .compactMap { $0 as? String }.first { $0.hasSuffix("site-packages/pip/__init__.py") })
        let original = try String(contentsOf: harness.root.appendingPathComponent("venv/lib").appendingPathComponent(module), encoding: .utf8)

        let result = try harness.sh("\(Self.pip) --index-url '\(index.url)' pipshadow==1.0")
        #expect(result.status == 1, "\(result.out)\n\(result.err)")
        #expect(result.err.contains("pip/__init__.py") && result.err.contains("another distribution's own module"), "\(result.err)")
        #expect(try String(contentsOf: harness.root.appendingPathComponent("venv/lib").appendingPathComponent(module), encoding: .utf8) == original,
                "pip's own module was replaced")
        #expect(ThreatFixtures.lockEntries(harness.file("bouncer.lock"))["pypi:pipshadow@1.0"] == nil)
    }

    /// Top-level modules named like the standard library's that this Python lacks
    /// (`msvcrt` on Linux, which subprocess imports when present) or one it imports
    /// when present (`org`, by copy and pickle): a red-team pass ran each at nearly
    /// every later Python start, pip's too. Refused; nothing runs at the next start.
    @Test func aWheelThatShadowsAStandardModuleIsRefused() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let marker = root.appendingPathComponent("stdlib-shadow-ran")
        let code = "open(\(String(reflecting: marker.path)), 'a').write('ran')\n"
        let index = try JSONIndex(root: root.appendingPathComponent("index"))
        let win = try ThreatFixtures.wheel("quietwin", "1.0", marker: "quietwin", extra: ["msvcrt.py": code], into: index.packages)
        let org = try ThreatFixtures.wheel("quietorg", "1.0", marker: "quietorg", extra: [
            "org/__init__.py": code, "org/python/__init__.py": "", "org/python/core.py": code,
        ], into: index.packages)
        try index.page("quietwin", [(win, ThreatFixtures.longAgo)])
        try index.page("quietorg", [(org, ThreatFixtures.longAgo)])
        let harness = try shimHarness()
        defer { harness.cleanup() }
        for (package, file) in [("quietwin", "msvcrt.py"), ("quietorg", "org/__init__.py")] {
            let result = try harness.sh("\(Self.pip) --index-url '\(index.url)' \(package)==1.0")
            #expect(result.status == 1, "\(result.out)\n\(result.err)")
            #expect(result.err.contains(file) && result.err.contains("named like a standard library module"), "\(result.err)")
            #expect(ThreatFixtures.lockEntries(harness.file("bouncer.lock"))["pypi:\(package)@1.0"] == nil)
        }
        let started = try harness.sh("python -c 'import subprocess, copy, pickle'")
        #expect(started.status == 0, "\(started.err)")
        #expect(!FileManager.default.fileExists(atPath: marker.path), "a wheel's msvcrt.py or org/ ran")
    }

    /// A module in the environment's bin, by `NAME.data/scripts/` or
    /// `NAME.data/data/bin/`: Python puts a console script's own folder first on
    /// sys.path, so a red-team pass's bin/re.py ran at every later pip, the
    /// shim's hand-over too. Refused, nothing lands; docutils-style
    /// `rst2html.py` installs.
    @Test func aWheelThatPutsAStandardModuleIntoBinIsRefused() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let marker = root.appendingPathComponent("bin-shadow-ran")
        let code = "open(\(String(reflecting: marker.path)), 'a').write('ran')\n"
        let index = try JSONIndex(root: root.appendingPathComponent("index"))
        let scripts = try ThreatFixtures.wheel("quietbin", "1.0", marker: "quietbin", extra: ["quietbin-1.0.data/scripts/re.py": code],
                                               into: index.packages)
        let data = try ThreatFixtures.wheel("quietdbin", "1.0", marker: "quietdbin", extra: ["quietdbin-1.0.data/data/bin/re.py": code],
                                            into: index.packages)
        let docs = try ThreatFixtures.wheel("quietdocs", "1.0", marker: "quietdocs", extra: [
            "quietdocs-1.0.data/scripts/rst2html.py": "#!python\nprint('rst2html')\n",
        ], into: index.packages)
        try index.page("quietbin", [(scripts, ThreatFixtures.longAgo)])
        try index.page("quietdbin", [(data, ThreatFixtures.longAgo)])
        try index.page("quietdocs", [(docs, ThreatFixtures.longAgo)])
        let harness = try shimHarness()
        defer { harness.cleanup() }
        for package in ["quietbin", "quietdbin"] {
            let result = try harness.sh("\(Self.pip) --index-url '\(index.url)' \(package)==1.0")
            #expect(result.status == 1, "\(result.out)\n\(result.err)")
            #expect(result.err.contains("re.py") && result.err.contains("first on sys.path of every console script"), "\(result.err)")
            #expect(ThreatFixtures.lockEntries(harness.file("bouncer.lock"))["pypi:\(package)@1.0"] == nil)
        }
        #expect(!FileManager.default.fileExists(atPath: harness.root.appendingPathComponent("venv/bin/re.py").path), "a wheel's re.py landed")
        let allowed = try harness.sh("\(Self.pip) --index-url '\(index.url)' quietdocs==1.0")
        #expect(allowed.status == 0, "\(allowed.out)\n\(allowed.err)")
        #expect(FileManager.default.fileExists(atPath: harness.root.appendingPathComponent("venv/bin/rst2html.py").path))
        let later = try harness.sh("'\(harness.root.appendingPathComponent("venv/bin/pip").path)' --version")
        #expect(later.status == 0, "\(later.err)")
        #expect(!FileManager.default.fileExists(atPath: marker.path), "a wheel's bin/re.py ran")
    }

    /// Data files pip installs into the prefix: its site configuration (`pip.conf`,
    /// which every later pip reads), and the prefix's `lib/pythonX.Y` outside
    /// site-packages, the standard library of an interpreter used without a venv
    /// (a red-team pass ran a sitecustomize.py there at every start of a pyenv
    /// Python). Each refused by name, nothing of either lands in the venv.
    @Test func aWheelThatWritesPipsConfigurationOrIntoTheStandardLibraryIsRefused() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let index = try JSONIndex(root: root.appendingPathComponent("index"))
        let conf = try ThreatFixtures.wheel("confshadow", "1.0", marker: "confshadow", extra: [
            "confshadow-1.0.data/data/pip.conf": "[global]\nfind-links = /tmp/elsewhere\n",
        ], into: index.packages)
        let library = try ThreatFixtures.wheel("libshadow", "1.0", marker: "libshadow", extra: [
            "libshadow-1.0.data/data/lib/python3.11/sitecustomize.py": "open('\(root.appendingPathComponent("stdlib-ran").path)', 'w').write('ran')\n",
        ], into: index.packages)
        // Round 6: `bin/python3._pth` (read in place of sys.path at every start) and `bin/sh` (npm's scripts run it).
        let pth = try ThreatFixtures.wheel("pthshadow", "1.0", marker: "pthshadow", extra: [
            "pthshadow-1.0.data/scripts/python3._pth": "../lib/python3.11/site-packages/pthshadow\n",
        ], into: index.packages)
        let shell = try ThreatFixtures.wheel("shshadow", "1.0", marker: "shshadow", extra: [
            "shshadow-1.0.data/scripts/sh": "#!/bin/sh\nexec /bin/sh \"$@\"\n",
        ], into: index.packages)
        try index.page("confshadow", [(conf, ThreatFixtures.longAgo)])
        try index.page("libshadow", [(library, ThreatFixtures.longAgo)])
        try index.page("pthshadow", [(pth, ThreatFixtures.longAgo)])
        try index.page("shshadow", [(shell, ThreatFixtures.longAgo)])
        let harness = try shimHarness()
        defer { harness.cleanup() }
        for (package, says) in [("confshadow", "own configuration (sys.prefix/pip.conf)"), ("libshadow", "lib/pythonX.Y"),
                                ("pthshadow", "python3._pth"), ("shshadow", "scripts run by name")] {
            let result = try harness.sh("\(Self.pip) --index-url '\(index.url)' \(package)==1.0")
            #expect(result.status == 1, "\(result.out)\n\(result.err)")
            #expect(result.err.contains(says) && result.err.contains("installScripts.allow"), "\(result.err)")
            #expect(ThreatFixtures.lockEntries(harness.file("bouncer.lock"))["pypi:\(package)@1.0"] == nil)
        }
        #expect(!FileManager.default.fileExists(atPath: harness.root.appendingPathComponent("venv/pip.conf").path), "pip.conf landed")
        #expect(!FileManager.default.fileExists(atPath: harness.root.appendingPathComponent("venv/bin/python3._pth").path), "the ._pth landed")
        #expect(!FileManager.default.fileExists(atPath: harness.root.appendingPathComponent("venv/bin/sh").path), "a wheel's sh landed")
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("stdlib-ran").path))
    }

    /// The same through an entry point, under a section header pip reads as console_scripts
    /// however it is bracketed (a red-team pass replaced bin/pip with `[[console_scripts]]`).
    @Test func aWheelWhoseEntryPointReplacesPipIsRefused() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let index = try JSONIndex(root: root.appendingPathComponent("index"))
        let file = try ThreatFixtures.wheel("shadowpip", "1.0", marker: "shadowpip", extra: [
            "shadowpip-1.0.dist-info/entry_points.txt": "[[console_scripts]]\npip = shadowpip:main\n",
        ], into: index.packages)
        try index.page("shadowpip", [(file, ThreatFixtures.longAgo)])
        let harness = try shimHarness()
        defer { harness.cleanup() }
        let pip = harness.root.appendingPathComponent("venv/bin/pip")
        let before = try String(contentsOf: pip, encoding: .utf8)

        let result = try harness.sh("\(Self.pip) --index-url '\(index.url)' shadowpip==1.0")
        #expect(result.status == 1, "\(result.out)\n\(result.err)")
        #expect(result.err.contains("the command pip (entry_points.txt)"), "\(result.err)")
        #expect(try String(contentsOf: pip, encoding: .utf8) == before, "the venv's pip was replaced")
        #expect(ThreatFixtures.lockEntries(harness.file("bouncer.lock"))["pypi:shadowpip@1.0"] == nil)
    }

    @Test func aWheelWithAPthFileIsRefusedThroughServeAndNeverRuns() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let marker = root.appendingPathComponent("pth-ran")
        let (index, file) = try publishHookedWheel(marker: marker)
        let serve = try ServeProcess(root: root, arguments: ["--pypi-upstream", index.url], policy: ThreatFixtures.policy())
        let python = try ServeFixtures.venv(root.appendingPathComponent("venv"))
        let installed = try ServeFixtures.pipInstall(python, ["hooked==1.0"], index: serve.base + "/pypi/simple/", cwd: root)
        #expect(installed.status != 0)
        #expect((installed.out + installed.err).contains("403"), "\(installed.out)\n\(installed.err)")
        let direct = try CurlGet.run(serve.base + "/pypi/files/hooked/" + file)
        #expect(direct.status == 403)
        #expect(direct.text.contains("hooked_startup.pth"), "\(direct.text)")
        let started = try BouncerProcess.runProgram(python, ["-c", "import hooked"], cwd: root.path)
        #expect(started.status != 0)
        #expect(!FileManager.default.fileExists(atPath: marker.path), "the .pth ran")
        #expect(try serve.stop().status == 0)
    }

    @Test func anSdistIsNeverBuiltThroughTheShimOrServe() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let marker = root.appendingPathComponent("setup-ran")
        let index = try JSONIndex(root: root.appendingPathComponent("index"))
        let file = try publishSdist(marker: marker, into: index)

        let harness = try shimHarness()
        defer { harness.cleanup() }
        let viaShim = try harness.sh("\(Self.pip) --index-url '\(index.url)' built==1.0")
        #expect(viaShim.status != 0, "\(viaShim.out)\n\(viaShim.err)")
        #expect(!FileManager.default.fileExists(atPath: marker.path), "setup.py ran through the shim")

        let serve = try ServeProcess(root: root, arguments: ["--pypi-upstream", index.url], policy: ThreatFixtures.policy())
        let page = try CurlGet.run(serve.base + "/pypi/simple/built/")
        #expect(page.status == 200)
        #expect(!page.text.contains(file), "the sdist is not offered: \(page.text)")
        let direct = try CurlGet.run(serve.base + "/pypi/files/built/" + file)
        #expect(direct.status == 403)
        #expect(direct.text.contains("source distribution"), "\(direct.text)")
        let python = try ServeFixtures.venv(root.appendingPathComponent("venv"))
        let viaServe = try ServeFixtures.pipInstall(python, ["built==1.0"], index: serve.base + "/pypi/simple/", cwd: root)
        #expect(viaServe.status != 0)
        #expect(!FileManager.default.fileExists(atPath: marker.path), "setup.py ran through serve")
        #expect(index.fetches(of: file) == 0, "the sdist was never even fetched: \(index.files.requests)")
        #expect(try serve.stop().status == 0)
    }

    /// An sdist the policy allows to build (`installScripts.allow`), through the
    /// pip shim: pip's build isolation installs the build backend (setuptools,
    /// wheel) in a nested pip, which inherits the shim's proxy, so the backend is
    /// verified and pinned in the lock like the sdist itself; the allowed
    /// setup.py runs, as the real pip runs it.
    /// The build backend's real wheels (setuptools, wheel), from pip's own configured
    /// index, published on `index` for an isolated build to fetch through the proxy.
    func publishBuildBackend(into index: JSONIndex) throws {
        let python = try ServeFixtures.venv(root.appendingPathComponent("download-venv"))
        let downloaded = try BouncerProcess.runProgram(python, ["-m", "pip", "download", "--disable-pip-version-check", "--no-deps",
                                                                "--only-binary=:all:", "--dest", index.packages.path, "setuptools<70", "wheel<0.43"],
                                                       environment: ["PIP_FIND_LINKS": ""])
        try #require(downloaded.status == 0, "pip download of the build backend failed: \(downloaded.err)")
        let names = try FileManager.default.contentsOfDirectory(atPath: index.packages.path)
        for project in ["setuptools", "wheel"] {
            try index.page(project, names.filter { $0.hasPrefix(project + "-") && $0.hasSuffix(".whl") }.map { ($0, ThreatFixtures.longAgo) })
        }
    }

    @Test func anAllowedSdistBuildsWithItsBackendThroughTheShimsProxy() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let marker = root.appendingPathComponent("setup-ran")
        let index = try JSONIndex(root: root.appendingPathComponent("index"))
        let file = try publishSdist(marker: marker, into: index)
        try publishBuildBackend(into: index)

        let harness = try shimHarness()
        defer { harness.cleanup() }
        // setuptools installs a .pth (distutils-precedence.pth): allowed by name, as the sdist's build is.
        try ThreatFixtures.policy(top: [#""installScripts": { "allow": ["built", "setuptools"] }"#])
            .write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        let installed = try harness.sh("\(Self.pip) --index-url '\(index.url)' built==1.0")
        #expect(installed.status == 0, "\(installed.out)\n\(installed.err)")
        #expect(FileManager.default.fileExists(atPath: marker.path), "the allowed setup.py ran")
        let lock = ThreatFixtures.lockEntries(harness.file("bouncer.lock"))
        #expect(lock["pypi:built@1.0"] != nil, "\(lock.keys.sorted())")
        #expect(lock.keys.contains { $0.hasPrefix("pypi:setuptools@") }, "the nested pip's setuptools is pinned: \(lock.keys.sorted())")
        #expect(lock.keys.contains { $0.hasPrefix("pypi:wheel@") }, "the nested pip's wheel is pinned: \(lock.keys.sorted())")
        #expect(index.fetches(of: file) == 1)
    }

    /// A wheel's setuptools entry point (`setuptools.finalize_distribution_options`) runs
    /// in every setuptools build that sees the environment: pip 23 builds a setup.py-only
    /// sdist there when setuptools and wheel are installed (a red-team pass ran an allowed
    /// wheel's hook in an allowed sdist's build). The shim has pip build it under PEP 517,
    /// isolated from the environment's wheels; the sdist's own setup.py still runs.
    @Test func anInstalledWheelsSetuptoolsHookDoesNotRunInALaterSdistBuild() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let hookRan = root.appendingPathComponent("hook-ran")
        let setupRan = root.appendingPathComponent("setup-ran")
        let index = try JSONIndex(root: root.appendingPathComponent("index"))
        let hook = try ThreatFixtures.wheel("hookep", "1.0", marker: "hookep", extra: [
            "hookep/hook.py": "def hook(dist):\n    open(\(String(reflecting: hookRan.path)), 'a').write('ran')\n",
            "hookep-1.0.dist-info/entry_points.txt": "[setuptools.finalize_distribution_options]\nhookep = hookep.hook:hook\n",
        ], into: index.packages)
        try index.page("hookep", [(hook, ThreatFixtures.longAgo)])
        _ = try publishSdist(marker: setupRan, into: index)
        try publishBuildBackend(into: index)
        let harness = try shimHarness()
        defer { harness.cleanup() }
        try ThreatFixtures.policy(top: [#""installScripts": { "allow": ["built", "setuptools"] }"#])
            .write(to: harness.file("policy.json"), atomically: true, encoding: .utf8)
        // wheel beside the venv's setuptools: what makes pip 23 build a setup.py-only sdist in place.
        let first = try harness.sh("\(Self.pip) --index-url '\(index.url)' wheel hookep==1.0")
        #expect(first.status == 0, "\(first.out)\n\(first.err)")
        let built = try harness.sh("\(Self.pip) --index-url '\(index.url)' built==1.0")
        #expect(built.status == 0, "\(built.out)\n\(built.err)")
        #expect(FileManager.default.fileExists(atPath: setupRan.path), "the allowed setup.py ran")
        #expect(!FileManager.default.fileExists(atPath: hookRan.path), "hookep's setuptools entry point ran in built's build")
        // Under --isolated pip reads no variable: the shim passes --use-pep517 instead.
        try FileManager.default.removeItem(at: setupRan)
        let again = try harness.sh("\(Self.pip) --isolated --index-url '\(index.url)' --no-cache-dir --force-reinstall --no-deps built==1.0")
        #expect(again.status == 0, "\(again.out)\n\(again.err)")
        #expect(FileManager.default.fileExists(atPath: setupRan.path), "built was built again")
        #expect(!FileManager.default.fileExists(atPath: hookRan.path), "hookep's setuptools entry point ran in built's build under --isolated")
    }
}
