import Foundation
import Testing
import BouncerBase

/// npm's configuration as npm reads it: `${VAR}` in npmrc, `npm_config_*`
/// over the files, each scope's registry, and which credentials npm would
/// send with a request (the proxy sends the same ones upstream, and no others).
@Suite struct NpmConfigurationTests {
    let environment = ["TOKEN": "t0k", "EMPTY": ""]

    @Test(arguments: [
        ("${TOKEN}", "t0k"),
        ("a${TOKEN}b${TOKEN}", "at0kbt0k"),
        ("${UNSET}", "${UNSET}"),         // unset: left as written
        ("${UNSET?}", ""),                // optional: empty
        ("${TOKEN?}", "t0k"),
        ("${EMPTY}", ""),
        ("\\${TOKEN}", "${TOKEN}"),       // escaped: literal, one backslash consumed
        ("\\\\${TOKEN}", "\\t0k"),        // two backslashes: one kept, then the value
        ("\\\\\\${TOKEN}", "\\${TOKEN}"),
        ("${}", "${}"),
        ("${A{B}", "${A{B}"),
        ("${TOKEN", "${TOKEN"),
        ("$TOKEN", "$TOKEN"),
        ("plain \\ text", "plain \\ text"),
    ])
    func variablesExpandAsNpmExpandsThem(text: String, expected: String) {
        #expect(NpmConfiguration.expand(text, environment: environment) == expected)
    }

    @Test func npmrcLinesKeysAndValues() {
        let text = "; comment\r\n# another\r\nregistry = \"https://r.example/\"\n//r.example/:_authToken=${TOKEN}\n@Corp:registry='https://c.example/npm/'\nnot a setting\n"
        let entries = NpmConfiguration.parse(Array(text.utf8), file: "/p/.npmrc", environment: environment)
        #expect(entries.map(\.key) == ["registry", "//r.example/:_authToken", "@Corp:registry"])
        #expect(entries.map(\.value) == ["https://r.example/", "t0k", "https://c.example/npm/"])
        #expect(entries.allSatisfy { $0.file == "/p/.npmrc" })
        // Keys and values as npm's ini reader unquotes them (red team: `"package"=DIR` and
        // `'location'=global` were settings npm read and the shim did not), inline comments cut.
        let quoted = "\"package\"=/tmp/evil\n'location'=global\nregistry=https://r.example/ ; note\nkey=a\\;b\n"
        let read = NpmConfiguration.parse(Array(quoted.utf8), file: "/p/.npmrc", environment: environment)
        #expect(read.map(\.key) == ["package", "location", "registry", "key"])
        #expect(read.map(\.value) == ["/tmp/evil", "global", "https://r.example/", "a;b"])
    }

    /// `npm_config_*` outranks the files; `_` is read as `-` and the key
    /// lower-cased, except `//host/:…` keys, which npm keeps as written.
    @Test func theEnvironmentOutranksTheFiles() {
        let entries = [NpmConfiguration.Entry(key: "registry", value: "https://file.example/", file: "a"),
                       NpmConfiguration.Entry(key: "fetch-retries", value: "1", file: "a"),
                       NpmConfiguration.Entry(key: "registry", value: "https://later.example/", file: "b")]
        let settings = NpmConfiguration.settings(entries, environment: [
            "NPM_CONFIG_FETCH_RETRIES": "5", "npm_config_//h.example/:_authToken": "env-token", "npm_config_empty": "", "OTHER": "x",
        ])
        #expect(settings["registry"] == "https://file.example/")
        #expect(settings["fetch-retries"] == "5")
        #expect(settings["//h.example/:_authToken"] == "env-token")
        #expect(settings["empty"] == nil && settings["other"] == nil)
    }

    @Test func eachScopesRegistryIsTheFirstPlaceThatNamesIt() {
        let npmrc = [NpmConfiguration.Entry(key: "@corp:registry", value: "https://project.example/", file: "project"),
                     NpmConfiguration.Entry(key: "@corp:registry", value: "https://user.example/", file: "user"),
                     NpmConfiguration.Entry(key: "@other:registry", value: "https://other.example/", file: "user")]
        let fromFiles = NpmConfiguration.scopeRegistries(arguments: [], environment: [:], npmrc: npmrc)
        #expect(fromFiles == ["@corp": "https://project.example/", "@other": "https://other.example/"])
        let overridden = NpmConfiguration.scopeRegistries(arguments: ["install", "--@corp:registry=https://cli.example/"],
                                                          environment: ["npm_config_@other:registry": "https://env.example/"], npmrc: npmrc)
        #expect(overridden == ["@corp": "https://cli.example/", "@other": "https://env.example/"])
        // Without `=` npm does not take the next word as the URL (it is a package spec of its own).
        let spaced = NpmConfiguration.scopeRegistries(arguments: ["--@corp:registry", "https://next.example/"], environment: [:], npmrc: [])
        #expect(spaced.isEmpty)
        // No package name has these scopes: left out (the proxy would refuse them as flags).
        let odd = ["@a b", "@../x", "@", "@.hidden", "@x/y", "@é"].map { NpmConfiguration.Entry(key: $0 + ":registry", value: "https://odd.example/", file: "f") }
        #expect(NpmConfiguration.scopeRegistries(arguments: [], environment: [:], npmrc: odd).isEmpty)
        #expect(NpmConfiguration.isScope("@my-org.io_x~1") && !NpmConfiguration.isScope("my-org"))
    }

