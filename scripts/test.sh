#!/usr/bin/env bash
# test.sh: the whole check, as CI runs it (.ci/run). Phases:
#   gcc       gcc build (RelWithDebInfo) in build-gcc, ctest
#   asan      clang build with BK_SANITIZE=ON (ASan+UBSan) in build-asan, ctest
#   valgrind  every tests/test_* executable of build-gcc under valgrind memcheck
#   tsan      clang BK_TSAN=ON build in build-tsan; runs test_store_threads
#             (one store shared by four threads) under ThreadSanitizer
#   fuzz      clang BK_FUZZ=ON build in build-fuzz; each libFuzzer target runs
#             over a temp copy of tests/fuzz/corpus/<name>/ (FUZZ_BUDGET
#             seconds in total, default 90, split between the targets)
# The storage tests also run on PostgreSQL: ctest starts a private server
# (scripts/pg-test-server.sh, a fixture of the gcc and asan builds), and the
# valgrind and tsan phases start one of their own; BK_TEST_PG=0 leaves
# PostgreSQL out (locally), otherwise a server that does not start fails.
# Skipped phases (no clang fuzzer support, no fuzz targets) are reported but
# not counted. Ends with "N passed, M failed"; exit status non-zero on any
# failure. Environment: JOBS (default 2), FUZZ_BUDGET, VALGRIND_SKIP (test
# names to leave out of the valgrind phase), BK_PHASES (default
# "gcc asan valgrind tsan fuzz"), BK_THREADS_N (rows per thread in the tsan
# phase, default 60).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

JOBS=${JOBS:-2}
FUZZ_BUDGET=${FUZZ_BUDGET:-90}
BK_PHASES=${BK_PHASES:-gcc asan valgrind tsan fuzz}
# Tests that fork/exec compilers or otherwise do not belong under valgrind.
VALGRIND_SKIP=${VALGRIND_SKIP:-}

passed=0 failed=0
summary=()
t_start=$(date +%s)

log() { printf '\n=== %s\n' "$*"; }

# run_phase NAME FUNCTION: runs FUNCTION in a subshell with errexit in force
# (not inside an `if`, where bash would silently disable set -e).
run_phase() {
    local name=$1 fn=$2 rc t0 t1
    log "phase $name"
    t0=$(date +%s)
    set +e
    ( set -euo pipefail; "$fn" )
    rc=$?
    set -e
    t1=$(date +%s)
    case $rc in
    0)  passed=$((passed + 1)); summary+=("PASS  $name ($((t1 - t0))s)") ;;
    77) summary+=("SKIP  $name") ;;
    *)  failed=$((failed + 1)); summary+=("FAIL  $name ($((t1 - t0))s, exit $rc)") ;;
    esac
}

configure_build() { # dir cc [cmake args...]
    local dir=$1 cc=$2
    shift 2
    # RelWithDebInfo without -DNDEBUG: optimised (more warnings), with
    # debug info for valgrind and sanitizer reports, and assert() active.
    CC=$cc cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g" "$@"
    cmake --build "$dir" -j"$JOBS"
}

# Start a private PostgreSQL server for the phase (stopped when the phase's
# subshell exits) and point the storage tests at it.
start_pg() { # state-dir
    local state=$1
    bash scripts/pg-test-server.sh start "$state"
    # shellcheck disable=SC2064
    trap "bash '$root/scripts/pg-test-server.sh' stop '$state'" EXIT
    export BK_TEST_PG_URI_FILE=$state/uri
}

phase_gcc() {
    configure_build build-gcc gcc
    ctest --test-dir build-gcc --output-on-failure -j"$JOBS"
}

phase_asan() {
    configure_build build-asan clang -DBK_SANITIZE=ON
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        ctest --test-dir build-asan --output-on-failure -j"$JOBS"
}

