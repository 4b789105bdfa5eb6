#!/usr/bin/env bash
# `pip install requests==2.32.3` (five wheels) from the real index — the one
# pip's own configuration names, never written here — through the pip shim
# (its own proxy, cold: empty store, no lock) vs the same pip alone: a fresh
# venv's pip, --no-cache-dir, a fresh --target each run, BENCH_RUNS (7)
# rounds in alternation (bench/alternate.py). The policy is the repository's
# own, without minimumReleaseAge (a benchmark must not depend on the day).
# Needs the network. BENCH_REQUIREMENT changes what is installed (several
# requirements, space-separated: e.g. the 18 of bench/pip-real-wheels.sh).
source "$(dirname "$0")/lib.sh"
if [ -z "${BOUNCER:-}" ]; then build_bouncer; else BOUNCER="$(realpath "$BOUNCER")"; fi
WORK="$(mktemp -d "${BENCH_TMP:-/tmp}/bench-pip-real-XXXXXX")"
trap '[ -n "${BENCH_KEEP:-}" ] || rm -rf "$WORK"' EXIT
REQUIREMENT="${BENCH_REQUIREMENT:-requests==2.32.3}"
python3 -m venv "$WORK/venv"
mkdir -p "$WORK/shims" "$WORK/project"
ln -s "$ROOT/shims/pip" "$WORK/shims/pip"
python3 - "$ROOT/policy.json" "$WORK/project/policy.json" <<'PY'
import json, sys
policy = json.load(open(sys.argv[1]))
policy.pop("minimumReleaseAge", None)
json.dump(policy, open(sys.argv[2], "w"), indent=2)
PY
# pip alone reads no configuration file either, as under the shim (whose proxy reads it instead).
ENVS="env -u PIP_FIND_LINKS -u PIP_EXTRA_INDEX_URL PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1"
ASIDE='d=$(mktemp -d '"$WORK"'/aside-XXXXXX); for f in '"$WORK/t $WORK/cache $WORK/project/bouncer.lock"'; do [ ! -e $f ] || mv $f $d/; done'
echo "pip install $REQUIREMENT, ${BENCH_RUNS:-7} rounds in alternation:"
python3 "$BENCH_DIR/alternate.py" --runs "${BENCH_RUNS:-7}" --prepare "$ASIDE" --export-json "$OUT/pip-real-index.json" \
  "pip alone=$ENVS $WORK/venv/bin/pip install -q --no-cache-dir --target $WORK/t $REQUIREMENT" \
  "pip shim=$ENVS PATH=$WORK/shims:$WORK/venv/bin:/usr/bin:/bin BOUNCER_BIN=$BOUNCER BOUNCER_POLICY=$WORK/project/policy.json BOUNCER_CACHE=$WORK/cache pip install -q --no-cache-dir --target $WORK/t $REQUIREMENT"
ratio "$OUT/pip-real-index.json" "pip shim" "pip alone" median
