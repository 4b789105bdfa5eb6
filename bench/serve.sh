#!/usr/bin/env bash
# `bouncer serve` against the plain loopback index it fronts:
#  1. `pip install` of 30 small wheels (one command, --no-cache-dir, into a
#     fresh --target) through the proxy vs from the index directly; median of
#     BENCH_RUNS (9) rounds, the commands in alternation.
#  2. 50 concurrent clients fetching 200 wheels (~200 KiB each): throughput,
#     p99 latency and peak RSS of the proxy vs the plain static server, cold
#     (every file fetched, verified and pinned) and warm (pinned: fetched and
#     checked against the lock again).
# BOUNCER=path/to/bouncer uses a built binary (bouncer-serve must sit beside it).
source "$(dirname "$0")/lib.sh"
if [ -z "${BOUNCER:-}" ]; then build_bouncer; else BOUNCER="$(realpath "$BOUNCER")"; fi
WORK="$(mktemp -d "${BENCH_TMP:-/tmp}/bench-serve-XXXXXX")"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
cd "$WORK"

# The index: 30 wheels (pkg01..pkg30) and 200 versions of "bulk", pages with #sha256=.
python3 - "$WORK/index" <<'PY'
import base64, hashlib, os, sys, zipfile
root = sys.argv[1]
def wheel(name, version, size):
    pkgs = os.path.join(root, "packages"); os.makedirs(pkgs, exist_ok=True)
    file = f"{name}-{version}-py3-none-any.whl"
    di = f"{name}-{version}.dist-info"
    files = {f"{name}/__init__.py": b"X = 1\n", f"{name}/data.bin": os.urandom(size),
             f"{di}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
             f"{di}/WHEEL": b"Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    record = "".join(f"{p},sha256={base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()},{len(d)}\n" for p, d in files.items())
    files[f"{di}/RECORD"] = (record + f"{di}/RECORD,,\n").encode()
    with zipfile.ZipFile(os.path.join(pkgs, file), "w", zipfile.ZIP_STORED) as z:
        for p, d in files.items():
            z.writestr(zipfile.ZipInfo(p, date_time=(2020, 1, 1, 0, 0, 0)), d)
    return file, hashlib.sha256(open(os.path.join(pkgs, file), "rb").read()).hexdigest()
def page(name, entries):
    d = os.path.join(root, "simple", name); os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "index.html"), "w") as f:
        f.write("<!DOCTYPE html><html><body>\n" + "".join(f'<a href="../../packages/{fn}#sha256={h}">{fn}</a><br/>\n' for fn, h in entries) + "</body></html>\n")
for i in range(1, 31):
    page(f"pkg{i:02d}", [wheel(f"pkg{i:02d}", "1.0", 20_000)])
page("bulk", [wheel("bulk", f"1.0.{i}", 200_000) for i in range(200)])
PY

# The plain static server (the upstream), on a free port.
python3 -u -m http.server --bind 127.0.0.1 0 --directory "$WORK/index" > "$WORK/static.log" 2>&1 &
PIDS+=($!); STATIC_PID=$!
for _ in $(seq 100); do grep -q "Serving HTTP" "$WORK/static.log" && break; sleep 0.1; done
PORT=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$WORK/static.log" | head -1)
UPSTREAM="http://127.0.0.1:$PORT"

cat > "$WORK/policy.json" <<'EOF'
{ "version": 1, "mode": "enforce", "unmatched": "deny", "lockfile": "bouncer.lock",
  "rules": [ { "name": "pypi", "match": { "ecosystem": "pypi" }, "require": [ { "digest": {} } ] } ] }
EOF
BOUNCER_CACHE="$WORK/cache" "$BOUNCER" serve --policy "$WORK/policy.json" --pypi-upstream "$UPSTREAM/simple/" \
  --npm-upstream "$UPSTREAM/" --ready-file "$WORK/ready" --quiet 2> "$WORK/serve.log" &
PIDS+=($!)
for _ in $(seq 200); do [ -s "$WORK/ready" ] && break; sleep 0.05; done
BASE=$(cat "$WORK/ready")
SERVE_PID=$(pgrep -f "bouncer-serve .*--ready-file $WORK/ready" | head -1)
echo "static $UPSTREAM, proxy $BASE (pid $SERVE_PID)" >&2

