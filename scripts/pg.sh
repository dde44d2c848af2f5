#!/usr/bin/env bash
#
# pg.sh - a throwaway local PostgreSQL 15 cluster for tests, `make run` and
# benchmarks. Not for real data: fsync is off and every local user is trusted.
#
#   scripts/pg.sh start  DIR PORT   initdb into DIR if needed, start, create
#                                   database `api`, wait until it answers, and
#                                   print its DATABASE_URL on stdout
#   scripts/pg.sh stop   DIR        fast shutdown (bounded), idempotent
#   scripts/pg.sh status DIR        exit 0 when running, 3 when not
#
# Layout of DIR (created by this script and owned by the server's user):
#   DIR/data          the cluster (PGDATA)
#   DIR/postgres.log  server log
#   DIR/.s.PGSQL.PORT the unix socket (the server listens nowhere else but
#                     127.0.0.1:PORT)
#
# Who runs the server: PostgreSQL refuses to run as root, so when this script
# runs as root the server runs as the `postgres` user (via runuser) and the
# URL's user is `postgres`; otherwise it runs as, and connects as, the current
# user.
#
# Requirement on DIR when run as root: the postgres user must be able to reach
# DIR, i.e. search (x) every parent directory. A checkout under /root (mode
# 700) is NOT reachable, so pass a directory under /tmp, e.g.
#     dir=$(mktemp -d /tmp/capi-pg.XXXXXX); scripts/pg.sh start "$dir" 55432
# The script creates DIR if missing and chowns it to the server's user; it
# fails with a clear message when postgres cannot reach it. DIR must also be
# short enough for a unix socket path (about 100 bytes).
#
# Every wait is bounded (PG_WAIT_S seconds, default 30). Binaries come from
# /usr/lib/postgresql/15/bin, else `pg_config --bindir` (override: PG_BINDIR).
#
set -euo pipefail

WAIT_S=${PG_WAIT_S:-30}
PROG=$(basename "$0")

die() { echo "$PROG: $*" >&2; exit 1; }
note() { echo "$PROG: $*" >&2; }

usage() {
    cat >&2 <<EOF
usage: $PROG start DIR PORT | stop DIR | status DIR
EOF
    exit 2
}

find_bindir() {
    if [[ -n ${PG_BINDIR:-} ]]; then
        echo "$PG_BINDIR"
    elif [[ -x /usr/lib/postgresql/15/bin/pg_ctl ]]; then
        echo /usr/lib/postgresql/15/bin
    elif command -v pg_config >/dev/null 2>&1; then
        pg_config --bindir
    else
        die "PostgreSQL binaries not found (install postgresql-15 or set PG_BINDIR)"
    fi
}

