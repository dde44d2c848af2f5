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
import http.server
import json
import threading
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


def build_c(tmp, gen, sdk, main_src=C_MAIN):
    main = os.path.join(tmp, "main.c")
    with open(main, "w") as f:
        f.write(main_src)
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


RICH = """\
openapi: 3.0.3
info: {title: Rich, version: '1'}
servers: [{url: .}]
paths:
  /search/{ids}:
    get:
      operationId: search
      parameters:
        - {name: ids, in: path, required: true, schema: {type: array, items: {type: integer, format: int32, minimum: 1}}}
        - {name: tag, in: query, schema: {type: array, maxItems: 3, items: {type: string, minLength: 2}}}
        - {name: near, in: query, explode: false, schema: {type: array, items: {type: number}}}
        - {name: X-Keys, in: header, schema: {type: array, items: {type: string, enum: [a, b]}}}
        - {name: ratio, in: query, schema: {type: number, maximum: 1.5}}
        - {name: site, in: query, schema: {type: string, format: uri}}
        - {name: code, in: query, schema: {type: string, pattern: '^(ab)+$'}}
      responses:
        '200':
          description: found
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Found'}
  /pets:
    post:
      operationId: addPet
      requestBody:
        required: true
        content:
          application/json:
            schema:
              oneOf:
                - {$ref: '#/components/schemas/Cat'}
                - {$ref: '#/components/schemas/Dog'}
      responses:
        '201':
          description: made
          content:
            application/json:
              schema: {type: array, items: {$ref: '#/components/schemas/Found'}}
  /word:
    get:
      operationId: getWord
      responses:
        '200': {description: w, content: {application/json: {schema: {type: string, minLength: 2}}}}
  /marks:
    get:
      operationId: getMarks
      responses:
        '200':
          description: m
          content: {application/json: {schema: {type: array, items: {type: string, enum: [X, O]}}}}
components:
  schemas:
    Cat:
      type: object
      additionalProperties: false
      required: [kind, lives, id]
      properties:
        kind: {type: string, enum: [cat]}
        lives: {type: integer, minimum: 0, maximum: 9}
        id: {type: integer, readOnly: true}
    Dog:
      type: object
      additionalProperties: false
      required: [kind, bark]
      properties:
        kind: {type: string, enum: [dog]}
        bark: {type: boolean}
    Found:
      type: object
      required: [pet]
      properties:
        pet:
          oneOf:
            - {$ref: '#/components/schemas/Cat'}
            - {$ref: '#/components/schemas/Dog'}
          discriminator:
            propertyName: kind
            mapping: {cat: '#/components/schemas/Cat', dog: '#/components/schemas/Dog'}
        labels: {type: object, additionalProperties: {type: integer, minimum: 0}}
        # (an array field: without one, generate.py's api_types.gen.c defines an
        # unused api__array for the map above, which -Werror refuses)
        tags: {type: array, items: {type: string}}
        extra: {}
        addr: {type: string, format: ipv6}
        home: {type: string, format: ipv4}
        blob: {type: string, format: byte}
        site: {type: string, format: uri}
        day: {type: string, format: date}
        weight: {type: number, multipleOf: 0.5}
        note: {type: string, nullable: true, pattern: '^(ab)+$'}
"""

FOUND = {"pet": {"kind": "dog", "bark": True}, "labels": {"x": 1, "y": 2}, "extra": [1, {"a": None}],
         "addr": "::1", "home": "10.0.0.1", "blob": "aGk=", "site": "https://e.example/x", "day": "2026-02-28",
         "weight": 2.5, "note": None}

