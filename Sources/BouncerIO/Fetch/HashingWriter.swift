import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase

/// Writes a download to its temp file and hashes it in the same pass, on a
/// worker thread so that hashing overlaps the transfer (the receiving thread
/// only copies into a staging buffer). The file is never read back.
///
/// Memory is bounded: `bufferCount` buffers of `bufferSize` bytes; when all
/// are queued the receiving side waits, which back-pressures the transfer.
final class HashingWriter: @unchecked Sendable {
    // @unchecked: every mutable field below is guarded by `condition`,
    // except `staging*`, which only the receiving thread touches.
    static let bufferSize = 1 << 20
    static let bufferCount = 4

    let fd: Int32
    let path: String
    private let hasher: MultiHasher
    private let condition = Condition()
    private var queued: [(UnsafeMutableRawBufferPointer, Int)] = []
    private var free: [UnsafeMutableRawBufferPointer] = []
    private var busy = false
    private var stopping = false
    private var failure: BouncerError?
    private var workerRunning = false

    private var staging: UnsafeMutableRawBufferPointer?
    private var stagingCount = 0
    private(set) var bytesReceived: UInt64 = 0

    init(fd: Int32, path: String, algorithms: [HashAlgorithm]) {
        self.fd = fd
        self.path = path
        self.hasher = MultiHasher(algorithms)
    }

    /// Buffers handed out so far (allocated on demand: an index page or a
    /// small wheel fits in the first, and never starts the worker thread).
    private var allocated = 0
    private var started = false

    deinit {
        for buffer in free { buffer.deallocate() }
        for (buffer, _) in queued { buffer.deallocate() }
        staging?.deallocate()
    }

    /// Receiving side: copies `bytes` in. Returns false once the worker has failed.
    func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            if staging == nil {
                guard let buffer = takeFreeBuffer() else { return false }
                staging = buffer
                stagingCount = 0
            }
            guard let target = staging?.baseAddress, let source = bytes.baseAddress else { return false }
            let n = min(bytes.count - offset, Self.bufferSize - stagingCount)
            (target + stagingCount).copyMemory(from: source + offset, byteCount: n)
            stagingCount += n
            offset += n
            if stagingCount == Self.bufferSize { submitStaging() }
        }
        bytesReceived += UInt64(bytes.count)
        return true
    }

    /// Waits until everything received is written and hashed; returns the
    /// digests and the size, or the write error.
    func finish() throws(BouncerError) -> (digests: [HashAlgorithm: Digest], size: UInt64) {
        condition.lock()
        let threaded = started
        condition.unlock()
        if !threaded {
            // Everything fit in the staging buffer: written and hashed here, no thread needed.
            if let buffer = staging, stagingCount > 0 {
                let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<stagingCount])
                try emit(chunk)
                hasher.update(chunk)
                stagingCount = 0
            }
            return (hasher.finalize(), hasher.byteCount)
        }
        submitStaging()
        condition.lock()
        while (!queued.isEmpty || busy) && workerRunning { condition.wait() }
        let error = failure
        condition.unlock()
        if let error { throw error }
        return (hasher.finalize(), hasher.byteCount)
    }

    /// The bytes received, when there is no file (`fd` < 0); read after `finish`.
    private(set) var memory: [UInt8] = []

    private func emit(_ chunk: UnsafeRawBufferPointer) throws(BouncerError) {
        if fd >= 0 { try Filesystem.writeAll(fd, chunk, name: path) } else { memory.append(contentsOf: chunk) }
    }

    /// Drops everything written so far, for a retry from the start.
    func reset() throws(BouncerError) {
        stagingCount = 0
        submitStaging()
        condition.lock()
        while (!queued.isEmpty || busy) && workerRunning { condition.wait() }
        if !workerRunning {
            // No worker (it could not be started): start afresh on the next overflow.
            started = false
            free.append(contentsOf: queued.map(\.0))
            queued = []
        }
        failure = nil
        condition.unlock()
        hasher.reset()
        bytesReceived = 0
        memory = []
        guard fd >= 0 else { return }
        guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else {
            throw .io("cannot truncate \(path) for a retry: \(errnoDescription())")
        }
    }

    /// Stops the worker thread. Call once, after `finish` or on abandonment.
    func stop() {
        condition.lock()
        guard started else { condition.unlock(); return }
        stopping = true
        condition.broadcast()
        while workerRunning { condition.wait() }
        condition.unlock()
    }

    private func takeFreeBuffer() -> UnsafeMutableRawBufferPointer? {
        condition.lock()
        defer { condition.unlock() }
        if free.isEmpty && allocated < Self.bufferCount && failure == nil {
            allocated += 1
            return .allocate(byteCount: Self.bufferSize, alignment: 64)
        }
        while free.isEmpty && failure == nil { condition.wait() }
        return failure == nil ? free.removeLast() : nil
    }

    private func submitStaging() {
        guard let buffer = staging else { return }
        staging = nil
        condition.lock()
        if stagingCount > 0 { queued.append((buffer, stagingCount)) } else { free.append(buffer) }
        if !started && !queued.isEmpty {
            // More than one buffer's worth: hashing and writing now overlap the transfer.
            started = true
            workerRunning = true
            if !Threads.detach({ [unowned self] in self.work() }) {
                workerRunning = false
                failure = .io("cannot start a thread to write and hash \(path)")
            }
        }
        condition.broadcast()
        condition.unlock()
        stagingCount = 0
    }

    private func work() {
        condition.lock()
        while true {
            while queued.isEmpty && !stopping { condition.wait() }
            if queued.isEmpty && stopping { break }
            let (buffer, count) = queued.removeFirst()
            busy = true
            let alreadyFailed = failure != nil
            condition.unlock()
            var error: BouncerError? = nil
            if !alreadyFailed {
                let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
                do throws(BouncerError) {
                    try emit(chunk)
                    hasher.update(chunk)
                } catch let caught {
                    error = caught
                }
            }
            condition.lock()
            if let error, failure == nil { failure = error }
            free.append(buffer)
            busy = false
            condition.broadcast()
        }
        workerRunning = false
        condition.broadcast()
        condition.unlock()
    }
}
