#!/usr/bin/python3
"""make conformance SPEC=doc.yaml: generate, build and run a spec's
conformance suite in a temporary folder, and print one summary line.

    conformance_run.py --spec doc.yaml [--make make] [--sanitize address,undefined]
                       [--keep] [--jobs N]

Exit status: 0 every case passed; 1 spec errors (printed with their JSON
pointer), a build failure or failing cases; 2 usage error.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from cli import EXIT_OK, EXIT_USAGE, UsageParser  # noqa: E402

EXIT_FAIL = 1  # a spec error, a build failure or a failing case



def counts_of(suite_c):
    """The counts the generator wrote into the suite's banner."""
    with open(suite_c, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"/\* conformance-counts: (.*) \*/", line)
            if m:
                return dict((k, int(v)) for k, v in (kv.split("=") for kv in m.group(1).split()))
    return {}


def synthesis(text):
    """(tested, passing) from Criterion's last synthesis line, or None."""
    lines = [ln for ln in text.splitlines() if "Synthesis: Tested:" in ln]
    if not lines:
        return None
    m = re.search(r"Tested: (\d+) \| Passing: (\d+)", lines[-1])
    return (int(m.group(1)), int(m.group(2))) if m else None


def main(argv=None):
    ap = UsageParser(prog="make conformance",
                 description="Generate, build and run the conformance suite of an OpenAPI document.")
    ap.add_argument("--spec", required=True, help="the OpenAPI document (YAML or JSON)")
    ap.add_argument("--make", default="make")
    ap.add_argument("--sanitize", default="", help="e.g. address,undefined")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args(argv)
    if not args.spec or not os.path.isfile(args.spec):
        print("make conformance: error: no such spec file: %r (usage: make conformance "
              "SPEC=path/to/doc.yaml)" % args.spec, file=sys.stderr)
        return EXIT_USAGE
    spec = os.path.abspath(args.spec)
    tmp = tempfile.mkdtemp(prefix="conformance-")
    try:
        return run(args, spec, tmp)
    finally:
        if args.keep:
            print("kept %s" % tmp, file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def run(args, spec, tmp):
    name = args.spec
    gen = subprocess.run([sys.executable, os.path.join(HERE, "generate.py"), "--spec", spec,
                          "--out", tmp, "--conformance", tmp],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sys.stderr.write(gen.stderr)
    if gen.returncode != 0:
        n = sum(1 for ln in gen.stderr.splitlines() if "#/" in ln or "#:" in ln)
        print("conformance %s: FAILED: %d spec error(s), nothing generated" % (name, max(n, 1)))
        return EXIT_FAIL if gen.returncode == 1 else gen.returncode
    counts = counts_of(os.path.join(tmp, "conformance.gen.c"))
    cmd = [args.make, "--no-print-directory", "-s", "-j%d" % args.jobs, "conformance-bins",
           "CONF_DIRS=" + tmp]
    if args.sanitize:
        cmd.append("SANITIZE=" + args.sanitize)
    b = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if b.returncode != 0:
        sys.stderr.write(b.stdout)
        print("conformance %s: FAILED: the generated code or its suite does not build" % name)
        return EXIT_FAIL
    cfg = "san" if args.sanitize else "release"
    binary = os.path.join(tmp, "conformance-" + cfg)
    r = subprocess.run([binary, "--jobs", str(args.jobs)], cwd=tmp, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, errors="replace")
    syn = synthesis(r.stdout)
    lines = r.stdout.splitlines()
    shown = [ln for ln in lines if ln.startswith(("spec warning:", "skipped:"))]
    failures = [ln for ln in lines if "[FAIL]" in ln or "Assertion Failed" in ln or
                ("[----]" in ln and "Assertion" not in ln and ln.strip() != "[----]") or
                "ERROR: AddressSanitizer" in ln or "ERROR: LeakSanitizer" in ln or
                "runtime error:" in ln or ln.startswith("SUMMARY:") or ln.startswith("    #") or
                ln.startswith("conformance: a sanitizer stopped")]
    for ln in shown + failures[:200]:
        print(ln, file=sys.stderr)
    detail = "%d round-trip, %d reject, %d request" % (counts.get("roundtrip", 0),
                                                      counts.get("reject", 0),
                                                      counts.get("request", 0))
    tail = "%d skipped with a reason, %d spec warning(s)" % (counts.get("skipped", 0),
                                                            counts.get("warnings", 0))
    if syn is None:
        sys.stderr.write("\n".join(lines[-40:]) + "\n")
        print("conformance %s: FAILED: the suite did not finish (exit %d); %s" % (name, r.returncode, tail))
        return EXIT_FAIL
    tested, passing = syn
    ok = r.returncode == 0 and tested == passing and tested > 0
    total = sum(counts.get(k, 0) for k in ("roundtrip", "reject", "request"))
    # Each failing case reports one failed expectation (its group goes on).
    bad = sum(1 for ln in lines if "Assertion Failed" in ln)
    if ok:
        verdict = "OK, all %d cases passed" % total
    else:
        verdict = "FAILED, %d of %d cases failed (%d of %d tests%s)" % (
            bad, total, tested - passing, tested,
            "; a test stopped by a crash or a sanitizer report counts its remaining cases "
            "as not run" if any("Sanitizer" in ln or "runtime error:" in ln or "CRASH" in ln
                                for ln in lines) else "")
    print("conformance %s: %s (%s; %d tests: one per type and per operation); %s" % (
        name, verdict, detail, tested, tail))
    return EXIT_OK if ok else EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
