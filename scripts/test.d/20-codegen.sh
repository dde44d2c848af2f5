# Sourced by scripts/test.sh. Every OpenAPI document of ../shared/testdata
# generates (unsupported constructs left out with a warning naming their
# JSON pointer) and compiles with -Wall -Wextra -Werror into a scaffold
# server: one parallel make (scripts/codegen-corpus.sh).
step "generator corpus: every shared OpenAPI document generates and compiles"
run "codegen corpus (generate + -Werror build)" nice -n 19 env PY="$PY" JOBS="$JOBS" \
    scripts/codegen-corpus.sh "$root/build/codegen-corpus"
# (The C tests of the constructs spec, build/*/tests/generated/constructs_test,
# run with the other unit tests in both configurations.)
# Parameters over real HTTP (cookies, query arrays, deepObject, header
# objects) against the constructs spec's scaffold server on a free port.
run "constructs over HTTP (scaffold server)" env PY="$PY" \
    tests/generated/constructs/http_check.sh "$root/build/constructs-http"
