#!/usr/bin/env bash
# Regenerates link/startup-order.txt: the functions a release `bouncer` runs
# on its short, frequent paths (a Debian InRelease check, a Sigstore bundle
# check, a shim under a policy), one `.text.SYMBOL` section name per line.
# Release builds hand the file to gold (--section-ordering-file, Package.swift),
# which places those functions together, so a start-up touches fewer code
# pages. Names that no longer exist are ignored by the linker, so a stale file
# costs only the gain; run this after large changes. Needs valgrind, an
# InRelease under /var/lib/apt/lists and, for the bundle path, ../shared/corpus.
source "$(dirname "$0")/../bench/lib.sh"
cd "$ROOT"
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 2; }
build_bouncer
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Symbol names as the binary has them (not demangled), each written out.
profile() {
  CALLGRIND_OUT="$work/profile.$1" CALLGRIND_ARGS="--demangle=no --compress-strings=no" \
    bash bench/instructions.sh "$BOUNCER" "${@:2}" >/dev/null
}

keyring=/usr/share/keyrings/debian-archive-keyring.gpg
inrelease="$(ls /var/lib/apt/lists/*_InRelease 2>/dev/null | head -1 || true)"
[ -n "$inrelease" ] || { echo "no InRelease under /var/lib/apt/lists: run apt-get update" >&2; exit 2; }
profile inrelease verify-signature "$inrelease" --key "$keyring"
case_dir="$ROOT/../shared/corpus/sigstore-bundle/sigstore-python__bundle_v3_github-whl"
if [ -d "$case_dir" ]; then
  read -r artifact san issuer < <(case_fields "$case_dir/case.json" artifact identity.san identity.issuer)
  profile bundle verify-bundle --bundle "$case_dir/bundle.sigstore.json" \
    --certificate-identity "$san" --certificate-oidc-issuer "$issuer" "$case_dir/$artifact"
else
  echo "NOTICE: ../shared/corpus is absent: the bundle path is left out of the order" >&2
fi
BOUNCER_POLICY="$ROOT/policy.json" profile shim --as curl --version

# Every function called, kept where the binary defines it, in name order (the
# order inside the group matters little; being together is the point).
cat "$work"/profile.* | sed -nE "s/^c?fn=//p" | sed -E "s/'[0-9]+\$//" | sort -u > "$work/called"
nm --defined-only "$BOUNCER" | awk '$2 ~ /^[tTwW]$/ { print $3 }' | sort -u > "$work/defined"
comm -12 "$work/called" "$work/defined" | sed 's/^/.text./' > link/startup-order.txt
echo "link/startup-order.txt: $(wc -l < link/startup-order.txt) functions"
# SwiftPM does not track the file: remove the binaries so the next build links again.
rm -f "$BOUNCER" "${BOUNCER%/*}/bouncer-serve"
