#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ (ignored by git) with seed inputs: files from the
# shared corpus (copied, never committed; skipped when it is absent), the
# repository's policy.json, and small fixtures made here with the real tools
# (gpg, ssh-keygen, minisign, sha256sum, tar, zip, ar) when they are installed.
# Usage: fuzz/seed.sh [corpus-dir]   (default: $BOUNCER_CORPUS or /work/shared/corpus)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
src=${1:-${BOUNCER_CORPUS:-/work/shared/corpus}}
out=$root/fuzz/corpus
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
have() { command -v "$1" >/dev/null 2>&1; }

# seed TARGET FILE...: copies each file (≤ 256 KiB; bigger seeds only slow the fuzzer).
seed() {
    local target=$1; shift; mkdir -p "$out/$target"
    for f in "$@"; do
        [ -f "$f" ] && [ "$(stat -c %s "$f")" -le 262144 ] || continue
        cp "$f" "$out/$target/$(sha1sum "$f" | cut -c1-16)"
    done
}
# corpus TARGET -name PATTERN...: files from the shared corpus matching find(1) tests.
corpus() {
    local target=$1; shift
    [ -d "$src" ] || return 0
    mapfile -d '' files < <(find "$src" -type f \( "$@" \) -print0)
    seed "$target" "${files[@]}"
}
mkdir -p "$out"
[ -d "$src" ] || echo "seed: no shared corpus at $src; using generated seeds only" >&2

corpus openpgp -name '*.gpg' -o -name '*.asc' -o -name 'signed-data' -o -name 'InRelease'
corpus openpgp-cleartext -name InRelease
corpus sshsig -path '*sshsig*' -name '*.sig'
corpus allowed-signers -name allowed_signers -o -path '*sshsig*' -name '*.pub'
corpus minisign -name '*.minisig' -o -name minisign.pub
corpus signify -path '*signify*' \( -name '*.sig' -o -name '*.pub' \)
corpus checksum-list -name '*SUMS*' -o -name '*.sha256'
corpus debian-index -name Release -o -name InRelease -o -name 'Packages*' -o -name '*.dsc'
corpus tuf-metadata -path '*tuf*' -name '*.json' -not -path '*targets/*'
corpus sigstore-bundle -name '*.sigstore.json' -o -name '*.sigstore' -o -name '*.attestation'
corpus trusted-root -name 'trusted_root*.json'
corpus dsse -name '*.sigstore.json' -o -name 'attestations.json' -o -name '*.attestation' -o -name '*.intoto.jsonl'
corpus archive -name '*.tgz' -o -name '*.tar.gz' -o -name '*.whl' -o -name '*.zip'

# The leaf certificates (DER) of the shared corpus's Sigstore bundles, for the precertificate cut.
if [ -d "$src" ]; then
    mkdir -p "$out/precertificate"
    find "$src" -type f -name '*.sigstore.json' -print0 | xargs -0 -r python3 -c '
import base64, hashlib, json, os, sys
out = sys.argv[1]
for path in sys.argv[2:]:
    try:
        material = json.load(open(path)).get("verificationMaterial", {})
        raw = material.get("certificate", {}).get("rawBytes") \
            or material.get("x509CertificateChain", {}).get("certificates", [{}])[0].get("rawBytes")
        der = base64.b64decode(raw) if raw else None
    except Exception:
        continue
    if der:
        open(os.path.join(out, hashlib.sha1(der).hexdigest()[:16]), "wb").write(der)
' "$out/precertificate"
fi

# Generated seeds.
cd "$work"
printf 'fuzzed message\n' >msg
seed policy "$root/policy.json"
if have gpg; then
    export GNUPGHOME=$work/gnupg; mkdir -m 700 "$GNUPGHOME"
    gpg -q --batch --passphrase '' --quick-gen-key 'Fuzz <fuzz@example.org>' ed25519 sign 0 2>/dev/null
    gpg -q --batch --export >key.gpg; gpg -q --batch --armor --export >key.asc
    gpg -q --batch --detach-sign -o msg.sig msg; gpg -q --batch --armor --detach-sign -o msg.asc msg
    gpg -q --batch --clearsign -o msg.clear msg
    seed openpgp key.gpg key.asc msg.sig msg.asc
    seed openpgp-cleartext msg.clear
