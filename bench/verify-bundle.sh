#!/usr/bin/env bash
# Benchmark (not a test): offline verification of one real Sigstore bundle,
# one process per run, `bouncer verify-bundle` vs sigstore-python
# (`sigstore verify identity --offline`), both with their embedded production
# trusted root. Usage: bench/verify-bundle.sh [CASE_DIR]
# Default case: the corpus's real PyPI wheel signed in GitHub Actions
# (../shared/corpus/sigstore-bundle/sigstore-python__bundle_v3_github-whl).
# SIGSTORE=path/to/sigstore (default: /tmp/sigvenv/bin/sigstore, made with
# `python3 -m venv /tmp/sigvenv && /tmp/sigvenv/bin/pip install sigstore`).
# BOUNCER=path/to/bouncer benchmarks a given build; by default the release
# build with the static Swift runtime (bench/lib.sh). Needs hyperfine.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

case_dir="${1:-$ROOT/../shared/corpus/sigstore-bundle/sigstore-python__bundle_v3_github-whl}"
sigstore="${SIGSTORE:-/tmp/sigvenv/bin/sigstore}"
[ -d "$case_dir" ] || { echo "case folder $case_dir not found" >&2; exit 2; }
[ -x "$sigstore" ] || { echo "sigstore-python not found at $sigstore (see the header)" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "hyperfine is not installed" >&2; exit 2; }
[ -n "${BOUNCER:-}" ] || build_bouncer

read -r artifact san issuer < <(case_fields "$case_dir/case.json" artifact identity.san identity.issuer)
bundle="$case_dir/bundle.sigstore.json"
file="$case_dir/$artifact"

bouncer_cmd="$BOUNCER verify-bundle --bundle '$bundle' --certificate-identity '$san' --certificate-oidc-issuer '$issuer' '$file'"
python_cmd="$sigstore verify identity --offline --bundle '$bundle' --cert-identity '$san' --cert-oidc-issuer '$issuer' '$file'"

# Both must pass before timing means anything.
eval "$bouncer_cmd" >/dev/null
eval "$python_cmd" >/dev/null 2>&1

hyperfine --warmup 3 --min-runs 20 -N --export-json "$OUT/verify-bundle.json" \
  -n bouncer "$bouncer_cmd" -n sigstore-python "$python_cmd" >/dev/null
echo "per-process wall time ($(basename "$case_dir")):"
ratio "$OUT/verify-bundle.json" bouncer sigstore-python
ratio "$OUT/verify-bundle.json" bouncer sigstore-python median
if command -v valgrind >/dev/null && [ "${BENCH_SKIP_INSTRUCTIONS:-}" != 1 ]; then
  echo "  bouncer instructions (callgrind, one run): $(eval "$BENCH_DIR/instructions.sh $bouncer_cmd")"
fi
# In-process throughput: 1,000 verifications cycling through every passing
# keyless corpus bundle, in a release build of the tests (its own scratch
# path, so the debug test build is left alone). BENCH_SKIP_INPROCESS=1 skips it.
if [ "${BENCH_SKIP_INPROCESS:-}" != 1 ]; then
  echo "in-process throughput (release build of the tests; a few minutes the first time):"
  BOUNCER_BENCH=1 BOUNCER_CORPUS="$(cd "$(dirname "$case_dir")/.." && pwd)" \
    swift test -c release -Xswiftc -enable-testing --scratch-path "$ROOT/.build-bench" \
    --filter SigstoreThroughputTests 2>&1 | sed -n 's/^sigstore throughput: /  /p'
fi
