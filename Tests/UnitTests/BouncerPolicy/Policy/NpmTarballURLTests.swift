import Testing
@testable import BouncerBase
@testable import BouncerIO
@testable import BouncerSignatures
@testable import BouncerSigstore
@testable import BouncerPolicy
@testable import BouncerTools

/// The npm registry layout `registrySignature` relies on to find the packument.
@Suite struct NpmTarballURLTests {
    @Test func unscopedAndScopedTarballs() throws {
        let plain = try #require(NpmTarballURL("https://registry.example.test/left-pad/-/left-pad-1.3.0.tgz"))
        #expect(plain.packument == "https://registry.example.test/left-pad")
        #expect(plain.name == "left-pad")
        #expect(plain.version(of: "left-pad") == "1.3.0")

        let scoped = try #require(NpmTarballURL("https://u:p@registry.example.test/npm/@scope/pkg/-/pkg-2.0.0-rc.1.tgz?x=1"))
        #expect(scoped.packument == "https://u:p@registry.example.test/npm/@scope/pkg")
        #expect(scoped.name == "@scope/pkg")
        #expect(scoped.version(of: "@scope/pkg") == "2.0.0-rc.1")
        // The file must belong to the package named.
        #expect(scoped.version(of: "@scope/other") == nil)
    }

    @Test func otherLayoutsAreRefused() {
        #expect(NpmTarballURL("https://example.test/releases/app-1.0.0.tgz") == nil)
        #expect(NpmTarballURL("https://example.test/pkg/-/pkg-1.0.0.zip") == nil)
        #expect(NpmTarballURL("https://example.test/-/pkg-1.0.0.tgz") == nil)
        #expect(NpmTarballURL("https://example.test/{url}/-/x-1.tgz") == nil)
        #expect(NpmTarballURL("https://example.test/@scope/-/x-1.tgz")?.name == nil)
    }
}
