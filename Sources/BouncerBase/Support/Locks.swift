#if canImport(Glibc)
import Glibc
#endif

/// A mutex (pthread): Foundation's NSLock without Foundation, so the
/// `bouncer` binary links FoundationEssentials only.
public final class Lock: @unchecked Sendable {
    // @unchecked: the pthread mutex is the synchronisation.
    fileprivate let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    public init() { pthread_mutex_init(mutex, nil) }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    public func lock() { pthread_mutex_lock(mutex) }
    public func unlock() { pthread_mutex_unlock(mutex) }

    public func withLock<Result, Failure: Error>(_ body: () throws(Failure) -> Result) throws(Failure) -> Result {
        lock()
        defer { unlock() }
        return try body()
    }
}

/// A mutex with a condition variable (NSCondition's lock, wait, broadcast).
public final class Condition: @unchecked Sendable {
    // @unchecked: the pthread mutex is the synchronisation.
    private let guardLock = Lock()
    private let variable = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init() { pthread_cond_init(variable, nil) }

    deinit {
        pthread_cond_destroy(variable)
        variable.deallocate()
    }

    public func lock() { guardLock.lock() }
    public func unlock() { guardLock.unlock() }
    /// Called with the lock held; releases it while waiting.
    public func wait() { pthread_cond_wait(variable, guardLock.mutex) }
    public func broadcast() { pthread_cond_broadcast(variable) }
}

/// Threads without Foundation's Thread.
public enum Threads {
    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Runs `body` on a new detached thread; false if none could be started.
    @discardableResult
    public static func detach(_ body: @escaping @Sendable () -> Void) -> Bool {
        let context = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { context in
            guard let context else { return nil }
            let box = Unmanaged<Box>.fromOpaque(context).takeRetainedValue()
            box.body()
            return nil
        }, context)
        guard started == 0 else {
            Unmanaged<Box>.fromOpaque(context).release()
            return false
        }
        pthread_detach(thread)
        return true
    }
}
