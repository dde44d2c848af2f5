#!/usr/bin/env python3
"""bench/summarize.py - bench/run.sh's results.tsv as Markdown: the ratio table
(ours against every peer of the same run, per-round ratios, median over the
rounds), the targets of the performance issue checked against it, and the raw
per-round figures.

Usage: bench/summarize.py results.tsv
"""
import statistics
import sys
from collections import defaultdict

OURS = "capi"
HTTP_PEERS = ["gin", "nethttp", "fasthttp", "nginx"]
TESTS = [
    ("a_get_user_hot", "(a) GET /users/42, cache hit"),
    ("b_healthz", "(b) GET /healthz"),
    ("c_post_users", "(c) POST /users"),
    ("d_get_user_random", "(d) GET /users/{random}"),
    ("e_list_users", "(e) GET /users?limit=20&after={random}"),
    ("a512_get_user_hot", "(a) with 512 connections"),
    ("dmiss_get_user", "(d) with the cache off (every request a query)"),
]
# our workload -> the pgbench script running the same SQL
PGBENCH_OF = {
    "c_post_users": "insert_user",
    "d_get_user_random": "get_user",
    "dmiss_get_user": "get_user",
    "e_list_users": "list_users",
}


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fnum(x, fmt="{:.0f}"):
    return "-" if x is None else fmt.format(x)


