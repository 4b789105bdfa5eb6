#!/usr/bin/env bash
# SHA-256 throughput of `bouncer hash` vs `openssl dgst -sha256` and
# `sha256sum` on a page-cached 1 GiB file (size: BENCH_MIB), plus peak RSS.
source "$(dirname "$0")/lib.sh"
build_bouncer
MIB="${BENCH_MIB:-1024}"
FILE="$OUT/hash-input.bin"
make_file "$FILE" "$MIB"

hyperfine --warmup 1 --runs "${BENCH_RUNS:-5}" --export-json "$OUT/hash.json" \
  -n bouncer "$BOUNCER hash $FILE" \
  -n openssl "openssl dgst -sha256 $FILE" \
  -n sha256sum "sha256sum $FILE"

echo
echo "ratios (time; below 1.0 means bouncer is faster):"
ratio "$OUT/hash.json" bouncer openssl
ratio "$OUT/hash.json" bouncer sha256sum
python3 - "$OUT/hash.json" "$MIB" <<'PY'
import json, sys
mib = int(sys.argv[2])
for r in json.load(open(sys.argv[1]))["results"]:
    print(f"  {r['command']:>10}: {mib / 1024 / r['mean'] * (1 << 30) / 1e9:.2f} GB/s")
PY
echo "peak RSS: bouncer $(peak_rss_kib "$BOUNCER" hash "$FILE") KiB, openssl $(peak_rss_kib openssl dgst -sha256 "$FILE") KiB, sha256sum $(peak_rss_kib sha256sum "$FILE") KiB"
