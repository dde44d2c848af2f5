#!/usr/bin/env bash
# bench/allocs.sh - heap allocations per request of the running server, by
# workload: perf uprobes on libc's malloc/calloc/realloc count every call the
# server process makes (ours and libpq's) during N requests.
#   bench/allocs.sh PID BASE_URL [N]     (needs root and perf; N default 20000)
set -euo pipefail
pid=$1 base=$2 n=${3:-20000}
libc=$(awk '$NF ~ /libc\.so\.6$/ {print $NF; exit}' "/proc/$pid/maps")
added=()
for f in malloc calloc realloc; do
    if ! perf probe -l 2>/dev/null | grep -q "probe_libc:$f "; then
        perf probe -q -x "$libc" -a "$f" 2>/dev/null && added+=("probe_libc:$f")
    fi
done
cleanup() { local e; for e in "${added[@]}"; do perf probe -q -d "$e" 2>/dev/null || true; done; }
trap cleanup EXIT
count() { # label url [script [script args...]]
    local label=$1 url=$2 script=${3:-}
    shift 2
    [[ $# -gt 0 ]] && shift
    local cmd=(wrk -t1 -c8 -d2s)
    [[ -n $script ]] && cmd+=(-s "$script")
    cmd+=("$url")
    [[ $# -gt 0 ]] && cmd+=(-- "$@")
    local out
    # wrk has no request count: run for 2 s and read back how many it made
    out=$(perf stat -x, -e probe_libc:malloc,probe_libc:calloc,probe_libc:realloc -p "$pid" -- \
        "${cmd[@]}" 2>&1 >/tmp/allocs-wrk.$$)
    local reqs calls
    reqs=$(awk '/requests in/ {print $1}' /tmp/allocs-wrk.$$)
    calls=$(awk -F, '{s += $1} END {print s}' <<<"$out")
    rm -f /tmp/allocs-wrk.$$
    awk -v l="$label" -v c="$calls" -v r="$reqs" 'BEGIN { printf "| %s | %d | %d | %.2f |\n", l, r, c, c / r }'
}
here=$(cd "$(dirname "$0")" && pwd)
echo "| workload | requests | malloc+calloc+realloc calls | per request |"
echo "|---|---:|---:|---:|"
curl -fsS -o /dev/null "$base/users/42"
count "(a) GET /users/42 (cached)" "$base/users/42"
count "(b) GET /healthz" "$base/healthz"
count "(c) POST /users" "$base/users" "$here/wrk/post_users.lua" "a$(date +%s)"
count "(d) GET /users/{random}" "$base/users/1" "$here/wrk/random_id.lua" 10000
count "(e) GET /users?limit=20" "$base/users" "$here/wrk/list_page.lua" 10000
