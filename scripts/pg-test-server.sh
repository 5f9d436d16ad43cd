#!/usr/bin/env bash
# pg-test-server.sh: a private, throw-away PostgreSQL server for the tests.
#
#   scripts/pg-test-server.sh start STATE_DIR   initdb + start; writes STATE_DIR/uri
#   scripts/pg-test-server.sh stop  STATE_DIR   stop the server, delete its data
#
# The server listens only on a Unix socket in its own temporary directory
# (no TCP), runs with fsync off (its data is disposable), and holds one
# database, bk_test, owned by the superuser `bk` (trust authentication, so
# the URI carries no password). STATE_DIR/uri then holds
#   postgresql:///bk_test?host=<socket dir>&user=bk
# which ctest passes to the storage tests through BK_TEST_PG_URI_FILE.
# PostgreSQL refuses to run as root: as root, the server runs as the
# `postgres` system user (created by Debian's postgresql package) in a
# directory it owns.
#
# The binaries come from PG_BINDIR, else the newest /usr/lib/postgresql/*/bin,
# else PATH. When they are missing, `start` FAILS (scripts/deps.sh installs
# them); BK_TEST_PG=0 opts out locally: `start` then writes "skip" into
# STATE_DIR/uri and the tests run without PostgreSQL.
set -euo pipefail

cmd=${1:-}
state=${2:-}
[ -n "$cmd" ] && [ -n "$state" ] || { echo "usage: $0 start|stop STATE_DIR" >&2; exit 2; }

find_bindir() {
    if [ -n "${PG_BINDIR:-}" ]; then echo "$PG_BINDIR"; return; fi
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return; fi
    d=$(command -v initdb 2>/dev/null || true)
    [ -n "$d" ] && dirname "$d"
}

# Run a server binary as the server's user.
as_server() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

stop_server() {
    local dir bindir
    [ -f "$state/dir" ] || return 0
    dir=$(cat "$state/dir")
    bindir=$(cat "$state/bindir" 2>/dev/null || find_bindir)
    if [ -d "$dir/data" ] && [ -n "$bindir" ]; then
        as_server "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    case $dir in
    */bkpg.*) rm -rf "$dir" ;;
    esac
    rm -f "$state/dir" "$state/bindir" "$state/uri"
}

case $cmd in
start)
    mkdir -p "$state"
    stop_server                       # a server left over by an interrupted run
    if [ "${BK_TEST_PG:-1}" = "0" ]; then
        echo "skip" > "$state/uri"
        echo "pg-test-server: BK_TEST_PG=0: PostgreSQL tests skipped"
        exit 0
    fi
    bindir=$(find_bindir)
    if [ -z "$bindir" ] || [ ! -x "$bindir/pg_ctl" ]; then
        echo "pg-test-server: PostgreSQL server binaries not found (install postgresql:" \
            "scripts/deps.sh; or set PG_BINDIR; BK_TEST_PG=0 skips these tests)" >&2
        exit 1
    fi
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
        echo "pg-test-server: running as root and there is no postgres user" >&2
        exit 1
    fi
    # A short path: the socket path must fit in sun_path (107 bytes).
    dir=$(mktemp -d /tmp/bkpg.XXXXXX)
    echo "$dir" > "$state/dir"
    echo "$bindir" > "$state/bindir"
    chmod 755 "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    if ! as_server "$bindir/initdb" -D "$dir/data" -U bk -A trust -E UTF8 --locale=C \
            --no-sync >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        stop_server
        exit 1
    fi
    if ! as_server "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-c listen_addresses= -k $dir -c fsync=off -c synchronous_commit=off \
                -c full_page_writes=off -c max_connections=300 -c shared_buffers=32MB" \
            start >/dev/null; then
        cat "$dir/server.log" >&2 || true
        stop_server
        exit 1
    fi
    if ! as_server "$bindir/psql" -h "$dir" -U bk -d postgres -qAt \
            -c "CREATE DATABASE bk_test" >/dev/null; then
        cat "$dir/server.log" >&2 || true
        stop_server
        exit 1
    fi
    echo "postgresql:///bk_test?host=$dir&user=bk" > "$state/uri"
    echo "pg-test-server: PostgreSQL $("$bindir/postgres" --version | awk "{print \$3}")" \
        "on $dir ($(cat "$state/uri"))"
    ;;
stop)
    stop_server
    ;;
*)
    echo "usage: $0 start|stop STATE_DIR" >&2
    exit 2
    ;;
esac
