import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase

/// Which process listens on a TCP port of this machine's loopback, read from
/// Linux's /proc: the listening socket's inode in /proc/net/tcp (tcp6), then
/// the process holding a descriptor for that socket (only this user's
/// processes can be read, which is the point: a shim trusts a local
/// `bouncer serve` only when it is this user's own bouncer-serve binary).
enum LocalListener {
    /// The processes holding the socket listening on `port` on 127.0.0.1, ::1
    /// or every address (one, unless it was handed down); empty when none is found.
    static func processes(port: UInt16) -> [pid_t] {
        guard let inode = listeningInode(port: port) else { return [] }
        let target = "socket:[\(inode)]"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var holders: [pid_t] = []
        for entry in entries {
            guard let pid = pid_t(entry), let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(entry)/fd") else { continue }
            if descriptors.contains(where: { link("/proc/\(entry)/fd/\($0)") == target }) { holders.append(pid) }
        }
        return holders
    }

    /// The inode of the listening socket on `port` (state 0A, LISTEN) bound to a loopback or wildcard address.
    static func listeningInode(port: UInt16) -> String? {
        let wanted = String(port, radix: 16, uppercase: true)
        let padded = String(repeating: "0", count: max(0, 4 - wanted.count)) + wanted
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard case .success(let bytes) = WholeFile.contents(table, limit: 16 << 20) else { continue }
            for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                guard fields.count > 9, fields[3] == "0A" else { continue }
                let local = fields[1].split(separator: ":")
                guard local.count == 2, local[1] == padded, isLoopbackOrAny(String(local[0])) else { continue }
                return String(fields[9])
            }
        }
        return nil
    }

    /// /proc/net's address column (IPv4 as 8 hex digits, little-endian: 127.x.y.z ends in 7F; IPv6 as 32).
    static func isLoopbackOrAny(_ hex: String) -> Bool {
        if hex.count == 8 { return hex.hasSuffix("7F") || hex == "00000000" }
        return hex == "00000000000000000000000001000000" || hex == String(repeating: "0", count: 32)
    }

    /// Whether `pid` runs the program at `path` (the same file: device and inode).
    static func runs(_ pid: pid_t, _ path: String) -> Bool {
        var running = stat(), expected = stat()
        guard stat("/proc/\(pid)/exe", &running) == 0, stat(path, &expected) == 0 else { return false }
        return running.st_dev == expected.st_dev && running.st_ino == expected.st_ino
    }

    static func link(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
