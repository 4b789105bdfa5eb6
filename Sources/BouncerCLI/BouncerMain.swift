import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import BouncerBase
import BouncerIO
import BouncerSignatures
import BouncerSigstore
import BouncerPolicy
import BouncerTools

/// Parses argv, runs the command and maps every failure to the documented
/// exit code: 0 verified, 1 refused, 2 usage or configuration, 3 transport or I/O.
public enum BouncerMain {
    public static func run(arguments: [String]) -> Never {
        OpenSSLProcess.skipCleanupAtExit()
        if let shim = ShimDispatch.parse(arguments) {
            exit(ShimDispatch.run(tool: shim.tool, shim: shim.shim, foundPolicy: shim.foundPolicy, arguments: shim.rest))
        }
        let exitCode: Int32
        do {
            let argv = Array(arguments.dropFirst())
            if let plain = VerifySignatureCommand.parsePlain(argv) {
                OpenSSLProcess.prepareForOfflineVerification()
                try plain.run()
            } else if let plain = VerifyBundleCommand.parsePlain(argv) {
                OpenSSLProcess.prepareForOfflineVerification()
                try plain.run()
            } else {
                var command = try BouncerCommand.parseAsRoot(argv)
                try command.run()
            }
            exitCode = 0
        } catch let failure as BouncerFailure {
            Console.error("bouncer: \(failure)")
            if let hint = failure.hint { Console.error("hint: \(hint)") }
            exitCode = failure.family.exitCode
        } catch let exit as ExitCode {
            exitCode = exit.rawValue
        } catch {
            // Help, version, and ArgumentParser's own usage errors.
            let code = BouncerCommand.exitCode(for: error)
            if code == .success {
                Console.output(BouncerCommand.fullMessage(for: error))
                exitCode = 0
            } else {
                Console.error(BouncerCommand.fullMessage(for: error))
                exitCode = ErrorFamily.configuration.exitCode
            }
        }
        Console.flush()
        exit(exitCode)
    }
}
