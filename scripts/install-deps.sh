#!/usr/bin/env bash
# Installs the Debian packages Bouncer builds against (OpenSSL 3, libcurl,
# libarchive) and the real peer tools its tests and benchmarks run.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

packages=(
  # build
  pkg-config libssl-dev libcurl4-openssl-dev libarchive-dev
  # peers for interop tests and benchmarks
  openssl curl wget gnupg gpg gpgv sq sqv minisign signify-openbsd openssh-client
  debian-archive-keyring libarchive-tools xz-utils zstd lz4 bzip2 python3 python3-pip
  python3-venv pipx hyperfine time
  # container images: a loopback registry, skopeo, buildah, podman (daemonless), its docker CLI and podman-compose
  docker-registry skopeo buildah podman podman-docker podman-compose
)
# Release builds link the C++ runtime statically (link/libstdc++.so names
# libstdc++.a): its archive comes with the gcc's libstdc++ development package,
# which the Swift toolchain needs anyway.
if command -v gcc >/dev/null; then packages+=("libstdc++-$(gcc -dumpversion | cut -d. -f1)-dev"); fi
# npm for the npm shim tests: Debian's packages only when no npm is on PATH
# (a NodeSource nodejs already carries npm and conflicts with Debian's).
if ! command -v npm >/dev/null; then packages+=(nodejs npm); fi
# yarn 1 for the yarn shim test (Debian's yarnpkg; under a NodeSource node the
# test points it at Debian's modules in /usr/share/nodejs).
packages+=(yarnpkg)

# `apt-get update` always runs: besides fresh package lists it leaves the
# signed InRelease files under /var/lib/apt/lists that the Debian-chain tests read.
$SUDO apt-get update -q
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Python packages the tests use, for the python3 on PATH (which may be a
# pyenv or venv interpreter rather than Debian's): jsonschema checks
# schema/policy.schema.json with a real validator.
if ! python3 -c 'import jsonschema' 2>/dev/null; then
  python3 -m pip install --quiet jsonschema || echo "install-deps: could not pip install jsonschema; the schema test will skip" >&2
fi
# uv: a second real client for `bouncer serve` (the serve tests skip it when absent).
if ! command -v uv >/dev/null 2>&1; then
  python3 -m pip install --quiet uv || echo "install-deps: could not pip install uv; the uv test of bouncer serve will skip" >&2
fi
