// Only test builds have Swift Testing: a release build of every target
// (`swift build -c release --static-swift-stdlib --disable-local-rpath`, the quick start's) has no
// Testing module and skips this file.
#if canImport(Testing)
import Foundation
import Testing

/// `@Suite(.blocking)`: the suite's tests run on threads of their own, not
/// on Swift's cooperative pool.
///
/// Swift Testing runs every test as a task, and the cooperative pool has one
/// thread per core: two on the machines this suite runs on. An end-to-end
/// test spends most of its time blocked — waiting for pip, npm or `bouncer`
/// to exit, for a server, for a timeout — and a blocked test holds its pool
/// thread, so two such tests stopped all the others, with the CPUs idle.
/// Tests under this trait block one of `BlockingTests.width` threads
/// instead, and the pool stays free for the rest.
public struct BlockingTests: SuiteTrait, TestTrait, TestScoping {
    /// How many blocking tests may run at once: `BOUNCER_TEST_THREADS`, or 6.
    public static let width: Int = {
        let chosen = ProcessInfo.processInfo.environment["BOUNCER_TEST_THREADS"].flatMap { Int($0) } ?? 6
        return max(1, min(chosen, 64))
    }()

    public var isRecursive: Bool { true }

    public func provideScope(for test: Test, testCase: Test.Case?,
                             performing function: @Sendable () async throws -> Void) async throws {
        // Only the test case itself runs there: the suite's own scope would
        // otherwise hold a thread for as long as its slowest test.
        guard testCase != nil else { return try await function() }
        try await withTaskExecutorPreference(TestThreadPool.shared) { try await function() }
    }
}

extension Trait where Self == BlockingTests {
    /// The suite's tests block on processes, servers or timeouts: see `BlockingTests`.
    public static var blocking: Self { BlockingTests() }
}

/// A fixed set of threads running the jobs of blocking tests, first come first served.
final class TestThreadPool: TaskExecutor, @unchecked Sendable {
    static let shared = TestThreadPool(threads: BlockingTests.width)

    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var head = 0

    private init(threads: Int) {
        for index in 0..<threads {
            let thread = Thread { [self] in work() }
            thread.name = "bouncer-test-\(index)"
            // Swift Testing's expectation machinery is deep; 8 MiB as the main thread has.
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    func enqueue(_ job: UnownedJob) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while head == jobs.count { condition.wait() }
            let job = jobs[head]
            head += 1
            if head == jobs.count { jobs.removeAll(keepingCapacity: true); head = 0 }
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
#endif
