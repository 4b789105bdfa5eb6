import Foundation
import Testing
@testable import BouncerBase
@testable import BouncerTools
import BouncerTestSupport

/// A shim's proxy gets its upstream URLs without their passwords on its
/// command line, and the credentials in a file only the user can read.
@Suite struct ProxyCredentialsTests {
    @Test func passwordsLeaveTheCommandLineForAPrivateFile() throws {
        let dir = try BouncerProcess.temporaryDirectory("bouncer-proxy-credentials")
        defer { try? FileManager.default.removeItem(at: dir) }
        let arguments = ["--no-npm", "--pypi-upstream", "https://alice:s3cret@pkgs.example/simple/", "--pypi-find-links", "./wheels",
                         "--npm-scope-upstream", "@corp=https://tok3n@npm.example/corp/", "--pypi-expect", "six==1.16.0"]
        let passed = try EphemeralProxy.withoutCredentials(arguments, directory: dir.path)
        let file = dir.appendingPathComponent("upstream-credentials.json").path
        #expect(passed == ["--no-npm", "--pypi-upstream", "https://pkgs.example/simple/", "--pypi-find-links", "./wheels",
                           "--npm-scope-upstream", "@corp=https://npm.example/corp/", "--pypi-expect", "six==1.16.0",
                           "--upstream-credentials", file])
        #expect(!passed.joined(separator: " ").contains("s3cret") && !passed.joined(separator: " ").contains("tok3n"))
        let written = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: String]
        #expect(written == ["https://pkgs.example": "Basic " + Data("alice:s3cret".utf8).base64EncodedString(),
                            "https://npm.example": "Basic " + Data("tok3n:".utf8).base64EncodedString()])
        var info = stat()
        #expect(stat(file, &info) == 0 && info.st_mode & 0o777 == 0o600)
        // Nothing to take out: the arguments as they were, and no file.
        let plain = ["--pypi-upstream", "https://pkgs.example/simple/"]
        try FileManager.default.removeItem(atPath: file)
        #expect(try EphemeralProxy.withoutCredentials(plain, directory: dir.path) == plain)
        #expect(!FileManager.default.fileExists(atPath: file))
    }
}
