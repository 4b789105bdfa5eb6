#!/usr/bin/env bash
# Benchmark (not a test): `bouncer unpack` against `bsdtar xf` and GNU `tar xf`
# on a 20,000-file tarball and a 500 MB tarball, each run into a fresh empty
# directory (hyperfine --prepare). Target: bouncer <= 1.2x bsdtar wall time.
#
#   swift build -c release --static-swift-stdlib --disable-local-rpath && bench/unpack.sh
#   BOUNCER=/path/to/bouncer RUNS=5 BENCH_DIR=/var/tmp bench/unpack.sh
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
bouncer="${BOUNCER:-$here/.build/release/bouncer}"
runs="${RUNS:-10}"
for tool in hyperfine bsdtar tar python3; do
    command -v "$tool" >/dev/null || { echo "unpack.sh: $tool is required" >&2; exit 2; }
done
[ -x "$bouncer" ] || { echo "unpack.sh: $bouncer not found; run swift build -c release --static-swift-stdlib --disable-local-rpath" >&2; exit 2; }

work="$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/bouncer-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# Both tarballs are written straight from Python (no source tree on disk).
python3 - "$work" <<'PY'
import io, os, sys, tarfile
work = sys.argv[1]
def add(t, name, data):
    info = tarfile.TarInfo(name); info.size = len(data); info.mode = 0o644; info.mtime = 1700000000
    t.addfile(info, io.BytesIO(data))
with tarfile.open(work + "/many.tar", "w", format=tarfile.PAX_FORMAT) as t:
    for i in range(20000):
        add(t, "many/d%03d/f%05d.txt" % (i % 200, i), (b"line %d\n" % i) * (1 + i % 40))
chunk = os.urandom(1 << 20)
with tarfile.open(work + "/big.tar", "w", format=tarfile.PAX_FORMAT) as t:
    for i in range(50):  # 50 x 10 MiB = 500 MiB, incompressible
        add(t, "big/part%02d.bin" % i, bytes([i]) + chunk[1:] + chunk * 9)
PY

sync  # the fresh tarballs' writeback must not land in the first timed runs
results=()
for name in many big; do
    archive="$work/$name.tar"
    out="$work/out"
    echo "== $name.tar: $(du -h "$archive" | cut -f1), $(tar tf "$archive" | wc -l) entries"
    hyperfine --warmup 2 --runs "$runs" --style basic \
        --prepare "rm -rf '$out' && mkdir '$out' && sync" \
        --export-json "$work/$name.json" \
        -n "bouncer unpack" "'$bouncer' unpack '$archive' -C '$out'" \
        -n "bsdtar xf" "bsdtar xf '$archive' -C '$out'" \
        -n "tar xf" "tar xf '$archive' -C '$out'"
    results+=("$work/$name.json")
done

python3 - "${results[@]}" <<'PY'
import json, sys
# Medians: on a shared machine one stalled run (writeback, another job) can
# move a mean by tens of percent; means are printed too.
print("\n== ratios (median wall time, mean in brackets; target bouncer/bsdtar <= 1.2)")
for path in sys.argv[1:]:
    runs = {r["command"]: r for r in json.load(open(path))["results"]}
    med = [runs[n]["median"] for n in ("bouncer unpack", "bsdtar xf", "tar xf")]
    avg = [runs[n]["mean"] for n in ("bouncer unpack", "bsdtar xf", "tar xf")]
    name = path.rsplit("/", 1)[-1].removesuffix(".json") + ".tar"
    print(f"{name:9} bouncer {med[0]*1000:7.1f} ms  bsdtar {med[1]*1000:7.1f} ms  tar {med[2]*1000:7.1f} ms"
          f"  bouncer/bsdtar {med[0]/med[1]:4.2f}x [{avg[0]/avg[1]:4.2f}x]"
          f"  bouncer/tar {med[0]/med[2]:4.2f}x [{avg[0]/avg[2]:4.2f}x]"
          f"  {'OK' if med[0]/med[1] <= 1.2 else 'OVER TARGET'}")
PY
