import Dispatch

/// Independent pieces of CPU-bound work spread over every core: the guard's
/// inspect and verify stages, whose cost is inflating archives and checking
/// signatures (OpenSSL 3.0 checks one P-384 signature in ~650 µs, and a
/// keyless Sigstore bundle needs one or two). A single piece runs inline, so
/// a one-artifact run (every curl or wget through a shim) starts no threads.
public enum Parallel {
    /// Calls `body` once for each of `indices`, on libdispatch's worker
    /// threads (one per core; each takes the next index as it finishes, so
    /// slow and fast pieces balance), and returns when every call has.
    /// `body` must only touch what belongs to its index, or what is locked.
    public static func forEach(_ indices: [Int], _ body: @Sendable (Int) -> Void) {
        if indices.count < 2 {
            for index in indices { body(index) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: indices.count) { body(indices[$0]) }
    }

    /// `body` for each element of `items` that `include` selects, in
    /// parallel as `forEach`; each call may change only its own element.
    public static func update<Element>(_ items: inout [Element], where include: (Element) -> Bool,
                                       _ body: @Sendable (inout Element) -> Void) {
        let selected = items.indices.filter { include(items[$0]) }
        items.withUnsafeMutableBufferPointer { buffer in
            let elements = Elements(buffer: buffer)
            forEach(selected) { body(&elements.buffer[$0]) }
        }
    }

    /// The array's storage, shared by the threads: each writes only the
    /// element of its own index, and `update` returns only after all have.
    private struct Elements<Element>: @unchecked Sendable {
        let buffer: UnsafeMutableBufferPointer<Element>
    }
}
