import Foundation
import Testing
import BouncerBase
import BouncerTestSupport

/// Waiting for children without polling: a sleep ends when a watched child
/// exits, and each exit wakes it once.
@Suite(.blocking) struct ExitWatchTests {
    private func start(_ script: String) throws -> pid_t {
        try Spawn.start("/bin/sh", ["-c", script], environment: ["PATH": "/usr/bin:/bin"])
    }

    private func hasExited(_ pid: pid_t) -> Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == pid
    }

    @Test func pidfdsAreUsableHere() throws {
        let child = try start("exit 0")
        defer { _ = try? Spawn.wait(child, "sh") }
        // Without them every shim would be back to waking every 2 ms.
        #expect(ExitWatch([child]).blocking, "pidfd_open failed: the shims fall back to polling on this machine")
    }

    @Test func aSleepEndsWhenTheChildExitsNotBefore() throws {
        let child = try start("sleep 0.3")
        let watch = ExitWatch([child])
        try #require(watch.blocking)
        watch.sleep(milliseconds: 60_000)
        // Woken by the exit itself: the child is there to reap at once.
        #expect(hasExited(child))
    }

    @Test func eachExitWakesOnceSoASecondChildIsWaitedFor() throws {
        let quick = try start("exit 0")
        let slow = try start("sleep 0.5")
        let watch = ExitWatch([quick, slow])
        try #require(watch.blocking)
        watch.sleep(milliseconds: 60_000)
        #expect(hasExited(quick))
        // Had the first child's descriptor stayed in the set, this would return at once, with the slow one still running.
        watch.sleep(milliseconds: 60_000)
        #expect(hasExited(slow))
    }

    @Test func aChildAlreadyReapedNeedsNoWatching() throws {
        let gone = try start("exit 0")
        _ = try Spawn.wait(gone, "sh")
        let child = try start("sleep 0.2")
        let watch = ExitWatch([gone, child])
        #expect(watch.blocking)
        watch.sleep(milliseconds: 60_000)
        #expect(hasExited(child))
    }
}
