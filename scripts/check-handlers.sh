#!/bin/sh
# Fail with a clear message when the service does not implement a handler
# that the spec declares. operations.gen.tsv lists symbol, operationId and
# route; the service's objects must define every symbol.
#   check-handlers.sh generated/operations.gen.tsv OBJ...
set -eu
tsv=$1
shift
defined=$(nm --defined-only "$@" 2>/dev/null | awk '$2 == "T" { print $3 }' | sort -u)
status=0
while IFS="$(printf '\t')" read -r sym op route; do
    [ -n "$sym" ] || continue
    case "$sym" in '#'*) continue ;; esac
    if ! printf '%s\n' "$defined" | grep -qx "$sym"; then
        echo "error: operation '$op' ($route) is not implemented: define" >&2
        echo "       rt_status $sym(...) in src/service/ (prototype in generated/api.gen.h)" >&2
        status=1
    fi
done <"$tsv"
exit $status
