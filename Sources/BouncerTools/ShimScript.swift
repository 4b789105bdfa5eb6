import BouncerBase
import BouncerIO
import BouncerPolicy
/// The shim files: small POSIX sh scripts. A script (not a symlink) keeps its
/// own path in `$0`, so the real tool is looked up after its directory.
///
/// With no policy in force (no BOUNCER_POLICY, no policy.json from the working
/// directory up) the script refuses under CI=true (a guard that silently
/// turned off is a downgrade), and otherwise finds the real tool and execs it, without
/// starting Bouncer: the pass-through costs one sh start-up, not a Swift
/// binary's. Otherwise it execs `bouncer --as TOOL --shim "$0"`. The script
/// mirrors ShimRunner: the same notice (once per process tree), the same loop
/// check (the hand-over came straight back to this process id), the same
/// hand-over variables.
public enum ShimScript {
    /// A shim that runs `bouncer` (BOUNCER_BIN overrides `bouncerPath`).
    public static func installed(tool: String, bouncerPath: String) -> String {
        script(tool: tool, locate: """
            b=${BOUNCER_BIN:-\(doubleQuoted(bouncerPath))}
            """)
    }

    /// The repository's `shims/` scripts: BOUNCER_BIN, else the package's own
    /// release build, else its debug build, else `bouncer` on PATH.
    public static func repository(tool: String) -> String {
        script(tool: tool, locate: """
            # Bouncer is $BOUNCER_BIN, else ../.build/release/bouncer, else ../.build/debug/bouncer, else bouncer on PATH.
            b=$BOUNCER_BIN
            [ -n "$b" ] || { b=${0%/*}/../.build/release/bouncer; [ -x "$b" ] || b=${0%/*}/../.build/debug/bouncer; [ -x "$b" ] || b=bouncer; }
            """)
    }

    static func script(tool: String, locate: String) -> String {
        let interpreter = ShimEnvironment.isInterpreter(tool)
        return """
        #!/bin/sh
        # \(ShimEnvironment.shimMarker): runs Bouncer as \(tool)\(interpreter ? " for `-m pip`" : ""); the real \(tool) is found on PATH after this directory.
        t=\(tool)
        case "$\(ShimEnvironment.handOverVariable)" in "$$:"*)
          echo "bouncer: $t: loop: Bouncer handed over to ${\(ShimEnvironment.handOverVariable)#*:}, which runs Bouncer again; put the real $t on PATH after the shims" >&2; exit 2;;
        esac
        # real NOTICE ARGS...: the real tool, unchanged, found on PATH after this directory, in place
        # of this shell (with NOTICE non-empty it says, once per process tree, that it runs unguarded).
        real() {
          n=$1; shift
          s=${0%/*}; after=1; IFS=:
          for e in $PATH; do [ "${e:-.}" -ef "$s" ] && after=; done
          for e in $PATH; do
            if [ -z "$after" ]; then [ "${e:-.}" -ef "$s" ] && after=1; continue; fi
            c=${e:-.}/$t
            if [ -f "$c" ] && [ -x "$c" ] && ! [ "$c" -ef "$0" ]; then
              unset IFS
              if [ -n "$n" ]; then
                [ -n "$\(ShimRunner.noPolicyNoticeVariable)" ] || echo "bouncer: no policy.json in ${PWD:-.} or above (and no BOUNCER_POLICY): $t runs unguarded" >&2
                export \(ShimRunner.noPolicyNoticeVariable)=1
              fi
              export \(ShimEnvironment.handOverVariable)="$$:$c" \(ShimEnvironment.depthVariable)=$((${\(ShimEnvironment.depthVariable):-0} + 1))
              [ "$\(ShimEnvironment.depthVariable)" -le \(ShimEnvironment.maximumDepth) ] || { echo "bouncer: $t: loop: handed over \(ShimEnvironment.maximumDepth) times" >&2; exit 2; }
              exec "$c" "$@"
            fi
          done
          echo "bouncer: $t: no real $t on PATH after the shim directory" >&2; exit 127
        }
        \(interpreter ? pipModule : "")p=$BOUNCER_POLICY
        if [ -z "$p" ]; then
          d=${PWD:-/}
          while [ -n "$d" ] && [ ! -e "$d/policy.json" ]; do d=${d%/*}; done
          [ -e "$d/policy.json" ] && p=$d/policy.json
        fi
        if [ -z "$p" ]; then
          # The physical folder's too, as Bouncer looks: a folder reached through a link may lie
          # below a policy's folder (builtins only: no process is started for it).
          o=$PWD; d=; cd -P . 2>/dev/null && d=$PWD; cd "$o" 2>/dev/null
          while [ -n "$d" ] && [ ! -e "$d/policy.json" ]; do d=${d%/*}; done
          [ -n "$d" ] && [ -e "$d/policy.json" ] && p=$d/policy.json
        fi
        if [ -z "$p" ]; then
          if [ "$CI" = true ] && [ -z "$\(ShimRunner.allowUnguardedVariable)" ]; then
            echo "bouncer: $t: \(ShimRunner.ciNoPolicyMessage)" >&2; exit 2
          fi
          # No policy: the real tool (in CI only when allowed).
          real notice "$@"
        fi
        \(locate)
        exec "$b" --as $t --shim "$0" --found-policy "$p" "$@"

        """
    }

    /// The interpreter shims' first test: whether Python's own options
    /// (read as `PythonCommandLine` reads them) lead to `-m pip` (or to
    /// `-m venv` with what may be `--upgrade-deps`). Anything
    /// else the interpreter runs is handed over at once, without a notice,
    /// whatever the policy: only pip installs.
    static let pipModule = """
        # Only `-m pip`, `-m pipx` and `-m uv` are Bouncer's (and `-m venv --upgrade-deps`, whose new pip installs from the
        # index): Python's options read as Python reads them (letters run together; -c, -m, -W, -X
        # take the rest of the word or the next one).
        pip_module() {
          while [ $# -gt 0 ]; do
            case $1 in
              --check-hash-based-pycs) [ $# -ge 2 ] || return 1; shift;;
              -|--*|''|[!-]*) return 1;;
              *) o=${1#-}
                while [ -n "$o" ]; do
                  r=${o#?}; l=${o%"$r"}; o=$r
                  case $l in
                    m) if [ -z "$o" ]; then [ $# -ge 2 ] || return 1; shift; o=$1; fi; shift
                      case $o in
                        \(PythonCommandLine.pipModules.union(PythonCommandLine.pipxModules).union(PythonCommandLine.uvModules).sorted().joined(separator: "|"))) return 0;;
                        venv) for a; do case $a in --upgrade-*) return 0;; esac; done;;
                      esac
                      return 1;;
                    c|h|V|'?') return 1;;
                    W|X) [ -n "$o" ] || { [ $# -ge 2 ] || return 1; shift; }; o=;;
                  esac
                done;;
            esac
            shift
          done
          return 1
        }
        pip_module "$@" || real "" "$@"

        """

    /// Whether the file at `path` (a symlink is followed) is a Bouncer shim
    /// script: its second line is the `# bouncer-shim:` marker.
    public static func isShim(atPath path: String) -> Bool {
        RealToolLocator.isShimScript(path)
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
