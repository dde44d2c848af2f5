"""codegen/sdk.py as a program: exit codes, --check, --strict, determinism,
warnings that name their spec location, and the clients it writes for specs
beyond ours (header, string, enum, date-time and boolean parameters, array
parameters, array answers, 204s, optional bodies, unions, maps, raw JSON)
compiling with -Werror and importing, plus every document of
../shared/testdata/openapi* giving SDKs that build, with exactly the
operations listed in corpus_left_out.txt left out (SDK_CORPUS_UPDATE=1
rewrites that file from what the generator does now; review the diff).

    python3 -m unittest tests/sdk/test_sdk_generator.py
"""

import glob
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SDK_PY = os.path.join(ROOT, "codegen", "sdk.py")
GEN_PY = os.path.join(ROOT, "codegen", "generate.py")
RT = os.path.join(ROOT, "src", "runtime")
SPEC = os.path.join(ROOT, "api", "openapi.yaml")
EXPECTED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus_left_out.txt")
CORPUS = sorted(glob.glob(os.path.join(ROOT, "..", "shared", "testdata", "openapi*", "*.yaml")) +
                glob.glob(os.path.join(ROOT, "..", "shared", "testdata", "openapi*", "*.json")))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(ROOT, "codegen"))
import sdk_model  # noqa: E402
import spec_loader  # noqa: E402

WIDE = """\
openapi: 3.0.3
info: {title: Wide, version: '1'}
paths:
  /things/{name}/at/{when}:
    parameters:
      - {name: name, in: path, required: true, schema: {type: string, minLength: 2, maxLength: 8, pattern: '^[a-z]+$'}}
      - {name: when, in: path, required: true, schema: {type: string, format: date-time}}
    get:
      operationId: findThings
      parameters:
        - {name: X-Trace, in: header, required: false, schema: {type: string, maxLength: 16}}
        - {name: X-Count, in: header, required: true, schema: {type: integer, format: int32, minimum: 1}}
        - {name: kind, in: query, required: false, schema: {type: string, enum: [big, small]}}
        - {name: fresh, in: query, required: false, schema: {type: boolean}}
        - {name: q, in: query, required: true, schema: {type: string, format: email}}
        - {name: step, in: query, schema: {type: integer, multipleOf: 5, enum: [5, 10, 15]}}
      responses:
        '200':
          description: things
          content:
            application/json:
              schema: {type: array, items: {$ref: '#/components/schemas/Thing'}}
        '204': {description: none}
        default:
          description: error
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Problem'}
  /things:
    post:
      requestBody:
        required: false
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Thing'}
      responses:
        '201':
          description: made
          headers:
            Location: {schema: {type: string}}
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Thing'}
components:
  schemas:
    Thing:
      type: object
      additionalProperties: false
      required: [id, tags, class]
      properties:
        id: {type: integer, minimum: 1}
        class: {type: string, enum: [a, b]}
        tags: {type: array, maxItems: 3, items: {type: string, minLength: 1}}
        weight: {type: number, minimum: 0, exclusiveMaximum: true, maximum: 10}
        seen: {type: string, format: date-time, nullable: true}
    Problem:
      type: object
      required: [message]
      properties:
        message: {type: string}
"""

C_MAIN = "#include \"api_client.gen.h\"\nint main(void) { api_client_free(api_client_new(\"http://127.0.0.1:9\")); return 0; }\n"


