import Foundation
import Testing
@testable import BouncerTools
import BouncerTestSupport

/// uv's configuration files, read for `bouncer shims check`: which files uv
/// would read, and the indexes and find-links they name, found by a TOML
/// reader that only has to find those and must never fail on what it cannot read.
@Suite struct UvConfigurationTests {
    @Test func settingsOfAUvToml() {
        let text = """
            # a comment
            index-url = "http://default.test/simple"   # trailing comment
            extra-index-url = [
                "http://one.test/simple",  # one
                'http://two.test/simple',
            ]
            find-links = ["./vendor", "https://links.test/page.html"]
            index = [{ name = "inline", url = "http://inline.test/simple" }]
            no-build = true

            [[index]]
            name = "corp"
            url = "http://corp.test/simple"

            [[index]]
            url = "http://override.test/simple"
            default = true

            [pip]
            extra-index-url = ["http://uv-pip.test/simple"]
            compile-bytecode = true

            [other]
            extra-index-url = ["http://not-uv.test/simple"]
            """
        let read = UvConfiguration.parse(text, table: [])
        #expect(read.defaultIndex == "http://override.test/simple")
        // Extra indexes first, then the [[index]] entries (inline or tables) in the file's order.
        #expect(read.indexes == ["http://one.test/simple", "http://two.test/simple", "http://uv-pip.test/simple",
                                 "http://inline.test/simple", "http://corp.test/simple"])
        #expect(read.findLinks == ["./vendor", "https://links.test/page.html"])
    }

    @Test func settingsUnderToolUvInAPyproject() {
        let text = """
            [project]
            name = "demo"
            dependencies = ["requests>=2", "extra-index-url"]
            description = \"\"\"multi
            line, with "quotes" and [brackets]\"\"\"

            [tool.uv]
            find-links = ['C:\\wheels', "esc\\"aped"]

            [[tool.uv.index]]
            url = "http://corp.test/simple"

            [tool.other]
            index-url = "http://other-tool.test/simple"
            """
        let read = UvConfiguration.parse(text, table: ["tool", "uv"])
        #expect(read == UvConfiguration(defaultIndex: nil, indexes: ["http://corp.test/simple"], findLinks: ["C:\\wheels", "esc\"aped"]))
    }

    /// Cut short, or bytes flipped at random: whatever is read is read, and nothing traps.
    @Test func anythingItCannotReadStopsIt() {
        let text = Array("""
            index-url = "http://default.test/simple"
            extra-index-url = ["http://one.test/simple", "http://two.test/simple"]
            [[index]]
            url = "http://corp.test/simple"
            """.utf8)
        #expect(UvConfiguration.parse("index-url = \"http://a.test\"\n= broken\nfind-links = [\"x\"]", table: []).defaultIndex == "http://a.test")
        #expect(UvConfiguration.parse("find-links = [\"x\"", table: []).findLinks.isEmpty)
        #expect(TOMLScan.entries(String(repeating: "[", count: 10_000)).isEmpty)
        #expect(TOMLScan.entries("a = " + String(repeating: "[", count: 10_000)).isEmpty)
        for cut in 0...text.count {
            _ = UvConfiguration.parse(String(decoding: text[0..<cut], as: UTF8.self), table: [])
        }
        var random = TestRandom.generator()
        for _ in 0..<2_000 {
            var bytes = text
            for _ in 0..<(1 + random.below(4)) { bytes[random.below(bytes.count)] = UInt8(truncatingIfNeeded: random.next()) }
            _ = UvConfiguration.parse(String(decoding: bytes, as: UTF8.self), table: [])
        }
    }

    /// The project's file (uv.toml before pyproject.toml, a pyproject.toml only
    /// with [tool.uv], in the nearest directory up that has one), then the
    /// user's, then the system's; UV_CONFIG_FILE alone; UV_NO_CONFIG none.
    @Test func theFilesUvReads() throws {
        let root = try BouncerProcess.temporaryDirectory("bouncer-uv-config")
        defer { try? FileManager.default.removeItem(at: root) }
        let project = root.appendingPathComponent("project"), nested = project.appendingPathComponent("src/pkg")
        for dir in [nested, root.appendingPathComponent("home/.config/uv"), root.appendingPathComponent("xdg/uv")] {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        }
        func write(_ text: String, _ path: String) throws {
            try text.write(to: root.appendingPathComponent(path), atomically: true, encoding: .utf8)
        }
        try write("[project]\nname = \"inner\"\n", "project/src/pyproject.toml")
        try write("[tool.uv]\nextra-index-url = [\"http://project.test/simple\"]\n", "project/pyproject.toml")
        try write("find-links = [\"/user/wheels\"]\n", "home/.config/uv/uv.toml")
        try write("index-url = \"http://system.test/simple\"\n", "xdg/uv/uv.toml")
        let environment = ["HOME": root.appendingPathComponent("home").path, "XDG_CONFIG_DIRS": root.appendingPathComponent("xdg").path]

        let read = UvConfiguration.read(cwd: nested.path, environment: environment)
        #expect(read == UvConfiguration(defaultIndex: "http://system.test/simple", indexes: ["http://project.test/simple"], findLinks: ["/user/wheels"]))
        try write("extra-index-url = [\"http://uv-toml.test/simple\"]\n", "project/uv.toml")
        #expect(UvConfiguration.read(cwd: nested.path, environment: environment).indexes == ["http://uv-toml.test/simple"])

        var named = environment
        named["UV_CONFIG_FILE"] = root.appendingPathComponent("home/.config/uv/uv.toml").path
        #expect(UvConfiguration.read(cwd: nested.path, environment: named) == UvConfiguration(findLinks: ["/user/wheels"]))
        named["UV_NO_CONFIG"] = "1"
        #expect(UvConfiguration.read(cwd: nested.path, environment: named) == UvConfiguration())
    }
}
