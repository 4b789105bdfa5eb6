import Foundation

/// The one source of randomness in the tests: seeded, and the seed printed
/// once per run, so any failure a random input found can be replayed with
/// `BOUNCER_TEST_SEED=N swift test --filter …`. Each test draws from its
/// own stream (the seed mixed with the test's name), so tests running in
/// parallel do not change each other's inputs.
public enum TestRandom {
    public static let seed: UInt64 = {
        let chosen = ProcessInfo.processInfo.environment["BOUNCER_TEST_SEED"].flatMap { UInt64($0) }
            ?? UInt64.random(in: 1...UInt64(UInt32.max))
        print("NOTICE: random test inputs use seed \(chosen) (BOUNCER_TEST_SEED=\(chosen) repeats them)")
        return chosen
    }()

    /// A generator for one test (or one part of it, by name).
    public static func generator(_ name: String = #function) -> SeededGenerator {
        SeededGenerator(seed: name.utf8.reduce(seed) { $0 &* 1_099_511_628_211 &+ UInt64($1) })
    }

    public static func bytes(_ count: Int, _ name: String = #function) -> [UInt8] {
        var generator = generator(name)
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }
}

/// SplitMix64: small, fast, and the same sequence for the same seed everywhere.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in 0..<n (0 for n ≤ 1).
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
}