fi
if have ssh-keygen; then
    ssh-keygen -q -t ed25519 -N '' -C fuzz -f ed && ssh-keygen -q -t ecdsa -N '' -f ec
    cp msg smsg && ssh-keygen -q -Y sign -f ed -n file smsg 2>/dev/null
    printf 'fuzz@example.org %s\n*@example.org,!evil@example.org namespaces="file",valid-after="20240101" %s\n' \
        "$(cut -d' ' -f1,2 ed.pub)" "$(cut -d' ' -f1,2 ec.pub)" >allowed_signers
    seed sshsig smsg.sig; seed allowed-signers allowed_signers
fi
if have minisign; then
    minisign -G -W -p mini.pub -s mini.key >/dev/null 2>&1 && minisign -S -s mini.key -m msg -x msg.minisig -t 'trusted' >/dev/null 2>&1
    seed minisign mini.pub msg.minisig
fi
sha256sum msg >SHA256SUMS; sha256sum --tag msg >SHA256SUMS.bsd; sha512sum msg >SHA512SUMS
seed checksum-list SHA256SUMS SHA256SUMS.bsd SHA512SUMS
printf 'Package: fuzz\nVersion: 1.0\nFilename: pool/f/fuzz_1.0_all.deb\nSize: 15\nSHA256: %s\n' "$(sha256sum msg | cut -d' ' -f1)" >Packages
printf 'Origin: Fuzz\nDate: Sat, 01 Jun 2024 00:00:00 UTC\nValid-Until: Sat, 01 Jun 2030 00:00:00 UTC\nSHA256:\n %s %s Packages\n' \
    "$(sha256sum Packages | cut -d' ' -f1)" "$(stat -c %s Packages)" >Release
printf 'Format: 3.0 (quilt)\nSource: fuzz\nChecksums-Sha256:\n %s 15 fuzz_1.0.orig.tar.gz\n' "$(sha256sum msg | cut -d' ' -f1)" >fuzz.dsc
xz -k Packages 2>/dev/null; gzip -k Packages 2>/dev/null
seed debian-index Packages Release fuzz.dsc Packages.xz Packages.gz
printf '{"version":1,"artifacts":[{"key":"url:https://downloads.example.org/a.tgz","url":"https://downloads.example.org/a.tgz","ecosystem":"url","sha256":"%s","size":15,"rule":"r","evidence":[{"kind":"sha256","source":"https://downloads.example.org/SHA256SUMS"}]}]}\n' \
    "$(sha256sum msg | cut -d' ' -f1)" >lock.json
seed lockfile lock.json
printf '{"lists":{"https://downloads.example.org/SHA256SUMS":{"issuedAt":1700000000,"seenAt":1700000100,"sha256":"%s","signer":"minisign:ABC","superseded":["%s"]}},"version":1}\n' \
    "$(sha256sum msg | cut -d' ' -f1)" "$(sha256sum SHA256SUMS | cut -d' ' -f1)" >freshness.json
seed freshness-state freshness.json
for alg in sha256 sha384 sha512; do
    printf '%s-%s' "$alg" "$(openssl dgst -"$alg" -binary msg | base64 -w0)" >"sri.$alg"
