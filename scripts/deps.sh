#!/usr/bin/env bash
# deps.sh: install the Debian packages needed to build and test libbackend.
# Skips what is installed already; runs `apt-get update` only when something
# is missing. Uses sudo when not root. Extra packages: BK_EXTRA_DEPS="a b".
set -euo pipefail

# Build and test dependencies of the current tree. libclang-rt-dev holds the
# sanitizer and libFuzzer runtimes for clang (only recommended by clang).
# python3-jsonschema is the independent validator test_schema checks the
# exported JSON Schemas with (the test skips that part without it). swig and
# python3-dev build the Python binding (bindings/python, docs/python.md).
# libpq-dev is the PostgreSQL driver's client library (lib/store_pg.c);
# postgresql is the server the storage tests start privately
# (scripts/pg-test-server.sh).
BK_DEPS=(
    build-essential cmake pkg-config clang libclang-rt-dev
    libjansson-dev libcmocka-dev valgrind python3-jsonschema
    libsqlite3-dev swig python3-dev libpq-dev postgresql
)
# Dependencies of modules to come: move them into BK_DEPS when the module
# lands (crypto, http).
# shellcheck disable=SC2034
BK_DEPS_LATER=(
    libsodium-dev libcurl4-openssl-dev
)
# shellcheck disable=SC2206
BK_DEPS+=(${BK_EXTRA_DEPS:-})

missing=()
for pkg in "${BK_DEPS[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
    [ "${status:0:2}" = "ii" ] || missing+=("$pkg")
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "deps: all ${#BK_DEPS[@]} packages installed"
    exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
