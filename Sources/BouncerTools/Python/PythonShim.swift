/// `python3 -m pip …` behind Bouncer: the same pip shim (and `-m pipx`, `-m uv`, their shims), with the real
/// interpreter (found on PATH after the shims, a venv's when it is next)
/// running pip as a module. Python started any other way is the real
/// interpreter at once: the shim script hands it over without starting
/// Bouncer, and this adapter does the same when it is reached directly —
/// except `-m venv --upgrade-deps`, whose new venv runs its own pip by
/// absolute path to install pip and setuptools from the index, past every shim.
public enum PythonShim {
    public static func run(_ arguments: [String], context: ShimContext) -> Int32 {
        guard let commandLine = PythonCommandLine(arguments) else { return context.passThrough(arguments) }
        if commandLine.module == "venv", let option = upgradeDeps(commandLine.moduleArguments) {
            return context.unsupported(option, why: "makes the new venv's own pip install pip and setuptools from the index, past Bouncer; "
                + "create the venv without it, then upgrade them through the pip shim (pip --python VENV install --upgrade pip setuptools)",
                arguments: arguments)
        }
        if PythonCommandLine.pipxModules.contains(commandLine.module) {
            var pipx = context
            pipx.toolArguments = context.toolArguments + commandLine.options + ["-m", commandLine.module]
            pipx.environment.tool = "\(context.environment.tool) -m pipx"
            return PipxShim.run(commandLine.moduleArguments, context: pipx)
        }
        // `-m uv` runs the uv binary uv's Python package ships: the uv shim's checks, that uv run.
        if PythonCommandLine.uvModules.contains(commandLine.module) {
            var uv = context
            uv.toolArguments = context.toolArguments + commandLine.options + ["-m", commandLine.module]
            uv.environment.tool = "\(context.environment.tool) -m uv"
            return UvShim.run(commandLine.moduleArguments, context: uv)
        }
        guard commandLine.runsPip else { return context.passThrough(arguments) }
        var pip = context
        // The interpreter's own options stay in front of `-m MODULE`, as given.
        pip.toolArguments = context.toolArguments + commandLine.options + ["-m", commandLine.module]
        pip.environment.tool = "\(context.environment.tool) -m pip"
        return PipShim.run(commandLine.moduleArguments, context: pip)
    }

    /// venv's `--upgrade-deps` as its argparse takes it (any unambiguous
    /// prefix longer than `--upgrade`, which is another option), before `--`.
    static func upgradeDeps(_ arguments: [String]) -> String? {
        for argument in arguments {
            if argument == "--" { return nil }
            if argument.count >= "--upgrade-".count, "--upgrade-deps".hasPrefix(argument) { return argument }
        }
        return nil
    }
}
