#!/usr/bin/env bash
# `npm ci` of BENCH_PACKAGES (default 200) packages from a loopback registry
# (the registry layout, NAME/-/FILE.tgz; serve.py answers by file name):
# through the shim (the real npm once, against Bouncer's proxy, every tarball
# fetched, integrity and package.json checked and pinned before it is served)
# vs the real npm directly. Both start cold every run (empty npm cache, empty
# Bouncer store and bouncer.lock). Goal: shim at most 1.0x the direct wall
# time, compared as medians of BENCH_RUNS (default 7) runs each.
source "$(dirname "$0")/lib.sh"
if [ -z "${BOUNCER:-}" ]; then build_bouncer; else BOUNCER="$(realpath "$BOUNCER")"; fi
N="${BENCH_PACKAGES:-200}"
WORK="$(mktemp -d "${BENCH_TMP:-/tmp}/bench-npm-XXXXXX")"
trap 'kill ${SERVER:-} 2>/dev/null; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$WORK"' EXIT
mkdir -p "$WORK/registry" "$WORK/project"

python3 "$BENCH_DIR/serve.py" "$WORK/registry" > "$WORK/port" &
SERVER=$!
for _ in $(seq 50); do [ -s "$WORK/port" ] && break; sleep 0.1; done
BASE="http://127.0.0.1:$(cat "$WORK/port")"

# N packages, each depending on up to two earlier ones; the project depends on all.
python3 - "$WORK" "$BASE" "$N" <<'PY'
import base64, hashlib, io, json, sys, tarfile
work, base, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
deps_all = {}
for i in range(n):
    name = f"bench-pkg-{i}"
    deps = {f"bench-pkg-{j}": "1.0.0" for j in (i // 2, i // 3) if j < i}
    manifest = json.dumps({"name": name, "version": "1.0.0", "main": "index.js", "dependencies": deps}).encode()
    code = ("module.exports = %d;\n" % i).encode() + b"// padding\n" * 200
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for path, data in (("package/package.json", manifest), ("package/index.js", code)):
            info = tarfile.TarInfo(path); info.size = len(data); info.mtime = 0; info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    tgz = raw.getvalue()
    open(f"{work}/registry/{name}-1.0.0.tgz", "wb").write(tgz)
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(tgz).digest()).decode()
    json.dump({"name": name, "dist-tags": {"latest": "1.0.0"}, "versions": {"1.0.0": {
        "name": name, "version": "1.0.0", "dependencies": deps,
        "dist": {"tarball": f"{base}/{name}/-/{name}-1.0.0.tgz", "integrity": integrity}}}}, open(f"{work}/registry/{name}", "w"))
    deps_all[name] = "1.0.0"
json.dump({"name": "bench-project", "version": "1.0.0", "dependencies": deps_all}, open(f"{work}/project/package.json", "w"))
json.dump({"version": 1, "mode": "enforce", "unmatched": "deny",
           "rules": [{"match": {"ecosystem": "npm"}, "require": [{"integrity": {}}]}]}, open(f"{work}/project/policy.json", "w"))
PY
cd "$WORK/project"
npm install --package-lock-only --registry "$BASE/" --cache "$WORK/lock-cache" --no-audit --no-fund > /dev/null
echo "$N packages locked: $(grep -c '"resolved"' package-lock.json) tarballs" >&2

# Its own policy, whatever BOUNCER_POLICY the caller's environment names.
export BOUNCER_BIN="$BOUNCER" BOUNCER_CACHE="$WORK/bouncer-cache" BOUNCER_POLICY="$WORK/project/policy.json"
# Sanity: the shim really verifies every tarball (one "bouncer: NAME@1.0.0 <- URL" line each).
# Timing means nothing unless every tarball went through Bouncer and was installed.
if ! "$ROOT/shims/npm" ci --cache "$WORK/npm-cache" --no-audit --no-fund 2> "$WORK/shim.err" > /dev/null; then
  echo "sanity check failed: npm ci through the shim failed:" >&2
  tail -20 "$WORK/shim.err" >&2
  exit 1
fi
VERIFIED="$(grep -c '^bouncer: bench-pkg-.*sha256:' "$WORK/shim.err" || true)"
INSTALLED="$(ls node_modules | grep -c '^bench-pkg-' || true)"
echo "shim verified $VERIFIED of $N tarballs; node_modules has $INSTALLED of $N packages" >&2
if [ "$VERIFIED" -lt "$N" ] || [ "$INSTALLED" -lt "$N" ]; then
  echo "sanity check failed: fewer than $N tarballs verified or installed; not timing" >&2
  exit 1
fi
# A standalone proxy too (its lock in its own directory, emptied before each run), to tell
# the proxy's cost from the shim's.
mkdir -p "$WORK/served" && cp "$WORK/project/policy.json" "$WORK/served/policy.json"
BOUNCER_CACHE="$WORK/served-cache" "$BOUNCER" serve --policy "$WORK/served/policy.json" --npm-upstream "$BASE/" \
  --ready-file "$WORK/served/ready" --quiet 2> "$WORK/served/serve.log" &
SERVE=$!
trap 'kill ${SERVER:-} ${SERVE:-} 2>/dev/null; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$WORK"' EXIT
for _ in $(seq 200); do [ -s "$WORK/served/ready" ] && break; sleep 0.05; done
PROXY="$(cat "$WORK/served/ready")/npm/"
# In alternation (bench/alternate.py says why); each run's node_modules, caches and locks
# are moved aside, not deleted (deletions slow every later file creation on this machine's ext4).
ASIDE='d=$(mktemp -d '"$WORK"'/aside-XXXXXX); for f in node_modules '"$WORK/npm-cache $WORK/bouncer-cache $WORK/served-cache"' bouncer.lock '"$WORK/served/bouncer.lock"'; do [ ! -e $f ] || mv $f $d/; done'
python3 "$BENCH_DIR/alternate.py" --runs "${BENCH_RUNS:-7}" --prepare "$ASIDE" --export-json "$OUT/npm-ci.json" \
  "npm ci (direct)=npm ci --cache $WORK/npm-cache --no-audit --no-fund --silent" \
  "npm ci (via bouncer serve)=env npm_config_registry=$PROXY npm_config_replace_registry_host=always npm ci --cache $WORK/npm-cache --no-audit --no-fund --silent" \
  "npm ci (shim)=$ROOT/shims/npm ci --cache $WORK/npm-cache --no-audit --no-fund --silent"
echo
ratio "$OUT/npm-ci.json" "npm ci (via bouncer serve)" "npm ci (direct)" median
ratio "$OUT/npm-ci.json" "npm ci (shim)" "npm ci (direct)" median
