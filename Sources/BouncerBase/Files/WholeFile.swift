#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file read straight into one array sized from `fstat`: no `Data`
/// and no second copy (each copy of a Debian InRelease touched ~40 fresh pages).
public enum WholeFile {
    public enum Failure: Error {
        case open(String)
        case read(String)
        case tooLarge
    }

    public static func contents(_ path: String, limit: Int) -> Result<[UInt8], Failure> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(.open(errnoDescription())) }
        defer { close(fd) }
        return contents(fd: fd, limit: limit)
    }

    /// Everything left to read on `fd` (standard input is 0), up to `limit` bytes.
    public static func contents(fd: Int32, limit: Int) -> Result<[UInt8], Failure> {
        var info = stat()
        let expected = fstat(fd, &info) == 0 && info.st_size > 0 ? Int(clamping: info.st_size) : 0
        // One byte more than expected (or than the limit), to see the end of the file.
        let capacity = min(expected, limit) + 1
        var failure: Failure? = nil
        var bytes = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
            guard let base = buffer.baseAddress else { return }
            while count < buffer.count {
                let n = read(fd, base + count, buffer.count - count)
                if n == 0 { return }
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = .read(errnoDescription())
                    return
                }
                count += n
            }
        }
        // The file is larger than fstat said (it grew, or is not a regular file: a pipe, /proc):
        // read on to its end, whatever each read returns.
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        let more = bytes.count == capacity
        while failure == nil, more, bytes.count <= limit {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                failure = .read(errnoDescription())
                break
            }
            bytes += chunk[0..<n]
            if bytes.count > limit { break }
        }
        if let failure { return .failure(failure) }
        guard bytes.count <= limit else { return .failure(.tooLarge) }
        return .success(bytes)
    }
}
