import Testing
@testable import BouncerTools

/// npm's reading of option words (nopt): dashes, shorthands, prefixes.
@Suite struct NpmOptionsTests {
    @Test func watchedSettingsInEverySpellingNpmTakes() {
        #expect(NpmOptions.normalised(["install", "-registry=http://r/", "--reg", "http://s/", "--regis=http://t/", "x"])
                == ["install", "--registry=http://r/", "--registry", "http://s/", "--registry=http://t/", "x"])
        #expect(NpmOptions.normalised(["ci", "--replace-reg=never", "-C", "dir", "-gf", "---@corp:registry=http://c/"])
                == ["ci", "--replace-registry-host=never", "--prefix", "dir", "--global", "-f", "--@corp:registry=http://c/"])
        // A prefix of several settings (registry, replace-registry-host, read-only…) is none of them; other settings stay as written.
        #expect(NpmOptions.normalised(["i", "--re=x", "-D", "--save-dev", "--", "--reg=y"]) == ["i", "--re=x", "-D", "--save-dev", "--", "--reg=y"])
        #expect(NpmOptions.setting("--glob") == nil && NpmOptions.setting("-g") == "global" && NpmOptions.setting("--nopro") == "noproxy")
    }
}
