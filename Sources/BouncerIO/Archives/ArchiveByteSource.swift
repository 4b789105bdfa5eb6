import BouncerBase
/// Bytes pulled by the archive reader, for reading an archive while it
/// arrives (a download being hashed) rather than from a finished file.
public protocol ArchiveByteSource: AnyObject {
    /// Fills the front of `buffer`; returns the count, 0 at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// A source that hashes every byte it passes on, so that an archive can be
/// inspected and its digest known from a single pass over the input.
public final class HashingByteSource: ArchiveByteSource {
    private let upstream: ArchiveByteSource
    public let hasher: MultiHasher

    public init(_ upstream: ArchiveByteSource, algorithms: [HashAlgorithm] = [.sha256]) {
        self.upstream = upstream
        self.hasher = MultiHasher(algorithms)
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = try upstream.read(into: buffer)
        if count > 0 { hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) }
        return count
    }

    /// Reads what the archive reader left unread (e.g. padding after the tar
    /// end marker), so that the digest covers the whole input.
    public func drain() throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        while try read(into: buffer) > 0 {}
    }
}
