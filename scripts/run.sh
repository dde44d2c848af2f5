#!/usr/bin/env bash
# Serve the users API the way `make run` promises:
#  - DATABASE_URL set: use that database;
#  - unset: start a throwaway PostgreSQL in a temporary directory on a free
#    port, and remove it when the server stops;
#  - apply migrations, then serve (PORT, THREADS, ... pass through; see --help).
# Ctrl-C (SIGINT) or SIGTERM stops the server gracefully, then the database.
set -euo pipefail
server=${1:?usage: run.sh SERVER_BINARY}
here=$(cd "$(dirname "$0")" && pwd)

pgdir=""
cleanup() {
    if [ -n "$pgdir" ]; then
        "$here/pg.sh" stop "$pgdir" >/dev/null 2>&1 || true
        rm -rf "$pgdir"
    fi
}
trap cleanup EXIT

if [ -z "${DATABASE_URL:-}" ]; then
    pgdir=$(mktemp -d /tmp/users-api-pg.XXXXXX)
    pgport=$("$here/free-port.sh" 25432)
    echo "run: no DATABASE_URL; starting a throwaway PostgreSQL on 127.0.0.1:$pgport ($pgdir)" >&2
    DATABASE_URL=$("$here/pg.sh" start "$pgdir" "$pgport" | tail -n 1)
    export DATABASE_URL
fi

"$server" migrate
echo "run: serving on ${BIND_ADDR:-127.0.0.1}:${PORT:-8080} (Ctrl-C stops)" >&2
"$server" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null || true' INT TERM
# A trapped signal interrupts wait; wait again until the server is gone,
# then once more for its own exit status (bash keeps it).
while kill -0 "$pid" 2>/dev/null; do
    wait "$pid" || true
done
status=0
wait "$pid" 2>/dev/null || status=$?
[ "$status" -eq 127 ] && status=0
exit "$status"
