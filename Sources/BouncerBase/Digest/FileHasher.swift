#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Hashes a file (or standard input) in one sequential pass with a fixed
/// buffer, so memory stays bounded whatever the file size.
public enum FileHasher {
    /// 1 MiB: large enough that syscalls are noise next to SHA-256, small
    /// enough to stay in L2/L3 cache.
    static let bufferSize = 1 << 20

    public struct Result: Sendable {
        public let digests: [HashAlgorithm: Digest]
        public let size: UInt64
    }

    /// Hashes the file at `path`; `-` means standard input.
    public static func hash(path: String, algorithms: [HashAlgorithm]) throws(BouncerError) -> Result {
        let fd: Int32
        if path == "-" {
            fd = STDIN_FILENO
        } else {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw .io("cannot open \(path): \(errnoDescription())") }
            #if os(Linux)
            _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
            #endif
        }
        defer { if fd != STDIN_FILENO { close(fd) } }
        return try hash(fd: fd, name: path, algorithms: algorithms)
    }

    public static func hash(fd: Int32, name: String, algorithms: [HashAlgorithm]) throws(BouncerError) -> Result {
        let hasher = MultiHasher(algorithms)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let count = read(fd, buffer.baseAddress, bufferSize)
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw .io("cannot read \(name): \(errnoDescription())")
            }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
        return Result(digests: hasher.finalize(), size: hasher.byteCount)
    }
}
