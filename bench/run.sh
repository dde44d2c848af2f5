#!/usr/bin/env bash
#
# bench/run.sh - our server side by side with the reference peers, on this
# machine, in one run, interleaved. `make bench` / `make bench-quick` call it.
#
# Protocol (the one of ../shared/peers/run.sh, extended by workload (e) and a
# 512-connection (a)):
#  - one private PostgreSQL 15 (scripts/pg.sh, own data directory and port,
#    fsync and synchronous_commit ON like a real deployment), migrated by our
#    server, 10,000 users seeded; every peer and pgbench use that database;
#  - rounds: for each round, every peer in PEERS order (ours first), each
#    started fresh, warmed up (WARMUP of GET /users/42, 1 s of /healthz),
#    then its workloads, its peak RSS (VmHWM), stopped; pgbench runs our SQL;
#  - the 512-connection run gets a warm-up of its own first (WARMUP at
#    BIG_CONNS): the other workloads run at connection counts the start-up
#    warm-up already opened;
#  - wrk -t1 --latency, everything on 127.0.0.1. Errors = non-2xx/3xx +
#    socket errors.
#
# Workloads (test ids as in the TSV):
#  a_get_user_hot     GET /users/42 (cache hit), CONNS
#  b_healthz          GET /healthz, CONNS
#  c_post_users       POST /users, a fresh valid user per request, POST_CONNS
#  d_get_user_random  GET /users/{1..10000}, CONNS
#  e_list_users       GET /users?limit=20&after={random}, CONNS
#  a64_pair           GET /users/42 with CONNS again, right before a512: the
#                     64-connection rate the 512 one is divided by (measured
#                     seconds apart and after the same history, so machine
#                     drift between (a) and the end of the run stays out)
#  a512_get_user_hot  GET /users/42 with BIG_CONNS (ours, fasthttp, nginx)
#  dmiss_get_user     GET /users/{1..10000} with the cache off (peer capi_nocache)
# pgbench (-M prepared, PGBENCH_CLIENTS clients, -j1): our SELECT by id, our
# list page SELECT, our INSERT (bench/pgbench/*.sql).
#
# Environment (defaults): ROUNDS (3), DURATION (10s), WARMUP (3s), CONNS (64),
# POST_CONNS (32), BIG_CONNS (512), PEERS ("capi capi_nocache gin fasthttp
# nginx pgbench"; nethttp also available), SERVER (build/release/server),
# SERVER_THREADS (0 = one per core), OUTDIR (bench/results/<UTC stamp>),
# PEERS_BIN (/tmp/peers-bin), PGBENCH_CLIENTS (32), PERF (1: one perf record
# of our server per workload in the first round, into OUTDIR/perf-*.txt),
# TESTS (only these workload ids). Round 1 also counts our heap allocations
# per request (bench/allocs.sh, needs perf). Any other peer name N runs the
# command PEER_CMD_N, e.g. PEERS="capi capi2 fasthttp" PEER_CMD_capi2="THREADS=2 build/release/server".
#
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PEERS_DIR=${PEERS_DIR:-$(cd "$ROOT/../shared/peers" 2>/dev/null && pwd || true)}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-3s}
CONNS=${CONNS:-64}
POST_CONNS=${POST_CONNS:-32}
BIG_CONNS=${BIG_CONNS:-512}
PEERS=${PEERS:-"capi capi_nocache gin fasthttp nginx pgbench"}
SERVER=${SERVER:-$ROOT/build/release/server}
SERVER_THREADS=${SERVER_THREADS:-0}
PEERS_BIN=${PEERS_BIN:-/tmp/peers-bin}
PGBENCH_CLIENTS=${PGBENCH_CLIENTS:-32}
SEED_ROWS=10000
PERF=${PERF:-0}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUTDIR=${OUTDIR:-$ROOT/bench/results/$STAMP}
PGBIN=${PG_BINDIR:-/usr/lib/postgresql/15/bin}

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
    exit 2
}
case ${1:-} in
-h | --help) usage ;;
--check-args)
    # Used by make test: validate the settings and print them, run nothing.
    [[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "ROUNDS must be a positive integer" >&2; exit 2; }
    [[ $DURATION =~ ^[1-9][0-9]*s$ ]] || { echo "DURATION must look like 10s" >&2; exit 2; }
    [[ $WARMUP =~ ^[1-9][0-9]*s$ ]] || { echo "WARMUP must look like 3s" >&2; exit 2; }
    for v in CONNS POST_CONNS BIG_CONNS PGBENCH_CLIENTS; do
        [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "$v must be a positive integer" >&2; exit 2; }
    done
    echo "ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP CONNS=$CONNS POST_CONNS=$POST_CONNS BIG_CONNS=$BIG_CONNS PEERS=$PEERS"
    exit 0
    ;;
"") ;;
*) echo "unknown argument '$1'" >&2; usage ;;
esac
"$0" --check-args >/dev/null

