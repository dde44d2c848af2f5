#!/usr/bin/env bash
# Generate every OpenAPI document of the shared test corpora with the
# scaffold, then compile all of it (-Wall -Wextra -Werror, one parallel make)
# and link one scaffold server per document. Used by make test
# (scripts/test.d/20-codegen.sh); by hand:
#   scripts/codegen-corpus.sh [OUTDIR] [DOC...]
# Exit status 0 when every document generated and compiled.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${1:-build/codegen-corpus}
shift || true
PY=${PY:-$(scripts/find-python.sh)} || exit 1
JOBS=${JOBS:-$(nproc)}
if [ $# -gt 0 ]; then
    docs=("$@")
else
    docs=()
    for d in ../shared/testdata/openapi ../shared/testdata/openapi-extra; do
        for f in "$d"/*.yaml "$d"/*.json; do
            [ -f "$f" ] && docs+=("$f")
        done
    done
fi
[ ${#docs[@]} -gt 0 ] || { echo "no OpenAPI documents found" >&2; exit 1; }
rm -rf "$out" && mkdir -p "$out"
status=0
dirs=()
for doc in "${docs[@]}"; do
    name=$(basename "$doc")
    name=${name%.*}
    if ! "$PY" codegen/generate.py --quiet --scaffold --spec "$doc" --out "$out/$name" \
        2>"$out/$name.warnings"; then
        echo "FAIL generate $doc:" >&2
        cat "$out/$name.warnings" >&2
        status=1
        continue
    fi
    dirs+=("$name")
    printf '%-40s %3d warning(s)\n' "$name" "$(grep -c ': warning: ' "$out/$name.warnings")"
done
# One makefile for all of it, so make runs the compilers in parallel.
rt_units="rt json validate http h1 co log regex params" # the runtime a scaffold server needs
{
    echo "CFLAGS := -std=c17 -O1 -Wall -Wextra -Werror -Wstrict-prototypes -Wshadow -D_GNU_SOURCE -I$root/src/runtime"
    echo "RT := $(for f in $rt_units; do printf '%s ' "rt/$f.o"; done)"
    echo "all: ${dirs[*]/%//server}"
    for f in $rt_units; do
        printf 'rt/%s.o: %s\n\t@mkdir -p rt && $(CC) $(CFLAGS) -c -o $@ $<\n' "$f" "$root/src/runtime/$f.c"
    done
    for d in "${dirs[@]}"; do
        objs=""
        for c in api_types api_router api_spec handlers_stub main; do
            printf '%s/%s.o: %s/%s.gen.c\n\t$(CC) $(CFLAGS) -I%s -c -o $@ $<\n' "$d" "$c" "$d" "$c" "$d"
            objs="$objs $d/$c.o"
        done
        printf '%s/server:%s $(RT)\n\t$(CC) -o $@ $^ -lpcre2-8 -lpthread -lm\n' "$d" "$objs"
    done
} >"$out/corpus.mk"
if ! make -s -k -j"$JOBS" -C "$out" -f corpus.mk >"$out/build.log" 2>&1; then
    grep -E 'error|Error' "$out/build.log" | head -40 >&2
    status=1
fi
n=0
for d in "${dirs[@]}"; do [ -x "$out/$d/server" ] && n=$((n + 1)); done
echo "$n of ${#docs[@]} documents generated, compiled with -Werror and linked"
# One test per document, in Python unittest's words, for scripts/test.sh.
echo "Ran ${#docs[@]} tests"
if [ "$n" -eq ${#docs[@]} ] && [ $status -eq 0 ]; then echo OK; else echo "FAILED (failures=$((${#docs[@]} - n)))"; fi
exit $status
