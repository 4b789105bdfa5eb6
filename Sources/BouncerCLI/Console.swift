#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools

/// Writes to stdout (buffered, through a FILE of our own so Swift 6 sees no
/// shared C global) and to stderr (unbuffered, straight to the descriptor).
enum Console {
    private nonisolated(unsafe) static let out = fdopen(STDOUT_FILENO, "w")

    static func output(_ text: String, terminator: String = "\n") {
        fputs(text, out)
        fputs(terminator, out)
    }

    static func error(_ text: String) {
        writeAll(STDERR_FILENO, text + "\n")
    }

    /// Raw bytes to stdout (e.g. a verified body for `curl URL | sh`).
    static func outputBytes(_ bytes: UnsafeRawBufferPointer) {
        fwrite(bytes.baseAddress, 1, bytes.count, out)
    }

    static func flush() {
        fflush(out)
    }

    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    private static func writeAll(_ fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 { if errno == EINTR { continue } else { return } }
            offset += written
        }
    }
}
