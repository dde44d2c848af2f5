#!/usr/bin/python3
"""Generate the C codecs, router and handler prototypes of an OpenAPI spec.

    generate.py --spec api/openapi.yaml --out generated [--check]

Pipeline: spec_loader (YAML/JSON, $refs) -> ir_build (spec -> ir dataclasses)
-> emit (jinja2 templates in codegen/templates/, one per output file).

Exit status: 0 ok (with --check: no drift), 1 spec error (the message names
the JSON pointer and the construct) or drift, 2 usage error.
"""

import os
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import emit  # noqa: E402
import ir_build  # noqa: E402
import spec_loader  # noqa: E402

from cli import EXIT_OK, EXIT_SPEC, EXIT_USAGE, UsageParser, bad_paths, spec_display_name  # noqa: E402



def generate(spec_path, out_dir, strict=False, scaffold=False, report=None):
    """{file name: bytes}; raises SpecError. report(kind, pointer, message)
    hears every warning ('left out': a construct the generator does not
    support; 'spec': the spec contradicts itself, e.g. a bad example)."""
    spec = spec_loader.load_spec(spec_path)
    api = ir_build.build_api(spec, spec_display_name(spec_path, out_dir), strict=strict)
    api.scaffold = scaffold
    if report is not None:
        for ptr, msg in api.warnings:
            report("left out", ptr, msg)
        for ptr, msg in api.notes:
            report("spec", ptr, msg)
    return emit.render(api)


def main(argv=None):
    ap = UsageParser(prog="generate.py",
                 description="Generate C types, codecs, router and handler prototypes "
                             "from an OpenAPI 3.0/3.1 document.")
    ap.add_argument("--spec", required=True, help="the OpenAPI document (YAML or JSON)")
    ap.add_argument("--out", required=True, help="the output directory (e.g. generated)")
    ap.add_argument("--strict", action="store_true",
                    help="an unsupported construct is an error (exit 1) instead of a warning "
                         "that leaves out the operations using it")
    ap.add_argument("--scaffold", action="store_true",
                    help="also write a buildable scaffold for a spec with no service: "
                         "handlers_stub.gen.c (every operation answers 501), main.gen.c "
                         "and a Makefile")
    ap.add_argument("--quiet", action="store_true", help="no 'wrote' lines")
    ap.add_argument("--check", action="store_true",
                    help="generate into a temporary directory and compare with --out; "
                         "exit 1 listing the files that differ")
    ap.add_argument("--conformance", metavar="DIR",
                    help="also write the spec's conformance test suite (conformance.gen.c) into DIR")
    args = ap.parse_args(argv)

    if bad_paths("generate.py", args.spec, args.out):
        return EXIT_USAGE
    def report(kind, ptr, msg):
        print("%s#%s: warning: %s%s" % (args.spec, ptr, msg,
                                         " (spec)" if kind == "spec" else ""), file=sys.stderr)

    try:
        files = generate(args.spec, args.out, strict=args.strict, scaffold=args.scaffold,
                         report=report)
    except spec_loader.SpecError as exc:
        print("%s#%s: %s" % (args.spec, exc.pointer, exc.message), file=sys.stderr)
        return EXIT_SPEC

    if args.check:
        with tempfile.TemporaryDirectory(prefix="apigen-") as tmp:
            emit.write_changed(files, tmp)
            fresh = {}
            for name in files:
                with open(os.path.join(tmp, name), "rb") as f:
                    fresh[name] = f.read()
        drift = emit.diff_against(fresh, args.out)
        if drift:
            print("generated code is out of date with %s; run make generate:" % args.spec,
                  file=sys.stderr)
            for name in drift:
                print("  %s" % os.path.join(args.out, name), file=sys.stderr)
            return EXIT_SPEC
        return EXIT_OK

    for name in emit.write_changed(files, args.out):
        if not args.quiet:
            print("wrote %s" % os.path.join(args.out, name))
    if args.conformance:
        import conformance
        for name in conformance.write(args.spec, spec_display_name(args.spec, args.out), files,
                                      args.conformance):
            if not args.quiet:
                print("wrote %s" % os.path.join(args.conformance, name))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