C_RICH = r"""
#include "api_client.gen.h"
#include <stdio.h>
#include <string.h>

/* Calls search and addPet against the loopback server (argv[1]) and prints
 * what came back, one fact a line, for the Python side to compare. */
int main(int argc, char **argv)
{
    api_client *c = argc > 1 ? api_client_new(argv[1]) : NULL;
    int32_t ids[] = { 1, 22 };
    rt_str tags[] = { RT_STR("ab"), RT_STR("c d") };
    double near[] = { 1.5, -2 };
    api_search_x_keys keys[] = { API_SEARCH_X_KEYS_A, API_SEARCH_X_KEYS_B };
    api_client_search_params sp = { .has_tag = true, .tag = tags, .tag_len = 2, .has_near = true,
                                     .near = near, .near_len = 2, .has_x_keys = true, .x_keys = keys,
                                     .x_keys_len = 2, .has_ratio = true, .ratio = 0.25 };
    api_client_search_response sr;
    api_client_add_pet_response ar;
    api_add_pet_request pet = { .which = API_ADD_PET_REQUEST_CAT, .cat = { .kind = API_CAT_KIND_CAT, .lives = 7 } };
    api_client_rc rc;

    if (c == NULL)
        return 2;
    rc = api_client_search(c, ids, 2, &sp, &sr);
    printf("search %s %d\n", api_client_rc_name(rc), sr.status);
    if (rc == API_CLIENT_OK)
        printf("pet %d bark %d labels %zu %.*s=%lld extra %.*s weight %g note_null %d\n", (int)sr.body_200.pet.which,
               (int)sr.body_200.pet.dog.bark, sr.body_200.labels.additional_properties_len,
               (int)sr.body_200.labels.additional_properties[1].key.len, sr.body_200.labels.additional_properties[1].key.ptr,
               (long long)sr.body_200.labels.additional_properties[1].value, (int)sr.body_200.extra.len,
               sr.body_200.extra.ptr, sr.body_200.weight, (int)sr.body_200.note_is_null);
    /* Broken inputs are refused before sending, element by element. */
    tags[1] = RT_STR("x");
    sp.ratio = 2;
    sp.has_site = true;
    sp.site = RT_STR("no scheme");
    sp.has_code = true;
    sp.code = RT_STR("ba");
    ids[0] = 0;
    rc = api_client_search(c, ids, 2, &sp, &sr);
    printf("invalid %s", api_client_rc_name(rc));
    for (size_t i = 0; i < api_client_errors(c)->n; i++)
        printf(" [%s: %s]", api_client_errors(c)->e[i].field, api_client_errors(c)->e[i].reason);
    printf("\n");
    rc = api_client_add_pet(c, &pet, &ar);
    printf("addPet %s %d %zu\n", api_client_rc_name(rc), ar.status, ar.body_201_len);
    pet.cat.lives = 10;
    rc = api_client_add_pet(c, &pet, &ar);
    printf("addPet invalid %s %s %s\n", api_client_rc_name(rc), api_client_errors(c)->n ? api_client_errors(c)->e[0].field : "",
           api_client_errors(c)->n ? api_client_errors(c)->e[0].reason : "");
    {
        api_client_get_word_response wr;
        api_client_get_marks_response mr;

        rc = api_client_get_word(c, &wr);
        printf("word %s %.*s\n", api_client_rc_name(rc), (int)wr.body_200.len, wr.body_200.ptr);
        rc = api_client_get_marks(c, &mr);
        printf("marks %s %zu %d %d\n", api_client_rc_name(rc), mr.body_200_len, (int)mr.body_200[0], (int)mr.body_200[1]);
    }
    api_client_free(c);
    return 0;
}
"""

C_BAD_ANSWERS = r"""
#include "api_client.gen.h"
#include <stdio.h>

static void show(api_client *c, const char *what, api_client_rc rc)
{
    printf("%s %s", what, api_client_rc_name(rc));
    for (size_t i = 0; i < api_client_errors(c)->n; i++)
        printf(" [%s: %s]", api_client_errors(c)->e[i].field, api_client_errors(c)->e[i].reason);
    printf("\n");
}

int main(int argc, char **argv)
{
    api_client *c = argc > 1 ? api_client_new(argv[1]) : NULL;
    api_client_get_word_response wr;
    api_client_get_marks_response mr;

    if (c == NULL)
        return 2;
    show(c, "word", api_client_get_word(c, &wr));
    show(c, "marks", api_client_get_marks(c, &mr));
    api_client_free(c);
    return 0;
}
"""

