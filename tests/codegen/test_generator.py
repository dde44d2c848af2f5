"""Tests of codegen/: loader, naming, patterns, the IR, the CLI and its output.

Run from the project root:
    /usr/bin/python3 -m unittest discover -s tests/codegen
(the interpreter needs jinja2 and PyYAML, which Debian's python3 has).
Small specs are written inline into temporary directories.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CODEGEN = os.path.join(ROOT, "codegen")
GENERATE = os.path.join(CODEGEN, "generate.py")
RUNTIME = os.path.join(ROOT, "src", "runtime")
CORPORA = [os.path.join(ROOT, "..", "shared", "testdata", d) for d in ("openapi", "openapi-extra")]
sys.path.insert(0, CODEGEN)
sys.dont_write_bytecode = True

import ir_build  # noqa: E402
import naming  # noqa: E402
import patterns  # noqa: E402
import spec_loader  # noqa: E402
from spec_loader import SpecError  # noqa: E402

CC = shutil.which("gcc") or shutil.which("cc")
CFLAGS = ["-std=c17", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror", "-Wstrict-prototypes",
          "-Wshadow", "-fsyntax-only"]


def spec_text(body, version="3.0.3"):
    return "openapi: %s\ninfo: {title: T, version: '1'}\n" % version + textwrap.dedent(body)


def load(body, version="3.0.3"):
    data = spec_text(body, version).encode()
    return spec_loader.Spec(spec_loader.parse_document(data, "test.yaml"), data)


def build(body, version="3.0.3"):
    return ir_build.build_api(load(body, version), "api/test.yaml")


def obj(api, name):
    for o in api.objects:
        if o.name == name:
            return o
    raise AssertionError("no type %s among %s" % (name, [o.name for o in api.objects]))


def field(o, json_name):
    for f in o.fields:
        if f.json_name == json_name:
            return f
    raise AssertionError("no field %s" % json_name)


SCHEMA_SPEC = """
paths: {}
components:
  schemas:
