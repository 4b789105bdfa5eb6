#!/usr/bin/env bash
# Instruction counts (valgrind --tool=callgrind) of one run of a command, for
# reporting beside wall times: deterministic where wall time on a shared
# machine is not. Usage: bench/instructions.sh PROGRAM [ARGS...]
# A copy of PROGRAM without debug information is run: valgrind 3.19 gives up
# on the DWARF of Swift release builds ("Possibly corrupted debuginfo file").
# Set CALLGRIND_OUT=FILE to keep the profile (callgrind_annotate FILE), and
# CALLGRIND_ARGS for more valgrind options (scripts/startup-order.sh).
set -euo pipefail
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 2; }
program="$(command -v "$1")"; shift
copy="$(mktemp /tmp/instructions-XXXXXX)"
trap 'rm -f "$copy" "${out:-}"' EXIT
objcopy --strip-debug "$program" "$copy" 2>/dev/null || cp "$program" "$copy"
chmod +x "$copy"
out="${CALLGRIND_OUT:-$(mktemp /tmp/callgrind-XXXXXX)}"
[ -n "${CALLGRIND_OUT:-}" ] && trap 'rm -f "$copy"' EXIT
# shellcheck disable=SC2086
valgrind --tool=callgrind ${CALLGRIND_ARGS:-} --callgrind-out-file="$out" "$copy" "$@" 2>&1 >/dev/null \
  | sed -n 's/^==[0-9]*== I *refs: *//p'