FORMAT_PROBE = r"""
#include "validate.h"
#include <stdio.h>
#include <string.h>

/* Reads "<format> <value>" lines and prints 1 or 0: the server's verdict. */
int main(void)
{
    char line[512];

    while (fgets(line, sizeof line, stdin) != NULL) {
        char *sp = strchr(line, ' ');
        size_t n = strlen(line);
        rt_str v;
        bool ok = false;

        if (sp == NULL)
            continue;
        if (n > 0 && line[n - 1] == '\n')
            line[--n] = '\0';
        *sp = '\0';
        v = (rt_str){ sp + 1, (size_t)(line + n - (sp + 1)) };
        if (strcmp(line, "uri") == 0)
            ok = rt_is_uri(v);
        else if (strcmp(line, "ipv4") == 0)
            ok = rt_is_ipv4(v);
        else if (strcmp(line, "ipv6") == 0)
            ok = rt_is_ipv6(v);
        else if (strcmp(line, "byte") == 0)
            ok = rt_is_base64(v);
        else if (strcmp(line, "date") == 0)
            ok = rt_is_date(v);
        else if (strcmp(line, "uuid") == 0)
            ok = rt_is_uuid(v);
        else if (strcmp(line, "email") == 0)
            ok = rt_is_email(v);
        printf("%d\n", ok ? 1 : 0);
    }
    return 0;
}
"""

FORMAT_CASES = {
    "uri": ["https://e.example/a?b=c#d", "urn:isbn:1", "mailto:a@b", "a:", "1http://x", "http//x", "", "http://a b",
            "http://x/%zz", "http://x/%4", "http://x/%41", "x+y.z-w:q", "http://x/<", "http://x/\u00e9", "h:{"],
    "ipv4": ["0.0.0.0", "255.255.255.255", "256.1.1.1", "01.1.1.1", "1.1.1", "1.1.1.1.1", "1..1.1", "a.b.c.d", "1.1.1.1 ",
             "1234.1.1.1"],
    "ipv6": ["::", "::1", "1::", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1::2::3", ":1:2:3:4:5:6:7",
             "1:2:3:4:5:6:7:", "::ffff:10.0.0.1", "1:2:3:4:5:6:1.2.3.4", "fe80::1%eth0", "12345::", "g::", "1:",
             "1:2:3:4:5:6:7::", "::1.2.3.4", "a:b:c:d:e:f:1.2.3.4", ":", "1:::2"],
    "byte": ["", "aGk=", "aGk", "aG==", "a===", "ab=c", "YWJj", "YW Jj", "+/+/", "-_-_"],
    "date": ["2026-02-28", "2026-02-29", "2024-02-29", "2026-13-01", "26-01-01", "2026-1-01"],
    "uuid": ["123e4567-e89b-12d3-a456-426614174000", "123e4567e89b12d3a456426614174000", "123E4567-E89B-12D3-A456-42661417400G"],
}


class _Loopback(http.server.BaseHTTPRequestHandler):
    """Records every request and answers with the canned (status, JSON) of its path."""
    seen = []
    answers = {}

    def _any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        self.seen.append((self.command, self.path, dict(self.headers.items()), body))
        path = self.path[len("/api"):] if self.path.startswith("/api/") else self.path  # a prefix
        status, doc = self.answers.get(path.split("?")[0].split("/")[1], (500, {}))
        data = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _any

    def log_message(self, *args):
        pass