def main(path):
    meta = []
    http = defaultdict(dict)  # (peer, test) -> round -> row
    pg = defaultdict(dict)  # script -> round -> tps
    rss = defaultdict(dict)  # peer -> round -> MiB
    rounds = set()
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#"):
                meta.append(line[2:])
                continue
            c = line.split("\t")
            if c[0] == "round" or len(c) < 5:
                continue
            r, peer, test = int(c[0]), c[1], c[2]
            rounds.add(r)
            if peer == "pgbench":
                pg[test][r] = float(c[4] or 0)
            elif test == "peak_rss_mib":
                rss[peer][r] = float(c[4] or 0)
            elif test == "peak_rss_512_mib":
                rss[peer + " (after 512 connections)"][r] = float(c[4] or 0)
            else:
                http[(peer, test)][r] = {
                    "rps": float(c[4] or 0),
                    "p50": float(c[5] or 0),
                    "p99": float(c[6] or 0),
                    "err": int(c[7] or 0) + int(c[8] or 0),
                }
    rounds = sorted(rounds)
    peers = [p for p in HTTP_PEERS if any((p, t) in http for t, _ in TESTS)]
    out = []
    w = out.append
    w("# Benchmark: ours (`capi`) side by side with the peers, same run, interleaved")
    w("")
    for m in meta:
        w(f"- {m}")
    w("")
    w("Ratios are per round (ours / peer in the same round), then the median over the rounds;")
    w("req/s and p99 are medians over the rounds. `pgbench` is the database's own ceiling for the")
    w("same SQL (-M prepared, 32 clients). Errors are non-2xx responses plus socket errors, summed.")
    w("")

    def ratio(test, peer, field="rps"):
        rs = []
        for r in rounds:
            a = http.get((OURS, test), {}).get(r)
            b = http.get((peer, test), {}).get(r)
            if a and b and b[field] > 0:
                rs.append(a[field] / b[field])
        return med(rs)

    def scale512(who):
        """512-connection rate over the 64-connection one: (median, per round)."""
        per = []
        for r in rounds:
            a = http.get((who, "a64_pair"), {}).get(r) or http.get((who, "a_get_user_hot"), {}).get(r)
            b = http.get((who, "a512_get_user_hot"), {}).get(r)
            if a and b and a["rps"] > 0:
                per.append(b["rps"] / a["rps"])
        return med(per), per

    def ours_med(test, field, who=OURS):
        return med([v[field] for v in http.get((who, test), {}).values()])

    head = "| workload | ours req/s | " + " | ".join(f"× {p}" for p in peers)
    head += " | of pgbench TPS | ours p99 ms | " + " | ".join(f"{p} p99" for p in peers)
    head += " | ours errors |"
    w(head)
    w("|---|" + "---:|" * (1 + len(peers) + 2 + len(peers) + 1))
    results = {}
    for test, label in TESTS:
        who = "capi_nocache" if test == "dmiss_get_user" else OURS
        if (who, test) not in http:
            continue
        rps = ours_med(test, "rps", who)
        row = [label, fnum(rps)]
        for p in peers:
            ref_test = "d_get_user_random" if test == "dmiss_get_user" else test
            if test == "dmiss_get_user":
                # the peers' (d) is served from their cache: not the same work
                row.append("-")
                continue
            else:
                x = ratio(test, p)
            results[(test, p)] = x
            row.append(fnum(x, "{:.2f}"))
        frac = None
        if test in PGBENCH_OF and pg.get(PGBENCH_OF[test]):
            fr = []
            for r in rounds:
                a = http.get((who, test), {}).get(r)
                b = pg[PGBENCH_OF[test]].get(r)
                if a and b:
                    fr.append(a["rps"] / b)
            frac = med(fr)
        results[(test, "pgbench")] = frac
        row.append("-" if frac is None else f"{frac * 100:.0f} % ({PGBENCH_OF[test]})")
        row.append(fnum(ours_med(test, "p99", who), "{:.2f}"))
        for p in peers:
            row.append(fnum(med([v["p99"] for v in http.get((p, test), {}).values()]), "{:.2f}"))
        errs = sum(v["err"] for v in http[(who, test)].values())
        results[(test, "err")] = errs
        row.append(str(errs))
        w("| " + " | ".join(row) + " |")
    w("")

    # variants of ours (PEER_CMD_capi*): req/s and p99 next to the default build's
    variants = sorted({p for (p, _) in http if p.startswith("capi") and p not in (OURS, "capi_nocache")})
    if variants:
        w("Variants of our server (same run; median req/s, p99 ms):")
        w("")
        w("| workload | ours | " + " | ".join(variants) + " |")
        w("|---|---:|" + "---:|" * len(variants))
        for test, label in TESTS:
            if (OURS, test) not in http or not any((v, test) in http for v in variants):
                continue
            cells = [f"{fnum(ours_med(test, 'rps'))} / {fnum(ours_med(test, 'p99'), '{:.2f}')}"]
            for v in variants:
                cells.append(f"{fnum(ours_med(test, 'rps', v))} / {fnum(ours_med(test, 'p99', v), '{:.2f}')}"
                             if (v, test) in http else "-")
            w(f"| {label} | " + " | ".join(cells) + " |")
        w("")

    # 512 connections against 64, per server that ran both
    scaled = [(p, scale512(p)) for p in [OURS] + variants + peers]
    scaled = [(p, x) for p, x in scaled if x[0] is not None]
    if scaled:
        w("(a) with 512 connections over (a) with 64, per server: the 64-connection rate is the")
        w("`a64_pair` run made just before the 512 one (the first (a) of the round when absent);")
        w("median of the rounds, and each round's figure:")
        w("")
        w("| server | 512 / 64 | per round |")
        w("|---|---:|---|")
        for p, (m, per) in scaled:
            w(f"| {p} | {m * 100:.0f} % | " + ", ".join(f"{x * 100:.0f} %" for x in per) + " |")
        w("")

    # peak RSS
    if rss:
        w("| server | peak RSS MiB (median of rounds) |")
        w("|---|---:|")
        for p in [OURS, OURS + " (after 512 connections)", "capi_nocache"] + peers:
            if p in rss:
                w(f"| {p} | {med(list(rss[p].values())):.1f} |")
        w("")
    if pg:
        w("| pgbench script (our SQL) | " + " | ".join(f"r{r} TPS" for r in rounds) + " |")
        w("|---|" + "---:|" * len(rounds))
        for s, byr in pg.items():
            w(f"| {s} | " + " | ".join(fnum(byr.get(r)) for r in rounds) + " |")
        w("")

    # targets
    def t_ge(x, lim):
        return None if x is None else x >= lim

    checks = []
    for test in ("a_get_user_hot", "b_healthz"):
        checks.append((f"{test}: ≥ 1.3 × fasthttp", t_ge(results.get((test, "fasthttp")), 1.3)))
        checks.append((f"{test}: ≥ 1.0 × nginx", t_ge(results.get((test, "nginx")), 1.0)))
    x512 = scale512(OURS)[0]
    checks.append((f"a with 512 conns: ≥ 90 % of the 64-conn rate (median per round: {fnum(x512 and x512 * 100)} %), no errors",
                   None if x512 is None else (x512 >= 0.9 and results.get(("a512_get_user_hot", "err"), 1) == 0)))
    checks.append(("c: ≥ 3 × gin", t_ge(results.get(("c_post_users", "gin")), 3.0)))
    checks.append(("c: ≥ 70 % of pgbench INSERT", t_ge(results.get(("c_post_users", "pgbench")), 0.7)))
    checks.append(("d: ≥ 1.5 × gin", t_ge(results.get(("d_get_user_random", "gin")), 1.5)))
    checks.append(("d (cache off): ≥ 90 % of pgbench SELECT", t_ge(results.get(("dmiss_get_user", "pgbench")), 0.9)))
    checks.append(("e: ≥ 90 % of pgbench list SELECT", t_ge(results.get(("e_list_users", "pgbench")), 0.9)))
    p99_ok = None
    for test, _ in TESTS:
        if ("gin", test) in http and (OURS, test) in http:
            a, b = ours_med(test, "p99"), med([v["p99"] for v in http[("gin", test)].values()])
            ok = a is not None and b is not None and a <= b / 2
            p99_ok = ok if p99_ok is None else (p99_ok and ok)
    checks.append(("p99 ≤ ½ gin's on every shared workload", p99_ok))
    if OURS in rss and "gin" in rss:
        checks.append(("peak RSS ≤ gin's", med(list(rss[OURS].values())) <= med(list(rss["gin"].values()))))
    errs = sum(v for (t, k), v in results.items() if k == "err")
    checks.append(("no errors in any of our workloads", errs == 0))
    w("| target | met |")
    w("|---|---|")
    for name, ok in checks:
        w(f"| {name} | {'n/a' if ok is None else ('yes' if ok else '**no**')} |")
    w("")

    # raw
    w("<details><summary>per-round figures</summary>")
    w("")
    w("| server | workload | " + " | ".join(f"r{r} req/s | r{r} p50 | r{r} p99 | r{r} err" for r in rounds) + " |")
    w("|---|---|" + "---:|" * (4 * len(rounds)))
    for (peer, test), byr in sorted(http.items()):
        cells = []
        for r in rounds:
            v = byr.get(r)
            cells += [fnum(v["rps"]), fnum(v["p50"], "{:.2f}"), fnum(v["p99"], "{:.2f}"), str(v["err"])] if v else ["-"] * 4
        w(f"| {peer} | {test} | " + " | ".join(cells) + " |")
    w("")
    w("</details>")
    print("\n".join(out))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
