#!/usr/bin/env bash
# `uv pip install` of the 18 requirements of bench/pip-real-wheels.sh from the
# real index — the one pip's configuration names (the proxy's upstream) and
# uv's built-in default, never written here — through a standalone `bouncer
# serve` vs uv alone: --no-cache, a fresh --target each run, BENCH_RUNS (7)
# rounds in alternation (bench/alternate.py). The proxy arm starts a cold
# proxy (empty store, no lock) for its run and stops it after, so its start-up
# is counted. uv sends ~30 requests at once: this is the proxy under a
# concurrent client, where pip asks one thing at a time. The policy is the
# repository's own, without minimumReleaseAge. The proxy asks the python3 on
# its PATH, the venv's (as in a CI job with a venv), for pip's built-in index:
# behind pyenv's shims that answer takes ~0.7 s instead of ~0.15 s, and the
# first requests wait for it. Needs the network.
# BENCH_REQUIREMENT changes what is installed.
source "$(dirname "$0")/lib.sh"
if [ -z "${BOUNCER:-}" ]; then build_bouncer; else BOUNCER="$(realpath "$BOUNCER")"; fi
command -v uv > /dev/null || { echo "uv is not installed (pip install uv)" >&2; exit 1; }
WORK="$(mktemp -d "${BENCH_TMP:-/tmp}/bench-uv-real-XXXXXX")"
trap '[ -n "${BENCH_KEEP:-}" ] || rm -rf "$WORK"; pkill -f "$WORK/ready" 2>/dev/null || true' EXIT
REQUIREMENT="${BENCH_REQUIREMENT:-flask==3.0.3 requests==2.32.3 rich==13.7.1 attrs==23.2.0 python-dateutil==2.9.0.post0 pytz==2024.1 packaging==24.1 pyparsing==3.1.2 tomli==2.0.1 pyyaml==6.0.1 tqdm==4.66.4 typing-extensions==4.12.2 colorama==0.4.6 six==1.16.0 markdown==3.6 pluggy==1.5.0 iniconfig==2.0.0 wcwidth==0.2.13}"
python3 -m venv "$WORK/venv"
python3 - "$ROOT/policy.json" "$WORK/policy.json" <<'PY'
import json, sys
policy = json.load(open(sys.argv[1]))
policy.pop("minimumReleaseAge", None)
json.dump(policy, open(sys.argv[2], "w"), indent=2)
PY
UV="env UV_NO_CONFIG=1 UV_PYTHON=$WORK/venv/bin/python uv pip install -q --no-cache --target $WORK/t $REQUIREMENT"
# The proxy arm: start, wait for the ready file, install through it, stop.
cat > "$WORK/through-proxy.sh" <<SH
#!/usr/bin/env bash
set -euo pipefail
rm -f "$WORK/ready"
PATH="$WORK/venv/bin:\$PATH" BOUNCER_CACHE="$WORK/cache" "$BOUNCER" serve --policy "$WORK/policy.json" --ready-file "$WORK/ready" --quiet 2>> "$WORK/serve.log" &
SERVE=\$!
for _ in \$(seq 400); do [ -s "$WORK/ready" ] && break; sleep 0.005; done
UV_DEFAULT_INDEX="\$(cat "$WORK/ready")/pypi/simple/" $UV
STATUS=\$?
kill \$SERVE; wait \$SERVE || true
exit \$STATUS
SH
chmod +x "$WORK/through-proxy.sh"
ASIDE='d=$(mktemp -d '"$WORK"'/aside-XXXXXX); for f in '"$WORK/t $WORK/cache $WORK/bouncer.lock"'; do [ ! -e $f ] || mv $f $d/; done'
echo "uv pip install $REQUIREMENT, ${BENCH_RUNS:-7} rounds in alternation:"
python3 "$BENCH_DIR/alternate.py" --runs "${BENCH_RUNS:-7}" --prepare "$ASIDE" --export-json "$OUT/uv-real-index.json" \
  "uv alone=$UV" "uv via serve=$WORK/through-proxy.sh"
ratio "$OUT/uv-real-index.json" "uv via serve" "uv alone" median
