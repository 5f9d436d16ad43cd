#!/usr/bin/env bash
# symbols.sh LIB.so: print the names of the dynamic symbols LIB defines,
# sorted, one per line, without version suffixes (bk_version@@BACKEND_0 ->
# bk_version) and without the version-node definitions themselves (type A).
set -euo pipefail
so=$1
nm -D --defined-only "$so" \
    | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' \
    | LC_ALL=C sort -u
