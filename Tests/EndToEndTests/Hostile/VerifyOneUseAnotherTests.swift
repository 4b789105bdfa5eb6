import Foundation
import Testing
import BouncerTestSupport

/// Verify one copy, use another: a server that sends the genuine bytes on the
/// first request and different bytes on every later one (and the reverse).
/// Whatever ends up at the destination, or reaches a real tool, must be the
/// copy that was verified. The stand-in real curl/wget record any run.
@Suite(.blocking) struct VerifyOneUseAnotherTests {
    let server: MisbehavingServer
    let project: HostileProject
    let genuine: [UInt8]
    let evil: [UInt8]

    init() throws {
        server = try MisbehavingServer()
        project = try HostileProject("swap")
        genuine = try HostileProject.random(300_000)
        evil = try HostileProject.random(300_000)
        try project.pinnedPolicy(try HostileProject.sha256(genuine))
        server.route("/files/tool.tar.gz", [.init(body: genuine), .init(body: evil)])
        server.route("/files/evil-first.tar.gz", [.init(body: evil), .init(body: genuine)])
    }

    @Test func fetchOutputIsTheVerifiedCopy() throws {
        let result = try project.bouncer(["fetch", "--quiet", server.url("/files/tool.tar.gz"), "-o", project.path("out.bin")])
        #expect(result.status == 0, "\(result.err)")
        #expect(project.bytes("out.bin") == genuine)
        // The destination is written from the verified store copy, never refetched.
        #expect(server.requests(to: "/files/tool.tar.gz") == 1)
        // A later run gets the other bytes: refused by the pin, the verified file stays.
        let again = try project.bouncer(["fetch", "--quiet", server.url("/files/tool.tar.gz"), "-o", project.path("out.bin")])
        if server.requests(to: "/files/tool.tar.gz") > 1 {
            #expect(again.status == 1, "\(again.err)")
        }
        #expect(project.bytes("out.bin") == genuine)
    }

    @Test func fetchToStandardOutputIsTheVerifiedCopy() throws {
        let result = try project.bouncer(["fetch", "--quiet", server.url("/files/tool.tar.gz"), "-o", "-"])
        #expect(result.status == 0, "\(result.err)")
        #expect([UInt8](result.stdout) == genuine)
    }

    @Test func changedBytesFirstAreRefusedAndNeverRetriedIntoAPass() throws {
        let result = try project.bouncer(["fetch", "--quiet", server.url("/files/evil-first.tar.gz"), "-o", project.path("out.bin")])
        #expect(result.status == 1, "\(result.err)")
        #expect(!project.exists("out.bin"))
    }

    @Test func curlShimWritesTheVerifiedCopyAndTheRealCurlNeverFetches() throws {
        let result = try project.sh("curl -fsSL -o got.tar.gz '\(server.url("/files/tool.tar.gz"))' && curl -fsSLO '\(server.url("/files/tool.tar.gz"))'")
        // The second download sees the changed bytes: it must be refused, the first file kept.
        #expect(project.bytes("got.tar.gz") == genuine, "\(result.err)")
        if project.exists("tool.tar.gz") {
            #expect(project.bytes("tool.tar.gz") == genuine)
        }
        #expect(project.realToolRuns.isEmpty, "the real curl ran: \(project.realToolRuns)")
    }

    @Test func curlShimPipeNeverSeesTheOtherCopy() throws {
        let result = try project.sh("curl -fsSL '\(server.url("/files/evil-first.tar.gz"))' | wc -c")
        #expect(result.out.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "unverified bytes reached the pipe: \(result.out)")
        #expect(result.err.contains("REFUSED") || result.err.contains("refused"), "\(result.err)")
        #expect(project.realToolRuns.isEmpty, "the real curl ran: \(project.realToolRuns)")
    }

    @Test func wgetShimWritesTheVerifiedCopyAndTheRealWgetNeverFetches() throws {
        let result = try project.sh("wget -q -O got.tar.gz '\(server.url("/files/tool.tar.gz"))'")
        #expect(result.status == 0, "\(result.err)")
        #expect(project.bytes("got.tar.gz") == genuine)
        let refused = try project.sh("wget -q '\(server.url("/files/evil-first.tar.gz"))'")
        #expect(refused.status != 0)
        #expect(!project.exists("evil-first.tar.gz"))
        #expect(project.realToolRuns.isEmpty, "the real wget ran: \(project.realToolRuns)")
    }
}
