# Sourced by scripts/test.sh: a cheap smoke of the benchmark tooling (the
# benchmarks themselves only run in make bench*): the harness's argument
# checks, the ratio table on a small known TSV, and the codec benchmark for
# a few thousand iterations (which fails if the generated codec allocates).
step "benchmark tooling (smoke)"

bench_smoke_args() {
    bench/run.sh --check-args >/dev/null || return 1
    if ROUNDS=0 bench/run.sh --check-args 2>/dev/null; then echo "ROUNDS=0 accepted"; return 1; fi
    if DURATION=10 bench/run.sh --check-args 2>/dev/null; then echo "DURATION=10 accepted"; return 1; fi
    if bench/run.sh --bogus 2>/dev/null; then echo "unknown argument accepted"; return 1; fi
    return 0
}
run "bench: harness argument checks" bench_smoke_args

bench_smoke_summary() {
    local tsv=$work/bench-sample.tsv out=$work/bench-sample.md
    {
        printf '# date: sample\n'
        printf 'round\tpeer\ttest\tconns\trps\tp50_ms\tp99_ms\tnon2xx\tsock_errors\trequests\n'
        printf '1\tcapi\ta_get_user_hot\t64\t200000\t0.2\t1.0\t0\t0\t2000000\n'
        printf '1\tgin\ta_get_user_hot\t64\t100000\t0.5\t4.0\t0\t0\t1000000\n'
        printf '1\tcapi\ta64_pair\t64\t100000\t0.2\t1.0\t0\t0\t1000000\n'
        printf '1\tcapi\ta512_get_user_hot\t512\t95000\t2\t9\t0\t0\t950000\n'
        printf '1\tnginx\ta_get_user_hot\t64\t80000\t0.2\t1.0\t0\t0\t800000\n'
        printf '1\tnginx\ta512_get_user_hot\t512\t60000\t2\t9\t0\t0\t600000\n'
        printf '1\tcapi\tc_post_users\t32\t9000\t2\t10\t0\t0\t90000\n'
        printf '1\tgin\tc_post_users\t32\t3000\t5\t40\t0\t0\t30000\n'
        printf '1\tpgbench\tinsert_user\t32\t10000\t3.2\t\t0\t0\t\n'
        printf '1\tcapi\tpeak_rss_mib\t-\t9.5\t\t\t\t\t\n'
        printf '1\tgin\tpeak_rss_mib\t-\t20.5\t\t\t\t\t\n'
    } >"$tsv"
    python3 bench/summarize.py "$tsv" >"$out" || return 1
    grep -q '^| (a) GET /users/42, cache hit | 200000 | 2.00 |' "$out" || { cat "$out"; return 1; }
    grep -q '^| (c) POST /users | 9000 | 3.00 | - | 90 % (insert_user) |' "$out" || { cat "$out"; return 1; }
    # the 512-connection rate is divided by the 64-connection run just before it
    grep -q '^| a with 512 conns: .*(median per round: 95 %), no errors | yes |' "$out" &&
        grep -q '^| nginx | 75 % | 75 % |' "$out" || { cat "$out"; return 1; }
    grep -q '^| c: ≥ 3 × gin | yes |' "$out" && grep -q '^| peak RSS ≤ gin.s | yes |' "$out" ||
        { cat "$out"; return 1; }
}
run "bench: ratio table from a known TSV" bench_smoke_summary

run "bench: codec benchmark builds" make --no-print-directory build/release/bench/json_bench
run "bench: codec benchmark, 2000 iterations, zero allocations" build/release/bench/json_bench 2000
