#!/usr/bin/env bash
# installed.sh BUILD_DIR CMAKE PYTHON PYDIR: `cmake --install` the build into a
# scratch prefix and import the package from there (no build tree on the path).
set -euo pipefail
build=$1 cmake=$2 python=$3 pydir=$4
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
"$cmake" --install "$build" --prefix "$prefix" >/dev/null
cd "$prefix"
PYTHONPATH="$prefix/$pydir" PYTHONNOUSERSITE=1 "$python" - "$prefix" <<'PY'
import sys, backend as bk
prefix = sys.argv[1]
assert bk.__file__.startswith(prefix), bk.__file__
class P(bk.Model):
    x: bk.i32 = bk.field(le=5)
assert P.from_json(b'{"x": 3}').to_json() == b'{"x":3}'
try:
    P.from_json(b'{"x": 9}')
except bk.ValidationError as e:
    assert e.errors[0]["code"] == "above_max", e.errors
else:
    raise SystemExit("no error")
class R(bk.Model):
    id: int = bk.field(primary_key=True, auto=True)
    x: bk.i32
with bk.Store("sqlite::memory:") as store:
    store.register(R)
    assert store.insert(R(x=4)).id == 1
    assert [r.x for r in store.query(R).where(R.x >= 4)] == [4]
print("installed package OK:", bk.__file__, bk.__version__)
PY
