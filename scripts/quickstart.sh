#!/usr/bin/env bash
# Quick start: install what Bouncer needs, build it as it ships, and run its
# main job: a pinned pip install through the pip shim, under this
# repository's policy.json, into a throwaway venv — every wheel fetched,
# verified and pinned by Bouncer's proxy before the real pip receives it —
# and then the same wheel fetched with curl refused by that policy (it has
# no rule for plain URLs, and unmatched artifacts are denied).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

bash scripts/install-deps.sh
# No $ORIGIN run path: the Swift runtime is linked in, and the dynamic
# loader would otherwise look for libcrypto and libc in the binary's folder
# first, a dozen failed opens on every start (about 0.1 ms).
swift build -c release --static-swift-stdlib --disable-local-rpath
export BOUNCER_BIN="$ROOT/.build/release/bouncer"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export BOUNCER_CACHE="$WORK/cache"
# The repository's own policy, copied so that the bouncer.lock it writes
# stays in the scratch folder rather than in your checkout.
cp "$ROOT/policy.json" "$WORK/policy.json"
export BOUNCER_POLICY="$WORK/policy.json"
# Its lock starts empty and pinning is the point here: not frozen even under CI=true.
export BOUNCER_NO_FROZEN=1

python3 -m venv "$WORK/venv"
# The shims first on PATH, then the venv: `pip` below is Bouncer's shim,
# which hands over to the venv's real pip.
export PATH="$ROOT/shims:$WORK/venv/bin:$PATH"
REQUIREMENT="${1:-six==1.16.0}"

echo
echo "== pip install $REQUIREMENT through the shim (policy: policy.json, rule by ecosystem)"
pip install "$REQUIREMENT"
echo
echo "== what the lock now pins"
cat "$WORK/bouncer.lock"
echo
echo "== installed in the venv"
"$WORK/venv/bin/python" -m pip list --format=freeze 2>/dev/null | grep -v -E '^(pip|setuptools|wheel)=='

echo
echo "== the same wheel through the curl shim: no rule allows plain URLs (unmatched: deny)"
URL="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["artifacts"][0]["url"])' "$WORK/bouncer.lock")"
set +e
(cd "$WORK" && curl -fsSLO "$URL")
STATUS=$?
set -e
echo "exit code: $STATUS"
if [ "$STATUS" = 0 ] || [ -e "$WORK/$(basename "$URL")" ]; then
  echo "quickstart: expected the curl download to be refused with nothing written" >&2
  exit 1
fi
echo "nothing was written."
echo
echo "Bouncer works. The binary is $BOUNCER_BIN; put $ROOT/shims first on PATH to guard curl, wget, pip (and python3 -m pip), npm, docker and podman, or run a job under bouncer exec."