for tool in wrk curl python3 "$PGBIN/pgbench" "$PGBIN/psql"; do
    command -v "$tool" >/dev/null || { echo "bench: missing $tool (scripts/deps.sh, make bench-deps)" >&2; exit 1; }
done
[[ -x $SERVER ]] || { echo "bench: no server binary $SERVER (make build)" >&2; exit 1; }

mkdir -p "$OUTDIR"
TSV=$OUTDIR/results.tsv
LOG=$OUTDIR/run.log
RUNTAG=$(date +%s)
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$LOG" >&2; }

# ---------------------------------------------------------------- postgres
PGDIR=$(mktemp -d /tmp/capi-bench-pg.XXXXXX)
PG_PORT=$("$ROOT/scripts/free-port.sh" 25432)
PEER_PID=""
cleanup() {
    if [[ -n $PEER_PID ]] && kill -0 "$PEER_PID" 2>/dev/null; then
        kill "$PEER_PID" 2>/dev/null || true
        wait "$PEER_PID" 2>/dev/null || true
    fi
    "$ROOT/scripts/pg.sh" stop "$PGDIR" >/dev/null 2>&1 || true
    # the database's own log: its checkpoints and autovacuum runs, with their
    # times and CPU, to tell whether one landed in a measured window
    [[ -f $PGDIR/postgres.log ]] && cp "$PGDIR/postgres.log" "$OUTDIR/postgres.log" 2>/dev/null
    rm -rf "$PGDIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "results in $OUTDIR"
DATABASE_URL=$("$ROOT/scripts/pg.sh" start "$PGDIR" "$PG_PORT" 2>>"$LOG")
export DATABASE_URL
export PGHOST=127.0.0.1 PGPORT=$PG_PORT PGUSER=postgres PGDATABASE=api
psql_api() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
# scripts/pg.sh turns durability off for tests; a benchmark of inserts must
# pay for the WAL flush like a real deployment (and like the peers' figures).
psql_api -d postgres -c "ALTER SYSTEM SET fsync = on" -c "ALTER SYSTEM SET synchronous_commit = on" \
    -c "ALTER SYSTEM SET full_page_writes = on" \
    -c "ALTER SYSTEM SET log_min_messages = log" -c "ALTER SYSTEM SET log_autovacuum_min_duration = 0" \
    -c "ALTER SYSTEM SET log_checkpoints = on" -c "SELECT pg_reload_conf()" >/dev/null
"$SERVER" migrate --database-url="$DATABASE_URL" >>"$LOG" 2>&1
seed() {
    psql_api <<SQL
TRUNCATE users RESTART IDENTITY;
INSERT INTO users (username, email)
SELECT 'user' || g, 'user' || g || '@example.com' FROM generate_series(1, $SEED_ROWS) g;
VACUUM ANALYZE users;
SQL
}
seed
log "postgres on 127.0.0.1:$PG_PORT, fsync $(psql_api -tAc 'SHOW fsync'), $(psql_api -tAc 'SELECT count(*) FROM users') users"

# ---------------------------------------------------------------- peers
peer_tests() { # which workloads a peer runs (TESTS, when set, filters them)
    local all
    all=$(peer_tests_all "$1")
    if [[ -z ${TESTS:-} ]]; then echo "$all"; return; fi
    local t
    for t in $all; do
        # the 512-connection run brings the 64-connection run it is divided by
        [[ " $TESTS " == *" $t "* || ($t == a64_pair && " $TESTS " == *" a512_get_user_hot "*) ]] && echo "$t"
    done
}
peer_tests_all() {
    case $1 in
    capi) echo "a_get_user_hot b_healthz c_post_users d_get_user_random e_list_users a64_pair a512_get_user_hot" ;;
    capi_nocache) echo "dmiss_get_user" ;;
    capi*) echo "a_get_user_hot b_healthz c_post_users d_get_user_random e_list_users a64_pair a512_get_user_hot" ;; # variants (PEER_CMD_)
    nginx) echo "a_get_user_hot b_healthz c_post_users d_get_user_random e_list_users a64_pair a512_get_user_hot" ;;
    fasthttp) echo "a_get_user_hot b_healthz c_post_users d_get_user_random a64_pair a512_get_user_hot" ;;
    *) echo "a_get_user_hot b_healthz c_post_users d_get_user_random" ;; # the Go peers have no list route
    esac
}

