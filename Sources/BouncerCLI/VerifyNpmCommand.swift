import ArgumentParser
import FoundationEssentials
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools

struct VerifyNpmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-npm",
        abstract: "Verify an npm package version: registry signature, tarball integrity, attestations.",
        discussion: """
            --packument is the registry document for the package (or one version's manifest): its \
            dist.signatures must verify (ECDSA P-256 over NAME@VERSION:INTEGRITY) with a key from \
            --registry-keys that was valid when the version was published. --tarball must match \
            dist.integrity. --attestations is the registry's attestations response: the publish \
            attestation (registry key) and the SLSA provenance (keyless, needs the signer: identity \
            flags or --source-repo) must both verify for the tarball's sha512.

            Exit codes: 0 verified; 1 refused; 2 usage error or unusable trust material; \
            3 a file could not be read.
            """
    )

    @Option(help: ArgumentHelp("The package name (with its @scope).", valueName: "NAME"))
    var package: String

    @Option(help: ArgumentHelp("The version.", valueName: "V"))
    var version: String

    @Option(name: .customLong("registry-keys"), help: ArgumentHelp("The registry keys document ({\"keys\": [...]}).", valueName: "KEYS.json"))
    var registryKeys: String

    @Option(help: ArgumentHelp("The packument or version manifest (JSON).", valueName: "FILE"))
    var packument: String?

    @Option(help: ArgumentHelp("The package tarball (.tgz).", valueName: "FILE"))
    var tarball: String?

    @Option(help: ArgumentHelp("The attestations response (JSON).", valueName: "FILE"))
    var attestations: String?

    @OptionGroup var identityOptions: AttestationIdentityOptions

    @Option(name: .customLong("source-repo"), help: ArgumentHelp("The source repository the provenance must name.", valueName: "URI"))
    var sourceRepo: String?

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        try identityOptions.validateShape()
        if packument == nil, attestations == nil {
            throw ValidationError("nothing to verify: give --packument (registry signature) and/or --attestations")
        }
        if attestations != nil, tarball == nil, packument == nil {
            throw ValidationError("--attestations needs the tarball (--tarball) or its signed integrity (--packument)")
        }
    }

    func run() throws {
        let keys = try NpmRegistryKeys.parse(try readInput(registryKeys, limit: 1 << 20), source: registryKeys)
        let tarballBytes = try tarball.map { try readArtifact($0) }
        let name = "\(package)@\(version)"
        var evidence: [VerificationReport.Evidence] = []
        var reasons: [VerificationReport.Reason] = []
        var signedIntegrity: String? = nil

        if let packument {
            do {
                let record = try NpmRegistrySignature.record(packument: try readInput(packument, limit: 64 << 20), name: package, version: version)
                let verified = try NpmRegistrySignature.verify(record, keys: keys)
                signedIntegrity = verified.integrity
                evidence.append(.init(kind: "npm-registry-signature", proves: ["integrity"],
                                      summary: "registry signature by \(verified.keyID) over \(verified.message)",
                                      details: ["keyid": verified.keyID, "integrity": verified.integrity,
                                                "published": record.published.map { "\($0)" } ?? "unknown (npm assumes 2015-01-01)"]))
                if let tarballBytes {
                    let sha512 = try NpmRegistrySignature.checkIntegrity(tarball: tarballBytes, integrity: verified.integrity)
                    evidence.append(.init(kind: "integrity", proves: ["integrity"],
                                          summary: "tarball matches the registry-signed integrity", details: ["sha512": sha512.hex]))
                }
            } catch let failure as AttestationError where failure.family == .evidence {
                reasons.append(.init(code: failure.code, message: failure.description))
            }
        }

        if let attestations, reasons.isEmpty {
            let digests: ArtifactDigests
            if let tarballBytes {
                digests = ArtifactDigests(bytes: tarballBytes)
            } else if let signedIntegrity, let sri = try? SubresourceIntegrity(parsing: signedIntegrity),
                      let sha512 = sri.digests.first(where: { $0.algorithm == .sha512 }) {
                digests = ArtifactDigests(digest: sha512)
            } else {
                throw BouncerError.usage("--attestations needs the tarball or a sha512 integrity from a verified packument")
            }
            var requirements = AttestationRequirements()
            if let sourceRepo {
                guard SourceRepository.canonical(sourceRepo) != nil else { throw BouncerError.usage("--source-repo '\(sourceRepo)' is not a plain repository URI") }
                requirements.sourceRepository = .exact(sourceRepo)
            }
            let identity = try identityOptions.policy(signerWorkflow: nil, sourceRepository: sourceRepo, owner: nil, publisher: nil)
            let context = AttestationRun.Context(artifact: digests, fileName: nil, trustedRoot: try identityOptions.loadTrustedRoot(),
                                                 identity: identity, requirements: requirements, npmKeys: keys,
                                                 npmPackage: (package, version))
            let sub = try VerifyAttestationCommand.verify(try readInput(attestations, limit: 64 << 20), context: context, name: name)
            evidence += sub.evidence
            reasons += sub.reasons
        }

        let sha256 = tarballBytes.map { Hasher.digest($0, .sha256).hex }
        let report = VerificationReport(artifact: .init(name: name, sha256: sha256), evidence: reasons.isEmpty ? evidence : [],
                                        reasons: reasons)
        AttestationReport.emit(report, json: json)
        if report.verdict != .pass { throw ExitCode(ErrorFamily.evidence.exitCode) }
    }
}
