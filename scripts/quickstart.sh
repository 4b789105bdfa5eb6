#!/usr/bin/env bash
# Quick start: install what Bouncer needs, build it as it ships, and run its
# main job on a real artifact: a pinned download that is verified before it
# is written, and the same download refused when the pin is wrong.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
swift build -c release --static-swift-stdlib
BOUNCER="$PWD/.build/release/bouncer"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export BOUNCER_CACHE="$WORK/cache"

# Ask pip (through its own index configuration) where the wheel lives and
# what sha256 the index publishes for it; Bouncer does the download.
REQUIREMENT="${1:-six==1.16.0}"
python3 -m pip install --quiet --dry-run --ignore-installed --no-deps --report "$WORK/report.json" "$REQUIREMENT"
read -r URL SHA256 < <(python3 - "$WORK/report.json" <<'PY'
import json, sys
info = json.load(open(sys.argv[1]))["install"][0]["download_info"]
print(info["url"], info["archive_info"]["hashes"]["sha256"])
PY
)

echo
echo "== bouncer fetch (pinned to the sha256 the index publishes)"
"$BOUNCER" fetch "$URL" --sha256 "$SHA256" --output-dir "$WORK"
WHEEL="$WORK/$(basename "$URL")"

echo
echo "== bouncer verify and bouncer hash on what landed"
(cd "$WORK" && "$BOUNCER" hash "$(basename "$WHEEL")" > SHA256SUMS && "$BOUNCER" verify "$(basename "$WHEEL")" --checksums SHA256SUMS)

echo
echo "== the same download with a wrong pin is refused and nothing is written"
rm -f "$WHEEL"
WRONG="$(printf '%064d' 0)"
set +e
"$BOUNCER" fetch "$URL" --sha256 "$WRONG" --output-dir "$WORK"
STATUS=$?
set -e
echo "exit code: $STATUS (1 = refused)"
if [ "$STATUS" != 1 ] || [ -e "$WHEEL" ]; then
  echo "quickstart: expected a refusal with nothing written" >&2
  exit 1
fi
echo
echo "Bouncer works. The binary is $BOUNCER; run '$BOUNCER --help' for more."
