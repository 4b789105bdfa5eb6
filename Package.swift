// swift-tools-version:6.0
import PackageDescription

// How the two executables link, for start-up time (every shim runs one):
// - They export no symbols. The Swift toolchain links them with
//   --export-dynamic, which put ~7,400 public Swift symbols into the dynamic
//   symbol table: every symbol the loader binds at start-up (libcrypto's
//   ~4,200 among them) was first looked up there, and nothing ever resolves
//   a name against the executable (libcurl and libarchive are dlopen'ed, and
//   call back only through pointers).
// - Release builds link the C++ runtime statically, as the statically linked
//   Swift runtime it serves: link/libstdc++.so is a linker script naming
//   libstdc++.a, found first on the library path. Loading libstdc++.so took
//   about 1 ms of every start. libcrypto stays shared, so the distribution's
//   OpenSSL fixes apply without a rebuild.
// - Release builds place the functions of the short, frequent paths together
//   (link/startup-order.txt, written by scripts/startup-order.sh; gold ignores
//   names that no longer exist): a start-up then touches ~50 fewer pages.
let executableLinkerSettings: [LinkerSetting] = [
    .unsafeFlags(["-Xlinker", "--no-export-dynamic"], .when(platforms: [.linux])),
    .unsafeFlags(
        ["-L\(Context.packageDirectory)/link",
         "-Xlinker", "--section-ordering-file=\(Context.packageDirectory)/link/startup-order.txt"],
        .when(platforms: [.linux], configuration: .release)),
]

// Release builds of Bouncer's own modules reach generic type metadata
// through direct accessor calls instead of mangled type names. A mangled name
// is demangled at run time, and each of its requirements (String: Hashable,
// and so on) is resolved by scanning every conformance record in the binary,
// about 4,200 of them: ~200k instructions per new generic type, and a
// verify-signature run met several (1.1M instructions, 4.4%; 3% of a
// verify-bundle). The end-to-end suite passes against a release binary
// (BOUNCER_BIN=.build/release/bouncer swift test).
// Each function is also given its own section, so the linker can order them
// (executableLinkerSettings).
let bouncerSwiftSettings: [SwiftSetting] = [
    .unsafeFlags(
        ["-Xfrontend", "-disable-concrete-type-metadata-mangled-name-accessors",
         "-Xfrontend", "-function-sections"],
        .when(configuration: .release)),
]

