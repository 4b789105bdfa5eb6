#!/usr/bin/env bash
# Benchmark (not a test): offline verification of one real PEP 740 attestation,
# one process per run, `bouncer verify-attestation` vs pypi-attestations
# (`pypi-attestations verify attestation --offline`), both with their embedded
# production trusted root and the same required identity.
# Usage: bench/verify-attestation.sh [CASE_DIR]
# Default case: ../shared/corpus/pep740/pypi-attestations__pypi_attestations-0.0.19-publish.
# PYPI_ATTESTATIONS=path (default /tmp/provvenv/bin/pypi-attestations, made with
# `python3 -m venv /tmp/provvenv && /tmp/provvenv/bin/pip install pypi-attestations`).
# BOUNCER=path/to/bouncer benchmarks a given build; by default the release
# build with the static Swift runtime (bench/lib.sh). Needs hyperfine.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

case_dir="${1:-$ROOT/../shared/corpus/pep740/pypi-attestations__pypi_attestations-0.0.19-publish}"
peer="${PYPI_ATTESTATIONS:-/tmp/provvenv/bin/pypi-attestations}"
[ -d "$case_dir" ] || { echo "case folder $case_dir not found" >&2; exit 2; }
[ -x "$peer" ] || { echo "pypi-attestations not found at $peer (see the header)" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "hyperfine is not installed" >&2; exit 2; }
[ -n "${BOUNCER:-}" ] || build_bouncer

read -r artifact signature san issuer < <(case_fields "$case_dir/case.json" artifact signature identity.san identity.issuer)
# pypi-attestations reads FILE.publish.attestation next to FILE: a scratch copy, outside the repository.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$case_dir/$artifact" "$work/$artifact"
cp "$case_dir/$signature" "$work/$artifact.publish.attestation"
file="$work/$artifact"

bouncer_cmd="$BOUNCER verify-attestation --bundle '$file.publish.attestation' --certificate-identity '$san' --certificate-oidc-issuer '$issuer' '$file'"
peer_cmd="$peer verify attestation --offline --identity '$san' '$file'"

# Both must pass before timing means anything.
eval "$bouncer_cmd" >/dev/null
eval "$peer_cmd" >/dev/null 2>&1

hyperfine --warmup 3 --min-runs 20 -N --export-json "$OUT/verify-attestation.json" \
  -n bouncer "$bouncer_cmd" -n pypi-attestations "$peer_cmd" >/dev/null
echo "per-process wall time ($(basename "$case_dir")):"
ratio "$OUT/verify-attestation.json" bouncer pypi-attestations
