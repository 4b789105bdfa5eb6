import Foundation
import Testing
import BouncerBase
@testable import BouncerServe
import BouncerTestSupport

/// A standalone proxy's PyPI upstream, when no flag names it: the index pip
/// would use, read from pip's environment and configuration files (the ones
/// `python3 -m pip` reads with the python3 on PATH), without starting Python.
@Suite struct UpstreamDefaultsTests {
    @Test func pipsEnvironmentThenItsFilesThenTheVenvsOwn() throws {
        let dir = try BouncerProcess.temporaryDirectory("bouncer-upstream-defaults")
        defer { try? FileManager.default.removeItem(at: dir) }
        let conf = dir.appendingPathComponent("pip.conf")
        try "[global]\nindex-url = http://global.test/simple\n[install]\nindex-url = http://install.test/simple\n"
            .write(to: conf, atomically: true, encoding: .utf8)
        // An empty home and XDG folders: the machine's own pip.conf files are not read.
        let quiet = ["HOME": dir.path, "XDG_CONFIG_DIRS": dir.path + "/none", "XDG_CONFIG_HOME": dir.path + "/none", "PATH": "/nonexistent"]
        var environment = quiet
        environment["PIP_CONFIG_FILE"] = conf.path
        #expect(UpstreamDefaults.pipIndex(environment: environment) == "http://install.test/simple")
        environment["PIP_INDEX_URL"] = "http://variable.test/simple"
        #expect(UpstreamDefaults.pipIndex(environment: environment) == "http://variable.test/simple")

        // A venv's python3 first on PATH: its pip.conf counts (it is read last).
        let venv = dir.appendingPathComponent("venv")
        try FileManager.default.createDirectory(at: venv.appendingPathComponent("bin"), withIntermediateDirectories: true)
        try "home = /usr/bin\n".write(to: venv.appendingPathComponent("pyvenv.cfg"), atomically: true, encoding: .utf8)
        try "[global]\nindex-url = http://venv.test/simple\n".write(to: venv.appendingPathComponent("pip.conf"), atomically: true, encoding: .utf8)
        let python = venv.appendingPathComponent("bin/python3")
        try "#!/bin/sh\nexit 1\n".write(to: python, atomically: true, encoding: .utf8)
        #expect(chmod(python.path, 0o755) == 0)
        var inVenv = quiet
        inVenv["PATH"] = venv.appendingPathComponent("bin").path + ":/nonexistent"
        #expect(UpstreamDefaults.pipIndex(environment: inVenv) == "http://venv.test/simple")
        #expect(SearchPath.firstExecutable("python3", environment: inVenv) == python.path)
    }

    /// Everything pip's configuration names: extra indexes, find-links as
    /// absolute directories (relative to the working directory, `file://`
    /// too; a missing one left out, as pip finds nothing there) and URLs;
    /// `no-index` leaves only find-links.
    @Test func pipsExtraIndexesAndFindLinksToo() throws {
        let dir = try BouncerProcess.temporaryDirectory("bouncer-upstream-pip")
        defer { try? FileManager.default.removeItem(at: dir) }
        for folder in ["wheels", "abs"] {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        let conf = dir.appendingPathComponent("pip.conf")
        let absolute = dir.appendingPathComponent("abs").path
        try """
            [global]
            index-url = http://index.test/simple
            extra-index-url = http://one.test/simple
                http://two.test/simple
            find-links = wheels
                file://\(absolute)
                missing
                https://links.test/page.html
            """.write(to: conf, atomically: true, encoding: .utf8)
        var environment = ["HOME": dir.path, "XDG_CONFIG_DIRS": dir.path + "/none", "XDG_CONFIG_HOME": dir.path + "/none",
                           "PATH": "/nonexistent", "PIP_CONFIG_FILE": conf.path]
        let found = UpstreamDefaults.pip(environment: environment, directory: dir.path)
        #expect(found == PipUpstreams(index: "http://index.test/simple", extras: ["http://one.test/simple", "http://two.test/simple"],
                                      findLinks: [dir.path + "/wheels", absolute, "https://links.test/page.html"]))
        environment["PIP_NO_INDEX"] = "1"
        #expect(UpstreamDefaults.pip(environment: environment, directory: dir.path)
                == PipUpstreams(index: nil, findLinks: [dir.path + "/wheels", absolute, "https://links.test/page.html"]))

        // Merged into a proxy's sources after what its command line names, each once.
        var sources = PyPISources(primary: nil, primaryFromPip: true, extras: ["http://one.test/simple/"], findLinks: [absolute])
        sources = sources.adding(found)
        #expect(sources.primary == "http://index.test/simple/")
        #expect(sources.extras == ["http://one.test/simple/", "http://two.test/simple/"])
        #expect(sources.findLinks == [absolute, dir.path + "/wheels", "https://links.test/page.html"])
    }
}
