#!/usr/bin/env bash
# example.sh: install dependencies, build libbackend (Release) into build/,
# and run the main example: build/examples/users examples/users.json
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash scripts/deps.sh

if [ ! -f examples/users.c ] || [ ! -f examples/users.json ]; then
    echo "example.sh: examples/users.c and examples/users.json are needed (not written yet?)" >&2
    exit 1
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DBK_BUILD_TESTS=OFF -DBK_BUILD_BENCH=OFF
cmake --build build -j"${JOBS:-2}"

if [ ! -x build/examples/users ]; then
    echo "example.sh: build/examples/users was not built" >&2
    exit 1
fi
echo "+ build/examples/users examples/users.json sqlite:build/users.db"
exec build/examples/users examples/users.json sqlite:build/users.db