done
printf 'sha512-%s?opt sha256-%s' "$(openssl dgst -sha512 -binary msg | base64 -w0)" "$(openssl dgst -sha256 -binary msg | base64 -w0)" >sri.multi
seed sri sri.sha256 sri.sha384 sri.sha512 sri.multi
mkdir -p pkg/package && cp msg pkg/package/index.js && printf '{"name":"fuzz","version":"1.0.0"}' >pkg/package/package.json
tar -C pkg -cf a.tar package && tar -C pkg -czf a.tgz package && tar -C pkg -cJf a.tar.xz package
(cd pkg && zip -qr ../a.zip package) ; ar rc a.ar msg 2>/dev/null
seed archive a.tar a.tgz a.tar.xz a.zip a.ar
cat >Dockerfile <<'DOCKERFILE'
# syntax=docker/dockerfile:1
ARG BASE=alpine:3.19
FROM --platform=$BUILDPLATFORM ${BASE} AS build
RUN --mount=type=cache,target=/c --mount=type=bind,from=tools:1,target=/t <<EOF
echo building
EOF
FROM scratch
COPY --from=build /out /out
COPY --from=ghcr.io/o/helper:2 /h /h
ADD local.tgz /x
DOCKERFILE
printf '# escape=`\nFROM `\n  alpine:3 `\n  AS one\nENV A=1 B="x y"\nARG C=${A:-z}\n' >Dockerfile.escape
seed dockerfile Dockerfile Dockerfile.escape
printf -- '--root\n/r\nrun\n-itp8080:80\n-eHOME\n--rm\nregistry.example/app:1\nsh\n' >args.run
printf -- 'build\n-qf=Dockerfile.dev\n--build-arg\nBASE=a:1\n--from\nb:2\n.\n-t\nx\n' >args.build
printf -- 'compose\n-f\nc.yaml\nup\n-d\n--pull\nnever\n--no-build\n' >args.compose
printf -- 'image\nimport\n-c\nENV A=1\nhttps://h/r.tar\nimg:v1\n' >args.import
printf -- 'kube\nplay\npod.yaml\n' >args.kube
seed container-arguments args.run args.build args.compose args.import args.kube
cat >pyproject.toml <<'TOML'
[project]
name = "demo"
[tool.uv]
index-url = "https://a.example/simple"
extra-index-url = ["https://b.example/simple", 'https://c.example/simple']
find-links = ["""./wheels"""]
[[tool.uv.index]]
name = "torch"
url = "https://d.example/whl"
default = true
[tool.uv.pip]
index-url = "https://e.example/simple"
TOML
printf 'index = [{ url = "https://f.example/simple", default = true }, { name = "x", url = "https://g.example/simple" }]
[pip]
find-links = ["/w"]
' >uv.toml
seed uv-configuration pyproject.toml uv.toml
printf '# yarn lockfile v1\nregistry "http://127.0.0.1:8731/npm/"\n"--install.https-proxy" "http://p:3128"\nyarnPath: .yarn/r.cjs\nproxy=http://q\n' >yarnrc
printf '# yarn lockfile v1\n\n"@a/b@^1", c@2:\n  version "1.0.0"\n  resolved "http://127.0.0.1:8731/npm/@a/b/-/b-1.0.0.tgz#aa"\n  integrity sha512-x==\n  dependencies:\n    d "^2"\n' >yarn.lock
printf -- '--cwd\nsub\nworkspace\nweb\nadd\nx\n' >words
seed yarn-files yarnrc yarn.lock words
printf '{"name":"p","workspaces":{"packages":["packages/{a,b}","!packages/x"]},"dependencies":{"a":"evil.tgz","b":"npm:c@^1","c":"@x/y"},"overrides":{"d":{".":"1","e":"file:../e"}},"packages":{"node_modules/a":{"resolved":"packages/a","link":true},"x":{"resolved":"file:../x","dependencies":{"y":"x:y"}}}}' >package.json
printf 'tinylib\r-e ./proj\n\xc2\xa0# c \\\n-r other.txt\nhttp://h/files/../private/x\nhttp://h?.x/%%2e%%2e/y\n' >requirements.txt
printf '# -*- coding: utf-7 -*-\n+AC0-r x\n' >coded.txt
seed project-specs package.json requirements.txt coded.txt
for t in "$out"/*/; do printf '%-18s %s seeds\n' "$(basename "$t")" "$(ls "$t" | wc -l)"; done