# Resolve DIR to an absolute path without requiring it to exist yet.
abs_dir() {
    case $1 in
        /*) echo "$1" ;;
        *) echo "$PWD/$1" ;;
    esac
}

# --- arguments -------------------------------------------------------------

[[ $# -ge 2 ]] || usage
CMD=$1
DIR=$(abs_dir "$2")
DIR=${DIR%/}
DATA=$DIR/data
LOG=$DIR/postgres.log
BIN=$(find_bindir)
[[ -x $BIN/pg_ctl ]] || die "no pg_ctl in $BIN"

if [[ $(id -u) -eq 0 ]]; then
    PGUSER_NAME=postgres
    getent passwd postgres >/dev/null || die "running as root but there is no 'postgres' user"
    RUN=(runuser -u postgres --)
else
    PGUSER_NAME=$(id -un)
    RUN=()
fi

# The server's user must never inherit an unreachable working directory
# (initdb and pg_ctl complain when they cannot stat it).
cd /

# Run a command as the server's user. ${RUN[@]+...} keeps `set -u` quiet on
# bash versions that treat an empty array as unset.
as_owner() { ${RUN[@]+"${RUN[@]}"} "$@"; }

is_running() { as_owner "$BIN/pg_ctl" status -D "$DATA" >/dev/null 2>&1; }

# Port recorded by the running postmaster (line 4 of postmaster.pid).
running_port() { sed -n 4p "$DATA/postmaster.pid" 2>/dev/null || true; }

psql_q() {
    PGCONNECT_TIMEOUT=5 "$BIN/psql" -X -q -t -A -h 127.0.0.1 -p "$PORT" \
        -U "$PGUSER_NAME" -d postgres -v ON_ERROR_STOP=1 -c "$1"
}

# --- commands --------------------------------------------------------------

prepare_dir() {
    mkdir -p "$DIR" || die "cannot create $DIR"
    if [[ $(id -u) -eq 0 ]]; then
        chown postgres: "$DIR"
    fi
    chmod 700 "$DIR"
    as_owner test -w "$DIR" -a -x "$DIR" ||
        die "user $PGUSER_NAME cannot reach $DIR (a parent directory is not searchable by it); use a directory under /tmp, e.g. \$(mktemp -d /tmp/capi-pg.XXXXXX)"
    local sock="$DIR/.s.PGSQL.$PORT"
    (( ${#sock} < 100 )) || die "DIR is too long for a unix socket path ($sock); use a shorter one"
}

init_cluster() {
    if [[ -f $DATA/PG_VERSION ]]; then
        return
    fi
    if [[ -e $DATA ]] && [[ -n $(ls -A "$DATA" 2>/dev/null) ]]; then
        die "$DATA exists, is not empty and is not a PostgreSQL cluster; refusing to touch it"
    fi
    note "initdb into $DATA"
    as_owner "$BIN/initdb" -D "$DATA" -U "$PGUSER_NAME" -A trust -E UTF8 --no-locale \
        --no-sync >"$DIR/initdb.log" 2>&1 ||
        { tail -n 20 "$DIR/initdb.log" >&2; die "initdb failed (log: $DIR/initdb.log)"; }
    # Our settings live in one file rewritten at every start (the port may
    # change between starts); postgresql.conf only includes it.
    echo "include_if_exists = 'capi.conf'" | as_owner tee -a "$DATA/postgresql.conf" >/dev/null
}

write_conf() {
    local qdir=${DIR//\'/\'\'}
    as_owner tee "$DATA/capi.conf" >/dev/null <<EOF
# Written by scripts/pg.sh at every start; throwaway test cluster only.
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$qdir'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
log_min_messages = warning
EOF
}

wait_ready() {
    local i
    for ((i = 0; i < WAIT_S * 10; i++)); do
        if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -d postgres -U "$PGUSER_NAME" -t 1; then
            return 0
        fi
        sleep 0.1
    done
    die "server in $DIR did not accept connections within ${WAIT_S}s (log: $LOG)"
}

ensure_db() {
    local have
    have=$(psql_q "SELECT 1 FROM pg_database WHERE datname = 'api'") ||
        die "cannot query the server on 127.0.0.1:$PORT"
    if [[ $have != 1 ]]; then
        # A concurrent start may win the race; re-check before failing.
        psql_q "CREATE DATABASE api" >/dev/null 2>&1 ||
            [[ $(psql_q "SELECT 1 FROM pg_database WHERE datname = 'api'") == 1 ]] ||
            die "cannot create database api"
    fi
}

cmd_start() {
    if ! [[ $PORT =~ ^[0-9]{1,5}$ ]] || (( 10#$PORT < 1 || 10#$PORT > 65535 )); then
        die "PORT must be a number in 1..65535, got '$PORT'"
    fi
    PORT=$((10#$PORT))
    prepare_dir
    init_cluster
    if is_running; then
        local rp
        rp=$(running_port)
        [[ $rp == "$PORT" ]] ||
            die "a server is already running in $DIR on port ${rp:-?}, not $PORT; stop it first"
        note "already running in $DIR on port $PORT"
    else
        write_conf
        note "starting in $DIR on 127.0.0.1:$PORT"
        if ! as_owner "$BIN/pg_ctl" start -D "$DATA" -l "$LOG" -w -t "$WAIT_S" >/dev/null; then
            tail -n 20 "$LOG" >&2 2>/dev/null || true
            die "server did not start (log: $LOG)"
        fi
    fi
    wait_ready
    ensure_db
    echo "postgres://$PGUSER_NAME@127.0.0.1:$PORT/api?sslmode=disable"
}

cmd_stop() {
    if [[ ! -f $DATA/PG_VERSION ]]; then
        note "no cluster in $DIR; nothing to stop"
        return 0
    fi
    if ! is_running; then
        note "not running ($DIR)"
        return 0
    fi
    if as_owner "$BIN/pg_ctl" stop -D "$DATA" -m fast -w -t "$WAIT_S" >/dev/null; then
        note "stopped ($DIR)"
        return 0
    fi
    note "fast shutdown did not finish within ${WAIT_S}s; trying immediate"
    as_owner "$BIN/pg_ctl" stop -D "$DATA" -m immediate -w -t 10 >/dev/null ||
        die "could not stop the server in $DIR"
    note "stopped (immediate) ($DIR)"
}

cmd_status() {
    if [[ ! -f $DATA/PG_VERSION ]]; then
        echo "no cluster in $DIR"
        exit 3
    fi
    if is_running; then
        echo "running in $DIR on port $(running_port)"
        exit 0
    fi
    echo "stopped ($DIR)"
    exit 3
}

case $CMD in
    start)
        [[ $# -eq 3 ]] || usage
        PORT=$3
        cmd_start
        ;;
    stop)
        [[ $# -eq 2 ]] || usage
        cmd_stop
        ;;
    status)
        [[ $# -eq 2 ]] || usage
        cmd_status
        ;;
    *) usage ;;
esac
