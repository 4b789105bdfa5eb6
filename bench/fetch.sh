#!/usr/bin/env bash
# `bouncer fetch` (download + sha256 in one pass + verify + atomic rename) vs
# plain `curl -s -o` and `curl -s -o f && sha256sum f`, for a 1 GiB body
# (size: BENCH_MIB) served from the page cache by a loopback server.
source "$(dirname "$0")/lib.sh"
build_bouncer
MIB="${BENCH_MIB:-1024}"
mkdir -p "$OUT/served" "$OUT/fetched"
FILE="$OUT/served/fetch-input.bin"
make_file "$FILE" "$MIB"
SHA=$(sha256sum "$FILE" | cut -c1-64)

PORT_FILE="$OUT/serve.port"
python3 "$BENCH_DIR/serve.py" "$OUT/served" > "$PORT_FILE" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null' EXIT
for _ in $(seq 50); do [ -s "$PORT_FILE" ] && break; sleep 0.1; done
URL="http://127.0.0.1:$(cat "$PORT_FILE")/fetch-input.bin"
DEST="$OUT/fetched/f"
export BOUNCER_CACHE="$OUT/fetched/cache"   # same file system as DEST: placement is a rename
# The benchmark's own policy: run from inside the repository, the repository's
# policy.json (which has no rule for a loopback URL) would refuse the download.
POLICY="$OUT/fetched/policy.json"
cat > "$POLICY" <<JSON
{"version": 1, "mode": "enforce", "unmatched": "deny", "lockfile": "bench.lock",
 "rules": [{"name": "bench", "match": {"url": "http://127.0.0.1:*/fetch-input.bin"}, "require": [{"digest": {"sha256": "$SHA"}}]}]}
JSON
export BOUNCER_POLICY="$POLICY"
# Sanity: the timed command must succeed (a refusal is fast and would look like a win).
"$BOUNCER" fetch --quiet --policy "$POLICY" "$URL" --sha256 "$SHA" -o "$DEST"

hyperfine --warmup 1 --runs "${BENCH_RUNS:-5}" --export-json "$OUT/fetch.json" \
  --prepare "rm -f $DEST" \
  -n bouncer "$BOUNCER fetch --quiet --policy $POLICY $URL --sha256 $SHA -o $DEST" \
  -n curl "curl -s -o $DEST $URL" \
  -n curl+sha256sum "curl -s -o $DEST $URL && sha256sum $DEST"

echo
echo "ratios (time; below 1.0 means bouncer is faster):"
ratio "$OUT/fetch.json" bouncer curl
ratio "$OUT/fetch.json" bouncer curl+sha256sum
rm -f "$DEST"
echo "peak RSS: bouncer fetch $(peak_rss_kib "$BOUNCER" fetch --quiet --policy "$POLICY" "$URL" --sha256 "$SHA" -o "$DEST") KiB, curl $(peak_rss_kib curl -s -o "$DEST" "$URL") KiB"
