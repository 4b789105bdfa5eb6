import Testing
@testable import BouncerIO

/// npm specs read as npm's own spec parser (npm-package-arg) reads them:
/// what it takes for a file, a folder, a URL or git is exotic; a range, a
/// tag, a version or an alias of a registry package is not.
@Suite struct ExoticSourceTests {
    @Test func dependencyValuesNpmReadsAsFilesFoldersURLsOrGit() {
        for spec in ["file:../x", "./x", "../x", "/abs", "~/x", ".x", ".", "..", "x:evil", "C:stuff", "evil-1.0.0.tgz", "LATEST.TAR.GZ",
                     "a.tar", "@x/y", "user/repo", "user/repo#v1", "github:u/r", "gitlab:u/r", "gist:123", "bitbucket:u/r",
                     "git+ssh://h/r.git", "git://h/r", "http://h/x.tgz", "https://h/x.tgz", "weird:thing", "git@host.tld:repo",
                     "link:../x", "portal:../x", "npm:good@file:../x", "npm:@s/n@https://h/x.tgz", " ./x"] {
            #expect(ExoticSource.isExoticNpmSpec(spec), "\(spec)")
        }
        for spec in ["^1.0.0", "1.2.3", "~1.2.3", ">=1 <2", "1.0.0 - 2.0.0", "^1 || ^2", "*", "", "latest", "next", "x", "1.x",
                     "npm:good@^1", "npm:@scope/name@1.0.0", "npm:good", "v1.2.3"] {
            #expect(!ExoticSource.isExoticNpmSpec(spec), "\(spec)")
        }
    }

    @Test func commandLineArgumentsAsNpmInstallReadsThem() {
        for argument in ["evil-1.0.0.tgz", ".evil", "./x", "x:evil", "user/repo", "good@file:../x", "@s/n@../x", "good@evil.tgz",
                         "git@host.tld:u/r.git", "https://h/x.tgz", "github:u/r", "@s/n/../../x", "good@.x"] {
            #expect(ExoticSource.isExoticNpmArgument(argument), "\(argument)")
        }
        for argument in ["good", "good@1", "good@^1.0.0", "@s/n", "@s/n@latest", "Good", "npm:good@1", "good@npm:other@1", "a.b"] {
            #expect(!ExoticSource.isExoticNpmArgument(argument), "\(argument)")
        }
    }
}
