import FoundationEssentials
import BouncerBase
import BouncerIO

/// cosign's legacy image signatures: one layer of the `sha256-<hex>.sig`
/// manifest, a simple-signing payload with annotations carrying the
/// signature, the certificate and chain, and the Rekor bundle (SET). The
/// checks are BundleVerifier's, on the pieces the annotations hold: the
/// signature over the payload, the log entry bound to this signature and
/// key (verified at its integrated time), the certificate chain at that
/// time, the SCT and the identity; then the payload must name the digest.
public enum CosignSignatureVerifier {
    public static let signatureAnnotation = "dev.cosignproject.cosign/signature"
    public static let certificateAnnotation = "dev.sigstore.cosign/certificate"
    public static let chainAnnotation = "dev.sigstore.cosign/chain"
    public static let bundleAnnotation = "dev.sigstore.cosign/bundle"
    public static let timestampAnnotation = "dev.sigstore.cosign/rfc3161timestamp"

    /// `payload` is the layer blob (already checked against its descriptor's
    /// digest), `annotations` the layer descriptor's, `mediaType` its media type.
    public static func verify(payload: [UInt8], mediaType: String, annotations: [String: String], imageDigest: Digest,
                              trust: ImageSignatureTrust, source: String) throws -> ImageSignatureFact {
        guard mediaType == "application/vnd.dev.cosign.simplesigning.v1+json" else {
            throw ImageSignatureError(.notSignature, "\(source): layer media type '\(mediaType.prefix(100))' is not a cosign simple-signing payload")
        }
        guard let signatureText = annotations[signatureAnnotation] else {
            throw ImageSignatureError(.notSignature, "\(source): no \(signatureAnnotation) annotation")
        }
        // Go's base64 decoder skips CR and LF, and containers/image writes RSA signatures MIME-wrapped.
        let unwrapped = String(signatureText.unicodeScalars.filter { $0 != "\n" && $0 != "\r" })
        guard let signature = Base64.decode(unwrapped), !signature.isEmpty else {
            throw ImageSignatureError(.material, "\(source): the \(signatureAnnotation) annotation is not base64")
        }

        // The signing key: the pinned key, or the certificate's.
        var certificate: SigningCertificate? = nil
        var chainExtras: [[UInt8]] = []
        let key: PublicKey
        switch trust.signer {
        case .key(let pinned):
            key = pinned
        case .keyless:
            guard let pem = annotations[certificateAnnotation], !pem.isEmpty else {
                throw ImageSignatureError(.material, "\(source): no signing certificate (\(certificateAnnotation)): the signature was made with a key; verify it with --key")
            }
            guard let der = PEM.decode(pem, label: "CERTIFICATE").first else {
                throw ImageSignatureError(.material, "\(source): \(certificateAnnotation) holds no PEM certificate")
            }
            let parsed = try SigningCertificate(der: der)
            certificate = parsed
            key = parsed.publicKey
            // Intermediates only, and only for a private PKI: Fulcio's come from the trusted root.
            chainExtras = PEM.decode(annotations[chainAnnotation] ?? "", label: "CERTIFICATE")
                .filter { !CertificateChainCheck.isSelfSigned($0) }
        }
        let materialDER = certificate?.der ?? key.spkiDER

        // cosign signs the payload with SHA-256 whatever the curve (a P-384 key too).
        let payloadDigest = Hasher.digest(payload, .sha256)
        _ = try BundleVerifier.checkSignature(.messageSignature(digest: payloadDigest, signature: signature),
                                              artifact: .bytes(payload), key: key)

        // Only now read the payload, from bytes the signer vouched for.
        let parsed = try SimpleSigningPayload.parse(payload)
        guard parsed.manifestDigest.matches(imageDigest) else {
            throw ImageSignatureError(.digest, "\(source): the signature is for \(parsed.manifestDigest), not for the image \(imageDigest) (a signature copied from another image?)")
        }
        if let exact = trust.exactReference, parsed.dockerReference != exact {
            throw ImageSignatureError(.reference, "\(source): signed as '\(parsed.dockerReference ?? "(none)")', not as '\(exact)' (exact reference required)")
        }

        // Signed times: the Rekor bundle's SET, RFC 3161 timestamps.
        var times: [(Date, TimeSource)] = []
        var logIndexes: [Int64] = []
        var notes: [String] = []
        if trust.ignoreTlog {
            notes.append("transparency log not checked (--insecure-ignore-tlog)")
        } else {
            if let bundleText = annotations[bundleAnnotation] {
                let entry = try rekorEntry(bundleText, source: source)
                let expectation = RekorEntryExpectation(signature: signature, verificationMaterialDER: materialDER,
                                                        artifactDigest: payloadDigest)
                if let time = try BundleVerifier.verifyEntry(entry, expectation: expectation, logKeys: trust.trustedRoot.transparencyLogKeys()) {
                    times.append((time, .tlog))
                }
                logIndexes.append(entry.logIndex)
            }
            if let stamp = annotations[timestampAnnotation] {
                let token = try timestampToken(stamp, source: source)
                let outcome = try BundleTimestamps.verify([token], signature: signature, authorities: trust.trustedRoot.timestampAuthorityList())
                times += outcome.verified.map { ($0, .rfc3161) }
                notes += outcome.notVerified.map { "timestamp not counted: \($0.description)" }
            }
        }

        var identity: String? = nil
        var issuer: String? = nil
        if let certificate, case .keyless(let identityMatcher, let issuerMatcher) = trust.signer {
            let authorities = trust.privateAuthorities.map { cas in
                cas.map { SigstoreTrustedRoot.CertificateAuthority(uri: $0.uri, chainDER: chainExtras + $0.chainDER, validFor: $0.validFor) }
            } ?? trust.trustedRoot.certificateAuthorities
            var checkTimes = times
            if checkTimes.isEmpty {
                // A Fulcio certificate lives ten minutes: only a signed time can vouch for it.
                guard trust.privateAuthorities != nil, trust.ignoreTlog else {
                    throw ImageSignatureError(.noLog, "\(source): keyless signature with no verified log entry or timestamp, so no signing time to check the certificate at")
                }
                checkTimes = [(trust.now, .now)]
                notes.append("private CA certificate checked at the current time")
            }
            var issuerDER: [UInt8] = []
            for (time, source) in checkTimes {
                guard certificate.isValid(at: time) else {
                    throw SigstoreError(source == .tlog ? .tlogTime : .timestamp,
                                        "the \(source.described) \(time) is outside the certificate's validity (\(certificate.notBefore) to \(certificate.notAfter))")
                }
                issuerDER = try CertificateChainCheck.verify(leaf: certificate.der, authorities: authorities, at: time).issuerDER
            }
            // A private CA may issue certificates with no extended key usage (valid for any use, as in X.509 path validation).
            let hasEKU = try SigningCertificate.extensionValue(certificate.der, oid: "2.5.29.37") != nil
            guard certificate.hasCodeSigningUsage || (trust.privateAuthorities != nil && !hasEKU) else {
                throw SigstoreError(.codeSigning, "the signing certificate lacks the code-signing extended key usage")
            }
            if trust.privateAuthorities == nil, !trust.trustedRoot.ctlogs.isEmpty {
                if trust.ignoreSCT {
                    notes.append("SCT not checked (--insecure-ignore-sct)")
                } else {
                    _ = try CertificateTransparency.verifyEmbeddedSCTs(leafDER: certificate.der, issuerDER: issuerDER,
                                                                       ctLogs: trust.trustedRoot.ctLogKeys(), at: checkTimes[0].0)
                }
            }
            (identity, issuer) = try matchIdentity(certificate, identity: identityMatcher, issuer: issuerMatcher,
                                                   allowMissingIssuer: trust.allowMissingIssuer)
        } else if times.isEmpty && !trust.ignoreTlog {
            throw ImageSignatureError(.noLog, "\(source): no transparency-log entry (\(bundleAnnotation)); a key-signed image without one verifies only with --insecure-ignore-tlog")
        }
        return ImageSignatureFact(scheme: "cosign-legacy", source: source, identity: identity, issuer: issuer,
                                  keyed: certificate == nil, logIndexes: logIndexes, signingTimes: times.map(\.0),
                                  timeSources: times.map(\.1), dockerReference: parsed.dockerReference, notes: notes)
    }

