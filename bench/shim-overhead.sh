#!/usr/bin/env bash
# The shims' cost on a pass-through call (no policy.json anywhere above the
# working directory): `curl --version` and `wget --version` through shims/
# vs the real tools directly, and `bouncer --as curl` without the sh script.
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
export PATH="$ROOT/shims:$PATH"
REAL_CURL=$(command -v -p curl || echo /usr/bin/curl)

hyperfine -N --warmup 20 --runs "${BENCH_RUNS:-300}" --export-json "$OUT/shim-overhead.json" \
  -n "curl (direct)" "$REAL_CURL --version" \
  -n "curl (shim)" "$ROOT/shims/curl --version" \
  -n "bouncer --as curl" "$BOUNCER --as curl --shim $ROOT/shims/curl --version" \
  -n "wget (direct)" "/usr/bin/wget --version" \
  -n "wget (shim)" "$ROOT/shims/wget --version"

python3 - "$OUT/shim-overhead.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
print("\nmedian wall time (ms):")
for name, x in r.items():
    print(f"  {name:<20} {x['median'] * 1000:7.2f}")
for tool in ("curl", "wget"):
    d = (r[f"{tool} (shim)"]["median"] - r[f"{tool} (direct)"]["median"]) * 1000
    print(f"  {tool} shim overhead: {d:.2f} ms median (target <= 5 ms)")
PY
