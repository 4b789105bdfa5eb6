#!/usr/bin/env bash
# `pip install -r requirements.txt` of ~30 real wheels (Flask, requests, rich,
# attrs... with their dependencies, every version pinned) from a loopback
# PEP 503 index, through the pip shim (its own proxy, cold: empty store, no
# lock) vs the same pip alone: a fresh venv's pip, --no-cache-dir, a fresh
# --target each run, BENCH_RUNS (9) rounds in alternation (bench/alternate.py).
# The wheels come once from the index pip's own configuration names
# (`pip download`, never a host name written here) into
# ${BENCH_CACHE:-~/.cache/bouncer-bench}/real-wheels and are reused. Then
# `bouncer check` of the lock the shim wrote, on one core vs every core.
# BENCH_BASELINE=PATH/TO/bouncer adds the shim with that build to the same rounds.
source "$(dirname "$0")/lib.sh"
if [ -z "${BOUNCER:-}" ]; then build_bouncer; else BOUNCER="$(realpath "$BOUNCER")"; fi
WHEELS="${BENCH_CACHE:-$HOME/.cache/bouncer-bench}/real-wheels"
WORK="$(mktemp -d "${BENCH_TMP:-/tmp}/bench-pip-wheels-XXXXXX")"
STATIC_PID=""
trap '[ -z "$STATIC_PID" ] || kill "$STATIC_PID" 2>/dev/null; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$WORK"' EXIT
PROJECTS="flask==3.0.3 requests==2.32.3 rich==13.7.1 attrs==23.2.0 python-dateutil==2.9.0.post0 pytz==2024.1 packaging==24.1 pyparsing==3.1.2 tomli==2.0.1 pyyaml==6.0.1 tqdm==4.66.4 typing-extensions==4.12.2 colorama==0.4.6 six==1.16.0 markdown==3.6 pluggy==1.5.0 iniconfig==2.0.0 wcwidth==0.2.13"
if [ ! -f "$WHEELS/done" ]; then
  mkdir -p "$WHEELS"
  # shellcheck disable=SC2086
  env -u PIP_FIND_LINKS python3 -m pip download -q --only-binary :all: --dest "$WHEELS" $PROJECTS
  touch "$WHEELS/done"
fi
# The index: one page per project, links with #sha256= (what the policy's digest rule checks).
python3 - "$WHEELS" "$WORK/index" "$WORK/requirements.txt" <<'PY'
import hashlib, os, re, shutil, sys
wheels, root, requirements = sys.argv[1:]
os.makedirs(os.path.join(root, "packages"))
pins = []
for file in sorted(f for f in os.listdir(wheels) if f.endswith(".whl")):
    name, version = file.split("-")[:2]
    project = re.sub(r"[-_.]+", "-", name).lower()
    shutil.copy(os.path.join(wheels, file), os.path.join(root, "packages", file))
    digest = hashlib.sha256(open(os.path.join(wheels, file), "rb").read()).hexdigest()
    page = os.path.join(root, "simple", project)
    os.makedirs(page, exist_ok=True)
    with open(os.path.join(page, "index.html"), "w") as f:
        f.write(f'<!DOCTYPE html><html><body><a href="../../packages/{file}#sha256={digest}">{file}</a></body></html>\n')
    pins.append(f"{project}=={version}")
open(requirements, "w").write("\n".join(pins) + "\n")
print(f"{len(pins)} wheels, {sum(os.path.getsize(os.path.join(wheels, f)) for f in os.listdir(wheels) if f.endswith('.whl')) >> 10} KiB")
PY
python3 -u -m http.server --bind 127.0.0.1 0 --directory "$WORK/index" > "$WORK/static.log" 2>&1 &
STATIC_PID=$!
for _ in $(seq 100); do grep -q "Serving HTTP" "$WORK/static.log" && break; sleep 0.1; done
INDEX="http://127.0.0.1:$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$WORK/static.log" | head -1)/simple/"
mkdir -p "$WORK/project" "$WORK/shims"
ln -s "$ROOT/shims/pip" "$WORK/shims/pip"
cat > "$WORK/project/policy.json" <<'JSON'
{ "version": 1, "mode": "enforce", "unmatched": "deny", "lockfile": "bouncer.lock",
  "rules": [ { "name": "pypi", "match": { "ecosystem": "pypi" }, "require": [ { "digest": {} } ] } ] }
JSON
python3 -m venv "$WORK/venv"
ENVS="env -u PIP_FIND_LINKS -u PIP_EXTRA_INDEX_URL PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1"
ASIDE='d=$(mktemp -d '"$WORK"'/aside-XXXXXX); for f in '"$WORK/t $WORK/cache $WORK/project/bouncer.lock"'; do [ ! -e $f ] || mv $f $d/; done'
SHIMMED="$ENVS PATH=$WORK/shims:$WORK/venv/bin:/usr/bin:/bin BOUNCER_POLICY=$WORK/project/policy.json BOUNCER_CACHE=$WORK/cache"
PIP_ARGS="install -q --no-cache-dir --target $WORK/t --index-url $INDEX -r $WORK/requirements.txt"
# BENCH_BASELINE=PATH/TO/bouncer: a third contestant in the same rounds, the shim with another
# build (an earlier commit's), to tell a change's effect from a noisy machine's.
BASELINE=()
if [ -n "${BENCH_BASELINE:-}" ]; then BASELINE=("pip shim (baseline)=$SHIMMED BOUNCER_BIN=$(realpath "$BENCH_BASELINE") pip $PIP_ARGS"); fi
python3 "$BENCH_DIR/alternate.py" --runs "${BENCH_RUNS:-9}" --prepare "$ASIDE" --export-json "$OUT/pip-real-wheels.json" \
  "pip alone=$ENVS $WORK/venv/bin/pip $PIP_ARGS" "${BASELINE[@]}" \
  "pip shim=$SHIMMED BOUNCER_BIN=$BOUNCER pip $PIP_ARGS"
# Both installed the same files (the shim's run is the last).
[ "$(ls "$WORK/t" | wc -l)" -gt 30 ] || { echo "the shim's install is incomplete" >&2; exit 1; }
grep -c '"url"' "$WORK/project/bouncer.lock" | sed 's/^/pins in the lock: /'
ratio "$OUT/pip-real-wheels.json" "pip shim" "pip alone" median
if [ -n "${BENCH_BASELINE:-}" ]; then
  ratio "$OUT/pip-real-wheels.json" "pip shim (baseline)" "pip alone" median
  ratio "$OUT/pip-real-wheels.json" "pip shim" "pip shim (baseline)" median
fi
# `bouncer check` of the lock that run wrote (31 wheels from the store, each
# re-hashed and opened for its RECORD): on one core, then on every core.
if command -v hyperfine >/dev/null && command -v taskset >/dev/null; then
  CHECK="env BOUNCER_CACHE=$WORK/cache $BOUNCER check --policy $WORK/project/policy.json --quiet"
  hyperfine -N --warmup 2 --min-runs 15 --export-json "$OUT/check-wheels.json" \
    -n "check, one core" "taskset -c 0 $CHECK" -n "check, every core" "$CHECK" >/dev/null
  ratio "$OUT/check-wheels.json" "check, every core" "check, one core" median
fi
