#!/usr/bin/env bash
# The docs follow the spec with no hand edit: add one operation to a copy of
# api/openapi.yaml, regenerate into a temporary folder, build a server from
# that output (the real main.c and service, this folder's handler for the
# new operation, and the spec-agnostic runtime and embedded Swagger UI
# objects of the release build), start it, and check in the browser that
# /docs lists the new operation (and every other one) and that "Try it out"
# on it answers 200.
#   spec_change.sh OUTDIR     (env: TEST_DATABASE_URL; PY optional)
# OUTDIR receives the spec copy, the server's log and the screenshot.
# The server it starts it also stops; every wait is bounded.
set -euo pipefail
out=${1:?usage: spec_change.sh OUTDIR}
: "${TEST_DATABASE_URL:?TEST_DATABASE_URL must name a migrated database}"
cd "$(dirname "$0")/../.."
PY=${PY:-$(scripts/find-python.sh)}
OP=getSpecChangeProbe
mkdir -p "$out"
tmp=$(mktemp -d /tmp/users-api-spec-change.XXXXXX)
pid=""
cleanup() {
    if [ -n "$pid" ]; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

echo "== 1. a copy of the spec with one more operation ($OP)"
"$PY" - api/openapi.yaml "$out/openapi.yaml" <<'PYEOF'
import sys
src, dst = sys.argv[1], sys.argv[2]
text = open(src, encoding="utf-8").read()
probe = """  /spec-change-probe:
    get:
      operationId: getSpecChangeProbe
      summary: Added to a copy of the spec by the docs spec-change test
      tags: [health]
      responses:
        '200':
          description: Always answers ok.
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Health'
"""
marker = "\npaths:\n"
if marker not in text or "getSpecChangeProbe" in text:
    sys.exit("spec_change: cannot add the probe operation to " + src)
open(dst, "w", encoding="utf-8").write(text.replace(marker, marker + probe, 1))
PYEOF
if grep -q "$OP" api/openapi.yaml || ! grep -q "operationId: $OP" "$out/openapi.yaml"; then
    echo "spec_change: $OP must be in the copy only" >&2
    exit 1
fi

echo "== 2. make generate into $tmp/generated (what a user runs after editing the spec)"
make -s generate SPEC="$out/openapi.yaml" OUT="$tmp/generated"
grep -q "svc_get_spec_change_probe" "$tmp/generated/operations.gen.tsv"

echo "== 3. build a server from it"
make -s build >/dev/null # the spec-agnostic objects reused below
B=build/release
CC=${CC:-cc}
CFLAGS=(-std=c17 -Wall -Wextra -Werror -Wstrict-prototypes -Wshadow -O0 -g -D_GNU_SOURCE
        -Isrc/runtime -I"$tmp/generated" -Isrc/service -I"$(pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)")
objs=()
# api_*.gen.c only: for a folder other than generated/, make generate also
# writes a scaffold (main.gen.c, handlers_stub.gen.c) that this server,
# with the real main.c and service, does not use.
for src in src/main.c src/service/*.c "$tmp"/generated/api_*.gen.c tests/browser/spec_change_probe.c; do
    obj=$tmp/obj/$(basename "$src" .c).o
    mkdir -p "$tmp/obj"
    "$CC" "${CFLAGS[@]}" -c -o "$obj" "$src"
    objs+=("$obj")
done
svc_objs=("$tmp"/obj/users.o)
# the build's handler check: the service alone lacks the new operation...
if scripts/check-handlers.sh "$tmp/generated/operations.gen.tsv" "${svc_objs[@]}" 2>"$tmp/check.err"; then
    echo "spec_change: the handler check passed without a handler for $OP" >&2
    exit 1
fi
grep -q "$OP" "$tmp/check.err"
# ...and is satisfied with this test's handler beside it
scripts/check-handlers.sh "$tmp/generated/operations.gen.tsv" "${svc_objs[@]}" "$tmp/obj/spec_change_probe.o"
"$CC" -o "$tmp/server" "${objs[@]}" "$B"/obj/src/runtime/*.o "$B/obj/docs/assets.o" "$B/migrations.o" \
    -lpq -lpcre2-8 -lpthread -lm

echo "== 4. serve it"
port=$(scripts/free-port.sh 18800)
base=http://127.0.0.1:$port
PORT=$port THREADS=1 DATABASE_URL=$TEST_DATABASE_URL LOG_LEVEL=warn "$tmp/server" 2>"$out/server.log" &
pid=$!
up=0
for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null "$base/healthz" 2>/dev/null; then up=1; break; fi
    sleep 0.1
done
[ "$up" -eq 1 ] || { echo "spec_change: the server did not start" >&2; cat "$out/server.log" >&2; exit 1; }

echo "== 5. /docs in the browser lists $OP"
node tests/browser/docs_test.js --base "$base" --expect-op "$OP" --try-op "$OP" \
    --screenshot "$out/docs-spec-change.png"
