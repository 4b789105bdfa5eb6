import Foundation
import Testing
@testable import BouncerTools
import BouncerTestSupport

/// npm's reading of its command line (nopt): dashes, shorthands, prefixes,
/// negation, and which word each option takes as its value.
@Suite struct NpmOptionsTests {
    @Test func everyOptionBecomesOneWordUnderItsFullName() {
        #expect(NpmOptions.normalised(["install", "-registry=http://r/", "--reg", "http://s/", "--regis=http://t/", "x"])
                == ["install", "--registry=http://r/", "--registry=http://s/", "--registry=http://t/", "x"])
        #expect(NpmOptions.normalised(["ci", "--replace-reg=never", "-C", "dir", "-gf", "---@corp:registry=http://c/"])
                == ["ci", "--replace-registry-host=never", "--prefix=dir", "--global", "--force", "--@corp:registry=http://c/"])
        // A prefix of several settings (registry, replace-registry-host, read-only…) is none of them.
        #expect(NpmOptions.normalised(["i", "--re=x", "-D", "--save-dev", "--", "--reg=y"])
                == ["i", "--re=x", "--save-dev", "--save-dev", "--", "--reg=y"])
        #expect(NpmOptions.normalised(["-s", "-L", "global", "--no-glob", "--no-global", "i"])
                == ["--loglevel=silent", "--location=global", "--no-glob", "--no-global", "i"])
    }

    /// Which word is an option's value decides which word is npm's command:
    /// `--before DATE install` once made the shim take the date for the
    /// command, and the real npm ran unguarded.
    @Test func theWordAnOptionTakesIsTheOneNpmTakes() {
        #expect(NpmOptions.normalised(["--before", "2024-01-01", "install", "x"]) == ["--before=2024-01-01", "install", "x"])
        #expect(NpmOptions.normalised(["--ignore-scripts", "false", "install"]) == ["--ignore-scripts=false", "install"])
        #expect(NpmOptions.normalised(["--otp", "123456", "i"]) == ["--otp=123456", "i"])
        // A Boolean takes only true or false; an unknown setting is a Boolean: the URL is a package spec.
        #expect(NpmOptions.normalised(["i", "--global", "yes"]) == ["i", "--global", "yes"])
        #expect(NpmOptions.normalised(["i", "--@corp:registry", "http://evil.test/x.tgz"]) == ["i", "--@corp:registry", "http://evil.test/x.tgz"])
        // A plain String does not take a word like an option.
        #expect(NpmOptions.normalised(["--tag", "-x", "i"]) == ["--tag", "--x", "i"])
    }

    /// Differential, against npm's own parser: the real npm's `nopt` with its
    /// settings and shorthands reads each given command line and its
    /// normalised words the same way (settings, values and the words left over).
    @Test func normalisedWordsMeanToNpmWhatTheGivenOnesMeant() throws {
        let lines: [[String]] = [
            ["install", "--before", "2024-01-01", "x"], ["--ignore-scripts", "false", "install", "x"], ["--otp", "1", "i"],
            ["i", "--global", "yes"], ["i", "--@corp:registry", "http://evil.test/x.tgz"], ["--tag", "-x", "i"],
            ["install", "-registry=http://r/", "--reg", "http://s/", "--regis=http://t/", "x"],
            ["ci", "--replace-reg=never", "-C", "dir", "-gf", "---@corp:registry=http://c/"],
            ["i", "--re=x", "-D", "--save-dev", "--", "--reg=y"], ["-s", "-L", "global", "--no-glob", "--no-global", "i"],
            ["-dd", "--no-no-global", "i", "--global=yes", "--no-yes", "true"], ["--loglevel", "--", "i"],
            ["--browser", "firefox", "--color", "always", "--depth", "3", "--proxy", "false", "i"], ["--no-browser", "x", "i"],
            ["--lockfile-version", "3", "--access", "false", "--omit", "dev", "--omit=peer", "i"], ["-ws", "-w", "a", "i", "-"],
            ["--audit-level", "null", "--install-links", "--save-exact", "true", "i", "-q"], ["--package", "-x", "exec"],
            ["--ca", "-----BEGIN CERTIFICATE-----\\nx", "--ca=y", "--cafile", "f.pem", "i"], ["--enjoy-by", "2020-01-01", "i"],
            ["--local", "--porcelain", "--readonly", "ls"], ["--", "--registry", "x"], ["i", "--foo=bar", "--foo", "baz"],
        ]
        let npm = try BouncerProcess.runProgram("/bin/sh", ["-c", "dirname \"$(dirname \"$(realpath \"$(command -v npm)\")\")\""])
        let npmRoot = npm.out.trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(npm.status == 0 && FileManager.default.fileExists(atPath: npmRoot + "/node_modules/nopt"), "npm's nopt: \(npm.err)")
        let script = """
            const npm = process.argv[1]
            const nopt = require(npm + '/node_modules/nopt')
            const { definitions, shorthands } = require(npm + '/node_modules/@npmcli/config/lib/definitions')
            Object.assign(nopt.typeDefs, require(npm + '/node_modules/@npmcli/config/lib/type-defs.js'))
            nopt.invalidHandler = () => {}
            const types = {}
            for (const [key, definition] of Object.entries(definitions)) types[key] = definition.type
            for (const line of JSON.parse(process.argv[2])) {
              const conf = nopt(types, shorthands, line, 0)
              const remain = conf.argv.remain
              delete conf.argv
              console.log(JSON.stringify([Object.entries(conf).sort().map(([k, v]) => [k, String(v)]), remain]))
            }
            """
        func parsed(_ lines: [[String]]) throws -> [String] {
            let input = String(decoding: try JSONSerialization.data(withJSONObject: lines), as: UTF8.self)
            let node = try BouncerProcess.runProgram("/usr/bin/env", ["node", "-e", script, npmRoot, input])
            try #require(node.status == 0, "node: \(node.err)")
            return node.out.split(separator: "\n").map(String.init)
        }
        let given = try parsed(lines)
        let normalised = try parsed(lines.map(NpmOptions.normalised))
        #expect(given.count == lines.count)
        for (index, line) in lines.enumerated() where index < given.count && index < normalised.count {
            #expect(given[index] == normalised[index], "\(line) → \(NpmOptions.normalised(line))")
        }
    }
}

