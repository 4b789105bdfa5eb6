#if canImport(Glibc)
import Glibc
#endif

/// Lines on standard error, written at once (unbuffered, so they interleave
/// with a real tool's output in order).
public enum StandardError {
    public static func line(_ text: String) {
        let bytes = Array((text + "\n").utf8)
        bytes.withUnsafeBytes { try? Filesystem.writeAll(STDERR_FILENO, $0, name: "standard error") }
    }
}
