#!/usr/bin/env bash
# Benchmark (not a test): verifying Debian's real InRelease files, one process
# per run, bouncer vs gpgv (and sqv when installed), on the same keyring, all
# files side by side in one hyperfine run.
# Usage: bench/inrelease.sh [KEYRING] [INRELEASE...]
# Defaults: /usr/share/keyrings/debian-archive-keyring.gpg and every
# *_InRelease under /var/lib/apt/lists (run apt-get update first). Needs hyperfine.
set -euo pipefail
cd "$(dirname "$0")/.."

keyring="${1:-/usr/share/keyrings/debian-archive-keyring.gpg}"
shift || true
files=("$@")
[ ${#files[@]} -gt 0 ] || mapfile -t files < <(ls /var/lib/apt/lists/*_InRelease 2>/dev/null || true)
[ ${#files[@]} -gt 0 ] || { echo "no InRelease found: run apt-get update or pass paths" >&2; exit 2; }
[ -f "$keyring" ] || { echo "keyring $keyring not found" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "hyperfine is not installed" >&2; exit 2; }

# BOUNCER=path/to/bouncer benchmarks a given build; by default the release
# build of this checkout, linked as it ships (static Swift runtime).
if [ -z "${BOUNCER:-}" ]; then
  swift build -c release --static-swift-stdlib --disable-local-rpath --product bouncer >/dev/null
  BOUNCER="$(swift build -c release --static-swift-stdlib --disable-local-rpath --show-bin-path)/bouncer"
fi
bouncer="$BOUNCER"

mkdir -p bench/out
commands=()
for inrelease in "${files[@]}"; do
  short="$(basename "$inrelease" _InRelease | sed 's/.*_dists_//')"
  # All of them must agree before timing means anything.
  "$bouncer" verify-signature "$inrelease" --key "$keyring" >/dev/null
  gpgv --keyring "$keyring" "$inrelease" 2>/dev/null
  commands+=(-n "bouncer $short" "$bouncer verify-signature '$inrelease' --key '$keyring'")
  commands+=(-n "gpgv $short" "gpgv --keyring '$keyring' '$inrelease'")
  if command -v sqv >/dev/null; then
    # sqv checks detached signatures only: split InRelease into its signed
    # text (dash-escapes undone, trailing blanks stripped, no final newline)
    # and its signature block, a text-mode detached signature over that text.
    python3 - "$inrelease" "bench/out/$short.Release" "bench/out/$short.Release.asc" <<'PY'
import sys
lines = open(sys.argv[1], 'rb').read().split(b'\n')
start = lines.index(b'-----BEGIN PGP SIGNED MESSAGE-----')
blank = lines.index(b'', start)
sig = lines.index(b'-----BEGIN PGP SIGNATURE-----')
body = [l[2:] if l.startswith(b'- ') else l for l in lines[blank + 1:sig]]
open(sys.argv[2], 'wb').write(b'\n'.join(l.rstrip(b' \t') for l in body))
open(sys.argv[3], 'wb').write(b'\n'.join(lines[sig:]).rstrip(b'\n') + b'\n')
PY
    sqv --keyring "$keyring" "bench/out/$short.Release.asc" "bench/out/$short.Release" >/dev/null
    commands+=(-n "sqv $short" "sqv --keyring '$keyring' bench/out/$short.Release.asc bench/out/$short.Release")
  fi
done
hyperfine --warmup 5 --min-runs 50 -N --export-json bench/out/inrelease.json "${commands[@]}" >/dev/null

python3 - bench/out/inrelease.json <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
for name, r in results.items():
    tool, short = name.split(" ", 1)
    line = f"{name:30s} mean {r['mean']*1000:6.2f} ms ± {r['stddev']*1000:5.2f}  median {r['median']*1000:6.2f}  min {r['min']*1000:6.2f}"
    if tool == "bouncer":
        for other in ("sqv", "gpgv"):
            o = results.get(f"{other} {short}")
            if o: line += f"  vs {other}: mean {r['mean']/o['mean']:4.2f}x, median {r['median']/o['median']:4.2f}x"
    print(line)
PY
# Instruction counts beside the times (deterministic on a shared machine).
if command -v valgrind >/dev/null && [ "${BENCH_SKIP_INSTRUCTIONS:-}" != 1 ]; then
  echo "instructions (callgrind, one run):"
  for inrelease in "${files[@]}"; do
    short="$(basename "$inrelease" _InRelease | sed 's/.*_dists_//')"
    line="  $short: bouncer $(bench/instructions.sh "$bouncer" verify-signature "$inrelease" --key "$keyring")"
    if command -v sqv >/dev/null; then
      line+="  sqv $(bench/instructions.sh sqv --keyring "$keyring" "bench/out/$short.Release.asc" "bench/out/$short.Release")"
    fi
    echo "$line"
  done
fi