RUNS="${BENCH_RUNS:-9}"
PKGS=$(for i in $(seq -w 1 30); do printf "pkg%s " "$i"; done)
printf '%s\n' $PKGS > "$WORK/requirements.txt"
python3 -m venv "$WORK/venv"
# The pip shim in front of the venv's pip (what a user runs), and that pip alone; the shim's
# proxy starts cold every run (empty store, no lock), as pip does (--no-cache-dir).
mkdir -p "$WORK/shims" && ln -sf "$BENCH_DIR/../shims/pip" "$WORK/shims/pip"
ENVS="env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1"
PIP="$ENVS $WORK/venv/bin/pip install -q --no-cache-dir --target $WORK/t"
SHIM="$ENVS PATH=$WORK/shims:$WORK/venv/bin:$PATH BOUNCER_BIN=$BOUNCER BOUNCER_POLICY=$WORK/shim-project/policy.json BOUNCER_CACHE=$WORK/shim-cache pip install -q --no-cache-dir --target $WORK/t"
mkdir -p "$WORK/shim-project" && cp "$WORK/policy.json" "$WORK/shim-project/policy.json"
# In alternation (bench/alternate.py says why), not hyperfine's runs back to back.
echo "pip install -r of 30 wheels, $RUNS rounds in alternation:"
# Each run's target, cache and lock are moved aside, not deleted: deletions during the
# runs would slow every later file creation on this machine's ext4 (see alternate.py).
ASIDE='d=$(mktemp -d '"$WORK"'/aside-XXXXXX); for f in '"$WORK/t $WORK/shim-cache $WORK/shim-project/bouncer.lock $WORK/bouncer.lock"'; do [ ! -e $f ] || mv $f $d/; done'
python3 "$BENCH_DIR/alternate.py" --runs "$RUNS" --prepare "$ASIDE" \
  --export-json "$OUT/serve-pip.json" \
  "pip direct=$PIP --index-url $UPSTREAM/simple/ -r $WORK/requirements.txt" \
  "pip via bouncer serve=$PIP --index-url $BASE/pypi/simple/ -r $WORK/requirements.txt" \
  "pip shim=$SHIM --index-url $UPSTREAM/simple/ -r $WORK/requirements.txt"
echo
ratio "$OUT/serve-pip.json" "pip via bouncer serve" "pip direct" median
ratio "$OUT/serve-pip.json" "pip shim" "pip direct" median

# 50 concurrent clients, 200 files: latency per request, throughput, peak RSS (VmHWM).
cat > "$WORK/load.py" <<'PY'
import concurrent.futures, sys, time, urllib.request
prefix, pid, label = sys.argv[1], sys.argv[2], sys.argv[3]
files = [f"bulk-1.0.{i}-py3-none-any.whl" for i in range(200)]
def get(name):
    start = time.perf_counter()
    with urllib.request.urlopen(prefix + name, timeout=300) as r:
        n = len(r.read())
        assert r.status == 200
    return time.perf_counter() - start, n
t0 = time.perf_counter()
with concurrent.futures.ThreadPoolExecutor(50) as pool:
    results = list(pool.map(get, files))
wall = time.perf_counter() - t0
lat = sorted(r[0] for r in results)
total = sum(r[1] for r in results)
p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
hwm = next((l.split()[1] for l in open(f"/proc/{pid}/status") if l.startswith("VmHWM")), "?")
print(f"  {label:<28} {len(files) / wall:7.1f} req/s  {total / wall / 1e6:7.1f} MB/s  p50 {lat[len(lat)//2]*1000:7.1f} ms  p99 {p99*1000:7.1f} ms  peak RSS {int(hwm)//1024} MiB")
PY
echo
echo "50 concurrent clients, 200 wheels of ~200 KiB:"
python3 "$WORK/load.py" "$UPSTREAM/packages/" "$STATIC_PID" "static server"
python3 "$WORK/load.py" "$BASE/pypi/files/bulk/" "$SERVE_PID" "bouncer serve (cold: pins)"
python3 "$WORK/load.py" "$BASE/pypi/files/bulk/" "$SERVE_PID" "bouncer serve (warm: locked)"
