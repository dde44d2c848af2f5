# Client SDKs (sourced by scripts/test.sh while the sanitized server is up at
# $API_URL): drift of sdk/ against the spec, the C client's Criterion tests
# (ASan + UBSan), the Python client's unittests, the TypeScript client's
# strict typecheck and node:test round trips, and the spec-change test that
# regenerates all three from a copy of the spec with one more operation.
# A second server whose database is unreachable ($API_URL_NODB) gives each
# SDK an honest 503.

step "client SDKs (C, Python, TypeScript)"

# node:test's TAP summary ("# pass N", "# fail N") counted like the others.
sdk_record_tap() { # name status logfile
    local name=$1 status=$2 log=$3 ok bad
    ok=$(grep -a -E '^# pass [0-9]+$' "$log" | tail -n 1 | awk '{print $3}')
    bad=$(grep -a -E '^# fail [0-9]+$' "$log" | tail -n 1 | awk '{print $3}')
    if [ -z "$ok" ] || [ -z "$bad" ] || [ $((ok + bad)) -eq 0 ]; then
        record "$name (ran no test)" 1 "$log"
        return
    fi
    echo "   $name: $ok passed, $bad failed"
    [ "$status" -ne 0 ] && [ "$bad" -eq 0 ] && bad=1
    passed=$((passed + ok))
    failed=$((failed + bad))
    if [ "$status" -ne 0 ] || [ "$bad" -ne 0 ]; then
        failures+=("$name")
        echo "-- $name FAILED (exit $status); log: $log" >&2
        tail -n 40 "$log" >&2
    fi
}

run "sdk/check-sdk (drift of sdk/ against the spec)" make -s check-sdk
run "sdk/build C client test (sanitizers)" make -s -j"$JOBS" SANITIZE=$SAN build/san/tests/sdk/c_sdk_test

sdk_nodb_port=$(scripts/free-port.sh 18700)
sdk_dead_port=$(scripts/free-port.sh 27700)
PORT=$sdk_nodb_port DATABASE_URL="postgres://postgres@127.0.0.1:$sdk_dead_port/api?sslmode=disable" \
    DB_CONNECT_TIMEOUT_S=1 DB_POOL_SIZE=2 LOG_LEVEL=warn \
    "$SERVER_BIN" >"$work/sdk-nodb-server.out" 2>"$work/sdk-nodb-server.log" &
sdk_nodb_pid=$!
prism_pids+=("$sdk_nodb_pid") # the harness's cleanup stops it too if we never get to
export API_URL_NODB=http://127.0.0.1:$sdk_nodb_port
for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$API_URL_NODB/healthz" 2>/dev/null && break
    sleep 0.1
done

run "sdk/c_sdk_test" build/san/tests/sdk/c_sdk_test --jobs "$JOBS"
run "sdk/python unittest" "$PY" -m unittest -v tests/sdk/test_python_sdk.py
run "sdk/typescript tsc --noEmit (strict)" sdk/typescript/node_modules/.bin/tsc --noEmit -p sdk/typescript
if (cd sdk/typescript && node_modules/.bin/tsc -p .) >"$work/sdk-ts-build.log" 2>&1; then
    (cd sdk/typescript && node --test --test-reporter=tap dist/test/roundtrip.test.js) >"$work/sdk-typescript-node-test.log" 2>&1
    sdk_record_tap "sdk/typescript node:test" $? "$work/sdk-typescript-node-test.log"
else
    record "sdk/typescript build" 1 "$work/sdk-ts-build.log"
fi

kill -TERM "$sdk_nodb_pid" 2>/dev/null
sdk_status=0
for _ in $(seq 1 100); do kill -0 "$sdk_nodb_pid" 2>/dev/null || break; sleep 0.1; done
wait "$sdk_nodb_pid" || sdk_status=$?
grep -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$work/sdk-nodb-server.log" && sdk_status=1
echo "exit status $sdk_status" >>"$work/sdk-nodb-server.log"
record "sdk/server without a database stops cleanly" "$sdk_status" "$work/sdk-nodb-server.log"

run "sdk/spec change reaches all three SDKs" "$PY" -m unittest -v tests/sdk/test_spec_change.py
run "sdk/generator (exit codes, --check, corpus, wide spec)" "$PY" -m unittest -v tests/sdk/test_sdk_generator.py