start_peer() { # name port -> PEER_PID
    local name=$1 port=$2 nginx_dir=/tmp/capi-bench-nginx
    case $name in
    capi | capi_nocache)
        local ttl=30000
        [[ $name == capi_nocache ]] && ttl=0
        # LOG_LEVEL=warn: no access log, like the peers (gin.New() without Logger).
        PORT=$port THREADS=$SERVER_THREADS LOG_LEVEL=warn CACHE_TTL_MS=$ttl \
            "$SERVER" >"$OUTDIR/$name.server.log" 2>&1 &
        PEER_PID=$!
        ;;
    gin | nethttp | fasthttp)
        [[ -x $PEERS_BIN/$name-peer ]] || { log "$PEERS_BIN/$name-peer missing (make bench-peers)"; return 1; }
        PORT=$port "$PEERS_BIN/$name-peer" >"$OUTDIR/$name.server.log" 2>&1 &
        PEER_PID=$!
        ;;
    nginx)
        mkdir -p "$nginx_dir"
        sed -e "s#@PORT@#$port#g" -e "s#@RUNDIR@#$nginx_dir#g" "$PEERS_DIR/nginx/nginx.conf.in" >"$nginx_dir/nginx.conf"
        nginx -p "$nginx_dir" -c "$nginx_dir/nginx.conf" -e "$nginx_dir/error.log" >"$OUTDIR/nginx.server.log" 2>&1 &
        PEER_PID=$!
        ;;
    *)
        # any other name runs PEER_CMD_<name> (gets PORT and DATABASE_URL), e.g. a variant of ours:
        # PEERS="capi capi2 fasthttp" PEER_CMD_capi2="THREADS=2 build/release/server"
        local var="PEER_CMD_$name"
        [[ -n ${!var:-} ]] || { log "unknown peer $name (set $var)"; return 1; }
        PORT=$port LOG_LEVEL=warn bash -c "exec env ${!var}" >"$OUTDIR/$name.server.log" 2>&1 &
        PEER_PID=$!
        ;;
    esac
    local i
    for ((i = 0; i < 300; i++)); do
        curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$port/healthz" 2>/dev/null && return 0
        kill -0 "$PEER_PID" 2>/dev/null || { log "$name exited at start (see $OUTDIR/$name.server.log)"; PEER_PID=""; return 1; }
        sleep 0.1
    done
    log "$name did not answer /healthz on port $port"
    return 1
}

stop_peer() {
    [[ -n $PEER_PID ]] || return 0
    kill "$PEER_PID" 2>/dev/null || true
    wait "$PEER_PID" 2>/dev/null || true
    PEER_PID=""
}

peak_rss_mib() { # VmHWM of the PID and its direct children (nginx workers)
    local pid=$1 total=0 p kb
    for p in "$pid" $(cat "/proc/$pid/task/"*/children 2>/dev/null); do
        kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
        total=$((total + ${kb:-0}))
    done
    awk -v kb="$total" 'BEGIN { printf "%.1f", kb / 1024 }'
}