let package = Package(
    name: "Bouncer",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "bouncer", targets: ["bouncer"]),
        .executable(name: "bouncer-serve", targets: ["bouncer-serve"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // Only bouncer-serve links NIO: the `bouncer` binary every shim runs stays small and fast to start.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // MARK: - C libraries (system) and their small shims

        // libcrypto only: Bouncer makes no TLS calls itself (libcurl, loaded on
        // demand, brings libssl along), and libssl at start-up cost every run
        // its loading and ~670 symbol bindings.
        .systemLibrary(
            name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]),
        // Wrappers for OpenSSL macros and pointer types Swift cannot import as-is.
        .target(name: "COpenSSLShims", dependencies: ["COpenSSL"], path: "Sources/COpenSSLShims"),
        // libcurl's headers only: the library itself is loaded on first use by
        // CCurlShims (dlopen), keeping ~4 ms of shared-library loading out of
        // every start-up that never makes a transfer.
        .systemLibrary(
            name: "CCurl", path: "Sources/CCurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        // Lazy loading, typed wrappers for curl's variadic setopt/getinfo, and the
        // CA bundle parsed once per process (libcrypto).
        .target(name: "CCurlShims", dependencies: ["CCurl", "COpenSSL"], path: "Sources/CCurlShims"),
        // libarchive's headers only: CArchiveShims loads the library on first
        // use and defines the archive_* functions Bouncer calls.
        .systemLibrary(
            name: "CArchive", path: "Sources/CArchive",
            providers: [.apt(["libarchive-dev"])]),
        .target(name: "CArchiveShims", dependencies: ["CArchive"], path: "Sources/CArchiveShims"),
        // System calls Swift cannot make itself (pidfd_open, through variadic syscall).
        .target(name: "CSystemShims", path: "Sources/CSystemShims"),

        // MARK: - Bouncer, in layers: each target imports only the ones above it here.

        // Base: errors, digests, crypto (OpenSSL), strict JSON, time, files, the report shape.
        .target(
            name: "BouncerBase",
            dependencies: ["COpenSSL", "COpenSSLShims", "CSystemShims"],
            path: "Sources/BouncerBase",
            swiftSettings: bouncerSwiftSettings),
        // I/O: transfers (libcurl) into the content-addressed store, archives (libarchive).
        .target(
            name: "BouncerIO",
            dependencies: ["BouncerBase", "CCurl", "CCurlShims", "CArchive", "CArchiveShims"],
            path: "Sources/BouncerIO",
            swiftSettings: bouncerSwiftSettings),
        // Verification of signed material: checksum lists, OpenPGP, minisign, signify, SSH.
        .target(
            name: "BouncerSignatures",
            dependencies: ["BouncerBase", "BouncerIO"],
            path: "Sources/BouncerSignatures",
            swiftSettings: bouncerSwiftSettings),
        // Sigstore bundles, DSSE, attestations (in-toto, SLSA, npm, PEP 740), TUF.
        .target(
            name: "BouncerSigstore",
            dependencies: ["BouncerBase", "BouncerIO"],
            path: "Sources/BouncerSigstore",
            exclude: ["Sigstore/Resources/README.md"],
            swiftSettings: bouncerSwiftSettings),
        // Policy: policy.json, evidence checks, the lock, freshness, and the guard pipeline.
        .target(
            name: "BouncerPolicy",
            dependencies: ["BouncerBase", "BouncerIO", "BouncerSignatures", "BouncerSigstore"],
            path: "Sources/BouncerPolicy",
            swiftSettings: bouncerSwiftSettings),
        // Tools: one adapter per real tool (curl, wget, pip, npm) and the shim runner.
        .target(
            name: "BouncerTools",
            dependencies: ["BouncerBase", "BouncerIO", "BouncerSigstore", "BouncerPolicy", "CSystemShims"],
            path: "Sources/BouncerTools",
            swiftSettings: bouncerSwiftSettings),
        .target(
            name: "BouncerCLI",
            dependencies: [
                "BouncerBase", "BouncerIO", "BouncerSignatures", "BouncerSigstore", "BouncerPolicy", "BouncerTools",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/BouncerCLI",
            swiftSettings: bouncerSwiftSettings),
        .executableTarget(
            name: "bouncer", dependencies: ["BouncerCLI"], path: "Sources/bouncer",
            swiftSettings: bouncerSwiftSettings, linkerSettings: executableLinkerSettings),
        // The verifying registry proxy (`bouncer serve` execs `bouncer-serve` found next to `bouncer`).
        .target(
            name: "BouncerServe",
            dependencies: [
                "BouncerBase", "BouncerIO", "BouncerPolicy", "CSystemShims",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Sources/BouncerServe",
            swiftSettings: bouncerSwiftSettings),
        .executableTarget(
            name: "bouncer-serve",
            dependencies: ["BouncerServe", "BouncerCLI", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/bouncer-serve",
            swiftSettings: bouncerSwiftSettings, linkerSettings: executableLinkerSettings),

        // MARK: - Test support and tests

        .target(name: "BouncerTestSupport", dependencies: ["BouncerBase", "BouncerIO", "BouncerSignatures", "BouncerSigstore", "BouncerPolicy", "BouncerTools"], path: "Sources/BouncerTestSupport"),
        .testTarget(
            name: "UnitTests", dependencies: ["BouncerBase", "BouncerIO", "BouncerSignatures", "BouncerSigstore", "BouncerPolicy", "BouncerServe", "BouncerTools", "BouncerTestSupport"],
            path: "Tests/UnitTests"),
        // In-process throughput, a benchmark rather than a test: skipped unless
        // BOUNCER_BENCH=1 (bench/verify-bundle.sh runs it in a release build).
        .testTarget(
            name: "Throughput", dependencies: ["BouncerBase", "BouncerSigstore", "BouncerTestSupport"],
            path: "bench/Throughput"),
        .testTarget(
            name: "EndToEndTests", dependencies: ["BouncerBase", "BouncerIO", "BouncerSignatures", "BouncerSigstore", "BouncerPolicy", "BouncerTools", "BouncerCLI", "BouncerTestSupport", "bouncer", "bouncer-serve"],
            path: "Tests/EndToEndTests",
            // Read by path from the package root, not bundled.
            exclude: ["Fixtures/pipeline-golden.json", "Threats/Fixtures/sarif-2.1.0-subset.schema.json"]),
    ]
)
