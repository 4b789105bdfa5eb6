/// `python3 -m pip …` behind Bouncer: the same pip shim, with the real
/// interpreter (found on PATH after the shims, a venv's when it is next)
/// running pip as a module. Python started any other way is the real
/// interpreter at once: the shim script hands it over without starting
/// Bouncer, and this adapter does the same when it is reached directly.
public enum PythonShim {
    public static func run(_ arguments: [String], context: ShimContext) -> Int32 {
        guard let commandLine = PythonCommandLine(arguments), commandLine.runsPip else { return context.passThrough(arguments) }
        var pip = context
        // The interpreter's own options stay in front of `-m MODULE`, as given.
        pip.toolArguments = context.toolArguments + commandLine.options + ["-m", commandLine.module]
        pip.environment.tool = "\(context.environment.tool) -m pip"
        return PipShim.run(commandLine.moduleArguments, context: pip)
    }
}
