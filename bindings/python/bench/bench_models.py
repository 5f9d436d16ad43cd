#!/usr/bin/env python3
"""bench_models.py - list[User] decode and encode: libbackend's Python binding
against pydantic v2, in one run, on the C benchmark's document.

Usage:
    python3 bindings/python/bench/bench_models.py --build BUILD_DIR [--records N] [--runs R]

BUILD_DIR is a CMake build of the project (for its libbackend.so and the
SWIG-generated wrapper). The extension module only loads in the interpreter it
was compiled for, so unless BUILD_DIR/python already holds a module built for
the running interpreter (same `sys.executable`), this script compiles a private
copy of the module for it (with that interpreter's headers, `python3-config`
style paths from sysconfig) into BUILD_DIR/bench-python-<tag>/. The interpreter
needs pydantic 2 (the machine's pyenv python3 has it).

The document: tests/bench/users_gen.h with bench_json's seed, written by
users_gen_main.c (compiled here too), so both benchmarks read the same bytes.

What is timed, R rounds, each running every operation once (so a slow period
of a shared machine hits all alike); best and median reported:
  - libbackend decode: User.from_json_list(data): the C record stream decodes
    and validates every element into a C record with the GIL released, then
    one lazy instance per record (fields convert on first access);
  - pydantic decode: TypeAdapter(list[User]).validate_json(data);
  - libbackend encode: bk.encode_list(users) (the C encoder on the records,
    GIL released);
  - pydantic encode: TypeAdapter(list[User]).dump_json(users);
  - for context: libbackend decode + reading every field of every record
    (datetime, nested Address instance, list of str ...), and
    json.loads of the document alone.
MB/s are per input byte for decodes, per output byte for encodes.
"""
import argparse
import gc
import os
import statistics
import subprocess
import sys
import sysconfig
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))


def sh(cmd):
    subprocess.run(cmd, check=True)


def module_for_this_python(build):
    """A directory holding a `backend` package whose extension was compiled
    for the running interpreter."""
    tag = sysconfig.get_config_var("SOABI") or "py"
    cache_path = os.path.join(build, "CMakeCache.txt")
    built_for = None
    if os.path.exists(cache_path):
        with open(cache_path) as f:
            for line in f:
                if line.startswith("Python3_EXECUTABLE:"):
                    built_for = line.split("=", 1)[1].strip()
    if built_for and os.path.realpath(built_for) == os.path.realpath(sys.executable):
        return os.path.join(build, "python")
    out = os.path.join(build, "bench-python-" + tag)
    pkg = os.path.join(out, "backend")
    os.makedirs(pkg, exist_ok=True)
    wrap = os.path.join(build, "bindings", "python", "backend_wrap.c")
    if not os.path.exists(wrap):
        sys.exit("no %s: build the project first (cmake --build %s)" % (wrap, build))
    ext = os.path.join(pkg, "__backend" + sysconfig.get_config_var("EXT_SUFFIX"))
    src_dir = os.path.join(ROOT, "bindings", "python", "src")
    srcs = [wrap] + sorted(os.path.join(src_dir, n) for n in os.listdir(src_dir)
                           if n.endswith(".c"))
    libso = os.path.join(build, "libbackend.so")
    newest = max(os.path.getmtime(p) for p in srcs + [libso])
    if not os.path.exists(ext) or os.path.getmtime(ext) < newest:
        inc = sysconfig.get_paths()["include"]
        print("compiling the module for %s (headers %s)" % (sys.executable, inc), flush=True)
        sh(["cc", "-shared", "-fPIC", "-O2", "-std=c11", "-D_POSIX_C_SOURCE=200809L",
            "-D_DEFAULT_SOURCE", "-fvisibility=hidden", "-I" + inc,
            "-I" + os.path.join(ROOT, "include"),
            "-I" + os.path.join(ROOT, "bindings", "python", "src")] + srcs +
           ["-L" + build, "-lbackend", "-ljansson", "-Wl,-rpath," + build, "-o", ext])
    for name in os.listdir(os.path.join(build, "python", "backend")):
        if name.endswith(".py"):
            with open(os.path.join(build, "python", "backend", name), "rb") as src, \
                    open(os.path.join(pkg, name), "wb") as dst:
                dst.write(src.read())
    return out


def users_document(build, n):
    path = os.path.join(build, "bench-users-%d.json" % n)
    if not os.path.exists(path):
        gen = os.path.join(build, "bench-users-gen")
        sh(["cc", "-O2", "-std=c11", "-I" + os.path.join(ROOT, "tests", "bench"),
            "-I" + os.path.join(ROOT, "include"), os.path.join(HERE, "users_gen_main.c"),
            "-ljansson", "-o", gen])
        sh([gen, path, str(n)])
    with open(path, "rb") as f:
        return f.read()


