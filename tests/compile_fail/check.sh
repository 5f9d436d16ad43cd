#!/usr/bin/env bash
# check.sh --fail|--ok CC SOURCE [compiler args...]
#
# --fail: SOURCE must NOT compile (-fsyntax-only), and the compiler's output
#         must match the extended regex on the file's first line:
#             /* expect: static assertion failed|does not have the C type */
#         so the test cannot pass because of an unrelated error.
# --ok:   SOURCE must compile cleanly (the control for the include paths and
#         flags used by the --fail tests).
set -euo pipefail

mode=$1 cc=$2 src=$3
shift 3
flags=(-std=c11 -pedantic -Wall -Wextra -Werror -fsyntax-only)

set +e
out=$("$cc" "${flags[@]}" "$@" "$src" 2>&1)
rc=$?
set -e

case $mode in
--ok)
    if [ "$rc" -ne 0 ]; then
        printf '%s\n' "$out"
        echo "FAIL: $src should compile but did not (exit $rc)"
        exit 1
    fi
    echo "ok: $src compiles"
    ;;
--fail)
    first=$(head -n 1 "$src")
    expect=$(printf '%s\n' "$first" | sed -n 's|^[[:space:]]*/\*[[:space:]]*expect:[[:space:]]*\(.*[^[:space:]]\)[[:space:]]*\*/[[:space:]]*$|\1|p')
    if [ -z "$expect" ]; then
        echo "FAIL: $src: first line must be /* expect: <regex> */, got: $first"
        exit 1
    fi
    if [ "$rc" -eq 0 ]; then
        echo "FAIL: $src compiled, but it must not"
        exit 1
    fi
    # (here-strings, not pipes: with pipefail, grep -q exiting early would
    # turn the writer's SIGPIPE into a spurious mismatch)
    if ! grep -Eq -- "$expect" <<<"$out"; then
        printf '%s\n' "$out"
        echo "FAIL: $src failed to compile, but not with the expected message /$expect/"
        exit 1
    fi
    echo "ok: $src fails as expected:"
    matched=$(grep -E -- "$expect" <<<"$out")
    printf '%s\n' "${matched%%$'\n'*}"
    ;;
*)
    echo "usage: $0 --fail|--ok CC SOURCE [args...]" >&2
    exit 2
    ;;
esac