    /// The longest `//host[:port]/path` with credentials wins; the URL's path is
    /// walked up to its host; a token is Bearer, `_auth` and username/password Basic.
    @Test func credentialsFollowTheLongestMatchingRegistryKey() {
        let settings = [
            "//r.example/:_authToken": "host-token",
            "//r.example/api/npm/private/:_authToken": "private-token",
            "//basic.example:8443/npm/:_auth": "dXNlcjpwYXNz",
            "//pw.example/:username": "alice",
            "//pw.example/:_password": Base64.encode(Array("s3cret".utf8)),
            "//bad.example/:username": "bob",
            "//bad.example/:_password": "not base64!",
        ]
        func auth(_ url: String, _ registries: [String] = []) -> String? {
            NpmConfiguration.authorization(for: url, settings: settings, registries: registries)
        }
        #expect(auth("https://r.example/api/npm/private/@corp%2flib") == "Bearer private-token")
        #expect(auth("https://r.example/api/npm/private/@corp/lib/-/lib-1.0.0.tgz?x=1") == "Bearer private-token")
        #expect(auth("https://r.example/api/npm/public/left-pad") == "Bearer host-token")
        #expect(auth("https://R.EXAMPLE/left-pad") == "Bearer host-token")
        #expect(auth("https://user:pw@r.example/left-pad") == "Bearer host-token")
        #expect(auth("https://basic.example:8443/npm/x") == "Basic dXNlcjpwYXNz")
        #expect(auth("https://basic.example/npm/x") == nil)                   // another port: another origin
        #expect(auth("https://pw.example/x") == "Basic " + Base64.encode(Array("alice:s3cret".utf8)))
        #expect(auth("https://bad.example/x") == nil)
        #expect(auth("https://elsewhere.example/r.example/x") == nil)
        #expect(auth("https://r.example.evil/x") == nil)
        #expect(auth("not a url") == nil)
    }

    /// A registry-scoped client certificate (`:certfile` with `:keyfile`, npm
    /// uses neither alone) comes from the same key as the credentials: the
    /// longest with any, so a host-wide token is not sent where a longer key
    /// names only a certificate, and a certificate beside a token goes with it.
    @Test func clientCertificatesFollowTheSameKeyAsCredentials() {
        let settings = [
            "//m.example/:_authToken": "host-token",
            "//m.example/mtls/:certfile": "/keys/mtls.pem",
            "//m.example/mtls/:keyfile": "/keys/mtls.key",
            "//both.example/:_authToken": "both-token",
            "//both.example/:certfile": "/keys/both.pem",
            "//both.example/:keyfile": "/keys/both.key",
            "//half.example/:certfile": "/keys/half.pem",
            "//c.example/mtls/:certfile": "/keys/c.pem",
            "//c.example/mtls/:keyfile": "/keys/c.key",
        ]
        func certificate(_ url: String, _ registries: [String] = []) -> String? {
            NpmConfiguration.clientCertificate(for: url, settings: settings, registries: registries).map { $0.certfile + " " + $0.keyfile }
        }
        func auth(_ url: String) -> String? { NpmConfiguration.authorization(for: url, settings: settings) }
        #expect(certificate("https://m.example/mtls/left-pad") == "/keys/mtls.pem /keys/mtls.key")
        #expect(auth("https://m.example/mtls/left-pad") == nil)
        #expect(certificate("https://m.example/other/left-pad") == nil)
        #expect(auth("https://m.example/other/left-pad") == "Bearer host-token")
        #expect(certificate("https://both.example/x") == "/keys/both.pem /keys/both.key")
        #expect(auth("https://both.example/x") == "Bearer both-token")
        #expect(certificate("https://half.example/x") == nil)
        // A tarball on the registry's host outside its path: the registry's, unless the URL has a key of its own.
        #expect(certificate("https://c.example/files/lib-1.0.0.tgz", ["https://c.example/mtls/"]) == "/keys/c.pem /keys/c.key")
        #expect(certificate("https://m.example/files/lib-1.0.0.tgz", ["https://m.example/mtls/"]) == nil)
        #expect(certificate("https://elsewhere.example/mtls/x", ["https://c.example/mtls/"]) == nil)
        #expect(NpmConfiguration.hasCredentials(["//m.example/:certfile": "/k.pem", "//m.example/:keyfile": "/k.key"]))
    }

