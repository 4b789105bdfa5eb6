import Foundation
import Testing
import BouncerBase

/// The one spawn helper: what it captures, what it keeps from the child.
@Suite struct SpawnTests {
    @Test func outputIsTheChildsStandardOutputOnly() throws {
        let ran = try Spawn.output("/bin/sh", ["-c", "echo out; echo err >&2; cat; exit 3"], environment: ["PATH": "/usr/bin:/bin"])
        // Standard error is discarded, standard input is empty (cat ends at once), the status is kept.
        #expect(String(decoding: ran.output, as: UTF8.self) == "out\n")
        #expect(ran.status == 3)
    }

    @Test func theEnvironmentIsExactlyTheOneGiven() throws {
        let ran = try Spawn.output("/usr/bin/env", [], environment: ["ONLY": "this"])
        #expect(String(decoding: ran.output, as: UTF8.self) == "ONLY=this\n")
    }

    @Test func aKilledChildReportsItsSignalAsShellsDo() throws {
        let ran = try Spawn.output("/bin/sh", ["-c", "kill -9 $$"], environment: [:])
        #expect(ran.status == 128 + 9)
    }

    @Test func aMissingProgramIsAnError() {
        #expect(throws: BouncerError.self) { try Spawn.output("/nonexistent/program", [], environment: [:]) }
    }
}
