#!/usr/bin/env bash
# The shims' cost on a pass-through call (no policy.json anywhere above the
# working directory): `curl --version` and `wget --version` through shims/
# vs the real tools directly, and `bouncer --as curl` without the sh script;
# and `python3 -c pass` through the python3 shim (which hands everything but
# `-m pip` to the real interpreter without starting Bouncer, policy or not).
# Target: at most 5 ms median overhead. Medians, because the machine is shared.
source "$(dirname "$0")/lib.sh"
build_bouncer
WORK="$(mktemp -d /tmp/bench-shim-XXXXXX)"   # no policy.json above /tmp
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
export BOUNCER_BIN="$BOUNCER"
unset BOUNCER_POLICY                           # a policy from the caller's environment would make it guarded, not a pass-through
export BOUNCER_NO_POLICY_NOTICE_SHOWN=1       # the once-per-call notice is not what is measured
export CI=                                     # a developer's pass-through (under CI=true a shim without a policy refuses)
# /usr/bin right after the shims: the tools measured are the distribution's (a version
# manager's own shim for python3, pyenv's say, would be measured too otherwise).
export PATH="$ROOT/shims:/usr/bin:$PATH"
REAL_CURL=/usr/bin/curl
REAL_PYTHON=/usr/bin/python3

hyperfine -N --warmup 20 --runs "${BENCH_RUNS:-300}" --export-json "$OUT/shim-overhead.json" \
  -n "curl (direct)" "$REAL_CURL --version" \
  -n "curl (shim)" "$ROOT/shims/curl --version" \
  -n "bouncer --as curl" "$BOUNCER --as curl --shim $ROOT/shims/curl --version" \
  -n "wget (direct)" "/usr/bin/wget --version" \
  -n "wget (shim)" "$ROOT/shims/wget --version" \
  -n "python3 (direct)" "$REAL_PYTHON -S -c pass" \
  -n "python3 (shim)" "$ROOT/shims/python3 -S -c pass" \
  -n "python3 (shim, policy)" "env BOUNCER_POLICY=$ROOT/policy.json $ROOT/shims/python3 -S -c pass" \
  -n "python3 (direct, env)" "env BOUNCER_POLICY=$ROOT/policy.json $REAL_PYTHON -S -c pass"

python3 - "$OUT/shim-overhead.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
print("\nmedian wall time (ms):")
for name, x in r.items():
    print(f"  {name:<20} {x['median'] * 1000:7.2f}")
for tool in ("curl", "wget", "python3"):
    d = (r[f"{tool} (shim)"]["median"] - r[f"{tool} (direct)"]["median"]) * 1000
    print(f"  {tool} shim overhead: {d:.2f} ms median (target <= 5 ms)")
d = (r["python3 (shim, policy)"]["median"] - r["python3 (direct, env)"]["median"]) * 1000
print(f"  python3 shim overhead under a policy (not -m pip): {d:.2f} ms median")
PY
