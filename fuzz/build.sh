#!/usr/bin/env bash
# Builds fuzz/.build/bouncer-fuzz: the Bouncer library targets' sources compiled into one module with the
# harnesses, instrumented for libFuzzer + AddressSanitizer. (SwiftPM cannot link a fuzzer
# executable here: it renames main and ld.gold crashes on libFuzzer's main.)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/fuzz/.build
mkdir -p "$out/modules"
# The shim targets' public headers need module maps SwiftPM would otherwise generate
# (every Sources/C*Shims target, so a new one needs no edit here).
shim_includes=()
for dir in "$root"/Sources/C*Shims; do
    shim=$(basename "$dir")
    mkdir -p "$out/modules/$shim"
    printf 'module %s {\n    header "%s"\n    export *\n}\n' "$shim" "$dir/include/$shim.h" \
        >"$out/modules/$shim/module.modulemap"
    shim_includes+=(-I "$out/modules/$shim")
done
objs=()
for c in "$root"/Sources/C*Shims/*.c; do
    o=$out/$(basename "$(dirname "$c")")-$(basename "$c" .c).o
    clang -c -g -O1 -fsanitize=fuzzer-no-link,address -I "$root/Sources/$(basename "$(dirname "$c")")/include" \
        -I "$root/Sources/COpenSSL" -I "$root/Sources/CCurl" -I "$root/Sources/CArchive" "$c" -o "$o"
    objs+=("$o")
done
# The layered targets become one module here (the harnesses reach internal parsers), so
# copies of their sources drop the imports of each other.
rm -rf "$out/src"
for target in BouncerBase BouncerIO BouncerSignatures BouncerSigstore BouncerPolicy BouncerTools; do
    (cd "$root/Sources" && find "$target" -name '*.swift') | while read -r file; do
        mkdir -p "$out/src/$(dirname "$file")"
        grep -vE '^import Bouncer(Base|IO|Signatures|Sigstore|Policy|Tools)$' "$root/Sources/$file" >"$out/src/$file"
    done
done
mapfile -t sources < <(find "$out/src" "$root/fuzz/Harnesses" -name '*.swift' | sort)
swiftc -g -O -sanitize=fuzzer,address -parse-as-library -module-name BouncerFuzz -package-name Bouncer \
    -I "$root/Sources/COpenSSL" -I "$root/Sources/CCurl" -I "$root/Sources/CArchive" \
    "${shim_includes[@]}" \
    "${sources[@]}" "${objs[@]}" -lssl -lcrypto -ldl -o "$out/bouncer-fuzz"
echo "built $out/bouncer-fuzz"