def sh(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def build_c(tmp, gen, sdk):
    main = os.path.join(tmp, "main.c")
    with open(main, "w") as f:
        f.write(C_MAIN)
    return sh([os.environ.get("CC", "cc"), "-std=c17", "-Wall", "-Wextra", "-Werror", "-Wstrict-prototypes",
               "-Wshadow", "-D_GNU_SOURCE", "-I" + RT, "-I" + gen, "-I" + os.path.join(sdk, "c"),
               "-o", os.path.join(tmp, "main"), main, os.path.join(sdk, "c", "api_client.gen.c"),
               os.path.join(gen, "api_types.gen.c"), os.path.join(RT, "rt.c"), os.path.join(RT, "json.c"),
               os.path.join(RT, "validate.c"), os.path.join(RT, "regex.c"), os.path.join(RT, "log.c"),
               "-lcurl", "-lpcre2-8", "-lpthread", "-lm"])


def load_py(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


class Cli(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sdkgen-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_help_and_usage_errors(self):
        p = sh([sys.executable, SDK_PY, "--help"])
        self.assertEqual(p.returncode, 0)
        self.assertIn("--spec", p.stdout)
        self.assertEqual(sh([sys.executable, SDK_PY]).returncode, 2)
        self.assertEqual(sh([sys.executable, SDK_PY, "--spec", SPEC, "--out", self.tmp, "--lang", "cobol"]).returncode, 2)
        self.assertEqual(sh([sys.executable, SDK_PY, "--spec", "/nonexistent.yaml", "--out", self.tmp]).returncode, 2)
        afile = os.path.join(self.tmp, "f")
        open(afile, "w").close()
        self.assertEqual(sh([sys.executable, SDK_PY, "--spec", SPEC, "--out", afile]).returncode, 2)

    def test_deterministic_and_check(self):
        a, b = os.path.join(self.tmp, "a", "sdk"), os.path.join(self.tmp, "b", "sdk")
        for d in (a, b):
            self.assertEqual(sh([sys.executable, SDK_PY, "--spec", SPEC, "--out", d]).returncode, 0)
        for rel in ("c/api_client.gen.h", "c/api_client.gen.c", "python/api_client.py"):
            with open(os.path.join(a, rel), "rb") as fa, open(os.path.join(b, rel), "rb") as fb:
                self.assertEqual(fa.read(), fb.read(), rel)
        self.assertEqual(sh([sys.executable, SDK_PY, "--spec", SPEC, "--out", a, "--check"]).returncode, 0)
        with open(os.path.join(a, "python", "api_client.py"), "a") as f:
            f.write("# hand edit\n")
        p = sh([sys.executable, SDK_PY, "--spec", SPEC, "--out", a, "--check"])
        self.assertEqual(p.returncode, 1)
        self.assertIn("python/api_client.py", p.stderr)
        self.assertNotIn("api_client.gen.c", p.stderr)
        # Only changed files are rewritten.
        p = sh([sys.executable, SDK_PY, "--spec", SPEC, "--out", a])
        self.assertEqual(p.stdout.strip(), "wrote %s" % os.path.join(a, "python", "api_client.py"))

    def test_two_error_schemas_in_one_operation_leave_it_out(self):
        with open(SPEC) as f:
            text = f.read()
        text = text.replace("""    NotFound:
      description: No user has this id.
      headers:
        X-Request-ID:
          $ref: '#/components/headers/XRequestID'
      content:
        application/json:
          schema:
            $ref: '#/components/schemas/Error'""", """    NotFound:
      description: No user has this id.
      content:
        application/json:
          schema:
            $ref: '#/components/schemas/Health'""")
        spec = os.path.join(self.tmp, "two.yaml")
        with open(spec, "w") as f:
            f.write(text)
        out = os.path.join(self.tmp, "sdk")
        p = sh([sys.executable, SDK_PY, "--spec", spec, "--out", out])
        self.assertEqual(p.returncode, 0, p.stderr)
        warned = [ln for ln in p.stderr.splitlines() if "more than one schema (api_error, api_health)" in ln]
        # getUser, updateUser and deleteUser answer 404 with Health, other errors with Error.
        self.assertEqual(len(warned), 3, p.stderr)
        self.assertTrue(all(ln.startswith(spec + "#/components/responses/NotFound/content/") and ": warning: " in ln
                            for ln in warned), warned)
        self.assertIn("operation getUser (GET /users/{id}) left out of the client SDKs", p.stderr)
        with open(os.path.join(out, "c", "api_client.gen.h")) as f:
            h = f.read()
        self.assertIn("api_client_create_user(", h)
        self.assertNotIn("api_client_get_user(", h)
        with open(os.path.join(out, "python", "api_client.py")) as f:
            py = f.read()
        self.assertIn("def create_user(", py)
        self.assertNotIn("def get_user(", py)
        p = sh([sys.executable, SDK_PY, "--strict", "--spec", spec, "--out", os.path.join(self.tmp, "strict")])
        self.assertEqual(p.returncode, 1)
        self.assertIn("two.yaml#/components/responses/NotFound/", p.stderr)
        self.assertIn("more than one schema", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "strict")))


class Wide(unittest.TestCase):
    """A spec with what ours does not use."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sdkwide-")
        spec = os.path.join(cls.tmp, "wide.yaml")
        with open(spec, "w") as f:
            f.write(WIDE)
        cls.gen, cls.sdk = os.path.join(cls.tmp, "generated"), os.path.join(cls.tmp, "sdk")
        for tool, out in ((GEN_PY, cls.gen), (SDK_PY, cls.sdk)):
            p = sh([sys.executable, tool, "--spec", spec, "--out", out])
            assert p.returncode == 0, p.stderr

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_c_builds(self):
        p = build_c(self.tmp, self.gen, self.sdk)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(self.sdk, "c", "api_client.gen.h")) as f:
            h = f.read()
        self.assertIn("api_client_rc api_client_find_things(api_client *c, rt_str name, int64_t when, "
                      "const api_client_find_things_params *params, api_client_find_things_response *out);", h)
        self.assertIn("api_thing *body_200;", h)
        self.assertIn("rt_str header_location;", h)

    def test_python_checks_parameters_like_the_server(self):
        mod = load_py(os.path.join(self.sdk, "python", "api_client.py"), "wide_client")
        try:
            c = mod.Client("http://127.0.0.1:9", timeout=5)
            import datetime
            when = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
            with self.assertRaises(mod.ValidationError) as cm:
                c.find_things("X", when, x_count=0, q="nope", x_trace="t" * 17, kind="huge", step=7)
            self.assertEqual(sorted(cm.exception.details, key=lambda d: d.field), sorted([
                mod.FieldError("path.name", "must be at least 2 characters"),
                mod.FieldError("path.name", "must match pattern ^[a-z]+$"),
                mod.FieldError("header.X-Trace", "must be at most 16 characters"),
                mod.FieldError("header.X-Count", "must be >= 1"),
                mod.FieldError("query.kind", "must be one of: big, small"),
                mod.FieldError("query.q", "must be a valid email address"),
                mod.FieldError("query.step", "must be a multiple of 5"),
                mod.FieldError("query.step", "must be one of: 5, 10, 15"),
            ], key=lambda d: d.field))
            with self.assertRaises(mod.ValidationError) as cm:
                c.find_things("ab", when, q="a@b.cd", x_count=None)
            self.assertEqual(cm.exception.details, [mod.FieldError("header.X-Count", "is required")])
            # Valid input goes out (and finds nobody listening).
            with self.assertRaises(mod.TransportError):
                c.find_things("ab", when, q="a@b.cd", x_count=1, kind=mod.FindThingsKind.BIG, fresh=True)
            bad = mod.Thing(id=0, class_=mod.ThingClass.A, tags=["", "x", "y", "z"], weight=10.0)
            self.assertEqual(bad.validate(), [
                mod.FieldError("/id", "must be >= 1"),
                mod.FieldError("/tags", "must have at most 3 items"),
                mod.FieldError("/tags/0", "must be at least 1 character"),
                mod.FieldError("/weight", "must be < 10"),
            ])
            with self.assertRaises(mod.ValidationError):
                c.post_things({"id": 1, "class": "a", "tags": [], "colour": "red"})
            self.assertEqual(mod.Thing.from_json({"id": 1, "class": "b", "tags": ["q"], "seen": None}).to_json(),
                             {"id": 1, "class": "b", "tags": ["q"]})
        finally:
            del sys.modules["wide_client"]


def left_out_lines(doc):
    """What the SDKs leave out of one document, one line each:
    <document> TAB <METHOD /path, or schema <label>> TAB <JSON pointer> TAB
    <generator: the server generator leaves it out too | sdk: only the SDKs>."""
    spec = spec_loader.load_spec(doc)
    model = sdk_model.build(spec, os.path.basename(doc))
    name = os.path.basename(doc)
    server = {(m, pa) for _, m, pa, _, _ in model.api.left_out}
    lines = ["%s\t%s %s\t%s\t%s" % (name, method, path, ptr,
                                     "generator" if (method, path) in server else "sdk")
             for _, method, path, ptr, _ in model.left_out]
    for ptr, msg in model.warnings:
        if msg.endswith("left out of the Python client"):
            lines.append("%s\tschema %s\t%s\tsdk" % (name, msg.rsplit("; schema ", 1)[1].split(" left out")[0], ptr))
    return lines


class Corpus(unittest.TestCase):
    """Every document gives SDKs that build (exit 0, the C client with
    -Werror against that document's generated server types, the Python
    module imported), and leaves out exactly the operations listed in
    corpus_left_out.txt, each with a warning naming its JSON pointer."""

    def test_corpus(self):
        self.assertTrue(CORPUS, "no documents in ../shared/testdata/openapi*")
        got = []
        for doc in CORPUS:
            with self.subTest(doc=os.path.basename(doc)):
                tmp = tempfile.mkdtemp(prefix="sdkcorpus-")
                try:
                    gen, sdk = os.path.join(tmp, "generated"), os.path.join(tmp, "sdk")
                    g = sh([sys.executable, GEN_PY, "--spec", doc, "--out", gen])
                    self.assertEqual(g.returncode, 0, g.stderr)
                    p = sh([sys.executable, SDK_PY, "--spec", doc, "--out", sdk])
                    self.assertEqual(p.returncode, 0, p.stderr)
                    self.assertNotIn("Traceback", p.stderr)
                    lines = left_out_lines(doc)
                    got += lines
                    # One warning per left-out operation, naming its pointer.
                    warned = [ln for ln in p.stderr.splitlines() if ": warning: " in ln]
                    for ln in lines:
                        ptr = ln.split("\t")[2]
                        self.assertTrue(any(w.startswith("%s#%s: warning: " % (doc, ptr)) for w in warned),
                                        "no warning for %s" % ln)
                    b = build_c(tmp, gen, sdk)
                    self.assertEqual(b.returncode, 0, b.stderr)
                    load_py(os.path.join(sdk, "python", "api_client.py"), "corpus_client")
                    del sys.modules["corpus_client"]
                finally:
                    shutil.rmtree(tmp, ignore_errors=True)
        text = "".join(ln + "\n" for ln in got)
        if os.environ.get("SDK_CORPUS_UPDATE") == "1":
            with open(EXPECTED, "w") as f:
                f.write(text)
        with open(EXPECTED) as f:
            expected = f.read()
        self.assertEqual(text, expected, "the operations left out of the SDKs changed; if that is "
                         "intended, rerun with SDK_CORPUS_UPDATE=1 and review the diff of " + EXPECTED)

    def test_strict_refuses_what_it_would_leave_out(self):
        tmp = tempfile.mkdtemp(prefix="sdkstrict-")
        try:
            expected = {}
            with open(EXPECTED) as f:
                for ln in f:
                    expected.setdefault(ln.split("\t")[0], ln.rstrip("\n").split("\t")[2])
            strict_docs = [d for d in CORPUS if os.path.basename(d) in expected]
            self.assertTrue(strict_docs)
            for doc in CORPUS:
                p = sh([sys.executable, SDK_PY, "--strict", "--spec", doc, "--out", os.path.join(tmp, "sdk")])
                if os.path.basename(doc) in expected:
                    self.assertEqual(p.returncode, 1, doc)
                    self.assertRegex(p.stderr, r"^%s#/\S*: " % re.escape(doc))
                    self.assertNotIn("warning", p.stderr)
                    self.assertNotIn("Traceback", p.stderr)
                else:
                    self.assertEqual(p.returncode, 0, p.stderr)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