%s
"""


def schemas(yaml_block):
    return SCHEMA_SPEC % textwrap.indent(textwrap.dedent(yaml_block), "    ")


class TempProject(unittest.TestCase):
    """A temp dir with api/<spec> and generated/ beside it, like the project."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="codegen-test-")
        os.makedirs(os.path.join(self.dir, "api"))
        self.out = os.path.join(self.dir, "generated")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def write_spec(self, text, name="openapi.yaml"):
        path = os.path.join(self.dir, "api", name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def run_gen(self, *args, cwd=None):
        return subprocess.run([sys.executable, GENERATE] + list(args), cwd=cwd or self.dir,
                              capture_output=True, text=True, timeout=60)

    def read_out(self):
        out = {}
        for name in sorted(os.listdir(self.out)):
            with open(os.path.join(self.out, name), "rb") as f:
                out[name] = f.read()
        return out


# ---------------------------------------------------------------- loader

class LoaderTest(unittest.TestCase):
    def test_ref_to_named_primitive_is_inlined_with_its_constraints(self):
        api = build(schemas("""
            Name: {type: string, minLength: 3, maxLength: 9}
            Thing:
              type: object
              required: [name]
              properties:
                name: {$ref: '#/components/schemas/Name'}
        """))
        f = field(obj(api, "api_thing"), "name")
        self.assertEqual(f.shape.c_type, "rt_str")
        (chk,) = f.shape.checks
        self.assertEqual((chk.kind, chk.lo, chk.hi), ("length", 3, 9))
        self.assertEqual([o.name for o in api.objects], ["api_thing"])

    def test_ref_chain_is_followed(self):
        api = build(schemas("""
            A: {$ref: '#/components/schemas/B'}
            B: {type: integer, format: int32, minimum: 2}
            T:
              type: object
              properties: {x: {$ref: '#/components/schemas/A'}}
        """))
        self.assertEqual(field(obj(api, "api_t"), "x").shape.c_type, "int32_t")

    def test_ref_cycle_names_its_pointer(self):
        spec = load(schemas("""
            A: {$ref: '#/components/schemas/B'}
            B: {$ref: '#/components/schemas/A'}
        """))
        with self.assertRaises(SpecError) as cm:
            spec.resolve(spec.get("/components/schemas/A"), "/components/schemas/A")
        self.assertEqual(cm.exception.pointer, "/components/schemas/A")
        self.assertIn("cycle", cm.exception.message)
        self.assertIn("#/components/schemas/B", cm.exception.message)

    def test_ref_cycle_through_the_generator(self):
        with self.assertRaises(SpecError) as cm:
            build(schemas("""
                T:
                  type: object
                  properties: {x: {$ref: '#/components/schemas/A'}}
                A: {$ref: '#/components/schemas/B'}
                B: {$ref: '#/components/schemas/A'}
            """))
        self.assertIn("cycle", cm.exception.message)
        self.assertTrue(cm.exception.pointer.startswith("/components/schemas/"))

    def test_dangling_ref(self):
        with self.assertRaises(SpecError) as cm:
            build(schemas("""
                T:
                  type: object
                  properties: {x: {$ref: '#/components/schemas/Nope'}}
            """))
        self.assertEqual(cm.exception.pointer, "/components/schemas/T/properties/x/$ref")

    def test_external_ref_rejected(self):
        with self.assertRaises(SpecError) as cm:
            build(schemas("""
                T:
                  type: object
                  properties: {x: {$ref: 'other.yaml#/X'}}
            """))
        self.assertIn("external", cm.exception.message)

    def test_recursion_through_an_array_is_fine_by_value_is_not(self):
        api = build(schemas("""
            Node:
              type: object
              properties:
                kids: {type: array, items: {$ref: '#/components/schemas/Node'}}
        """))
        self.assertEqual(field(obj(api, "api_node"), "kids").shape.c_type, "api_node")
        self.assertFalse(field(obj(api, "api_node"), "kids").shape.by_ref)
        # By value, the member that closes the cycle is held through a pointer.
        api = build(schemas("""
            Node:
              type: object
              properties:
                next: {$ref: '#/components/schemas/Node'}
        """))
        self.assertTrue(field(obj(api, "api_node"), "next").shape.by_ref)

    def test_nullable_30(self):
        api = build(schemas("""
            T:
              type: object
              required: [a]
              properties:
                a: {type: integer, nullable: true}
                b: {type: string}
        """))
        t = obj(api, "api_t")
        self.assertTrue(field(t, "a").nullable)
        self.assertFalse(field(t, "b").nullable)

    def test_type_array_31(self):
        api = build(schemas("""
            T:
              type: object
              properties:
                a: {type: [integer, 'null']}
                b: {type: [string]}
        """), version="3.1.0")
        t = obj(api, "api_t")
        self.assertTrue(field(t, "a").nullable)
        self.assertEqual(field(t, "a").shape.c_type, "int64_t")
        self.assertFalse(field(t, "b").nullable)

    def test_type_array_in_30_is_an_error(self):
        with self.assertRaises(SpecError) as cm:
            build(schemas("""
                T:
                  type: object
                  properties: {a: {type: [integer, 'null']}}
            """))
        self.assertEqual(cm.exception.pointer, "/components/schemas/T/properties/a/type")

    def test_nullable_in_31_is_a_spec_warning_and_ignored(self):
        api = build(schemas("""
            T:
              type: object
              properties: {a: {type: integer, nullable: true}}
        """), version="3.1.0")
        self.assertIn("/components/schemas/T/properties/a/nullable", [p for p, _ in api.notes])
        self.assertFalse(field(obj(api, "api_t"), "a").nullable)

    def test_exclusive_bounds_30_and_31(self):
        b30 = build(schemas("""
            T:
              type: object
              properties: {a: {type: integer, minimum: 0, exclusiveMinimum: true}}
        """))
        b31 = build(schemas("""
            T:
              type: object
              properties: {a: {type: integer, exclusiveMinimum: 0}}
        """), version="3.1.0")
        for api in (b30, b31):
            (chk,) = field(obj(api, "api_t"), "a").shape.checks
            self.assertEqual((chk.conds, chk.reason), ([("<=", "0")], "must be > 0"))

    def test_yaml_keys_are_text_and_dates_stay_strings(self):
        spec = load("""
            paths: {}
            x-when: 2026-11-23
            x-codes: {200: ok}
        """)
        self.assertEqual(spec.doc["x-when"], "2026-11-23")
        self.assertEqual(list(spec.doc["x-codes"]), ["200"])
        self.assertIn('"x-when": "2026-11-23"', spec.to_json())

    def test_duplicate_yaml_key_is_an_error(self):
        with self.assertRaises(SpecError) as cm:
            load("paths: {}\npaths: {}\n")
        self.assertIn("duplicate key", cm.exception.message)

    def test_json_spec_and_key_order(self):
        text = '{"openapi": "3.1.0", "info": {"title": "T", "version": "1"}, "paths": {}, "zz": 1, "aa": 2}'
        spec = spec_loader.Spec(spec_loader.parse_document(text.encode(), "t.json"), text.encode())
        self.assertTrue(spec.v31)
        self.assertLess(spec.to_json().index('"zz"'), spec.to_json().index('"aa"'))

    def test_version_required(self):
        with self.assertRaises(SpecError) as cm:
            spec_loader.Spec({"swagger": "2.0"}, b"")
        self.assertEqual(cm.exception.pointer, "/swagger")
        with self.assertRaises(SpecError) as cm:
            spec_loader.Spec({"openapi": "4.0.0"}, b"")
        self.assertEqual(cm.exception.pointer, "/openapi")

    def test_unsupported_keyword_names_its_pointer(self):
        with self.assertRaises(SpecError) as cm:
            build(schemas("""
                T:
                  type: object
                  properties: {a: {not: {type: string}}}
            """))
        self.assertEqual(cm.exception.pointer, "/components/schemas/T/properties/a/not")
        self.assertIn("not", cm.exception.message)


# ---------------------------------------------------------------- naming

class NamingTest(unittest.TestCase):
    def test_snake_case(self):
        cases = {
            "NewUser": "new_user", "UserPatch": "user_patch", "UserList": "user_list",
            "User": "user", "Health": "health", "createUser": "create_user",
            "getHealthz": "get_healthz", "HTTPServer": "http_server", "userID": "user_id",
            "X-Request-ID": "x_request_id", "created_at": "created_at", "a--b": "a_b",
            "__x__": "x", "": "x", "v2Items": "v2_items", "events.v1.event": "events_v1_event",
        }
        for name, want in cases.items():
            self.assertEqual(naming.snake(name), want, name)

    def test_members_escape_keywords_and_digits(self):
        self.assertEqual(naming.member("int"), "int_")
        self.assertEqual(naming.member("default"), "default_")
        self.assertEqual(naming.member("bool"), "bool_")
        self.assertEqual(naming.member("2fa"), "n2fa")
        self.assertEqual(naming.member("name"), "name")

    def test_namespace_collisions(self):
        ns = naming.Namespace()
        self.assertEqual(ns.claim("api_user", ["{}_decode"]), "api_user")
        self.assertEqual(ns.claim("api_user", ["{}_decode"]), "api_user_2")
        ns.take("api_x_decode")
        self.assertEqual(ns.claim("api_x", ["{}_decode"]), "api_x_2")

    def test_schema_name_collision_is_stable(self):
        api = build(schemas("""
            User: {type: object, properties: {a: {type: string}}}
            user: {type: object, properties: {b: {type: string}}}
        """))
        self.assertEqual([o.name for o in api.objects], ["api_user", "api_user_2"])
        self.assertEqual(field(obj(api, "api_user_2"), "b").c_name, "b")

    def test_member_collisions_with_flags_and_keywords(self):
        api = build(schemas("""
            T:
              type: object
              properties:
                x: {type: string}
                has_x: {type: string}
                int: {type: integer}
                a-b: {type: string}
                a_b: {type: string}
        """))
        names = [f.c_name for f in obj(api, "api_t").fields]
        self.assertEqual(names, ["x", "has_x_2", "int_", "a_b", "a_b_2"])

    def test_inline_types_are_named_after_parent_and_property(self):
        api = build(schemas("""
            Error:
              type: object
              properties:
                error:
                  type: object
                  properties:
                    code: {type: string, enum: [A, b-c]}
                    details:
                      type: array
                      items: {type: object, properties: {f: {type: string}}}
        """))
        self.assertEqual(sorted(o.name for o in api.objects),
                         ["api_error", "api_error_error", "api_error_error_details"])
        (e,) = api.enums
        self.assertEqual(e.name, "api_error_error_code")
        self.assertEqual([v.c_name for v in e.values],
                         ["API_ERROR_ERROR_CODE_A", "API_ERROR_ERROR_CODE_B_C"])

    def test_operation_without_id_and_colliding_ids(self):
        api = build("""
            paths:
              /a/{id}:
                parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
                get: {responses: {'204': {description: x}}}
              /b:
                get: {operationId: getB, responses: {'204': {description: x}}}
                post: {operationId: get_b, responses: {'204': {description: x}}}
        """)
        self.assertEqual([o.svc_name for o in api.ops], ["svc_get_a_id", "svc_get_b", "svc_get_b_2"])
        self.assertEqual(api.ops[0].label, "GET /a/{id}")


# ---------------------------------------------------------------- patterns

class PatternTest(unittest.TestCase):
    def allowed(self, bp):
        return {b for b in range(256) if bp.words[b >> 6] >> (b & 63) & 1}

    def test_alnum(self):
        bp = patterns.compile_pattern("^[A-Za-z0-9]+$")
        self.assertEqual(self.allowed(bp), set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"))
        self.assertEqual(bp.words, (0x03FF000000000000, 0x07FFFFFE07FFFFFE, 0, 0))
        self.assertEqual((bp.min_count, bp.max_count), (1, None))
        self.assertEqual(bp.reason, "must contain only letters and digits")

    def test_escapes_ranges_and_quantifiers(self):
        bp = patterns.compile_pattern(r"^[\d\-.a-c_]{2,5}$")
        self.assertEqual(self.allowed(bp), set(b"0123456789-.abc_"))
        self.assertEqual((bp.min_count, bp.max_count), (2, 5))
        self.assertEqual(bp.reason, r"must match pattern ^[\d\-.a-c_]{2,5}$")
        bp = patterns.compile_pattern(r"^\w*$")
        self.assertEqual((bp.min_count, bp.max_count), (0, None))
        self.assertIn(ord("_"), self.allowed(bp))
        bp = patterns.compile_pattern("^[0-9]{4}$")
        self.assertEqual((bp.min_count, bp.max_count), (4, 4))
        self.assertEqual(patterns.compile_pattern("^[a-z]{3,}$").max_count, None)

    def test_trailing_dash_is_literal(self):
        self.assertEqual(self.allowed(patterns.compile_pattern("^[a-b-]+$")), set(b"ab-"))

    def test_negated_class_allows_non_ascii_and_counts_code_points(self):
        bp = patterns.compile_pattern(r"^[^\s/]+$")
        got = self.allowed(bp)
        self.assertNotIn(ord(" "), got)
        self.assertNotIn(ord("/"), got)
        self.assertIn(0xC3, got)
        self.assertTrue(bp.count_code_points)

    def test_unsupported(self):
        for src in ["^(a|b)+$", "[a-z]+", "^[a-z]+", "^a+$", "^[é]+$", "^[z-a]+$",
                    "^[a-z]{5,2}$", r"^[\p{L}]+$", "^[]+$", "^[[:alpha:]]+$"]:
            with self.assertRaises(patterns.PatternError, msg=src):
                patterns.compile_pattern(src)

    def test_other_patterns_go_to_pcre2_and_broken_ones_name_their_pointer(self):
        api = build(schemas("""
            Username: {type: string, pattern: '^(ab|cd)+$'}
            T:
              type: object
              properties: {u: {$ref: '#/components/schemas/Username'}}
        """))
        pat = field(obj(api, "api_t"), "u").shape.checks[0].pattern
        self.assertTrue(pat.regex)
        self.assertEqual(pat.regex_c, '"^(ab|cd)+$"')
        with self.assertRaises(SpecError) as cm:
            build(schemas("""
                Username: {type: string, pattern: '^(ab|cd+$'}
                T:
                  type: object
                  properties: {u: {$ref: '#/components/schemas/Username'}}
            """))
        self.assertEqual(cm.exception.pointer, "/components/schemas/Username/pattern")
        self.assertIn("^(ab|cd+$", cm.exception.message)

    def test_same_pattern_compiled_once(self):
        api = build(schemas("""
            A: {type: object, properties: {x: {type: string, pattern: '^[a-z]+$'}}}
            B: {type: object, properties: {y: {type: string, pattern: '^[a-z]+$'}}}
        """))
        self.assertEqual([p.set_name for p in api.types_patterns], ["api__set_0"])


# ---------------------------------------------------------------- the CLI

MINI = spec_text("""
    paths:
      /things/{id}:
        get:
          operationId: getThing
          summary: Get a thing
          parameters: [{name: id, in: path, required: true, schema: {type: integer, minimum: 1}}]
          responses:
            '200':
              description: ok
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/Thing'}
    components:
      schemas:
        Thing:
          type: object
          required: [id]
          properties:
            id: {type: integer}
            name: {type: string, maxLength: 5}
""")

GENERATED = ["api.gen.h", "api_router.gen.c", "api_spec.gen.c", "api_types.gen.c",
             "operations.gen.tsv"]


class CliTest(TempProject):
    def test_generates_every_file_with_banner(self):
        self.write_spec(MINI)
        r = self.run_gen("--spec", "api/openapi.yaml", "--out", "generated")
        self.assertEqual(r.returncode, 0, r.stderr)
        files = self.read_out()
        self.assertEqual(sorted(files), GENERATED)
        for name in GENERATED:
            if name.endswith(".tsv"):
                continue
            text = files[name].decode()
            self.assertIn("generated by codegen/generate.py from api/openapi.yaml. DO NOT EDIT", text)
            self.assertIn('#if RT_ABI != 1\n#error "generated code does not match the runtime ABI; '
                          'run make generate"\n#endif', text)
            self.assertNotIn(self.dir, text)
        self.assertEqual(files["operations.gen.tsv"], b"svc_get_thing\tgetThing\tGET /things/{id}\n")

    def test_deterministic_and_independent_of_cwd(self):
        self.write_spec(MINI)
        self.assertEqual(self.run_gen("--spec", "api/openapi.yaml", "--out", "generated").returncode, 0)
        first = self.read_out()
        shutil.rmtree(self.out)
        r = self.run_gen("--spec", os.path.join(self.dir, "api", "openapi.yaml"),
                         "--out", self.out, cwd="/")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.read_out(), first)

    def test_only_changed_files_are_rewritten(self):
        self.write_spec(MINI)
        self.run_gen("--spec", "api/openapi.yaml", "--out", "generated")
        before = {n: os.stat(os.path.join(self.out, n)).st_mtime_ns for n in GENERATED}
        for n in GENERATED:
            os.utime(os.path.join(self.out, n), ns=(1, 1))
        r = self.run_gen("--spec", "api/openapi.yaml", "--out", "generated")
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stdout, "")
        for n in GENERATED:
            self.assertEqual(os.stat(os.path.join(self.out, n)).st_mtime_ns, 1, n)
        # A summary change touches the header and the router only.
        self.write_spec(MINI.replace("Get a thing", "Fetch a thing"))
        r = self.run_gen("--spec", "api/openapi.yaml", "--out", "generated")
        changed = sorted(line.split("/")[-1] for line in r.stdout.split())
        self.assertEqual([c for c in changed if c != "wrote"],
                         ["api.gen.h", "api_router.gen.c", "api_spec.gen.c"])
        self.assertTrue(before)

    def test_check_detects_drift(self):
        self.write_spec(MINI)
        self.run_gen("--spec", "api/openapi.yaml", "--out", "generated")
        r = self.run_gen("--spec", "api/openapi.yaml", "--out", "generated", "--check")
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.out, "api_types.gen.c"), "ab") as f:
            f.write(b"/* edited */\n")
        os.remove(os.path.join(self.out, "operations.gen.tsv"))
        r = self.run_gen("--spec", "api/openapi.yaml", "--out", "generated", "--check")
        self.assertEqual(r.returncode, 1)
        self.assertIn("api_types.gen.c", r.stderr)
        self.assertIn("operations.gen.tsv", r.stderr)
        self.assertNotIn("api.gen.h", r.stderr)
        # --check never writes.
        self.assertFalse(os.path.exists(os.path.join(self.out, "operations.gen.tsv")))

    def test_exit_codes(self):
        self.write_spec(MINI)
        self.assertEqual(self.run_gen("--help").returncode, 0)
        self.assertIn("--check", self.run_gen("--help").stdout)
        self.assertEqual(self.run_gen().returncode, 2)
        self.assertEqual(self.run_gen("--spec", "api/openapi.yaml").returncode, 2)
        self.assertEqual(self.run_gen("--spec", "api/missing.yaml", "--out", "generated").returncode, 2)
        self.assertEqual(self.run_gen("--spec", "api/openapi.yaml", "--out", "g", "--bogus").returncode, 2)
        bad = self.write_spec(MINI.replace("maxLength: 5", "pattern: '^(x$'"), "bad.yaml")
        # An unsupported construct: a warning naming it, what uses it left out, exit 0 ...
        r = self.run_gen("--spec", bad, "--out", "generated")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("#/components/schemas/Thing/properties/name/pattern: warning:", r.stderr)
        self.assertIn("left out", r.stderr)
        # ... and an error with --strict.
        r = self.run_gen("--spec", bad, "--out", "generated", "--strict")
        self.assertEqual(r.returncode, 1)
        self.assertIn("#/components/schemas/Thing/properties/name/pattern", r.stderr)
        self.assertNotIn("Traceback", r.stderr)
        dangling = self.write_spec(MINI.replace("maxLength: 5", "$ref: '#/nowhere'"), "dangling.yaml")
        r = self.run_gen("--spec", dangling, "--out", "generated")
        self.assertEqual(r.returncode, 1)
        self.assertIn("points nowhere", r.stderr)
        broken = self.write_spec("openapi: 3.0.3\npaths: [\n", "broken.yaml")
        r = self.run_gen("--spec", broken, "--out", "generated")
        self.assertEqual(r.returncode, 1)
        self.assertNotIn("Traceback", r.stderr)

    def test_fast(self):
        # The generator's CPU time (not wall time, so a busy machine cannot
        # fail it): seconds, not minutes; about 0.3 s here.
        import resource

        def child_cpu():
            ru = resource.getrusage(resource.RUSAGE_CHILDREN)
            return ru.ru_utime + ru.ru_stime
        start = child_cpu()
        r = self.run_gen("--spec", os.path.join(ROOT, "api", "openapi.yaml"), "--out", self.out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertLess(child_cpu() - start, 5.0)


# ---------------------------------------------------------------- our spec

OUR_OPERATIONS = """\
svc_get_healthz\tgetHealthz\tGET /healthz
svc_get_readyz\tgetReadyz\tGET /readyz
svc_create_user\tcreateUser\tPOST /users
svc_list_users\tlistUsers\tGET /users
svc_get_user\tgetUser\tGET /users/{id}
svc_update_user\tupdateUser\tPATCH /users/{id}
svc_delete_user\tdeleteUser\tDELETE /users/{id}
"""

OUR_PROTOTYPES = [
    "rt_status svc_get_healthz(rt_req *req, api_get_healthz_result *res);",
    "rt_status svc_get_user(rt_req *req, const api_get_user_params *params, api_get_user_result *res);",
    "rt_status svc_create_user(rt_req *req, api_new_user *body, api_create_user_result *res);",
    "rt_status svc_update_user(rt_req *req, const api_update_user_params *params, "
    "api_user_patch *body, api_update_user_result *res);",
    "rt_status svc_list_users(rt_req *req, const api_list_users_params *params, "
    "api_list_users_result *res);",
    "rt_status svc_delete_user(rt_req *req, const api_delete_user_params *params, "
    "api_delete_user_result *res);",
    "rt_status svc_get_readyz(rt_req *req, api_get_readyz_result *res);",
    "void api_dispatch(rt_req *req, rt_resp *resp);",
    "/* createUser: POST /users - Create a user */",
    "#define API_DECODE_ENOMEM (-100)",
    "int api_new_user_decode(rt_json_dec *d, rt_arena *a, rt_path *p, rt_errs *e, api_new_user *out);",
    "void api_user_validate(const api_user *v, rt_path *p, rt_errs *e);",
    "void api_user_list_encode(const api_user_list *v, rt_buf *b);",
    "extern const char api_spec_yaml[];",
    "extern const size_t api_spec_json_len;",
]

OUR_STRUCTS = {
    "api_health": "    api_health_status status;\n",
    "api_new_user": "    rt_str username;\n    rt_str email;\n",
    "api_user_patch": "    bool has_username;\n    rt_str username;\n    bool has_email;\n    rt_str email;\n",
    "api_user": "    int64_t id;\n    rt_str username;\n    rt_str email;\n"
                "    int64_t created_at; /* microseconds since the epoch, UTC */\n"
                "    int64_t updated_at; /* microseconds since the epoch, UTC */\n",
    "api_user_list": "    api_user *items;\n    size_t items_len;\n    bool next_after_is_null;\n"
                     "    int64_t next_after;\n",
    "api_list_users_params": "    int32_t limit; /* query, default 20 */\n    bool has_after;\n"
                             "    int64_t after; /* query, optional */\n",
    "api_create_user_result": "    int status;\n    rt_str raw;\n    api_user body_201;\n"
                              "    api_error body_400;\n    api_error body_409;\n    api_error body_413;\n"
                              "    api_error body_415;\n    api_error body_503;\n    api_error body_504;\n"
                              "    rt_str header_location; /* Location header, sent when ptr is set */\n",
}


class OurSpecTest(TempProject):
    @classmethod
    def setUpClass(cls):
        # The same layout as the project (api/ beside generated/), so the
        # banners name api/openapi.yaml and the output can be compared.
        cls.tmp = tempfile.mkdtemp(prefix="codegen-ours-")
        os.makedirs(os.path.join(cls.tmp, "api"))
        shutil.copy(os.path.join(ROOT, "api", "openapi.yaml"), os.path.join(cls.tmp, "api"))
        r = subprocess.run([sys.executable, GENERATE, "--spec", "api/openapi.yaml", "--out", "generated"],
                           cwd=cls.tmp, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        cls.files = {}
        for name in os.listdir(os.path.join(cls.tmp, "generated")):
            with open(os.path.join(cls.tmp, "generated", name), "rb") as f:
                cls.files[name] = f.read().decode()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_operations(self):
        self.assertEqual(self.files["operations.gen.tsv"], OUR_OPERATIONS)

    def test_public_names(self):
        header = self.files["api.gen.h"]
        for proto in OUR_PROTOTYPES:
            self.assertIn(proto, header)
        self.assertIn("    API_HEALTH_STATUS_OK,\n", header)
        for name, body in OUR_STRUCTS.items():
            opener = ("struct %s {\n" % name) if not name.endswith(("_params", "_result")) \
                else ("typedef struct %s {\n" % name)
            self.assertIn(opener + body + "}", header, name)

    def test_checked_in_output_is_current(self):
        committed = os.path.join(ROOT, "generated")
        if not os.path.isdir(committed):
            self.skipTest("no generated/ yet")
        for name, text in self.files.items():
            path = os.path.join(committed, name)
            self.assertTrue(os.path.exists(path), name)
            with open(path, encoding="utf-8") as f:
                self.assertEqual(f.read(), text, "generated/%s is stale: run make generate" % name)

    def test_spec_json_is_the_document(self):
        import json
        src = self.files["api_spec.gen.c"]
        self.assertIn('"openapi: 3.0.3\\n"', src)
        self.assertIn("_Static_assert(sizeof api_spec_yaml == %d + 1"
                      % os.path.getsize(os.path.join(ROOT, "api", "openapi.yaml")), src)
        doc = spec_loader.load_spec(os.path.join(ROOT, "api", "openapi.yaml")).doc
        want = len(json.dumps(doc, indent=2, ensure_ascii=False).encode())
        self.assertIn("_Static_assert(sizeof api_spec_json == %d + 1" % want, src)


# ---------------------------------------------------------------- C output compiles

RICH = spec_text("""
    paths:
      /items/{kind}/{id}:
        parameters:
          - {name: kind, in: path, required: true, schema: {type: string, enum: [a, b-c]}}
          - {name: id, in: path, required: true,
             schema: {type: integer, format: int32, exclusiveMinimum: 0, maximum: 1000, multipleOf: 2}}
        put:
          operationId: putItem
          parameters:
            - {name: verbose, in: query, schema: {type: boolean, default: false}}
            - {name: since, in: query, schema: {type: string, format: date-time}}
            - {name: tag, in: query, required: true,
               schema: {type: string, minLength: 2, maxLength: 2, pattern: '^[a-z]{2}$'}}
            - {name: X-Trace, in: header, schema: {type: string, pattern: '^[^\\s]*$'}}
            - {name: mode, in: query, schema: {type: string, enum: [fast, slow], default: slow}}
          requestBody:
            content:
              application/json:
                schema: {$ref: '#/components/schemas/Item'}
          responses:
            '200':
              description: ok
              content:
                application/json:
                  schema: {type: array, items: {$ref: '#/components/schemas/Item'}}
            '202':
              description: accepted
              headers:
                Retry-After: {schema: {type: integer}}
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      when: {type: [string, 'null'], format: date-time}
            default: {description: err}
      /:
        get:
          responses:
            '204': {description: none}
      /p/{name}:
        get:
          parameters: [{name: name, in: path, required: true, schema: {type: string}}]
          responses:
            '200':
              description: ok
              content:
                application/json:
                  schema: {type: array, items: {type: string, format: date-time}}
    components:
      schemas:
        Color:
          type: string
          enum: [red, green, "", "with space", "x\\"y??="]
        Item:
          type: object
          additionalProperties: false
          minProperties: 2
          maxProperties: 5
          required: [name, "a/b~c"]
          properties:
            name: {type: string, maxLength: 10, pattern: '^[\\w\\-.]+$'}
            "a/b~c": {type: integer, minimum: -5, exclusiveMaximum: 5}
            score: {type: [number, 'null'], minimum: 0.5, maximum: 99.5}
            ratio: {type: number, exclusiveMinimum: 0, enum: [0.25, 0.5]}
            flags: {type: array, minItems: 1, maxItems: 4, items: {type: boolean}}
            tags: {type: array, items: {type: string, minLength: 1, format: uuid}}
            colors: {type: [array, 'null'], items: {$ref: '#/components/schemas/Color'}}
            color: {$ref: '#/components/schemas/Color'}
            level: {type: integer, format: int32, enum: [1, 2, 3]}
            when: {type: string, format: date}
            stamps: {type: array, items: {type: string, format: date-time}}
            child:
              type: object
              properties:
                deep: {type: string, pattern: '^[0-9]*$'}
                more: {type: array, items: {$ref: '#/components/schemas/Item'}}
            kids:
              type: array
              items: {type: object, required: [n], properties: {n: {type: integer}}}
            int: {type: boolean, writeOnly: true}
            has_int: {type: string, readOnly: true}
            "": {type: string}
            "\\u00e9*/": {type: string}
        Opt:
          type: object
          properties:
            a: {type: string}
            b: {type: integer, nullable: false}
            c: {type: boolean}
""", version="3.1.0")


@unittest.skipUnless(CC and os.path.isfile(os.path.join(RUNTIME, "rt.h")), "needs a C compiler and src/runtime")
class CompileTest(TempProject):
    def compile_all(self):
        for name in ("api_types.gen.c", "api_router.gen.c", "api_spec.gen.c"):
            r = subprocess.run([CC] + CFLAGS + ["-I", RUNTIME, "-I", self.out, os.path.join(self.out, name)],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, 0, "%s:\n%s" % (name, r.stderr))

    def test_rich_spec_compiles_without_warnings(self):
        self.write_spec(RICH)
        r = self.run_gen("--spec", "api/openapi.yaml", "--out", "generated")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.compile_all()
        types = self.read_out()["api_types.gen.c"].decode()
        self.assertIn("bool more = false;", types)  # Opt: only optional fields
        self.assertIn('"must be one of: 0.25, 0.5"', types)

    def test_corpus_generates_and_compiles(self):
        """Every shared OpenAPI document generates code that compiles (what it
        cannot support is left out with a warning naming its JSON pointer),
        or fails with exit 1 and a JSON pointer - never a traceback."""
        docs = [os.path.join(d, n) for d in CORPORA if os.path.isdir(d)
                for n in sorted(os.listdir(d)) if n.endswith((".yaml", ".json"))]
        if not docs:
            self.skipTest("no ../shared/testdata")
        generated = 0
        for doc in docs:
            with self.subTest(doc=os.path.basename(doc)):
                spec = os.path.join(self.dir, "api", os.path.basename(doc))
                shutil.copy(doc, spec)
                if os.path.isdir(self.out):
                    shutil.rmtree(self.out)
                r = self.run_gen("--spec", spec, "--out", self.out)
                self.assertIn(r.returncode, (0, 1), r.stderr)
                self.assertNotIn("Traceback", r.stderr)
                if r.returncode == 1:
                    self.assertRegex(r.stderr, r"#/.*: ")
                else:
                    generated += 1
                    for line in r.stderr.splitlines():
                        self.assertRegex(line, r"#/.*: warning: ")
                    self.compile_all()
        # ../shared/testdata/openapi/ must generate entirely (the extras too, today).
        self.assertEqual(generated, len(docs))


if __name__ == "__main__":
    unittest.main()
