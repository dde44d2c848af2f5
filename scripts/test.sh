#!/usr/bin/env bash
# The whole test suite, as `make test` and CI run it:
#   1. generated/ matches the spec (drift check) and the generator's own tests
#   2. builds: sanitizer configuration (ASan + UBSan) and release, -Werror
#   3. a throwaway PostgreSQL on a free port in a temporary directory
#   4. unit tests (runtime, generated code) in both configurations
#   5. the sanitized server on a free port; integration and resilience tests
#   6. the server stops on SIGTERM with exit 0 (no leaks reported at exit)
# Prints one "N passed, N failed" line at the end; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

SAN=address,undefined
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$(pwd)/tests/lsan.supp}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
JOBS=${JOBS:-$(nproc)}

# Logs of the last run stay in build/test-logs/ for reading after a failure.
work=$root/build/test-logs
rm -rf "$work" && mkdir -p "$work"
passed=0
failed=0
failures=()
server_pid=""
pgdir=""
prism_pids=()

cleanup() {
    [ -n "$server_pid" ] && kill -KILL "$server_pid" 2>/dev/null
    [ ${#prism_pids[@]} -gt 0 ] && kill "${prism_pids[@]}" 2>/dev/null
    [ -n "$pgdir" ] && scripts/pg.sh stop "$pgdir" >/dev/null 2>&1
    [ -n "$pgdir" ] && rm -rf "$pgdir"
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }

# Count a step's tests: Criterion's synthesis line, Python unittest's
# "Ran N tests" + "FAILED (failures=F, errors=E)", or else the step itself.
record() { # name status logfile
    local name=$1 status=$2 log=$3 line n ok bad
    line=$(grep -a 'Synthesis: Tested:' "$log" | tail -n 1)
    if [ -n "$line" ]; then
        n=$(sed -E 's/.*Tested: ([0-9]+).*/\1/' <<<"$line")
        ok=$(sed -E 's/.*Passing: ([0-9]+).*/\1/' <<<"$line")
        bad=$((n - ok))
        [ "$n" -gt 0 ] || { bad=1; name="$name (ran no test)"; status=1; }
    elif line=$(grep -a -E '^Ran [0-9]+ test' "$log" | tail -n 1) && [ -n "$line" ]; then
        n=$(awk '{print $2}' <<<"$line")
        bad=$(grep -a -oE '(failures|errors)=[0-9]+' "$log" | awk -F= '{s+=$2} END {print s+0}')
        ok=$((n - bad))
        [ "$n" -gt 0 ] || { bad=1; name="$name (ran no test)"; status=1; }
    elif [ "$status" -eq 0 ]; then
        ok=1 bad=0
    else
        ok=0 bad=1
    fi
    [ "$status" -ne 0 ] && [ "$bad" -eq 0 ] && bad=1
    passed=$((passed + ok))
    failed=$((failed + bad))
    if [ "$status" -ne 0 ]; then
        failures+=("$name")
        echo "-- $name FAILED (exit $status); log: $log" >&2
        tail -n 40 "$log" >&2
    fi
}

run() { # name command...
    local name=$1 log status
    shift
    log="$work/$(tr '/ ' '__' <<<"$name").log"
    "$@" >"$log" 2>&1
    status=$?
    grep -a -E 'Synthesis|^Ran |^OK|^FAILED' "$log" | sed "s|^|   $name: |"
    record "$name" "$status" "$log"
}

step "drift check and generator tests"
run "check-generated" make -s check-generated
PY=$(scripts/find-python.sh) || exit 1
run "codegen unittest" "$PY" -m unittest discover -s tests/codegen -t . -v

step "spec lint (Redocly, Spectral)"
if scripts/tools.sh >"$work/tools.log" 2>&1; then
    run "lint/redocly" tools/node_modules/.bin/redocly lint api/openapi.yaml
    run "lint/spectral" tools/node_modules/.bin/spectral lint --ruleset tools/.spectral.yaml \
        --fail-severity=error api/openapi.yaml
else
    record "tools install" 1 "$work/tools.log"
fi

step "build (sanitizers: $SAN; and release)"
if ! make -s -j"$JOBS" SANITIZE=$SAN test-bins >"$work/build-san.log" 2>&1; then
    cat "$work/build-san.log" >&2
    echo "0 passed, 1 failed: the sanitizer build failed"
    exit 1
fi
if ! make -s -j"$JOBS" test-bins >"$work/build-rel.log" 2>&1; then
    cat "$work/build-rel.log" >&2
    echo "0 passed, 1 failed: the release build failed"
    exit 1
fi

run "fuzz-replay (libFuzzer target over its seeds)" make -s fuzz-replay

step "PostgreSQL"
pgdir=$(mktemp -d /tmp/users-api-testpg.XXXXXX)
pgport=$(scripts/free-port.sh 26000)
if ! TEST_DATABASE_URL=$(scripts/pg.sh start "$pgdir" "$pgport" 2>"$work/pg.log" | tail -n 1) ||
    [ -z "$TEST_DATABASE_URL" ]; then
    cat "$work/pg.log" >&2
    echo "0 passed, 1 failed: could not start PostgreSQL"
    exit 1
fi
export TEST_DATABASE_URL PG_DIR=$pgdir PG_PORT=$pgport
echo "   $TEST_DATABASE_URL"

step "unit tests"
for cfg in san release; do
    for t in build/$cfg/tests/runtime/* build/$cfg/tests/generated/*; do
        [ -x "$t" ] || continue
        run "$cfg/$(basename "$(dirname "$t")")/$(basename "$t")" "$t" --jobs "$JOBS"
    done
done

step "integration tests (sanitized server)"
SERVER_BIN=$root/build/san/server
export SERVER_BIN
run "migrate" env DATABASE_URL="$TEST_DATABASE_URL" "$SERVER_BIN" migrate
run "migrate again (no-op)" env DATABASE_URL="$TEST_DATABASE_URL" "$SERVER_BIN" migrate
port=$(scripts/free-port.sh 18500)
export API_URL=http://127.0.0.1:$port
PORT=$port DATABASE_URL=$TEST_DATABASE_URL BODY_LIMIT=65536 LOG_LEVEL=info \
    DB_POOL_SIZE=8 DB_POOL_WAIT_MS=2000 DB_CONNECT_TIMEOUT_S=2 \
    "$SERVER_BIN" >"$work/server.out" 2>"$work/server.log" &
server_pid=$!
up=0
for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null "$API_URL/healthz" 2>/dev/null; then up=1; break; fi
    sleep 0.1
done
if [ "$up" -ne 1 ]; then
    cat "$work/server.log" >&2
    echo "$passed passed, $((failed + 1)) failed: the server did not start"
    exit 1
fi
# Prism's validating proxies boot while the direct run goes on: one with our
# spec, one with a canary copy whose User demands a field we never send, to
# prove a response that breaks the spec is caught.
prism=tools/node_modules/.bin/prism
prism_port=$(scripts/free-port.sh 14100)
canary_port=$(scripts/free-port.sh $((prism_port + 1)))
sed 's/required: \[id, username, email, created_at, updated_at\]/required: [id, username, email, created_at, updated_at, nickname]/' \
    api/openapi.yaml >"$work/canary.yaml"
prism_pids=()
if [ -x "$prism" ]; then
    "$prism" proxy api/openapi.yaml "$API_URL" --host 127.0.0.1 --port "$prism_port" >"$work/prism.log" 2>&1 &
    prism_pids+=($!)
    "$prism" proxy "$work/canary.yaml" "$API_URL" --host 127.0.0.1 --port "$canary_port" >"$work/prism-canary.log" 2>&1 &
    prism_pids+=($!)
fi

run "integration/api_test" build/san/tests/integration/api_test --jobs "$JOBS"
run "integration/load_test" build/san/tests/integration/load_test --jobs 1

step "responses checked against the spec by Prism's proxy"
wait_http() { for _ in $(seq 1 300); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; return 1; }
if [ ${#prism_pids[@]} -eq 2 ] && wait_http "http://127.0.0.1:$prism_port/healthz" &&
    wait_http "http://127.0.0.1:$canary_port/healthz"; then
    : >"$work/prism-violations.log"
    # hostile/* is left out: Prism parses and re-serialises request bodies, so
    # malformed ones never reach the server as sent; head/* too: Prism 5.14
    # tries to parse a JSON body in the answer to HEAD and fails with a 500.
    run "prism/api_test" env API_URL="http://127.0.0.1:$prism_port" \
        PRISM_VIOLATIONS_LOG="$work/prism-violations.log" \
        build/san/tests/integration/api_test --jobs "$JOBS" --filter '!(hostile|head)/*'
    if [ -s "$work/prism-violations.log" ]; then
        record "prism: responses that break the spec" 1 "$work/prism-violations.log"
    else
        record "prism: no response breaks the spec" 0 "$work/prism-violations.log"
    fi
    curl -s -D "$work/canary.headers" -o /dev/null "http://127.0.0.1:$canary_port/users?limit=1"
    if grep -qi '^sl-violations:.*"response"' "$work/canary.headers"; then
        record "prism canary: a broken response is caught" 0 "$work/canary.headers"
    else
        record "prism canary: a broken response is caught" 1 "$work/canary.headers"
    fi
else
    record "prism proxy start" 1 "$work/prism.log"
fi
kill "${prism_pids[@]}" 2>/dev/null
SPARE_PORT_1=$(scripts/free-port.sh 18600)
SPARE_PORT_2=$(scripts/free-port.sh $((SPARE_PORT_1 + 1)))
SPARE_PORT_3=$(scripts/free-port.sh $((SPARE_PORT_2 + 1)))
export SPARE_PORT_1 SPARE_PORT_2 SPARE_PORT_3
run "integration/resilience_test" build/san/tests/integration/resilience_test --jobs 1

# Further suites live in scripts/test.d/*.sh, sourced in name order while the
# sanitized server (API_URL, SERVER_BIN) and PostgreSQL (TEST_DATABASE_URL)
# are up; each uses step/run/record like the steps above.
for frag in scripts/test.d/*.sh; do
    [ -f "$frag" ] || continue
    # shellcheck source=/dev/null
    source "$frag"
done

step "server stops on SIGTERM"
kill -TERM "$server_pid"
status=0
for _ in $(seq 1 150); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
wait "$server_pid" || status=$?
server_pid=""
echo "SIGTERM exit status $status" >"$work/server_exit.log"
grep -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$work/server.log" >>"$work/server_exit.log" && status=1
record "server exit" "$status" "$work/server_exit.log"
[ "$status" -ne 0 ] && tail -n 60 "$work/server.log" >&2
lines=$(grep -c '"msg":"access"' "$work/server.log")
echo "   access-log lines: $lines"
[ "$lines" -gt 0 ] || { failed=$((failed + 1)); failures+=("no access log lines"); }

echo
if [ ${#failures[@]} -gt 0 ]; then
    echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ ${#failures[@]} -eq 0 ]
