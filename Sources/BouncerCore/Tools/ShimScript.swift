/// The shim files: tiny POSIX sh scripts that exec Bouncer as the tool. A
/// script (not a symlink) keeps its own path in `$0`, so Bouncer knows the
/// shim directory and looks up the real tool after it.
public enum ShimScript {
    /// A shim that runs `bouncer` (BOUNCER_BIN overrides `bouncerPath`).
    public static func installed(tool: String, bouncerPath: String) -> String {
        """
        #!/bin/sh
        # \(ShimEnvironment.shimMarker): runs Bouncer as \(tool); the real \(tool) is found on PATH after this directory.
        exec "${BOUNCER_BIN:-\(doubleQuoted(bouncerPath))}" --as \(tool) --shim "$0" "$@"

        """
    }

    /// The repository's `shims/` scripts: BOUNCER_BIN, else the package's own
    /// release build, else its debug build, else `bouncer` on PATH.
    public static func repository(tool: String) -> String {
        """
        #!/bin/sh
        # \(ShimEnvironment.shimMarker): runs Bouncer as \(tool); the real \(tool) is found on PATH after this directory.
        # Bouncer is $BOUNCER_BIN, else ../.build/release/bouncer, else ../.build/debug/bouncer, else bouncer on PATH.
        b=$BOUNCER_BIN
        [ -n "$b" ] || { b=${0%/*}/../.build/release/bouncer; [ -x "$b" ] || b=${0%/*}/../.build/debug/bouncer; [ -x "$b" ] || b=bouncer; }
        exec "$b" --as \(tool) --shim "$0" "$@"

        """
    }

    /// Escaped for the inside of a double-quoted sh word.
    static func doubleQuoted(_ text: String) -> String {
        var out = ""
        for character in text {
            if "\\\"$`".contains(character) { out.append("\\") }
            out.append(character)
        }
        return out
    }
}
