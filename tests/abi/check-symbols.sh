#!/usr/bin/env bash
# check-symbols.sh LIB.so LEDGER: the ctest `abi_symbols`.
#
# Passes when the symbols exported by LIB.so are exactly those listed in
# LEDGER (tests/abi/symbols.txt), every one of them is public API (bk_ but
# not bk__), and the SONAME is libbackend.so.<major>. On a difference it
# prints a unified diff (- ledger only, + library only). After an intended
# API change, regenerate the ledger with scripts/update-symbols.sh and
# review the diff in the commit.
set -euo pipefail
so=$1 ledger=$2
here=$(cd "$(dirname "$0")" && pwd)
fail=0

actual=$(bash "$here/symbols.sh" "$so")

bad=$(printf '%s\n' "$actual" | grep -v '^$' | grep -Ev '^bk_[^_]' || true)
if [ -n "$bad" ]; then
    echo "FAIL: symbols exported that are not public API (bk_ without a second underscore):"
    printf '  %s\n' $bad
    fail=1
fi

soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
case $soname in
libbackend.so.[0-9]*) ;;
*) echo "FAIL: SONAME is '$soname', expected libbackend.so.<major>"; fail=1 ;;
esac

if [ ! -f "$ledger" ]; then
    echo "FAIL: no ledger $ledger (run scripts/update-symbols.sh)"
    exit 1
fi
expected=$(grep -Ev '^[[:space:]]*(#|$)' "$ledger" | LC_ALL=C sort -u)
if [ "$actual" != "$expected" ]; then
    echo "FAIL: exported symbols differ from $ledger"
    diff -u --label "ledger ($ledger)" --label "library ($so)" \
        <(printf '%s\n' "$expected") <(printf '%s\n' "$actual") || true
    echo "If the change is intended, run scripts/update-symbols.sh and commit the ledger."
    fail=1
fi

if [ "$fail" -eq 0 ]; then
    echo "ok: $(printf '%s\n' "$actual" | grep -c .) symbols match $ledger, SONAME $soname"
fi
exit "$fail"