class Rich(unittest.TestCase):
    """Array, number, uri and pattern parameters, a oneOf body, unions,
    maps, raw JSON, nullable and format fields, through both clients
    against a loopback server that records what they send."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sdkrich-")
        spec = os.path.join(cls.tmp, "rich.yaml")
        with open(spec, "w") as f:
            f.write(RICH)
        cls.gen, cls.sdk = os.path.join(cls.tmp, "generated"), os.path.join(cls.tmp, "sdk")
        for tool, out in ((GEN_PY, cls.gen), (SDK_PY, cls.sdk)):
            p = sh([sys.executable, tool, "--spec", spec, "--out", out])
            assert p.returncode == 0 and "warning" not in p.stderr, p.stderr
        _Loopback.answers = {"search": (200, FOUND), "pets": (201, [FOUND, dict(FOUND, pet={"kind": "cat", "lives": 3, "id": 7})]),
                             "word": (200, "hello"), "marks": (200, ["X", "O", "X"])}
        cls.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Loopback)
        cls.url = "http://127.0.0.1:%d" % cls.httpd.server_address[1]
        cls.thread = threading.Thread(target=cls.httpd.serve_forever, daemon=True)
        cls.thread.start()
        cls.mod = load_py(os.path.join(cls.sdk, "python", "api_client.py"), "rich_client")

    @classmethod
    def tearDownClass(cls):
        cls.httpd.shutdown()
        cls.httpd.server_close()
        del sys.modules["rich_client"]
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        _Loopback.seen.clear()

    def test_python_sends_and_reads_the_rich_spec(self):
        m = self.mod
        # servers is [{url: .}]: the clients go where the caller says, prefix included.
        c = m.Client(self.url + "/api/", timeout=5)
        r = c.search([1, 22], tag=["ab", "c d"], near=[1.5, -2.0], x_keys=[m.SearchXKeys.A, "b"], ratio=0.25,
                     site="https://e.example/?q=1", code="abab")
        method, target, headers, _ = _Loopback.seen[-1]
        self.assertEqual((method, target), ("GET", "/api/search/1,22?tag=ab&tag=c%20d&near=1.5%2C-2.0&ratio=0.25"
                                                   "&site=https%3A%2F%2Fe.example%2F%3Fq%3D1&code=abab"))
        self.assertEqual(headers["X-Keys"], "a,b")
        self.assertIsInstance(r.body.pet, m.Dog)
        self.assertEqual(r.body.labels.additional_properties, {"x": 1, "y": 2})
        self.assertEqual(r.body.extra, [1, {"a": None}])
        self.assertIsNone(r.body.note)
        self.assertEqual(r.body.to_json(), {k: v for k, v in FOUND.items() if k != "note"})
        with self.assertRaises(m.ValidationError) as cm:
            c.search([0, 1], tag=["ab", "x", "cd", "ef"], ratio=2.0, site="no scheme", code="ba")
        self.assertEqual(sorted(cm.exception.details, key=lambda d: (d.field, d.reason)), [
            m.FieldError("path.ids", "must be >= 1"),
            m.FieldError("query.code", "must match pattern ^(ab)+$"),
            m.FieldError("query.ratio", "must be <= 1.5"),
            m.FieldError("query.site", "must be an absolute URI"),
            m.FieldError("query.tag", "must be at least 2 characters"),
            m.FieldError("query.tag", "must have at most 3 items"),
        ])
        self.assertEqual(len(_Loopback.seen), 1)  # nothing more was sent
        # A oneOf body: a dataclass or a mapping, checked against the alternatives.
        made = c.add_pet(m.Cat(kind=m.CatKind.CAT, lives=7))
        self.assertEqual(json.loads(_Loopback.seen[-1][3]), {"kind": "cat", "lives": 7})
        self.assertEqual([type(f.pet) for f in made.body], [m.Dog, m.Cat])
        c.add_pet({"kind": "dog", "bark": False})
        self.assertEqual(json.loads(_Loopback.seen[-1][3]), {"kind": "dog", "bark": False})
        with self.assertRaises(m.ValidationError) as cm:
            c.add_pet({"kind": "cat", "lives": 10})
        self.assertEqual(cm.exception.details, [m.FieldError("", "must match exactly one of: Cat, Dog")])
        with self.assertRaises(m.ValidationError) as cm:
            c.add_pet(m.Cat(kind=m.CatKind.CAT, lives=10))
        self.assertEqual(cm.exception.details, [m.FieldError("/lives", "must be between 0 and 9")])
        # A required readOnly field: absent from requests, required in answers.
        try:
            _Loopback.answers["pets"] = (201, [dict(FOUND, pet={"kind": "cat", "lives": 3})])
            with self.assertRaises(m.ProtocolError) as cm:
                c.add_pet({"kind": "cat", "lives": 1})
            self.assertEqual(cm.exception.details, [m.FieldError("/0/pet/id", "is required")])
        finally:
            _Loopback.answers["pets"] = (201, [FOUND, dict(FOUND, pet={"kind": "cat", "lives": 3, "id": 7})])
        bad = m.Found(pet=m.Cat(kind=m.CatKind.CAT, lives=1), labels=m.FoundLabels(additional_properties={"x": -1}),
                      addr="1::2::3", home="1.2.3",
                      blob="a", site="x", day="2026-02-30", weight=0.75, note="ba")
        self.assertEqual(sorted((e.field, e.reason) for e in bad.validate()), [
            ("/addr", "must be an IPv6 address"), ("/blob", "must be base64"),
            ("/day", "must be an RFC 3339 date (YYYY-MM-DD)"), ("/home", "must be an IPv4 address"),
            ("/labels/x", "must be >= 0"), ("/note", "must match pattern ^(ab)+$"),
            ("/pet/id", "is required"),   # validate() checks a value as an answer
            ("/site", "must be an absolute URI"), ("/weight", "must be a multiple of 0.5"),
        ])

    def test_scalar_answers(self):
        m = self.mod
        c = m.Client(self.url, timeout=5)
        self.assertEqual(c.get_word().body, "hello")
        self.assertEqual(c.get_marks().body, [m.GetMarksResponse200.X, m.GetMarksResponse200.O, m.GetMarksResponse200.X])
        try:
            _Loopback.answers["word"] = (200, "h")
            _Loopback.answers["marks"] = (200, ["X", "Y", 3])
            with self.assertRaises(m.ProtocolError) as cm:
                c.get_word()
            self.assertEqual(cm.exception.details, [m.FieldError("", "must be at least 2 characters")])
            with self.assertRaises(m.ProtocolError) as cm:
                c.get_marks()
            self.assertEqual(cm.exception.details, [m.FieldError("/1", "must be one of: X, O"),
                                                    m.FieldError("/2", "must be a string")])
            p = build_c(self.tmp, self.gen, self.sdk, C_BAD_ANSWERS)
            self.assertEqual(p.returncode, 0, p.stderr)
            p = sh([os.path.join(self.tmp, "main"), self.url])
            self.assertEqual(p.stdout.splitlines(), ["word E_PROTOCOL [: must be at least 2 characters]",
                                                     "marks E_PROTOCOL [/1: must be one of: X, O] [/2: must be a string]"])
        finally:
            _Loopback.answers["word"] = (200, "hello")
            _Loopback.answers["marks"] = (200, ["X", "O", "X"])

    def test_c_sends_and_reads_the_rich_spec(self):
        p = build_c(self.tmp, self.gen, self.sdk, C_RICH)
        self.assertEqual(p.returncode, 0, p.stderr)
        p = sh([os.path.join(self.tmp, "main"), self.url + "/api/"])
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertEqual(lines[0], "search OK 200")
        self.assertEqual(lines[1], 'pet 2 bark 1 labels 2 y=2 extra [1, {"a": null}] weight 2.5 note_null 1')
        method, target, headers, _ = _Loopback.seen[0]
        self.assertEqual((method, target), ("GET", "/api/search/1,22?tag=ab&tag=c%20d&near=1.5,-2&ratio=0.25"))
        self.assertEqual(headers["X-Keys"], "a,b")
        self.assertEqual(lines[2], "invalid E_INVALID [path.ids: must be >= 1] [query.tag: must be at least 2 "
                                   "characters] [query.ratio: must be <= 1.5] [query.site: must be an absolute URI] "
                                   "[query.code: must match pattern ^(ab)+$]")
        self.assertEqual(lines[3], "addPet OK 201 2")
        # The server's encoder writes every required member, readOnly ones too (sdk/README, Limits).
        self.assertEqual(json.loads(_Loopback.seen[1][3]), {"kind": "cat", "lives": 7, "id": 0})
        self.assertEqual(lines[4], "addPet invalid E_INVALID /lives must be between 0 and 9")
        self.assertEqual(lines[5], "word OK hello")
        self.assertEqual(lines[6], "marks OK 3 %d %d" % (0, 1))
        self.assertEqual(len(_Loopback.seen), 4)

    def test_python_formats_agree_with_the_server(self):
        src = os.path.join(self.tmp, "probe.c")
        with open(src, "w") as f:
            f.write(FORMAT_PROBE)
        exe = os.path.join(self.tmp, "probe")
        p = sh([os.environ.get("CC", "cc"), "-std=c17", "-D_GNU_SOURCE", "-I" + RT, "-o", exe, src,
                os.path.join(RT, "validate.c"), os.path.join(RT, "rt.c"), "-lm"])
        self.assertEqual(p.returncode, 0, p.stderr)
        cases = [(fmt, v) for fmt, vs in FORMAT_CASES.items() for v in vs]
        out = subprocess.run([exe], input="".join("%s %s\n" % c for c in cases).encode(), stdout=subprocess.PIPE,
                             check=True).stdout.decode().split()
        self.assertEqual(len(out), len(cases))
        for (fmt, v), server in zip(cases, out):
            self.assertEqual(self.mod._FORMATS[fmt](v), server == "1", "%s %r" % (fmt, v))



PARAMS = """\
openapi: 3.0.3
info: {title: Params, version: '1'}
paths:
  /filter/{spot}/{ids}/{lab}/{mat}:
    post:
      operationId: filter
      parameters:
        - {name: spot, in: path, required: true, schema: {$ref: '#/components/schemas/Point'}}
        - {name: ids, in: path, required: true, schema: {type: array, items: {type: integer, minimum: 1}}}
        - {name: lab, in: path, required: true, style: label, schema: {type: array, items: {type: integer}}}
        - {name: mat, in: path, required: true, style: matrix, schema: {type: integer, maximum: 9}}
        - {name: sp, in: query, style: spaceDelimited, explode: false, schema: {type: array, items: {type: string}}}
        - {name: pp, in: query, style: pipeDelimited, explode: false, schema: {type: array, items: {type: integer}}}
        - {name: f, in: query, style: deepObject, schema: {$ref: '#/components/schemas/Range'}}
        - {name: g, in: query, explode: false, schema: {$ref: '#/components/schemas/Point'}}
        - {name: tag, in: query, schema: {type: array, maxItems: 3, items: {type: string, minLength: 2}}}
        - {name: near, in: query, explode: false, schema: {type: array, items: {type: number}}}
        - {name: ratio, in: query, schema: {type: number, maximum: 1.5}}
        - {name: site, in: query, schema: {type: string, format: uri}}
        - {name: X-Point, in: header, explode: true, schema: {$ref: '#/components/schemas/Point'}}
        - {name: X-Keys, in: header, schema: {type: array, items: {type: string, enum: [a, b]}}}
      responses:
        '204': {description: ok}
  /form:
    post:
      operationId: sendForm
      requestBody:
        required: true
        content:
          application/x-www-form-urlencoded:
            schema: {$ref: '#/components/schemas/Form'}
      responses:
        '204': {description: ok}
