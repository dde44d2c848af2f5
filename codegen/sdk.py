#!/usr/bin/python3
"""Generate the C and Python client SDKs of an OpenAPI spec.

    sdk.py --spec api/openapi.yaml --out sdk [--lang c,python] [--check]

Writes <out>/c/api_client.gen.h, <out>/c/api_client.gen.c and
<out>/python/api_client.py. (The TypeScript SDK comes from openapi-typescript;
mk/sdk.mk drives it.)

The SDKs are built from the same IR as the server (spec_loader -> ir_build),
so the C client links the server's generated types, encoders, decoders and
validators, and the Python client applies the same checks with the same
reasons. What the server IR does not carry (the schema of error responses,
the regular expressions as written) is computed here, in sdk_model.py.

What the SDKs cannot express follows the server generator's policy: the
operation (or, in Python, the schema) is left out with a warning on stderr,
`<spec>#<pointer>: warning: <construct>; operation X (METHOD /path) left out
of the client SDKs`, and generation goes on; --strict makes it an error.

Exit status: 0 ok (with --check: no drift), 1 spec error (naming the JSON
pointer), a left-out construct with --strict, or drift; 2 usage error.
"""

import os
import sys
import tempfile
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import emit  # noqa: E402
import sdk_model  # noqa: E402
import spec_loader  # noqa: E402

from cli import EXIT_OK, EXIT_SPEC, EXIT_USAGE, UsageParser, bad_paths, spec_display_name  # noqa: E402
LANGS = ("c", "python")
TEMPLATE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates", "sdk")

# output file (relative to --out) -> template in templates/sdk/
OUTPUTS = {
    "c": [("c/api_client.gen.h", "api_client.gen.h.j2"),
          ("c/api_client.gen.c", "api_client.gen.c.j2")],
    "python": [("python/api_client.py", "api_client.py.j2")],
}



def _environment():
    import jinja2
    env = emit.environment()
    env.loader = jinja2.FileSystemLoader(TEMPLATE_DIR)
    env.filters["pystr"] = sdk_model.py_string
    env.filters["urlq"] = lambda text: urllib.parse.quote(str(text), safe="")
    return env


def generate(spec_path, out_dir, langs=LANGS, strict=False, report=None):
    """{relative file name: bytes}; raises SpecError. report(pointer,
    message) hears every warning (a construct left out of the SDKs)."""
    spec = spec_loader.load_spec(spec_path)
    model = sdk_model.build(spec, spec_display_name(spec_path, out_dir), strict=strict)
    if report is not None:
        for ptr, msg in model.warnings:
            report(ptr, msg)
    env = _environment()
    out = {}
    for lang in langs:
        for name, tmpl in OUTPUTS[lang]:
            text = env.get_template(tmpl).render(m=model, api=model.api,
                                                 file=os.path.basename(name))
            out[name] = text.encode("utf-8")
    return out


def write_changed(files, out_dir):
    written = []
    for name in sorted(files):
        sub = os.path.dirname(name)
        written += [os.path.join(sub, n) for n in
                    emit.write_changed({os.path.basename(name): files[name]},
                                       os.path.join(out_dir, sub))]
    return written


def main(argv=None):
    ap = UsageParser(prog="sdk.py",
                 description="Generate the C (libcurl) and Python (standard library) client "
                             "SDKs from an OpenAPI 3.0/3.1 document.")
    ap.add_argument("--spec", required=True, help="the OpenAPI document (YAML or JSON)")
    ap.add_argument("--out", required=True,
                    help="the SDK directory (e.g. sdk): writes c/ and python/ under it")
    ap.add_argument("--lang", default=",".join(LANGS),
                    help="comma-separated languages to generate (default: c,python)")
    ap.add_argument("--strict", action="store_true",
                    help="a construct the SDKs cannot express is an error (exit 1) instead "
                         "of a warning that leaves out the operation using it")
    ap.add_argument("--check", action="store_true",
                    help="compare what the spec produces with --out; exit 1 listing the "
                         "files that differ")
    args = ap.parse_args(argv)

    langs = [x for x in args.lang.split(",") if x]
    bad = [x for x in langs if x not in LANGS]
    if bad or not langs:
        print("sdk.py: error: unknown language %r (choose from %s)"
              % (bad[0] if bad else "", ", ".join(LANGS)), file=sys.stderr)
        return EXIT_USAGE
    if bad_paths("sdk.py", args.spec, args.out):
        return EXIT_USAGE
    try:
        files = generate(args.spec, args.out, langs, strict=args.strict,
                         report=lambda ptr, msg: print("%s#%s: warning: %s" % (args.spec, ptr, msg),
                                                       file=sys.stderr))
    except spec_loader.SpecError as exc:
        print("%s#%s: %s" % (args.spec, exc.pointer, exc.message), file=sys.stderr)
        return EXIT_SPEC

    if args.check:
        # Through the file system, like generate.py --check, so a write that
        # would change bytes (line endings) is caught too.
        with tempfile.TemporaryDirectory(prefix="apisdk-") as tmp:
            write_changed(files, tmp)
            fresh = {}
            for name in files:
                with open(os.path.join(tmp, name), "rb") as f:
                    fresh[name] = f.read()
        drift = emit.diff_against(fresh, args.out)
        if drift:
            print("the SDKs are out of date with %s; run make sdk:" % args.spec, file=sys.stderr)
            for name in drift:
                print("  %s" % os.path.join(args.out, name), file=sys.stderr)
            return EXIT_SPEC
        return EXIT_OK

    for name in write_changed(files, args.out):
        print("wrote %s" % os.path.join(args.out, name))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
