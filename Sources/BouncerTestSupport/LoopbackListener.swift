import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The one loopback listener under the test servers: a socket bound to
/// 127.0.0.1 on a free port (tests reach no other address), accepting on a
/// thread of its own; each connection is handled on its own thread and
/// closed after. `stop()` closes the socket, which ends the accept loop.
public final class LoopbackListener: @unchecked Sendable {
    public let port: UInt16
    private let fd: Int32
    private let lock = NSLock()
    private var stopped = false

    public init(backlog: Int32 = 128) throws {
        let (fd, port) = try Self.bind()
        guard listen(fd, backlog) == 0 else {
            close(fd)
            throw ListenerError("listen: \(String(cString: strerror(errno)))")
        }
        self.fd = fd
        self.port = port
    }

    /// Starts accepting; `handle` runs once per connection on its own thread.
    public func start(noDelay: Bool = false, _ handle: @escaping @Sendable (Int32) -> Void) {
        Thread { [self] in
            while !isStopped {
                let client = accept(fd, nil, nil)
                if client < 0 {
                    if errno == EINTR { continue }
                    return
                }
                if noDelay {
                    var on: Int32 = 1
                    setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
                }
                Thread {
                    handle(client)
                    close(client)
                }.start()
            }
        }.start()
    }

    public func stop() {
        lock.lock()
        let wasStopped = stopped
        stopped = true
        lock.unlock()
        if !wasStopped {
            shutdown(fd, Int32(SHUT_RDWR))
            close(fd)
        }
    }

    deinit { stop() }

    private var isStopped: Bool {
        lock.lock(); defer { lock.unlock() }
        return stopped
    }

    /// A port free right now, for a server started by another program (the registry).
    public static func freePort() throws -> UInt16 {
        let (fd, port) = try bind()
        close(fd)
        return port
    }

    private static func bind() throws -> (Int32, UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ListenerError("socket: \(String(cString: strerror(errno)))") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            close(fd)
            throw ListenerError("bind: \(String(cString: strerror(errno)))")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, UInt16(bigEndian: address.sin_port))
    }
}

public struct ListenerError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