    /// A tarball on the registry's host but outside its path has the
    /// registry's credentials (npm does the same); another host never does.
    @Test func aTarballOnTheRegistrysHostGetsTheRegistrysCredentials() {
        let settings = ["//files.example/npm/private/:_authToken": "private-token"]
        let registries = ["https://files.example/npm/private/"]
        #expect(NpmConfiguration.authorization(for: "https://files.example/download/lib-1.0.0.tgz", settings: settings, registries: registries)
                == "Bearer private-token")
        #expect(NpmConfiguration.authorization(for: "https://cdn.example/npm/private/lib-1.0.0.tgz", settings: settings, registries: registries) == nil)
        #expect(NpmConfiguration.authorization(for: "https://files.example/download/lib-1.0.0.tgz", settings: settings, registries: []) == nil)
        #expect(NpmConfiguration.hasCredentials(settings))
        #expect(!NpmConfiguration.hasCredentials(["registry": "https://files.example/", "//x/:always-auth": "true"]))
    }

    /// npm's project for a working directory: the nearest directory up with a
    /// package.json or node_modules, or the workspace root that names it.
    @Test func theProjectIsFoundAboveTheWorkingDirectory() throws {
        #expect(Filesystem.selfAndAncestors("/a/b/") == ["/a/b", "/a", "/"])
        #expect(Filesystem.selfAndAncestors("/") == ["/"])
        #expect(Filesystem.selfAndAncestors("") == [])
        // A relative path ends at "." (it had looped there for ever, filling memory).
        #expect(Filesystem.selfAndAncestors("packages/a") == ["packages/a", "packages", "."])
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("bouncer-npm-prefix-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        func write(_ path: String, _ text: String) throws {
            try FileManager.default.createDirectory(atPath: root + "/" + Filesystem.split(path).directory, withIntermediateDirectories: true)
            try text.write(toFile: root + "/" + path, atomically: true, encoding: .utf8)
        }
        func mkdir(_ path: String) throws { try FileManager.default.createDirectory(atPath: root + "/" + path, withIntermediateDirectories: true) }
        try write("mono/package.json", #"{"name":"mono","workspaces":["./packages/*", "apps/web/"]}"#)
        try write("mono/packages/a/package.json", #"{"name":"a"}"#)
        try write("mono/apps/web/package.json", #"{"name":"web"}"#)
        try write("mono/tools/b/package.json", #"{"name":"b"}"#)
        try write("obj/package.json", #"{"name":"obj","workspaces":{"packages":["libs/*"]}}"#)
        try write("obj/libs/c/package.json", #"{"name":"c"}"#)
        try write("broken/package.json", "{ not json")
        try write("broken/inner/package.json", #"{"name":"inner"}"#)
        try mkdir("mono/packages/a/src/deep")
        try mkdir("bare/node_modules")
        try mkdir("bare/x")
        try mkdir("nothing/here")
        #expect(NpmConfiguration.localPrefix(cwd: root + "/mono/packages/a/src/deep") == root + "/mono")
        #expect(NpmConfiguration.localPrefix(cwd: root + "/mono/packages/a/") == root + "/mono")
        #expect(NpmConfiguration.localPrefix(cwd: root + "/mono/apps/web") == root + "/mono")
        // `--no-workspaces` on the command line: npm stops at the nearest folder (red team, round 2: a member's own lock went unread).
        #expect(NpmConfiguration.localPrefix(cwd: root + "/mono/packages/a/src/deep", workspaceRoot: false) == root + "/mono/packages/a")
        #expect(NpmConfiguration.localPrefix(cwd: root + "/mono/tools/b") == root + "/mono/tools/b")
        #expect(NpmConfiguration.localPrefix(cwd: root + "/obj/libs/c") == root + "/obj")
        // A root package.json Bouncer cannot read may be the one npm takes for the root (npm reads a duplicate
        // key): taken, so reading it refuses the call rather than the member's files being judged in its place.
        #expect(NpmConfiguration.localPrefix(cwd: root + "/broken/inner") == root + "/broken")
        // As npm's map-workspaces reads the globs: braces, and a UTF-8 byte order mark dropped.
        try write("braces/package.json", #"{"workspaces":["{packages/a,packages/b}"]}"#)
        try write("braces/packages/b/package.json", #"{"name":"b"}"#)
        #expect(NpmConfiguration.localPrefix(cwd: root + "/braces/packages/b") == root + "/braces")
        try FileManager.default.createDirectory(atPath: root + "/bom/packages/a", withIntermediateDirectories: true)
        try Data([0xEF, 0xBB, 0xBF] + Array(#"{"workspaces":["packages/a"]}"#.utf8)).write(to: URL(fileURLWithPath: root + "/bom/package.json"))
        try write("bom/packages/a/package.json", #"{"name":"a"}"#)
        #expect(NpmConfiguration.localPrefix(cwd: root + "/bom/packages/a") == root + "/bom")
        #expect(NpmConfiguration.localPrefix(cwd: root + "/bare/x") == root + "/bare")
        // With no project anywhere above (none above the temporary directory either): the working directory.
        if NpmConfiguration.localPrefix(cwd: root) == root {
            #expect(NpmConfiguration.localPrefix(cwd: root + "/nothing/here") == root + "/nothing/here")
        }
    }
}