phase_valgrind() {
    command -v valgrind >/dev/null || { echo "valgrind not installed"; return 1; }
    [ -d build-gcc ] || configure_build build-gcc gcc
    cmake --build build-gcc -j"$JOBS"     # never run stale binaries
    start_pg "$root/build-gcc/pgtest-valgrind"
    local exe name n=0 bad=0 skip
    for exe in build-gcc/tests/test_*; do
        [ -f "$exe" ] && [ -x "$exe" ] || continue
        name=$(basename "$exe")
        skip=0
        for s in $VALGRIND_SKIP; do [ "$s" = "$name" ] && skip=1; done
        # Tests that fork, exec or spawn (compilers, tools) are left out.
        if [ -f "tests/$name.c" ] && grep -Eq \
                '\b(v?fork|exec[lv]p?e?|system|popen|posix_spawnp?)[[:space:]]*\(' "tests/$name.c"; then
            skip=1
        fi
        if [ "$skip" -eq 1 ]; then echo "skip $name"; continue; fi
        n=$((n + 1))
        echo "--- valgrind $name"
        if ! BK_TEST_DATA=$root/tests/data valgrind -q --leak-check=full \
                --errors-for-leak-kinds=definite,indirect --error-exitcode=1 \
                --track-origins=yes "$exe" > "build-gcc/valgrind-$name.log" 2>&1; then
            cat "build-gcc/valgrind-$name.log"
            echo "FAIL valgrind $name"
            bad=$((bad + 1))
        else
            echo "ok $name"
        fi
    done
    echo "valgrind: $((n - bad)) of $n test executables clean"
    [ "$n" -gt 0 ] || { echo "no test executables found"; return 1; }
    [ "$bad" -eq 0 ]
}

phase_tsan() {
    # Only the threads test, with fewer rows: ThreadSanitizer is slow, and
    # the point is the pool, the statement caches and the registry under
    # real concurrency, not volume.
    CC=clang cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" -DBK_TSAN=ON \
        -DBK_BUILD_BENCH=OFF -DBK_BUILD_EXAMPLES=OFF
    cmake --build build-tsan --target test_store_threads -j"$JOBS"
    start_pg "$root/build-tsan/pgtest"
    BK_THREADS_N=${BK_THREADS_N:-60} TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1} \
        build-tsan/tests/test_store_threads
}

phase_fuzz() {
    local probe targets=() src name per t corpus dir
    for src in tests/fuzz/*.c; do
        [ -f "$src" ] && targets+=("$(basename "$src" .c)")
    done
    if [ "${#targets[@]}" -eq 0 ]; then
        echo "no fuzz targets in tests/fuzz/"
        return 77
    fi
    probe=$(mktemp -d)
    printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
        'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
        > "$probe/p.c"
    if ! clang -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" 2>/dev/null; then
        rm -rf "$probe"
        echo "clang does not support -fsanitize=fuzzer here"
        return 77
    fi
    rm -rf "$probe"
    CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBK_FUZZ=ON \
        -DBK_BUILD_TESTS=OFF -DBK_BUILD_BENCH=OFF -DBK_BUILD_EXAMPLES=OFF
    cmake --build build-fuzz --target fuzzers -j"$JOBS"
    per=$((FUZZ_BUDGET / ${#targets[@]}))
    [ "$per" -ge 5 ] || per=5
    dir=$(mktemp -d "${TMPDIR:-/tmp}/bk-fuzz.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$dir'" EXIT
    for t in "${targets[@]}"; do
        corpus=$dir/$t
        mkdir -p "$corpus"
        if [ -d "tests/fuzz/corpus/$t" ]; then
            cp -R "tests/fuzz/corpus/$t/." "$corpus/"
        fi
        echo "--- fuzz $t for ${per}s ($(find "$corpus" -type f | wc -l) seeds)"
        (cd "$dir" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
            "$root/build-fuzz/fuzz/$t" -max_total_time="$per" -timeout=10 \
            -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$dir/$t-" "$corpus") \
            > "build-fuzz/fuzz-$t.log" 2>&1 || {
            tail -n 60 "build-fuzz/fuzz-$t.log"
            for a in "$dir/$t-"*; do
                [ -f "$a" ] && { echo "artifact $a:"; od -c "$a" | head -n 20; }
            done
            echo "FAIL fuzz $t"
            return 1
        }
        grep -E '^(Done|stat::number_of_executed_units)' "build-fuzz/fuzz-$t.log" || true
    done
}

main() {
    log "dependencies"
    bash scripts/deps.sh

    local p elapsed
    for p in $BK_PHASES; do
        case $p in
        gcc|asan|valgrind|tsan|fuzz) run_phase "$p" "phase_$p" ;;
        *) echo "unknown phase $p"; failed=$((failed + 1)); summary+=("FAIL  $p (unknown phase)") ;;
        esac
    done

    elapsed=$(( $(date +%s) - t_start ))
    log "summary (${elapsed}s)"
    printf '%s\n' "${summary[@]}"
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

# Everything above is only definitions; this one line runs them, so editing
# the script while it runs cannot change what this run executes.
main "$@"; exit