/// npm's reading of its command word (its cmd-list `deref`).
@Suite struct NpmCommandsTests {
    @Test func aCommandIsItsNameAnAliasACamelCaseSpellingOrAUniquePrefix() {
        #expect(NpmCommands.command("install") == "install" && NpmCommands.command("isntall") == "install")
        #expect(NpmCommands.command("clean-install") == "ci" && NpmCommands.command("x") == "exec")
        #expect(NpmCommands.command("exe") == "exec" && NpmCommands.command("upd") == "update" && NpmCommands.command("dedu") == "dedupe")
        #expect(NpmCommands.command("clean-install-t") == "install-ci-test" && NpmCommands.command("installCiTest") == "install-ci-test")
        #expect(NpmCommands.command("ex") == nil, "exec, explain and explore")
        #expect(NpmCommands.command("install-") == nil && NpmCommands.command("frobnicate") == nil && NpmCommands.command("") == nil)
    }

    /// Differential, against npm's own `deref`.
    @Test func theSameCommandsAsNpmsOwnReading() throws {
        let words = ["install", "isntall", "clean-install", "x", "exe", "upd", "dedu", "clean-install-t", "installCiTest", "ex",
                     "install-", "frobnicate", "ln", "li", "lin", "au", "pru", "un", "unin", "cit", "sit", "rum", "Install", "i", "p"]
        let npm = try BouncerProcess.runProgram("/bin/sh", ["-c", "dirname \"$(dirname \"$(realpath \"$(command -v npm)\")\")\""])
        let npmRoot = npm.out.trimmingCharacters(in: .whitespacesAndNewlines)
        let script = "const { deref } = require(process.argv[1] + '/lib/utils/cmd-list.js'); for (const w of JSON.parse(process.argv[2])) console.log(deref(w) ?? '-')"
        let input = String(decoding: try JSONSerialization.data(withJSONObject: words), as: UTF8.self)
        let node = try BouncerProcess.runProgram("/usr/bin/env", ["node", "-e", script, npmRoot, input])
        try #require(node.status == 0, "node: \(node.err)")
        let theirs = node.out.split(separator: "\n").map(String.init)
        #expect(theirs == words.map { NpmCommands.command($0) ?? "-" })
    }
}
