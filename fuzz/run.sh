#!/usr/bin/env bash
# Builds the fuzzer (when a source changed), seeds the corpora (when absent) and
# runs each named target, or all, for SECONDS each, one after the other.
#   fuzz/run.sh [-t SECONDS] [target...]     default: 600 s each, every target
#   fuzz/run.sh --smoke                      CI: every target 5 s (about 1.5 min with start-up)
#   fuzz/run.sh --list
# A crash, leak, timeout (-timeout=10) or out-of-memory (-rss_limit_mb=2048)
# leaves the input in fuzz/artifacts/<target>/ and makes the script exit 1.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
seconds=600
targets=()
while [ $# -gt 0 ]; do
    case $1 in
        -t) seconds=$2; shift 2 ;;
        --smoke) seconds=5; shift ;;
        --list) targets=(--list); shift ;;
        *) targets+=("$1"); shift ;;
    esac
done
binary=$here/.build/bouncer-fuzz
if [ ! -x "$binary" ] || [ -n "$(find "$here/../Sources" "$here/Harnesses" "$here/build.sh" -newer "$binary" -type f | head -1)" ]; then
    "$here/build.sh" 2>&1 | grep -v 'Cannot export local symbol' || exit 2
    [ -x "$binary" ] || exit 2
fi
# With no target the harness stops and names them all; libFuzzer counts that
# as a crash on the empty input, so its artifact goes to the ignored folder.
mkdir -p "$here/artifacts"
all=$(BOUNCER_FUZZ_TARGET= "$binary" -runs=0 -artifact_prefix="$here/artifacts/list-" 2>&1 | sed -n 's/.*one of: //p')
if [ "${targets[*]-}" = --list ]; then echo "$all" | tr ' ' '\n'; exit 0; fi
[ ${#targets[@]} -gt 0 ] || read -ra targets <<<"$all"
[ -d "$here/corpus" ] || "$here/seed.sh" >/dev/null

failed=()
for target in "${targets[@]}"; do
    mkdir -p "$here/corpus/$target" "$here/artifacts/$target"
    log=$here/artifacts/$target/last-run.log
    BOUNCER_FUZZ_TARGET=$target "$binary" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$here/artifacts/$target/" "$here/corpus/$target" >"$log" 2>&1
    status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    if [ $status -eq 0 ]; then
        printf '%-18s ok      %ss  %s runs  %s\n' "$target" "$seconds" "${runs:-?}" "$cov"
    else
        printf '%-18s FAILED  exit %s, see %s\n' "$target" "$status" "$log"
        grep -m3 'ERROR\|SUMMARY\|Test unit written' "$log" | sed 's/^/    /'
        failed+=("$target")
    fi
done
[ ${#failed[@]} -eq 0 ] || { echo "failed: ${failed[*]}"; exit 1; }
