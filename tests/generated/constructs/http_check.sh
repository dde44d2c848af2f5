#!/usr/bin/env bash
# Parameters that need a real HTTP request (cookies, repeated and delimited
# query arrays, deepObject, header objects): the constructs spec's scaffold
# server, built from the generated folder, answered over loopback.
#   tests/generated/constructs/http_check.sh WORKDIR
# Prints one line per check, then a summary in Python unittest's words
# ("Ran N tests", "OK" or "FAILED (failures=F)") that scripts/test.sh counts.
set -uo pipefail
cd "$(dirname "$0")/../../.."
root=$(pwd)
work=${1:-build/constructs-http}
PY=${PY:-$(scripts/find-python.sh)} || exit 1
rm -rf "$work" && mkdir -p "$work"
"$PY" codegen/generate.py --quiet --strict --scaffold --spec tests/generated/constructs/spec.yaml \
    --out "$work/gen" || exit 1
make -s -C "$work/gen" RUNTIME="$root/src/runtime" >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
port=$(scripts/free-port.sh 21000)
PORT=$port THREADS=1 "$work/gen/server" 2>"$work/server.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
for _ in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$port/openapi.json" && break
    sleep 0.1
done
pass=0 fail=0
check() { # name expected-substring curl-args...
    local name=$1 want=$2 got
    shift 2
    got=$(curl -gs --max-time 5 "$@")
    if [[ $got == *"$want"* ]]; then
        pass=$((pass + 1)); echo "ok   $name"
    else
        fail=$((fail + 1)); echo "FAIL $name: want $want in: $got"
    fi
}
u=http://127.0.0.1:$port
pet=$u/pets/5e8e8d58-8a4f-4a3f-9d6b-3e4f0a1b2c3d
check "all parameters valid: the stub answers 501" '"NOT_IMPLEMENTED"' \
    "$pet?ids=1&ids=2&tags=a,b" -H 'Cookie: a=1; session=s-12; prefs=1,2' -H 'X-Rate: 1.5'
check "path uuid" '"field":"path.id","reason":"must be a valid UUID"' "$u/pets/nope"
check "repeated query array, int32 overflow" '"field":"query.ids","reason":"out of range"' "$pet?ids=1&ids=3000000000"
check "comma query array, maxItems" '"field":"query.tags","reason":"must have at most 3 items"' "$pet?tags=a,b,c,d"
check "cookie pattern (PCRE2)" '"field":"cookie.session","reason":"must match pattern ^s-[0-9]{2}$"' "$pet" -H 'Cookie: session=s-1x'
check "cookie comma array" '"field":"cookie.prefs","reason":"must be an integer"' "$pet" -H 'Cookie: prefs=1,x'
check "header number multipleOf" '"field":"header.X-Rate","reason":"must be a multiple of 0.5"' "$pet" -H 'X-Rate: 0.7'
check "deepObject valid" '"NOT_IMPLEMENTED"' "$u/filters?filter[role]=admin&filter[tags]=ab&filter[tags]=cd"
check "deepObject errors" '"field":"query.filter.age","reason":"must be >= 0"' "$u/filters?filter[role]=admin&filter[age]=-1"
check "deepObject unknown key" '"field":"query.filter.x","reason":"unknown field"' "$u/filters?filter[role]=user&filter[x]=1"
check "deepObject required" '"field":"query.filter.role","reason":"is required"' "$u/filters?filter[age]=1"
check "pipeDelimited array" '"field":"query.pipes","reason":"must be an integer"' "$u/filters?pipes=1|x"
check "header object list" '"field":"header.X-Obj","reason":"must be a list of name,value pairs"' "$u/filters" -H 'X-Obj: role,admin,age'
check "discriminated body" '"field":"/0/kind","reason":"must be one of: cat, dog"' -X PUT "$pet" \
    -H 'Content-Type: application/json' -d '[{"kind":"cow"}]'
check "form body over HTTP: valid" '"NOT_IMPLEMENTED"' -X POST "$u/filters" \
    -H 'Content-Type: application/x-www-form-urlencoded' --data-raw 'role=admin&tags=ab&tags=c%20d'
check "form body over HTTP: field errors" '"field":"/age","reason":"must be >= 0"' -X POST "$u/filters" \
    -H 'Content-Type: application/x-www-form-urlencoded' --data-raw 'role=admin&age=-1'
check "form operation given JSON: 415" '"message":"request body must be application/x-www-form-urlencoded"' \
    -X POST "$u/filters" -H 'Content-Type: application/json' -d '{"role":"admin"}'
check "JSON operation given a form: 415" '"message":"request body must be application/json"' -X PUT "$pet" \
    -H 'Content-Type: application/x-www-form-urlencoded' --data-raw 'kind=cat'
check "other media types: 415 at the gate" '"code":"UNSUPPORTED_MEDIA_TYPE"' -X POST "$u/filters" \
    -H 'Content-Type: text/plain' -d 'role=admin'
check "label and matrix path styles" '"NOT_IMPLEMENTED"' "$u/styles/.5/.1.2/;mat=a/;mats=1,2/;matx=1;matx=2"
check "label prefix required" '"field":"path.lab","reason":"must start with '"'.'"' (label style)"' \
    "$u/styles/5/.1/;mat=a/;mats=1/;matx=1"
check "exploded label array" '"field":"path.labs","reason":"must be an integer"' "$u/styles/.5/.1.x/;mat=a/;mats=1/;matx=1"
check "matrix enum" '"field":"path.mat","reason":"must be one of: a, b"' "$u/styles/.5/.1/;mat=c/;mats=1/;matx=1"
check "exploded matrix names" '"field":"path.matx","reason":"must be ;name=value pairs (matrix style)"' \
    "$u/styles/.5/.1/;mat=a/;mats=1/;matx=1;other=2"
echo "Ran $((pass + fail)) tests"
if [ "$fail" -eq 0 ]; then echo OK; else echo "FAILED (failures=$fail)"; fi
[ "$fail" -eq 0 ]
