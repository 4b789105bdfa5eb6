#!/usr/bin/env bash
# Benchmark (not a test): verifying Debian's real InRelease, one process per
# run, bouncer vs gpgv (and sqv when installed), on the same keyring.
# Usage: bench/inrelease.sh [INRELEASE] [KEYRING]
# Defaults: the first *_InRelease under /var/lib/apt/lists (run apt-get update
# first) and /usr/share/keyrings/debian-archive-keyring.gpg. Needs hyperfine.
set -euo pipefail
cd "$(dirname "$0")/.."

inrelease="${1:-$(ls /var/lib/apt/lists/*_InRelease 2>/dev/null | head -n 1 || true)}"
keyring="${2:-/usr/share/keyrings/debian-archive-keyring.gpg}"
[ -n "$inrelease" ] && [ -f "$inrelease" ] || { echo "no InRelease found: run apt-get update or pass a path" >&2; exit 2; }
[ -f "$keyring" ] || { echo "keyring $keyring not found" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "hyperfine is not installed" >&2; exit 2; }

# BOUNCER=path/to/bouncer benchmarks a given build; by default the release
# build of this checkout, linked as it ships (static Swift runtime).
if [ -z "${BOUNCER:-}" ]; then
  swift build -c release --static-swift-stdlib --product bouncer >/dev/null
  BOUNCER="$(swift build -c release --static-swift-stdlib --show-bin-path)/bouncer"
fi
bouncer="$BOUNCER"

# All three must agree before timing means anything.
"$bouncer" verify-signature "$inrelease" --key "$keyring" >/dev/null
gpgv --keyring "$keyring" "$inrelease" 2>/dev/null

mkdir -p bench/out
commands=(
  -n bouncer "$bouncer verify-signature '$inrelease' --key '$keyring'"
  -n gpgv "gpgv --keyring '$keyring' '$inrelease'"
)
if command -v sqv >/dev/null; then
  # sqv checks detached signatures only: split InRelease into its signed
  # text (dash-escapes undone, trailing blanks stripped, no final newline)
  # and its signature block, a text-mode detached signature over that text.
  python3 - "$inrelease" bench/out/Release bench/out/Release.asc <<'PY'
import sys
lines = open(sys.argv[1], 'rb').read().split(b'\n')
start = lines.index(b'-----BEGIN PGP SIGNED MESSAGE-----')
blank = lines.index(b'', start)
sig = lines.index(b'-----BEGIN PGP SIGNATURE-----')
body = [l[2:] if l.startswith(b'- ') else l for l in lines[blank + 1:sig]]
open(sys.argv[2], 'wb').write(b'\n'.join(l.rstrip(b' \t') for l in body))
open(sys.argv[3], 'wb').write(b'\n'.join(lines[sig:]).rstrip(b'\n') + b'\n')
PY
  sqv --keyring "$keyring" bench/out/Release.asc bench/out/Release >/dev/null
  commands+=(-n sqv "sqv --keyring '$keyring' bench/out/Release.asc bench/out/Release")
  commands+=(-n bouncer-detached "$bouncer verify-signature bench/out/Release --signature bench/out/Release.asc --key '$keyring'")
fi
hyperfine --warmup 5 --min-runs 50 -N --export-json bench/out/inrelease.json "${commands[@]}" >/dev/null

python3 - bench/out/inrelease.json <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
base = results["gpgv"]["mean"]
for name, r in results.items():
    print(f"{name:8s} mean {r['mean']*1000:7.2f} ms  ± {r['stddev']*1000:5.2f}  ratio vs gpgv {r['mean']/base:5.2f}x")
PY
