#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import BouncerBase
import BouncerTestSupport

@Suite struct ParallelTests {
    /// Every selected element is updated exactly once and the others are left
    /// alone; and on a machine with more than one core, two pieces really run
    /// at once: each piece waits (up to 10 s) until a second one has begun,
    /// which a one-thread loop can never satisfy.
    @Test func updatesEachSelectedElementOnceAndRunsPiecesAtOnce() {
        struct Item { var value: Int; var visits = 0; var sawAnother = false }
        let cores = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        let started = Locked(0)
        var items = (0..<500).map { Item(value: $0) }
        Parallel.update(&items, where: { $0.value % 7 != 0 }) { item in
            item.visits += 1
            item.value *= 2
            started.withLock { $0 += 1 }
            guard cores > 1 else { return }
            for _ in 0..<10_000 {
                if started.value >= 2 { item.sawAnother = true; break }
                usleep(1_000)
            }
        }
        for (index, item) in items.enumerated() {
            if index % 7 == 0 {
                #expect(item.visits == 0 && item.value == index)
            } else {
                #expect(item.visits == 1 && item.value == 2 * index, "element \(index)")
            }
        }
        if cores > 1 {
            #expect(items.filter { $0.visits == 1 }.allSatisfy { $0.sawAnother }, "a piece waited 10 s alone: the pieces ran one after another")
        }
    }

    /// Nothing or one piece: run inline, on the calling thread.
    @Test func aSinglePieceRunsOnTheCallingThread() {
        var items = [1, 2, 3]
        let caller = pthread_self()
        let ranOn = Locked<pthread_t?>(nil)
        Parallel.update(&items, where: { $0 == 2 }) { item in
            item = 20
            ranOn.withLock { $0 = pthread_self() }
        }
        #expect(items == [1, 20, 3])
        #expect(ranOn.value.map { pthread_equal($0, caller) != 0 } == true)
        Parallel.update(&items, where: { _ in false }) { $0 = 0 }
        #expect(items == [1, 20, 3])
    }
}
