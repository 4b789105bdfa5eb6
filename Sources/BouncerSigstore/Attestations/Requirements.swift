import BouncerBase
import BouncerIO
/// What the user requires of an attestation beyond a valid signature. Every
/// field left nil is not checked; what was checked is listed in the facts.
public struct AttestationRequirements: Sendable {
    public typealias Matcher = IdentityPolicy.Matcher

    /// Exact predicate type (from the signed statement).
    public var predicateType: String?
    public var builderID: Matcher?
    public var buildType: Matcher?
    /// Exact: compared in canonical form (SourceRepository). Regexp: matched
    /// against `https://` + the canonical form.
    public var sourceRepository: Matcher?
    public var sourceRef: Matcher?
    /// The workflow file path inside the repository (`.github/workflows/x.yml`).
    public var workflowPath: Matcher?
    /// `OWNER/REPO/PATH` of the workflow that signed (gh `--signer-workflow`):
    /// the build signer URI (or SAN) must be that workflow at some ref.
    public var signerWorkflow: String?
    /// The repository owner (gh `--owner`).
    public var owner: String?
    public var denySelfHostedRunners = false
    public var trustedPublisher: TrustedPublisher?

    public init() {}
}

/// A PyPI Trusted Publisher (formats.md §8.2): the identity the user requires.
public enum TrustedPublisher: Sendable, Equatable, CustomStringConvertible {
    /// `OWNER/REPO` and the workflow file name (`release.yml`).
    case gitHub(repository: String, workflow: String)
    /// `GROUP/PROJECT` and the CI file path (`.gitlab-ci.yml`).
    case gitLab(repository: String, workflowPath: String)
    case google(email: String)

    public static let gitHubIssuer = "https://token.actions.githubusercontent.com"
    public static let gitLabIssuer = "https://gitlab.com"
    public static let googleIssuer = "https://accounts.google.com"

    /// Parses `github:OWNER/REPO/WORKFLOW.yml`, `gitlab:GROUP/PROJECT//PATH`, `google:EMAIL`.
    public init?(parsing text: String) {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let kind = text[..<colon].lowercased()
        let rest = String(text[text.index(after: colon)...])
        switch kind {
        case "github":
            let parts = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3, !parts.contains(where: \.isEmpty) else { return nil }
            self = .gitHub(repository: parts[0] + "/" + parts[1], workflow: parts[2])
        case "gitlab":
            guard let split = rest.firstRange(of: "//") else { return nil }
            let repository = String(rest[..<split.lowerBound]), path = String(rest[split.upperBound...])
            guard repository.contains("/"), !path.isEmpty else { return nil }
            self = .gitLab(repository: repository, workflowPath: path)
        case "google":
            guard rest.contains("@") else { return nil }
            self = .google(email: rest)
        default:
            return nil
        }
    }

    public var issuer: String {
        switch self {
        case .gitHub: Self.gitHubIssuer
        case .gitLab: Self.gitLabIssuer
        case .google: Self.googleIssuer
        }
    }

    public var description: String {
        switch self {
        case .gitHub(let repository, let workflow): "GitHub \(repository) workflow \(workflow)"
        case .gitLab(let repository, let path): "GitLab \(repository) CI file \(path)"
        case .google(let email): "Google \(email)"
        }
    }

    /// The pypi-attestations checks: issuer, source repository (.1.12) and
    /// build config URI (.1.18) at the certificate's own digest or ref; for
    /// Google the SAN email.
    func check(_ certificate: SigningCertificate, _ ext: FulcioExtensions) throws(AttestationError) {
        guard certificate.oidcIssuer == issuer else {
            throw AttestationError(.publisher, "the certificate's issuer '\(certificate.oidcIssuer ?? "none")' is not \(issuer), as the \(self) publisher needs")
        }
        let repositoryURI: String, configPrefix: String
        switch self {
        case .google(let email):
            guard certificate.subjectAlternativeNames.contains(.email(email)) else {
                throw AttestationError(.publisher, "the certificate's identity '\(certificate.identityDescription)' is not the Google account \(email)")
            }
            return
        case .gitHub(let repository, let workflow):
            repositoryURI = "https://github.com/\(repository)"
            configPrefix = "\(repositoryURI)/.github/workflows/\(workflow)@"
        case .gitLab(let repository, let path):
            repositoryURI = "https://gitlab.com/\(repository)"
            configPrefix = "\(repositoryURI)//\(path)@"
        }
        guard ext.sourceRepositoryURI == repositoryURI else {
            throw AttestationError(.publisher, "the certificate's source repository '\(ext.sourceRepositoryURI ?? "none")' is not \(repositoryURI)")
        }
        let suffixes = [ext.sourceRepositoryDigest, ext.sourceRepositoryRef].compactMap { $0 }
        guard !suffixes.isEmpty else {
            throw AttestationError(.publisher, "the certificate has neither a source repository digest nor a ref to pin the workflow")
        }
        guard let config = ext.buildConfigURI, suffixes.contains(where: { config == configPrefix + $0 }) else {
            throw AttestationError(.publisher, "the certificate's build config '\(ext.buildConfigURI ?? "none")' is not \(configPrefix)<ref> (the \(self) publisher)")
        }
    }
}
