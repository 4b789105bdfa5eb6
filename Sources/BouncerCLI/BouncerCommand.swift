import ArgumentParser
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools

public struct BouncerCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "bouncer",
        abstract: "Fetch, verify and pin artifacts before the real tool sees them.",
        discussion: """
            Exit codes: 0 verified or allowed; 1 refused (the evidence or the artifact is \
            at fault); 2 usage error or bad local configuration; 3 transport or I/O failure.
            """,
        version: BouncerVersion.string,
        subcommands: [
            HashCommand.self,
            VerifyCommand.self,
            VerifySignatureCommand.self,
            VerifyBundleCommand.self,
            VerifyImageCommand.self,
            VerifyAttestationCommand.self, VerifyNpmCommand.self,
            TrustRootCommand.self,
            FetchCommand.self,
            UnpackCommand.self,
            InspectCommand.self,
            LockCommand.self, CheckCommand.self, ExplainCommand.self,
            ShimsCommand.self,
            ExecCommand.self,
            ServeCommand.self,
        ]
    )

    public init() {}
}

public enum BouncerVersion {
    public static let string = "0.1.0"
}
