import Foundation

/// Every fuzz target: outside bytes in, a Bouncer parser (and, where cheap, its
/// verifier with fixed trust material) runs, the result is ignored. A target
/// only fails by crashing, leaking, or hanging — which is what libFuzzer looks for.
enum FuzzTargets {
    static let all: [String: (Data) -> Void] = [
        "openpgp": Harness.openPGP,
        "openpgp-cleartext": Harness.openPGPCleartext,
        "sshsig": Harness.sshSignature,
        "allowed-signers": Harness.allowedSigners,
        "minisign": Harness.minisign,
        "signify": Harness.signify,
        "checksum-list": Harness.checksumList,
        "debian-index": Harness.debianIndex,
        "sigstore-bundle": Harness.sigstoreBundle,
        "precertificate": Harness.precertificate,
        "trusted-root": Harness.trustedRoot,
        "dsse": Harness.dsse,
        "policy": Harness.policy,
        "lockfile": Harness.lockfile,
        "freshness-state": Harness.freshnessState,
        "tuf-metadata": Harness.tufMetadata,
        "sri": Harness.sri,
        "archive": Harness.archive,
        "dockerfile": Harness.dockerfile,
        "container-arguments": Harness.containerArguments,
        "uv-configuration": Harness.uvConfiguration,
        "yarn-files": Harness.yarnFiles,
        "project-specs": Harness.projectSpecs,
    ]

    /// Chosen once per process, by name, from BOUNCER_FUZZ_TARGET.
    static let selected: (Data) -> Void = {
        let name = ProcessInfo.processInfo.environment["BOUNCER_FUZZ_TARGET"] ?? ""
        guard let target = all[name] else {
            let names = all.keys.sorted().joined(separator: " ")
            FileHandle.standardError.write(Data("unknown BOUNCER_FUZZ_TARGET '\(name)'; one of: \(names)\n".utf8))
            exit(2)
        }
        return target
    }()
}
