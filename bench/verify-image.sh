#!/usr/bin/env bash
# Container images against a loopback docker-registry: `bouncer verify-image`
# per image, and `podman pull` of a small signed image through the podman shim,
# each as a ratio to `podman pull` alone (fresh podman storage for every run).
# The shim takes the signer from the policy's match.image rule and checks the lock pin.
# BOUNCER_BIN=path skips the release build (e.g. a debug binary, for a smoke run).
source "$(dirname "$0")/lib.sh"
if [ -n "${BOUNCER_BIN:-}" ]; then BOUNCER="$BOUNCER_BIN"; else build_bouncer; export BOUNCER_BIN="$BOUNCER"; fi
WORK="$(mktemp -d /tmp/bvi-XXXXXX)"          # short: podman refuses a runroot over 50 characters
REG_PID=
cleanup() {
  [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null
  podman --root "$WORK/root" --runroot "$WORK/run" --storage-driver vfs system reset --force >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
HOST=127.0.0.1:$PORT R=http://$HOST
printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s/data\nhttp:\n  addr: %s\n' "$WORK" "$HOST" > "$WORK/config.yml"
docker-registry serve "$WORK/config.yml" >/dev/null 2>&1 & REG_PID=$!
for _ in $(seq 50); do curl -sf "$R/v2/" >/dev/null && break; sleep 0.1; done

push_blob() {  # FILE REPO -> digest
  local d loc sep; d=sha256:$(sha256sum "$1" | cut -d' ' -f1)
  loc=$(curl -s -D - -o /dev/null -X POST "$R/v2/$2/blobs/uploads/" | tr -d '\r' | awk 'tolower($1)=="location:"{print $2}')
  case $loc in /*) loc=$R$loc;; esac; case $loc in *\?*) sep='&';; *) sep='?';; esac
  curl -sf -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' --data-binary @"$1" "$loc${sep}digest=$d"; echo "$d"
}
push_manifest() {  # FILE REPO REF TYPE
  curl -sf -o /dev/null -X PUT -H "Content-Type: $4" --data-binary @"$1" "$R/v2/$2/manifests/$3"
}

# A one-layer image (a 1 MiB random file), tagged v1.
head -c $((1 << 20)) /dev/urandom > "$WORK/blob.bin"
tar -C "$WORK" -cf "$WORK/layer.tar" blob.bin && gzip -n -f "$WORK/layer.tar"
diff_id=sha256:$(gzip -dc "$WORK/layer.tar.gz" | sha256sum | cut -d' ' -f1)
printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["%s"]}}' "$diff_id" > "$WORK/config.json"
cfg=$(push_blob "$WORK/config.json" bench/img); lay=$(push_blob "$WORK/layer.tar.gz" bench/img)
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":%d,"digest":"%s"},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","size":%d,"digest":"%s"}]}' \
  "$(stat -c %s "$WORK/config.json")" "$cfg" "$(stat -c %s "$WORK/layer.tar.gz")" "$lay" > "$WORK/manifest.json"
push_manifest "$WORK/manifest.json" bench/img v1 application/vnd.oci.image.manifest.v1+json
digest=sha256:$(sha256sum "$WORK/manifest.json" | cut -d' ' -f1)

# cosign's key-based layout, signed with openssl.
openssl ecparam -name prime256v1 -genkey -noout -out "$WORK/key.pem"; openssl ec -in "$WORK/key.pem" -pubout -out "$WORK/key.pub" 2>/dev/null
printf '{"critical":{"identity":{"docker-reference":"%s/bench/img"},"image":{"docker-manifest-digest":"%s"},"type":"cosign container image signature"},"optional":null}' "$HOST" "$digest" > "$WORK/payload.json"
sig=$(openssl dgst -sha256 -sign "$WORK/key.pem" "$WORK/payload.json" | base64 -w0)
printf '{}' > "$WORK/empty.json"; ecfg=$(push_blob "$WORK/empty.json" bench/img); pl=$(push_blob "$WORK/payload.json" bench/img)
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":2,"digest":"%s"},"layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":%d,"digest":"%s","annotations":{"dev.cosignproject.cosign/signature":"%s"}}]}' \
  "$ecfg" "$(stat -c %s "$WORK/payload.json")" "$pl" "$sig" > "$WORK/sig.json"
push_manifest "$WORK/sig.json" bench/img "sha256-${digest#sha256:}.sig" application/vnd.oci.image.manifest.v1+json

# The project's policy names the signer (match.image); the lock beside it pins bench/img:v1 on the first pull.
printf '{"version": 1, "mode": "enforce", "unmatched": "deny", "keys": {"bench": {"type": "publicKey", "file": "%s/key.pub"}},
 "rules": [{"match": {"image": "%s/bench/*"}, "require": [{"sigstore": {"key": "bench", "requireLog": false}}]}]}\n' "$WORK" "$HOST" > "$WORK/policy.json"
unset BOUNCER_IMAGE_KEY BOUNCER_IMAGE_IDENTITY BOUNCER_IMAGE_IDENTITY_REGEXP BOUNCER_IMAGE_IGNORE_TLOG
export BOUNCER_POLICY="$WORK/policy.json"
P="podman --root $WORK/root --runroot $WORK/run --storage-driver vfs"
RESET="$P rmi -a -f"

hyperfine -N --warmup 2 --runs "${BENCH_RUNS:-20}" --export-json "$OUT/verify-image.json" --prepare "$RESET" \
  -n "podman pull (direct)" "$P pull -q --tls-verify=false $HOST/bench/img:v1" \
  -n "podman pull (shim)" "$ROOT/shims/podman --root $WORK/root --runroot $WORK/run --storage-driver vfs pull -q --tls-verify=false $HOST/bench/img:v1" \
  -n "bouncer verify-image" "$BOUNCER verify-image $HOST/bench/img:v1 --key $WORK/key.pub --insecure-ignore-tlog --allow-http-registry"

echo "ratios to podman pull alone:"
ratio "$OUT/verify-image.json" "bouncer verify-image" "podman pull (direct)" median
ratio "$OUT/verify-image.json" "podman pull (shim)" "podman pull (direct)" median
