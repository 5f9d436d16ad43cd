#!/usr/bin/env bash
# run.sh BUILD_DIR SOURCE_DIR CC CMAKE [EXTRA_CFLAGS]: the ctest `consumer`.
#
# Installs BUILD_DIR into a temporary prefix, checks the installed layout,
# then builds tests/consumer/main.c against that prefix three ways —
# pkg-config (shared), find_package(backend) with backend::backend (shared)
# and backend::backend_static — runs them and checks their output.
# EXTRA_CFLAGS carries the sanitizer flags of a BK_SANITIZE build.
set -euo pipefail
build=$1 src=$2 cc=$3 cmake=$4 extra=${5:-}
here=$src/tests/consumer

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bk-consumer.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

step() { printf '\n== %s\n' "$*"; }
die() { echo "consumer: FAIL: $*" >&2; exit 1; }

step "install into $prefix"
"$cmake" --install "$build" --prefix "$prefix" >"$tmp/install.log" || {
    cat "$tmp/install.log"; die "cmake --install failed"; }

pc=$(find "$prefix" -name backend.pc -path '*/pkgconfig/*' | head -n 1)
[ -n "$pc" ] || die "no backend.pc installed"
libdir=$(dirname "$(dirname "$pc")")
for f in include/backend.h include/backend/common.h include/backend/model.h; do
    [ -f "$prefix/$f" ] || die "missing $f"
done
for f in libbackend.so libbackend.so.0 libbackend.a cmake/backend/backendConfig.cmake \
         cmake/backend/backendConfigVersion.cmake cmake/backend/backendTargets.cmake; do
    [ -e "$libdir/$f" ] || die "missing $libdir/$f"
done
[ -L "$libdir/libbackend.so" ] && [ -L "$libdir/libbackend.so.0" ] \
    || die "libbackend.so and libbackend.so.0 must be symlinks"
grep -q "^prefix=$prefix\$" "$pc" || die "backend.pc does not point into the install prefix"
echo "layout ok (libdir $libdir)"

export PKG_CONFIG_PATH=$libdir/pkgconfig
version=$(pkg-config --modversion backend)
expected=$(cat <<EXP
version: $version (header $version, match=yes)
model: Person, 6 fields
decoded: id=7 name=Ada Lovelace age=36 level=high tags=[math,engines] nick=absent
round trip: id=7 name=Ada Lovelace age=36 level=high tags=[math,engines] nick=absent
bad document: BK_EDECODE, problems>0=yes
EXP
)

check_output() { # name exe
    local out rc=0
    out=$(LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$2") || rc=$?
    if [ "$rc" -ne 0 ]; then
        printf '%s\n' "$out"
        die "$1: exited with status $rc"
    fi
    if [ "$out" != "$expected" ]; then
        diff -u <(printf '%s\n' "$expected") <(printf '%s\n' "$out") || true
        die "$1: unexpected output"
    fi
    echo "$1: output ok"
}

step "pkg-config: $(pkg-config --cflags --libs backend)"
# shellcheck disable=SC2086,SC2046
"$cc" -std=c11 -pedantic -Wall -Wextra -Werror $extra "$here/main.c" \
    $(pkg-config --cflags --libs backend) -o "$tmp/consumer_pc"
check_output pkg-config "$tmp/consumer_pc"

step "find_package(backend)"
"$cmake" -S "$here" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$extra" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON >"$tmp/cmake.log" 2>&1 || {
    cat "$tmp/cmake.log"; die "configuring the CMake consumer failed"; }
grep "backend .* from" "$tmp/cmake.log" || true
grep -q "from $libdir/cmake/backend" "$tmp/cmake.log" \
    || die "find_package(backend) did not pick the package in $prefix"
"$cmake" --build "$tmp/cmake-build" >"$tmp/build.log" 2>&1 || {
    cat "$tmp/build.log"; die "building the CMake consumer failed"; }
check_output "find_package (backend::backend)" "$tmp/cmake-build/consumer"
check_output "find_package (backend::backend_static)" "$tmp/cmake-build/consumer_static"

step "consumer: all builds ok"