    /// The SAN and issuer checks of IdentityPolicy, with the issuer optional
    /// only when the caller allows certificates that carry none.
    static func matchIdentity(_ certificate: SigningCertificate, identity: IdentityPolicy.Matcher, issuer: IdentityPolicy.Matcher?,
                              allowMissingIssuer: Bool) throws -> (String, String?) {
        if let issuer, certificate.oidcIssuer != nil || !allowMissingIssuer {
            let matched = try IdentityPolicy(identity: identity, issuer: issuer).check(certificate)
            return (matched, certificate.oidcIssuer)
        }
        guard allowMissingIssuer else {
            throw SigstoreError(.issuer, "no OIDC issuer to require: give --certificate-oidc-issuer[-regexp]")
        }
        if let present = certificate.oidcIssuer {
            throw SigstoreError(.issuer, "the certificate names OIDC issuer '\(present)'; give --certificate-oidc-issuer to accept it")
        }
        var seen: [String] = []
        for name in certificate.subjectAlternativeNames {
            switch name {
            case .email(let value), .uri(let value), .otherName(let value):
                if try identity.matches(value) { return (value, nil) }
                seen.append(value)
            case .dns, .unsupported:
                continue
            }
        }
        throw SigstoreError(.identity, seen.isEmpty
            ? "the certificate has no email, URI or username SAN to match \(identity)"
            : "the certificate's identity '\(seen.joined(separator: "', '"))' does not match \(identity)")
    }