parse_wrk() { # -> rps p50_ms p99_ms non2xx sockerr requests
    awk '
    function ms(v) {
        if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
        if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
        if (v ~ /s$/)  { sub(/s$/, "", v);  return v * 1000 }
        return v
    }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    /requests in/ { reqs = $1 }
    /Socket errors:/ { gsub(/,/, ""); sock = $4 + $6 + $8 + $10 }
    /Non-2xx or 3xx responses:/ { non2xx = $5 }
    /^Requests\/sec:/ { rps = $2 }
    END { printf "%.0f\t%.3f\t%.3f\t%d\t%d\t%d\n", rps, p50, p99, non2xx, sock, reqs }
    ' "$1"
}

perf_on() { # test -> starts perf on our server for part of the test
    PERF_PID=""
    [[ $PERF == 1 && $round == 1 && $peer == capi ]] || return 0
    command -v perf >/dev/null || return 0
    perf record -q -g -p "$PEER_PID" -o "$OUTDIR/perf-$1.data" -- sleep 3 >/dev/null 2>&1 &
    PERF_PID=$!
}
perf_off() {
    [[ -n ${PERF_PID:-} ]] || return 0
    wait "$PERF_PID" 2>/dev/null || true
    perf report -i "$OUTDIR/perf-$1.data" --no-children --percent-limit 1 --stdio -g none \
        >"$OUTDIR/perf-$1.txt" 2>/dev/null || true
    PERF_PID=""
}

run_wrk() { # test conns url [script [args...]]
    local test=$1 conns=$2 url=$3 script=${4:-}
    shift 3
    [[ $# -gt 0 ]] && shift
    local out="$OUTDIR/r$round-$peer-$test.txt"
    local cmd=(wrk -t1 -c"$conns" -d"$DURATION" --latency)
    [[ -n $script ]] && cmd+=(-s "$script")
    cmd+=("$url")
    [[ $# -gt 0 ]] && cmd+=(-- "$@")
    echo "# ${cmd[*]}" >"$out"
    perf_on "$test"
    "${cmd[@]}" >>"$out" 2>&1 || true
    perf_off "$test"
    grep -q '^Requests/sec:' "$out" || log "WARNING: no wrk result for r$round $peer $test ($out)"
    local f
    f=$(parse_wrk "$out")
    printf '%s\t%s\t%s\t%s\t%s\n' "$round" "$peer" "$test" "$conns" "$f" >>"$TSV"
    log "r$round $peer $test: $(awk -F'\t' '{printf "%s req/s  p50 %sms  p99 %sms  non2xx %s  sockerr %s", $1, $2, $3, $4, $5}' <<<"$f")"
}

bench_http() { # port
    local port=$1 base="http://127.0.0.1:$1" t
    if ! start_peer "$peer" "$port"; then stop_peer; return 0; fi
    wrk -t1 -c"$CONNS" -d"$WARMUP" "$base/users/42" >/dev/null 2>&1 || true
    wrk -t1 -c"$CONNS" -d1s "$base/healthz" >/dev/null 2>&1 || true
    local rss
    for t in $(peer_tests "$peer"); do
        if [[ $t == a64_pair || ($t == a512_get_user_hot && -z ${rss:-}) ]]; then
            # Peak RSS over the workloads every server runs, before the 512-connection extra.
            rss=$(peak_rss_mib "$PEER_PID")
            printf '%s\t%s\tpeak_rss_mib\t-\t%s\t\t\t\t\t\n' "$round" "$peer" "$rss" >>"$TSV"
        fi
        case $t in
        a_get_user_hot | a64_pair) run_wrk "$t" "$CONNS" "$base/users/42" ;;
        a512_get_user_hot)
            wrk -t1 -c"$BIG_CONNS" -d"$WARMUP" "$base/users/42" >/dev/null 2>&1 || true
            run_wrk "$t" "$BIG_CONNS" "$base/users/42"
            ;;
        b_healthz) run_wrk "$t" "$CONNS" "$base/healthz" ;;
        c_post_users) run_wrk "$t" "$POST_CONNS" "$base/users" "$ROOT/bench/wrk/post_users.lua" "${RUNTAG}r${round}p${port}" ;;
        d_get_user_random | dmiss_get_user) run_wrk "$t" "$CONNS" "$base/users/1" "$ROOT/bench/wrk/random_id.lua" "$SEED_ROWS" ;;
        e_list_users) run_wrk "$t" "$CONNS" "$base/users" "$ROOT/bench/wrk/list_page.lua" "$SEED_ROWS" ;;
        esac
    done
    if [[ $peer == capi && $round == 1 ]] && command -v perf >/dev/null && [[ $(id -u) == 0 ]]; then
        # after the measured workloads (it changes nothing they measure): allocations per request
        "$ROOT/bench/allocs.sh" "$PEER_PID" "$base" >"$OUTDIR/allocs.md" 2>>"$LOG" || log "allocation count failed"
    fi
    local key=peak_rss_mib
    [[ -n ${rss:-} ]] && key=peak_rss_512_mib
    rss=$(peak_rss_mib "$PEER_PID")
    printf '%s\t%s\t%s\t-\t%s\t\t\t\t\t\n' "$round" "$peer" "$key" "$rss" >>"$TSV"
    log "r$round $peer: $key ${rss} MiB"
    stop_peer
}

