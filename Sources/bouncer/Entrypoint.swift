import BouncerCLI

// The executable stays thin: everything lives in BouncerCLI so tests and
// the shim dispatch share one code path.
@main
struct Entrypoint {
    static func main() {
        BouncerMain.run(arguments: CommandLine.arguments)
    }
}
