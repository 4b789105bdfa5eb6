import BouncerBase

/// A value the threads of a test share: every read and change under one
/// lock. For counters and result slots written from `concurrentPerform`,
/// `Parallel` or server threads.
public final class Locked<Value>: @unchecked Sendable {
    // @unchecked: `stored` is only touched under `lock`.
    private let lock = Lock()
    private var stored: Value

    public init(_ value: Value) { stored = value }

    public var value: Value { lock.withLock { stored } }

    /// Changes the value in place and returns what `change` returns.
    @discardableResult
    public func withLock<Result>(_ change: (inout Value) -> Result) -> Result {
        lock.withLock { change(&stored) }
    }
}
