import BouncerBase
#if canImport(Glibc)
import Glibc
#endif

/// A TCP socket bound to a free port on 127.0.0.1: close-on-exec, numbered
/// 10 or above (a child given it keeps its standard descriptors), listening
/// with `backlog` when one is given, else only bound (a port that refuses).
enum LoopbackPort {
    static func bind(listening backlog: Int32?, for purpose: String) throws(BouncerError) -> (fd: Int32, port: UInt16) {
        let raw = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard raw >= 0 else { throw .io("cannot open a socket for \(purpose): \(String(cString: strerror(errno)))") }
        let fd = fcntl(raw, F_DUPFD_CLOEXEC, 10)
        close(raw)
        guard fd >= 0 else { throw .io("cannot open a socket for \(purpose): \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, length) } }
        let listening = bound == 0 && (backlog.map { Glibc.listen(fd, $0) == 0 } ?? true)
        let named = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        guard listening, named == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .io("cannot \(backlog == nil ? "bind a port" : "listen") on 127.0.0.1 for \(purpose): \(reason)")
        }
        return (fd, UInt16(bigEndian: address.sin_port))
    }
}