def timed(fn):
    gc.collect()
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", required=True, help="a CMake build directory of the project")
    ap.add_argument("--records", type=int, default=100000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    build = os.path.abspath(args.build)

    sys.path.insert(0, module_for_this_python(build))
    import datetime
    import json
    from typing import Literal

    import backend as bk
    import pydantic
    from pydantic import BaseModel, TypeAdapter

    data = users_document(build, args.records)

    class BkAddress(bk.Model, model_name="Address"):
        street: str
        city: str
        zip: str

    class BkUser(bk.Model, model_name="User"):
        id: int
        name: str
        email: str
        age: bk.i32
        active: bool
        score: float
        tags: list[str]
        address: BkAddress
        created_at: datetime.datetime
        role: Literal["admin", "member", "guest"]

    class PdAddress(BaseModel):
        street: str
        city: str
        zip: str

    class PdUser(BaseModel):
        id: int
        name: str
        email: str
        age: int
        active: bool
        score: float
        tags: list[str]
        address: PdAddress
        created_at: datetime.datetime
        role: Literal["admin", "member", "guest"]

    adapter = TypeAdapter(list[PdUser])

    def bk_touch_all():
        users = BkUser.from_json_list(data)
        for u in users:
            (u.id, u.name, u.email, u.age, u.active, u.score, u.tags, u.address.city,
             u.created_at, u.role)
        return users

    names = ["bk_dec", "pd_dec", "bk_enc", "pd_enc", "bk_dec_all", "json_loads"]
    times = {k: [] for k in names}
    out_len = {}
    bk_users = pd_users = None
    for _ in range(args.runs):
        bk_users = pd_users = None
        t, bk_users = timed(lambda: BkUser.from_json_list(data))
        times["bk_dec"].append(t)
        t, pd_users = timed(lambda: adapter.validate_json(data))
        times["pd_dec"].append(t)
        t, out = timed(lambda: bk.encode_list(bk_users))
        times["bk_enc"].append(t)
        out_len["bk_enc"] = len(out)
        t, out = timed(lambda: adapter.dump_json(pd_users))
        times["pd_enc"].append(t)
        out_len["pd_enc"] = len(out)
        t, touched = timed(bk_touch_all)
        times["bk_dec_all"].append(t)
        del touched
        t, _ = timed(lambda: json.loads(data))
        times["json_loads"].append(t)

    # correctness: same records on both sides, and the output reads back
    assert len(bk_users) == len(pd_users) == args.records
    again = BkUser.from_json_list(bk.encode_list(bk_users))
    assert again == bk_users
    for a, p in zip(bk_users[:2000], pd_users[:2000]):
        assert (a.id, a.name, a.email, a.age, a.active, a.score, a.tags, a.address.zip,
                a.role) == (p.id, p.name, p.email, p.age, p.active, p.score, p.tags,
                            p.address.zip, p.role), (a, p)
        assert a.created_at == p.created_at

    mb = len(data) / 1e6
    print("list[User]: %d records, %.2f MB; python %s (%s); pydantic %s; runs %d"
          % (args.records, mb, sys.version.split()[0], sys.executable, pydantic.VERSION,
             args.runs))
    print("%-58s %9s %9s %9s" % ("", "best ms", "med ms", "MB/s"))
    rows = [
        ("libbackend decode: User.from_json_list (lazy instances)", "bk_dec", len(data)),
        ("pydantic decode: TypeAdapter(list[User]).validate_json", "pd_dec", len(data)),
        ("libbackend encode: bk.encode_list", "bk_enc", out_len["bk_enc"]),
        ("pydantic encode: TypeAdapter(list[User]).dump_json", "pd_enc", out_len["pd_enc"]),
        ("(libbackend decode + read every field of every record)", "bk_dec_all", len(data)),
        ("(json.loads of the document alone, no types)", "json_loads", len(data)),
    ]
    for label, key, nbytes in rows:
        best = min(times[key])
        print("%-58s %9.1f %9.1f %9.0f" % (label, best * 1e3, statistics.median(times[key]) * 1e3,
                                           nbytes / best / 1e6))
    print("(outputs: libbackend %.2f MB, pydantic %.2f MB)" % (out_len["bk_enc"] / 1e6,
                                                              out_len["pd_enc"] / 1e6))

    def ratio(a, b, per_a, per_b):
        # throughput ratio (bytes/s), best and median runs
        best = (per_a / min(times[a])) / (per_b / min(times[b]))
        med = (per_a / statistics.median(times[a])) / (per_b / statistics.median(times[b]))
        return best, med

    print()
    print("ratio libbackend/pydantic (throughput)   best   median")
    d = ratio("bk_dec", "pd_dec", len(data), len(data))
    e = ratio("bk_enc", "pd_enc", out_len["bk_enc"], out_len["pd_enc"])
    a = ratio("bk_dec_all", "pd_dec", len(data), len(data))
    print("decode (headline)                      %6.2fx %7.2fx   target >= 2x: %s"
          % (d[0], d[1], "PASS" if d[0] >= 2 else "MISS"))
    print("encode                                 %6.2fx %7.2fx   target >= 2x: %s"
          % (e[0], e[1], "PASS" if e[0] >= 2 else "MISS"))
    print("decode + read every field              %6.2fx %7.2fx" % a)


if __name__ == "__main__":
    main()