    /// The `dev.sigstore.cosign/bundle` annotation: `{"SignedEntryTimestamp",
    /// "Payload": {"body", "integratedTime", "logIndex", "logID"}}` (formats.md §5.12).
    static func rekorEntry(_ text: String, source: String) throws -> SigstoreBundle.TlogEntry {
        let root = try JSONNode.parse(Array(text.utf8), limit: SigstoreBundle.maxBytes) { path, why in
            ImageSignatureError(.material, "\(source): \(bundleAnnotation) \(path): \(why)")
        }
        let set = try root.required("SignedEntryTimestamp").bytes()
        let payload = try root.required("Payload")
        let body = try payload.required("body").bytes()
        let logIDNode = try payload.required("logID")
        guard let logID = Hex.decode(try logIDNode.string()), logID.count == 32 else { throw logIDNode.error("not a 32-byte hex log ID") }
        let bodyJSON = try JSONNode.parse(body, limit: SigstoreBundle.maxBytes) { path, why in
            ImageSignatureError(.material, "\(source): \(bundleAnnotation) $.Payload.body (decoded)\(path.dropFirst()): \(why)")
        }
        return SigstoreBundle.TlogEntry(
            logIndex: try payload.required("logIndex").nonNegativeInt64(), logID: logID,
            kind: try bodyJSON.required("kind").string(), version: try bodyJSON.required("apiVersion").string(),
            integratedTime: try payload.required("integratedTime").nonNegativeInt64(),
            signedEntryTimestamp: set, inclusionProof: nil, canonicalizedBody: body,
            path: "\(source) \(bundleAnnotation)")
    }

    /// `dev.sigstore.cosign/rfc3161timestamp`: `{"SignedRFC3161Timestamp": "<base64 DER>"}`.
    static func timestampToken(_ text: String, source: String) throws -> [UInt8] {
        let root = try JSONNode.parse(Array(text.utf8), limit: 1 << 20) { path, why in
            ImageSignatureError(.material, "\(source): \(timestampAnnotation) \(path): \(why)")
        }
        return try root.required("SignedRFC3161Timestamp").bytes()
    }
}
