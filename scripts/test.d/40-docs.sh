# shellcheck shell=bash disable=SC2154  # work, API_URL, PY: set by scripts/test.sh
# The interactive API docs (/docs, src/runtime/docs.c), sourced by
# scripts/test.sh while the sanitized server is up at $API_URL:
#   - headers and bytes of every docs file, directly and through a reverse
#     proxy that mounts the service under /api (tests/browser/http_test.js);
#   - a real browser (Debian's Chromium driven by playwright-core) listing
#     every operation and using "Try it out", directly and behind /api; the
#     screenshots land in build/test-logs/docs*.png;
#   - a copy of the spec with one more operation, regenerated and served by
#     a server built from it: /docs lists the new operation.
step "API docs (/docs): headers, path prefix, real browser, spec change"
docs_proxy_port=$(scripts/free-port.sh 18700)
docs_proxy=http://127.0.0.1:$docs_proxy_port/api
node tests/browser/prefix_proxy.js --port "$docs_proxy_port" --prefix /api --upstream "$API_URL" \
    --max-seconds 600 >"$work/docs-proxy.log" 2>&1 &
docs_proxy_pid=$!
docs_proxy_up=0
for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null "$docs_proxy/healthz" 2>/dev/null; then docs_proxy_up=1; break; fi
    sleep 0.1
done

run "docs/http" node tests/browser/http_test.js --base "$API_URL"
run "docs/browser" node tests/browser/docs_test.js --base "$API_URL" --try-it-out \
    --expect-absent getSpecChangeProbe --screenshot "$work/docs.png"
if [ "$docs_proxy_up" -eq 1 ]; then
    run "docs/http behind an /api prefix proxy" node tests/browser/http_test.js --base "$docs_proxy"
    run "docs/browser behind an /api prefix proxy" node tests/browser/docs_test.js --base "$docs_proxy" \
        --try-it-out --screenshot "$work/docs-prefix.png"
else
    record "docs prefix proxy start" 1 "$work/docs-proxy.log"
fi
kill -TERM "$docs_proxy_pid" 2>/dev/null
wait "$docs_proxy_pid" 2>/dev/null

run "docs/spec change reaches /docs" env PY="$PY" tests/browser/spec_change.sh "$work/docs-spec-change"
