# Shared helpers for the benchmark scripts (sourced, not run).
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
OUT="${BENCH_OUT:-$BENCH_DIR/out}"
# BENCH_TMP=/dev/shm puts the scratch files of a benchmark and of the tools it
# runs (TMPDIR) on tmpfs: on this machine's journal-less ext4 every file
# creation scans the inodes deleted in the last minutes, a cost of the file
# system that swamps what the tools themselves do.
if [ -n "${BENCH_TMP:-}" ]; then export TMPDIR="$BENCH_TMP"; fi
mkdir -p "$OUT"

# The release binary, built the way it ships (static Swift runtime: fast start-up).
build_bouncer() {
  (cd "$ROOT" && swift build -c release --static-swift-stdlib --disable-local-rpath >&2)
  BOUNCER="$ROOT/.build/release/bouncer"
}

# case_fields CASE_JSON KEY...: the corpus case manifest's values for the
# dotted KEYs (e.g. identity.san), on one line separated by spaces.
case_fields() {
  python3 - "$@" <<'PY'
import json, sys
case = json.load(open(sys.argv[1]))
values = []
for key in sys.argv[2:]:
    value = case
    for part in key.split("."):
        value = value[part]
    values.append(value)
print(*values)
PY
}

# A file of SIZE MiB of random bytes at PATH, made once and reused.
make_file() {
  local path="$1" mib="$2"
  if [ ! -f "$path" ] || [ "$(stat -c %s "$path")" != "$((mib << 20))" ]; then
    echo "creating $path ($mib MiB)" >&2
    head -c "$((mib << 20))" /dev/urandom > "$path"
  fi
  cat "$path" > /dev/null   # into the page cache
}

# ratio JSON NAME_A NAME_B [mean|median]: that statistic (default mean) of
# command A's wall times divided by command B's.
ratio() {
  python3 - "$@" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
a, b = results[sys.argv[2]], results[sys.argv[3]]
stat = sys.argv[4] if len(sys.argv) > 4 else "mean"
if stat not in ("mean", "median"):
    sys.exit(f"ratio: unknown statistic {stat!r} (mean or median)")
runs = len(a.get("times", [])), len(b.get("times", []))
# Times under a second in milliseconds: "0.006 s" hid a 5.6 ms run.
shown = lambda t: f"{t:.3f} s" if t >= 1 else f"{t * 1000:.2f} ms"
print(f"  {sys.argv[2]:>24} / {sys.argv[3]:<28} = {a[stat] / b[stat]:.3f}  ({stat} {shown(a[stat])} vs {shown(b[stat])}; {runs[0]} and {runs[1]} runs)")
PY
}

# Peak resident set size in KiB of one run of the command.
peak_rss_kib() {
  /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1
}
