# Sourced by scripts/test.sh while the sanitized server is up: hostile HTTP/1.1
# traffic from 4 clients at once for 8 s (tests/integration/http_chaos.py).
# The server must keep answering; what the sanitizers find goes to its log,
# which the final SIGTERM step checks.
step "hostile HTTP/1.1 traffic (sanitized server)"

http_chaos() {
    local pids=() rc=0 i
    for i in 1 2 3 4; do
        "$PY" tests/integration/http_chaos.py "$API_URL" 8 "$i" &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || rc=1; done
    return $rc
}
run "http chaos: 4 clients, 8 s, malformed, split, pipelined and reset requests" http_chaos