components:
  schemas:
    Point:
      type: object
      additionalProperties: false
      required: [x]
      properties:
        x: {type: integer}
        y: {type: integer, maximum: 10}
    Range:
      type: object
      additionalProperties: false
      properties:
        lo: {type: integer, minimum: 0}
        tags: {type: array, items: {type: string}}
    Form:
      type: object
      additionalProperties: false
      required: [name]
      properties:
        name: {type: string, minLength: 2}
        n: {type: integer}
        flags: {type: array, items: {type: boolean}}
"""

C_PARAMS = r"""
#include "api_client.gen.h"
#include <stdio.h>

/* filter with valid parameters (the stub server answers 501), then with
 * broken ones unchecked (its 400) and checked (our own findings). */
static void show(api_client *c, const char *what, api_client_rc rc, int status)
{
    printf("%s %s %d", what, api_client_rc_name(rc), status);
    for (size_t i = 0; i < api_client_errors(c)->n; i++)
        printf(" [%s: %s]", api_client_errors(c)->e[i].field, api_client_errors(c)->e[i].reason);
    printf("\n");
}

int main(int argc, char **argv)
{
    api_client *c = argc > 2 ? api_client_new(argv[1]) : NULL;
    int64_t ids[] = { 1, 22 };
    rt_str tags[] = { RT_STR("ab"), RT_STR("c d") }, rtags[] = { RT_STR("a"), RT_STR("b") };
    double near[] = { 1.5, -2 };
    api_filter_x_keys keys[] = { API_FILTER_X_KEYS_A, API_FILTER_X_KEYS_B };
    api_point spot = { .x = 1, .has_y = true, .y = 2 };
    int64_t lab[] = { 3, 4 };
    rt_str sp[] = { RT_STR("a"), RT_STR("b c") };
    int64_t pp[] = { 1, 2 };
    api_client_filter_params fp = {
        .has_f = true, .f = { .has_lo = true, .lo = 1, .tags = rtags, .tags_len = 2 },
        .has_g = true, .g = { .x = 3 }, .has_tag = true, .tag = tags, .tag_len = 2,
        .has_near = true, .near = near, .near_len = 2, .has_ratio = true, .ratio = 0.25,
        .has_x_point = true, .x_point = { .x = 5, .has_y = true, .y = 6 },
        .has_x_keys = true, .x_keys = keys, .x_keys_len = 2,
        .has_sp = true, .sp = sp, .sp_len = 2, .has_pp = true, .pp = pp, .pp_len = 2,
    };
    api_client_filter_response out;
    api_client_send_form_response fo;
    api_form form = { .name = RT_STR("ab"), .has_n = true, .n = 3 };
    api_client_rc rc;

    if (c == NULL)
        return 2;
    rc = api_client_filter(c, spot, ids, 2, lab, 2, 5, &fp, &out);
    show(c, "valid", rc, out.status);
    fp.g.has_y = true;
    fp.g.y = 11;
    fp.f.lo = -1;
    ids[0] = 0;
    api_client_set_validation(c, false);
    rc = api_client_filter(c, spot, ids, 2, lab, 2, 5, &fp, &out);
    show(c, "unchecked", rc, out.status);
    api_client_set_validation(c, true);
    rc = api_client_filter(c, spot, ids, 2, lab, 2, 5, &fp, &out);
    show(c, "checked", rc, out.status);
    rc = api_client_send_form(c, &form, &fo);
    show(c, "form to the server", rc, fo.status);
    api_client_free(c);
    /* The form body, to the loopback recorder (argv[2]). */
    c = api_client_new(argv[2]);
    if (c == NULL)
        return 2;
    rc = api_client_send_form(c, &form, &fo);
    show(c, "form", rc, fo.status);
    form.name = RT_STR("a");
    rc = api_client_send_form(c, &form, &fo);
    show(c, "form checked", rc, fo.status);
    api_client_free(c);
    return 0;
}
"""


class AgainstGeneratedServer(unittest.TestCase):
    """Object (deepObject, form, simple), array and number parameters sent
    by both clients to the server generate.py --scaffold builds from the same
    spec (every operation a 501 stub): what they send it parses, and what
    they refuse it refuses with the same fields and reasons: label and
    matrix path styles, space- and pipe-delimited queries and form bodies too;
    the loopback recorder checks the exact bytes of a form."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sdkparams-")
        spec = os.path.join(cls.tmp, "params.yaml")
        with open(spec, "w") as f:
            f.write(PARAMS)
        cls.gen, cls.sdk = os.path.join(cls.tmp, "generated"), os.path.join(cls.tmp, "sdk")
        p = sh([sys.executable, GEN_PY, "--spec", spec, "--out", cls.gen, "--scaffold", "--quiet"])
        assert p.returncode == 0, p.stderr
        p = sh([sys.executable, SDK_PY, "--spec", spec, "--out", cls.sdk])
        assert p.returncode == 0 and "warning" not in p.stderr, p.stderr
        p = sh(["make", "-s", "-C", cls.gen, "RUNTIME=" + RT,
                "CFLAGS=-std=c17 -O0 -Wall -Wextra -Werror -Wstrict-prototypes -Wshadow"])
        assert p.returncode == 0, p.stderr
        port = sh(["bash", os.path.join(ROOT, "scripts", "free-port.sh"), "19400"]).stdout.strip()
        cls.url = "http://127.0.0.1:%s" % port
        cls.log = open(os.path.join(cls.tmp, "server.log"), "w")
        cls.server = subprocess.Popen([os.path.join(cls.gen, "server")], stdout=cls.log, stderr=cls.log,
                                      env=dict(os.environ, PORT=port, BIND_ADDR="127.0.0.1"))
        import socket
        import time
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", int(port)), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        _Loopback.answers = {"form": (204, {})}
        cls.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Loopback)
        cls.rec = "http://127.0.0.1:%d" % cls.httpd.server_address[1]
        threading.Thread(target=cls.httpd.serve_forever, daemon=True).start()
        cls.mod = load_py(os.path.join(cls.sdk, "python", "api_client.py"), "params_client")

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()
        cls.server.wait(timeout=10)
        cls.log.close()
        cls.httpd.shutdown()
        cls.httpd.server_close()
        del sys.modules["params_client"]
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        _Loopback.seen.clear()

    def test_python(self):
        m = self.mod
        c = m.Client(self.url, timeout=10)
        with self.assertRaises(m.HttpError) as cm:
            c.filter(m.Point(x=1, y=2), [1, 22], [3, 4], 5, sp=["a", "b c"], pp=[1, 2], f=m.Range(lo=1, tags=["a", "b"]),
                     g={"x": 3}, tag=["ab", "c d"],
                     near=[1.5, -2.0], ratio=0.25, site="https://e.example/?q=1", x_point=m.Point(x=5, y=6),
                     x_keys=["a", m.FilterXKeys.B])
        self.assertEqual((cm.exception.status, cm.exception.code), (501, "NOT_IMPLEMENTED"))
        broken = [dict(g={"y": 11}), dict(f={"lo": -1, "zz": 1}), dict(x_point={"x": "q"}),
                  dict(tag=["a", "bb", "cc", "dd"]), dict(ratio=2.0, site="x y"), dict(ids=[0, 2]), dict(mat=10)]
        for kw in broken:
            with self.subTest(kw=kw):
                args = dict({"spot": {"x": 1}, "ids": [1], "lab": [], "mat": 1}, **kw)
                c.validate = True
                with self.assertRaises(m.ValidationError) as mine:
                    c.filter(**args)
                c.validate = False
                with self.assertRaises(m.BadRequest) as theirs:
                    c.filter(**args)
                self.assertEqual(sorted(mine.exception.details, key=lambda d: (d.field, d.reason)),
                                 sorted(theirs.exception.details, key=lambda d: (d.field, d.reason)))
        c.validate = True
        with self.assertRaises(m.HttpError) as cm:
            c.send_form(m.Form(name="ab", n=3, flags=[True, False]))
        self.assertEqual(cm.exception.status, 501)
        for bad in ({"name": "a", "zz": 1}, {"zz": 2, "flags": [True]}):
            c.validate = True
            with self.assertRaises(m.ValidationError) as mine:
                c.send_form(bad)
            c.validate = False
            with self.assertRaises(m.BadRequest) as theirs:
                c.send_form(bad)
            self.assertEqual(sorted(mine.exception.details, key=lambda d: (d.field, d.reason)),
                             sorted(theirs.exception.details, key=lambda d: (d.field, d.reason)))
        c = m.Client(self.rec)
        self.assertEqual(c.send_form(m.Form(name="ab", n=3, flags=[True, False])).status, 204)
        _, target, headers, body = _Loopback.seen[-1]
        self.assertEqual((target, headers["Content-Type"], body),
                         ("/form", "application/x-www-form-urlencoded", b"name=ab&n=3&flags=true&flags=false"))
        c.send_form({"name": "a b&c"})
        self.assertEqual(_Loopback.seen[-1][3], b"name=a%20b%26c")
        with self.assertRaises(m.ValidationError) as cm:
            c.send_form({"name": "a", "zz": 1})
        self.assertEqual(cm.exception.details, [m.FieldError("/zz", "unknown field"),
                                                m.FieldError("/name", "must be at least 2 characters")])

    def test_c(self):
        p = build_c(self.tmp, self.gen, self.sdk, C_PARAMS)
        self.assertEqual(p.returncode, 0, p.stderr)
        p = sh([os.path.join(self.tmp, "main"), self.url, self.rec])
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertEqual(lines[0], "valid E_STATUS 501")
        want = ("[path.ids: must be >= 1] [query.f.lo: must be >= 0] [query.g.y: must be <= 10]")
        self.assertEqual(lines[1], "unchecked E_STATUS 400")   # the server's details: in the Python test
        self.assertEqual(lines[2], "checked E_INVALID 0 " + want)
        self.assertEqual(lines[3], "form to the server E_STATUS 501")
        self.assertEqual(lines[4], "form OK 204")
        self.assertEqual(_Loopback.seen[0][3], b"name=ab&n=3")
        self.assertEqual(_Loopback.seen[0][2]["Content-Type"], "application/x-www-form-urlencoded")
        self.assertEqual(lines[5], "form checked E_INVALID 0 [/name: must be at least 2 characters]")



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
