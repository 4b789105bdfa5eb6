import ArgumentParser
import FoundationEssentials
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools

/// The identity and trust-root options shared by verify-bundle, verify-attestation and verify-npm.
struct AttestationIdentityOptions: ParsableArguments {
    @Option(name: .customLong("certificate-identity"), help: ArgumentHelp("The exact SAN the signing certificate must carry.", valueName: "ID"))
    var identity: String?

    @Option(name: .customLong("certificate-identity-regexp"), help: ArgumentHelp("A regexp the whole SAN must match.", valueName: "RE"))
    var identityRegexp: String?

    @Option(name: .customLong("certificate-oidc-issuer"), help: ArgumentHelp("The exact OIDC issuer.", valueName: "URL"))
    var issuer: String?

    @Option(name: .customLong("certificate-oidc-issuer-regexp"), help: ArgumentHelp("A regexp the whole OIDC issuer must match.", valueName: "RE"))
    var issuerRegexp: String?

    @Option(name: .customLong("trusted-root"), help: ArgumentHelp("A trusted_root.json to use instead of the embedded one.", valueName: "FILE"))
    var trustedRoot: String?

    @Flag(help: "Use Sigstore's staging trusted root.")
    var staging = false

    func validateShape() throws {
        if identity != nil, identityRegexp != nil { throw ValidationError("give --certificate-identity or --certificate-identity-regexp, not both") }
        if issuer != nil, issuerRegexp != nil { throw ValidationError("give --certificate-oidc-issuer or --certificate-oidc-issuer-regexp, not both") }
        if staging, trustedRoot != nil { throw ValidationError("give --staging or --trusted-root, not both") }
    }

    var hasIdentity: Bool { identity != nil || identityRegexp != nil }
    var hasIssuer: Bool { issuer != nil || issuerRegexp != nil }

    /// The signer to demand. Explicit flags win; otherwise GitHub requirements
    /// imply one as `gh attestation verify` does (the signer workflow, or any
    /// workflow of the source repository / owner, issued by GitHub Actions), and a
    /// Trusted Publisher implies its issuer (its own checks then bind the
    /// repository and workflow). Never "any identity" without such a binding.
    func policy(signerWorkflow: String?, sourceRepository: String?, owner: String?,
                publisher: TrustedPublisher?) throws -> IdentityPolicy {
        var id: IdentityPolicy.Matcher? = identity.map { .exact($0) } ?? identityRegexp.map { .regex($0) }
        var iss: IdentityPolicy.Matcher? = issuer.map { .exact($0) } ?? issuerRegexp.map { .regex($0) }
        let github = TrustedPublisher.gitHubIssuer
        if id == nil, let signerWorkflow {
            guard let prefix = GitHubChecks.signerWorkflowPrefix(signerWorkflow) else {
                throw BouncerError.usage("--signer-workflow '\(signerWorkflow)' is not OWNER/REPO/PATH")
            }
            id = .regex(IdentityPolicy.Matcher.literalPattern(prefix) + ".+")
            iss = iss ?? .exact(github)
        }
        if id == nil, let publisher {
            switch publisher {
            case .google(let email): id = .exact(email)
            case .gitHub, .gitLab: id = .regex(".+")
            }
            iss = iss ?? .exact(publisher.issuer)
        }
        if id == nil, let repository = sourceRepository, let canonical = GitHubRequirementText.gitHubRepository(repository) {
            id = .regex(IdentityPolicy.Matcher.literalPattern("https://\(canonical)/") + ".+")
            iss = iss ?? .exact(github)
        }
        if id == nil, let owner, !owner.contains("/"), !owner.isEmpty {
            id = .regex(IdentityPolicy.Matcher.literalPattern("https://github.com/\(owner)/") + ".+")
            iss = iss ?? .exact(github)
        }
        guard let id, let iss else {
            throw BouncerError.usage("keyless attestations need the signer: --certificate-identity[-regexp] with --certificate-oidc-issuer[-regexp], or --signer-workflow, --source-repo, --owner or --trusted-publisher",
                                     hint: "a valid signature from anyone proves nothing; name who must have signed")
        }
        return IdentityPolicy(identity: id, issuer: iss)
    }

    func loadTrustedRoot() throws -> SigstoreTrustedRoot {
        try Self.loadTrustedRoot(path: trustedRoot, staging: staging)
    }

