// Entry point for libFuzzer: one binary holds every harness; BOUNCER_FUZZ_TARGET picks one.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func bouncerFuzzTestOneInput(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = start.map { Data(bytes: $0, count: count) } ?? Data()
    FuzzTargets.selected(bytes)
    return 0
}
