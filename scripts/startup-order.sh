#!/usr/bin/env bash
# Regenerates link/startup-order.txt: the functions a release `bouncer` runs
# on its short, frequent paths (a Debian InRelease check, a Sigstore bundle
# check, a shim under a policy), one `.text.SYMBOL` section name per line.
# Release builds hand the file to gold (--section-ordering-file, Package.swift),
# which places those functions together, so a start-up touches fewer code
# pages. Names that no longer exist are ignored by the linker, so a stale file
# costs only the gain; run this after large changes. Needs valgrind, an
# InRelease under /var/lib/apt/lists and, for the bundle path, ../shared/corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 2; }
swift build -c release --static-swift-stdlib --disable-local-rpath --product bouncer >/dev/null
bin="$(swift build -c release --static-swift-stdlib --disable-local-rpath --show-bin-path)/bouncer"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# valgrind 3.19 cannot read the DWARF of Swift release builds: profile a copy without it.
objcopy --strip-debug "$bin" "$work/bouncer"
profile() { valgrind --tool=callgrind --demangle=no --compress-strings=no \
  --callgrind-out-file="$work/profile.$1" "$work/bouncer" "${@:2}" >/dev/null 2>&1 || true; }

keyring=/usr/share/keyrings/debian-archive-keyring.gpg
inrelease="$(ls /var/lib/apt/lists/*_InRelease 2>/dev/null | head -1 || true)"
[ -n "$inrelease" ] || { echo "no InRelease under /var/lib/apt/lists: run apt-get update" >&2; exit 2; }
profile inrelease verify-signature "$inrelease" --key "$keyring"
case_dir="$ROOT/../shared/corpus/sigstore-bundle/sigstore-python__bundle_v3_github-whl"
if [ -d "$case_dir" ]; then
  read -r artifact san issuer < <(python3 - "$case_dir/case.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
print(c["artifact"], c["identity"]["san"], c["identity"]["issuer"])
PY
)
  profile bundle verify-bundle --bundle "$case_dir/bundle.sigstore.json" \
    --certificate-identity "$san" --certificate-oidc-issuer "$issuer" "$case_dir/$artifact"
else
  echo "NOTICE: ../shared/corpus is absent: the bundle path is left out of the order" >&2
fi
BOUNCER_POLICY="$ROOT/policy.json" profile shim --as curl --version

# Every function called, kept where the binary defines it, in name order (the
# order inside the group matters little; being together is the point).
cat "$work"/profile.* | sed -nE "s/^c?fn=//p" | sed -E "s/'[0-9]+\$//" | sort -u > "$work/called"
nm --defined-only "$work/bouncer" | awk '$2 ~ /^[tTwW]$/ { print $3 }' | sort -u > "$work/defined"
comm -12 "$work/called" "$work/defined" | sed 's/^/.text./' > link/startup-order.txt
echo "link/startup-order.txt: $(wc -l < link/startup-order.txt) functions"
# SwiftPM does not track the file: remove the binaries so the next build links again.
rm -f "$bin" "${bin%/*}/bouncer-serve"
