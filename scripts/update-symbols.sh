#!/usr/bin/env bash
# update-symbols.sh [BUILD_DIR]: regenerate tests/abi/symbols.txt, the ledger
# of symbols exported by libbackend.so, from a fresh build in BUILD_DIR
# (default build-symbols). Review `git diff tests/abi/symbols.txt` before
# committing: removing or renaming a symbol breaks the ABI (SONAME bump).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-symbols}

# Warnings do not change the exported set: BK_WERROR=OFF, so a warning in
# work in progress does not stop the ledger from being written.
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBK_WERROR=OFF \
    -DBK_BUILD_TESTS=OFF -DBK_BUILD_BENCH=OFF -DBK_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" --target backend -j"$(nproc 2>/dev/null || echo 2)"

so=$(find "$build" -maxdepth 1 -name 'libbackend.so.*.*.*' -type f | head -n 1)
[ -n "$so" ] || { echo "update-symbols: no libbackend.so in $build" >&2; exit 1; }

ledger=$root/tests/abi/symbols.txt
bash "$root/tests/abi/symbols.sh" "$so" > "$ledger.tmp"
if grep -Ev '^bk_[^_]' "$ledger.tmp"; then
    echo "update-symbols: the library exports the non-API symbols above; fix lib/ first" >&2
    rm -f "$ledger.tmp"
    exit 1
fi
mv "$ledger.tmp" "$ledger"
echo "update-symbols: $(wc -l < "$ledger") symbols written to tests/abi/symbols.txt"
git -C "$root" diff --stat -- tests/abi/symbols.txt 2>/dev/null || true