bench_pgbench() {
    local t out tps lat failed
    for t in get_user list_users insert_user; do
        out="$OUTDIR/r$round-pgbench-$t.txt"
        local cmd=("$PGBIN/pgbench" -n -f "$ROOT/bench/pgbench/$t.sql" -D maxid="$SEED_ROWS" -M prepared
            -c "$PGBENCH_CLIENTS" -j 1 -T "${DURATION%s}" api)
        echo "# ${cmd[*]}" >"$out"
        "${cmd[@]}" >>"$out" 2>&1 || true
        read -r tps lat failed < <(awk '/^tps = / { tps = $3 } /^latency average = / { lat = $4 }
            /^number of failed transactions:/ { f = $5 } END { printf "%.0f %s %d\n", tps, lat, f }' "$out")
        printf '%s\tpgbench\t%s\t%s\t%s\t%s\t\t%s\t0\t\n' "$round" "$t" "$PGBENCH_CLIENTS" "$tps" "$lat" "$failed" >>"$TSV"
        log "r$round pgbench $t: $tps tps, avg latency ${lat}ms, failed $failed"
    done
}

{
    echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "# host: $(uname -srm), $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
    echo "# software: $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2); $("$PGBIN/postgres" --version); $(nginx -v 2>&1); $(go version 2>/dev/null || echo 'go n/a')"
    echo "# server: $SERVER ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet 2>/dev/null || echo '+dirty'))"
    echo "# settings: ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP CONNS=$CONNS POST_CONNS=$POST_CONNS BIG_CONNS=$BIG_CONNS PGBENCH_CLIENTS=$PGBENCH_CLIENTS PEERS=$PEERS"
    echo "# loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    printf 'round\tpeer\ttest\tconns\trps\tp50_ms\tp99_ms\tnon2xx\tsock_errors\trequests\n'
} >"$TSV"

for round in $(seq 1 "$ROUNDS"); do
    log "=== round $round/$ROUNDS (loadavg $(cut -d' ' -f1-3 /proc/loadavg))"
    idx=0
    for peer in $PEERS; do
        port=$("$ROOT/scripts/free-port.sh" $((28080 + 10 * idx)))
        idx=$((idx + 1))
        if [[ $peer == pgbench ]]; then bench_pgbench; else bench_http "$port"; fi
    done
done

python3 "$ROOT/bench/summarize.py" "$TSV" >"$OUTDIR/summary.md"
if [[ -s $OUTDIR/allocs.md ]]; then
    { echo; echo "Heap allocations per request in our server process (libc malloc/calloc/realloc uprobes, round 1):"; echo; cat "$OUTDIR/allocs.md"; } >>"$OUTDIR/summary.md"
fi
cat "$OUTDIR/summary.md"
log "done: $OUTDIR/summary.md"