    static func loadTrustedRoot(path trustedRoot: String?, staging: Bool) throws -> SigstoreTrustedRoot {
        if let trustedRoot {
            return try SigstoreTrustedRoot.parse(try readInput(trustedRoot, limit: 4 << 20), source: trustedRoot)
        }
        return staging ? try SigstoreTrustedRoot.staging() : try SigstoreTrustedRoot.production()
    }
}

/// Requirement strings as the CLI accepts them.
enum GitHubRequirementText {
    /// `github.com/OWNER/REPO` when the text names exactly a GitHub repository.
    static func gitHubRepository(_ text: String) -> String? {
        guard let canonical = SourceRepository.canonical(text), canonical.hasPrefix("github.com/"),
              canonical.split(separator: "/").count == 3 else { return nil }
        return canonical
    }
}

/// The report for a set of attestation outcomes.
enum AttestationReport {
    static func evidence(_ outcome: AttestationRun.Outcome, publisher: [String: String]?) -> VerificationReport.Evidence? {
        guard let facts = outcome.facts else { return nil }
        var details: [String: String] = [
            "role": outcome.role.rawValue,
            "statementType": facts.statementType,
            "predicateType": facts.predicateType,
            "subjectDigest": facts.subjectDigest.description,
            "logIndex": facts.logIndexes.map(String.init).joined(separator: ","),
            "checked": facts.checked.joined(separator: ","),
        ]
        details["subjectName"] = facts.subjectName
        details["identity"] = facts.identity
        details["issuer"] = facts.identity == nil ? nil : facts.issuer
        details["builderId"] = facts.builderID
        details["buildType"] = facts.provenance?.buildType
        details["sourceRepo"] = facts.sourceRepository
        details["sourceRef"] = facts.sourceRef
        details["sourceCommit"] = facts.provenance?.sourceCommit ?? facts.certificate.sourceRepositoryDigest
        details["workflow"] = facts.workflowPath
        details["buildSignerURI"] = facts.certificate.buildSignerURI
        details["runnerEnvironment"] = facts.certificate.runnerEnvironment ?? facts.provenance?.runnerEnvironment
        details["invocation"] = facts.provenance?.invocationID ?? facts.certificate.runInvocationURI
        if !facts.conflicts.isEmpty {
            // Not required, so not refused: shown so nobody reads the predicate's claim as proven.
            details["predicateDisagreesWithCertificate"] = facts.conflicts.values.sorted().joined(separator: "; ")
        }
        if let publisher, !publisher.isEmpty {
            // Written by the index, unsigned: shown so a person can compare, never used as proof.
            details["indexPublisherUnsigned"] = publisher.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        }
        details["registryKeyId"] = facts.signerKeyID
        let signer = facts.identity.map { "signed by \($0) (issuer \(facts.issuer ?? "?"))" }
            ?? facts.signerKeyID.map { "signed by registry key \($0)" } ?? "signed by the given key"
        var summary = "\(outcome.role == .npmPublish ? "npm publish attestation" : "attestation") \(facts.predicateType) \(signer)"
        if let repo = facts.sourceRepository { summary += ", source \(repo)" }
        if let ref = facts.sourceRef { summary += " at \(ref)" }
        if let builder = facts.builderID { summary += ", builder \(builder)" }
        // GitHub's private instance has no log: its time is the TSA's.
        summary += facts.logIndexes.isEmpty && !facts.signingTimes.isEmpty ? ", no transparency log (RFC 3161 timestamp)" : ", log index \(details["logIndex"] ?? "")"
        if !facts.timestampsNotVerified.isEmpty {
            details["timestampsNotVerified"] = facts.timestampsNotVerified.joined(separator: "; ")
            summary += "; not counted, did not verify: " + facts.timestampsNotVerified.joined(separator: "; ")
        }
        let proves = facts.provenance != nil ? ["integrity", "origin", "provenance"] : ["integrity", "origin"]
        return VerificationReport.Evidence(kind: outcome.role == .npmPublish ? "npm-publish-attestation" : "attestation",
                                           proves: proves, summary: summary, details: details)
    }

    /// A configuration failure among the outcomes is the user's to fix (exit 2).
    static func configurationFailure(_ outcomes: [AttestationRun.Outcome]) -> (any BouncerFailure)? {
        outcomes.compactMap(\.failure).first { $0.family != .evidence }
    }

    static func emit(_ report: VerificationReport, json: Bool) {
        if json {
            Console.output(report.jsonLine())
        } else {
            for line in report.humanLines() {
                if report.verdict == .pass { Console.output(line) } else { Console.error(line) }
            }
        }
    }
}
