"""Tests of codegen/conformance*.py: the instance synthesizer, its model of
the generated checks (the oracle), the regex walker, example warnings and
the suite the generator writes.

Run from the project root:
    /usr/bin/python3 -m unittest discover -s tests/codegen
The C side (building and running the suites) is exercised by make test
(scripts/test.d/30-conformance.sh) and `make conformance SPEC=...`.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CODEGEN = os.path.join(ROOT, "codegen")
GENERATE = os.path.join(CODEGEN, "generate.py")
sys.path.insert(0, CODEGEN)
sys.dont_write_bytecode = True

import conformance as cf  # noqa: E402
import conformance_regex as cre  # noqa: E402
import emit  # noqa: E402
import ir_build  # noqa: E402
import spec_loader  # noqa: E402


def load(body, version="3.0.3"):
    text = "openapi: %s\ninfo: {title: T, version: '1'}\n" % version + textwrap.dedent(body)
    data = text.encode()
    return spec_loader.Spec(spec_loader.parse_document(data, "test.yaml"), data)


def suite_of(body, version="3.0.3"):
    spec = load(body, version)
    api = ir_build.build_api(spec, "api/test.yaml")
    return cf.Suite(spec, api, "test.yaml").build()


USERS = """
paths:
  /things/{id}:
    get:
      operationId: getThing
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer, format: int32, minimum: 1, maximum: 500}}
        - {name: mode, in: query, required: true, schema: {type: string, enum: [fast, slow]}}
        - {name: X-Trace, in: header, schema: {type: string, minLength: 2, maxLength: 8}}
        - {name: when, in: query, schema: {type: string, format: date-time}}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Thing'}
  /things:
    post:
      operationId: makeThing
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Thing'}
            example: {name: abc, size: 3, tags: [x]}
      responses:
        '201': {description: made}
components:
  schemas:
    Thing:
      type: object
      additionalProperties: false
      required: [name, size]
      properties:
        name: {type: string, minLength: 3, maxLength: 10, pattern: '^[a-z]+$'}
        size: {type: integer, minimum: 0, maximum: 100, multipleOf: 3}
        ratio: {type: number, exclusiveMinimum: true, minimum: 0, maximum: 1}
        email: {type: string, format: email}
        at: {type: string, format: date-time}
        kind: {type: string, enum: [a, b, c]}
        tags: {type: array, minItems: 1, maxItems: 3, items: {type: string, maxLength: 4}}
        note: {type: string, nullable: true}
        flag: {type: boolean}
        child: {$ref: '#/components/schemas/Child'}
      example: {name: abcd, size: 6}
    Child:
      type: object
      minProperties: 1
      properties:
        id: {type: integer, format: int64}
        label: {type: string, maxLength: 5}
"""


class Helpers(unittest.TestCase):
    def test_email_of_length_is_exact_and_valid(self):
        for n in list(range(6, 80)) + [200, 254]:
            s = cf.email_of_length(n)
            self.assertIsNotNone(s, n)
            self.assertEqual(len(s), n)
            self.assertTrue(cf.is_email(s), s)
        self.assertIsNone(cf.email_of_length(5))
        self.assertIsNone(cf.email_of_length(255))

    def test_email_model(self):
        for good in ["a@b.co", "x.y+z@example.org", "user@sub-domain.example.com"]:
            self.assertTrue(cf.is_email(good), good)
        for bad in ["", "a", "@b.co", "a@", "a@b", "a..b@c.de", ".a@b.co", "a@-b.co",
                    "a@b.123", "a@@b.co", "a b@c.de"]:
            self.assertFalse(cf.is_email(bad), bad)

    def test_datetime_normalised_like_the_encoder(self):
        cases = {
            "2024-01-02T03:04:05Z": "2024-01-02T03:04:05.000000Z",
            "2024-07-08T23:59:58.5+02:00": "2024-07-08T21:59:58.500000Z",
            "2024-12-31T23:30:00.123456789-01:00": "2025-01-01T00:30:00.123456Z",
            "1969-12-31T23:59:59.9Z": "1969-12-31T23:59:59.900000Z",
            "2016-12-31t23:59:60z": "2017-01-01T00:00:00.000000Z",
        }
        for text, want in cases.items():
            self.assertEqual(cf.format_datetime(cf.parse_datetime(text)), want, text)
        for bad in ["yesterday", "2024-02-30T00:00:00Z", "2024-01-02T03:04:05", "2024-01-02 03:04:05Z",
                    "2024-01-02T24:00:00Z", "2024-01-02T03:04:05.Z", "2024-01-02T03:04:05.1234567890Z"]:
            self.assertIsNone(cf.parse_datetime(bad), bad)

    def test_to_json_keeps_fractions_and_duplicates(self):
        self.assertEqual(cf.to_json(5.0), "5.0")
        self.assertEqual(cf.to_json({"a": [1, True, None, "é\n"]}), '{"a":[1,true,null,"é\\n"]}')
        self.assertEqual(cf.to_json(cf.Pairs([("a", 1), ("a", 2)])), '{"a":1,"a":2}')

    def test_lit_value(self):
        self.assertEqual(cf.lit_value("INT64_MIN"), -2**63)
        self.assertEqual(cf.lit_value("INT64_C(9223372036854775807)"), 2**63 - 1)
        self.assertEqual(cf.lit_value("-5"), -5)
        self.assertEqual(cf.lit_value("1.5"), 1.5)

    def test_merge_drops_findings_below_a_decode_error(self):
        got = cf.merge([("/a", "is required")], [("/a", "too short"), ("/a/b", "x"), ("/ab", "y"), ("", "z")])
        self.assertEqual(got, [("/a", "is required"), ("/ab", "y"), ("", "z")])


class Regex(unittest.TestCase):
    def test_walker_strings_match(self):
        for src in [r"^[A-Za-z0-9]+$", r"^\d{3}-\d{4}$", r"^(foo|bar)+baz$", r"[a-f0-9]{8}",
                    r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", r"^(\+|-)?\d+(\.\d{1,2})?$", r"^[A-Z]{2}[0-9]{2}$"]:
            got = cre.matching(src)
            self.assertTrue(got, src)
            for s in got:
                self.assertIsNotNone(re.search(src, s), (src, s))

    def test_repeat_count_is_honoured_within_bounds(self):
        got = cre.matching(r"^[a-z]{2,5}$", reps_list=[1, 4, 9])
        self.assertEqual(sorted({len(s) for s in got}), [2, 4, 5])

    def test_unreadable_pattern_is_reported(self):
        with self.assertRaises(cre.RegexUnsupported):
            cre.matching(r"^\p{L}+$")


class Synthesis(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.suite = suite_of(USERS)
        cls.spec = cls.suite.spec
        cls.api = cls.suite.api

    def obj(self, name):
        return next(o for o in self.api.objects if o.name == name)

    def test_min_and_max_instances_are_valid(self):
        syn = self.suite.synth
        for o in self.api.objects:
            for mode in ("min", "max"):
                v = syn.valid_obj(o, mode, 0)
                self.assertEqual(self.suite.oracle.obj_errors(o, v), [], (o.label, mode, v))
        thing = self.obj("api_thing")
        vmin = syn.valid_obj(thing, "min", 0)
        self.assertEqual(set(vmin), {"name", "size"})
        self.assertEqual(vmin["size"] % 3, 0)
        vmax = syn.valid_obj(thing, "max", 0)
        self.assertEqual(set(vmax), {f.json_name for f in thing.fields})
        self.assertTrue(1 <= len(vmax["tags"]) <= 3)
        self.assertTrue(0 < vmax["ratio"] <= 1)

    def test_every_negative_breaks_exactly_one_constraint(self):
        negs = self.suite.synth.obj_negatives(self.obj("api_thing"))
        errs = [e for _, _, e in negs]
        self.assertEqual(len(errs), len(set(errs)))
        def pairs(p):
            return cf.Pairs(p) if len({k for k, _ in p}) != len(p) else dict(p)

        for label, text, err in negs:
            got = self.suite.oracle.obj_errors(self.obj("api_thing"), json.loads(text, object_pairs_hook=pairs))
            self.assertEqual(got, [err], label)
        want = {
            ("", "must be an object"), ("/name", "is required"), ("/size", "is required"),
            ("/name", "must be at least 3 characters"), ("/name", "must be at most 10 characters"),
            ("/size", "must be a multiple of 3"), ("/size", "must be an integer"),
            ("/ratio", "must be a number"), ("/email", "must be a valid email address"),
            ("/at", "must be an RFC 3339 date-time"), ("/kind", "must be one of: a, b, c"),
            ("/tags", "must have at least 1 item"), ("/tags", "must have at most 3 items"),
            ("/tags/0", "must be at most 4 characters"), ("/note", "must be a string"),
            ("/flag", "must be a boolean"), ("/conformance_unknown", "unknown field"),
            ("/name", "duplicate field"), ("/child", "must have at least 1 property"),
        }
        self.assertTrue(want <= set(errs), sorted(want - set(errs)))
        # a sample of the nested type's own negatives, under the field's pointer
        self.assertTrue(any(p.startswith("/child/") for p, _ in errs), errs)
        reasons = {r for p, r in errs if p == "/size"}
        self.assertTrue(any(r.startswith("must be") and ("0" in r or "100" in r) for r in reasons), reasons)
        self.assertIn(("/name", self.obj("api_thing").fields[0].shape.checks[1].pattern.reason), errs)

    def test_cases_notes_and_example_round_trip(self):
        kinds = self.suite.counts()
        self.assertGreater(kinds["roundtrip"], 4)
        self.assertGreater(kinds["reject"], 30)
        self.assertGreater(kinds["params"], 10)
        labels = [c.label for c in self.suite.cases]
        self.assertTrue(any("example #/components/schemas/Thing/example" in x for x in labels), labels)
        self.assertTrue(any("example #/paths/~1things/post/requestBody/content/application~1json/example" in x
                            for x in labels), labels)
        self.assertEqual(self.suite.warnings, [])

    def test_request_cases(self):
        reqs = [c for c in self.suite.cases if c.kind == "params"]
        details = [c.detail for c in reqs if c.detail]
        for want in ['{"field":"path.id","reason":"must be an integer"}',
                     '{"field":"path.id","reason":"out of range"}',
                     '{"field":"query.mode","reason":"is required"}',
                     '{"field":"query.mode","reason":"must be one of: fast, slow"}',
                     '{"field":"header.X-Trace","reason":"must be at least 2 characters"}',
                     '{"field":"query.when","reason":"must be an RFC 3339 date-time"}']:
            self.assertIn(want, details)
        ok = [c for c in reqs if c.status == 409]
        self.assertEqual(len(ok), 2)
        get = next(c for c in ok if c.req.startswith("GET "))
        self.assertRegex(get.req, r"^GET /things/[1-9][0-9]*\?mode=(fast|slow)")
        post = next(c for c in ok if c.req.startswith("POST "))
        self.assertIn("Content-Type: application/json", post.req)
        self.assertTrue(any(c.code == "BAD_REQUEST" and "Content-Length: 0" in c.req for c in reqs))

    def test_stubs_parse_prototypes(self):
        files = emit.render(self.api)
        stubs = cf.stubs_from_header(files["api.gen.h"].decode())
        names = {s["name"]: s for s in stubs}
        self.assertEqual(set(names), {"svc_get_thing", "svc_make_thing"})
        self.assertEqual(names["svc_make_thing"]["req"], "req")
        self.assertIn("body", names["svc_make_thing"]["unused"])


POLY = """
paths:
  /pets:
    get:
      operationId: listPets
      parameters:
        - {name: tags, in: query, required: true, schema: {type: array, minItems: 1, maxItems: 3, items: {type: integer, minimum: 0}}}
        - {name: ids, in: query, explode: false, schema: {type: array, items: {type: string, enum: [a, b]}}}
        - {name: session, in: cookie, required: true, schema: {type: string, minLength: 4}}
        - {name: weight, in: query, schema: {type: number, maximum: 10.5}}
      responses:
        '200': {description: ok}
    post:
      operationId: addPet
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Pet'}
      responses:
        '201': {description: made}
  /shapes:
    put:
      operationId: putShape
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Shape'}
      responses:
        '204': {description: done}
components:
  schemas:
    Pet:
      oneOf: [{$ref: '#/components/schemas/Cat'}, {$ref: '#/components/schemas/Dog'}]
      discriminator: {propertyName: kind, mapping: {cat: '#/components/schemas/Cat', dog: '#/components/schemas/Dog'}}
    Cat:
      type: object
      required: [kind, name]
      properties:
        kind: {type: string}
        name: {type: string, maxLength: 8}
        lives: {type: integer, minimum: 1, maximum: 9}
    Dog:
      type: object
      required: [kind, name]
      properties:
        kind: {type: string}
        name: {type: string}
        tricks: {type: array, uniqueItems: true, items: {type: string}}
    Shape:
      oneOf:
        - {$ref: '#/components/schemas/Circle'}
        - {$ref: '#/components/schemas/Square'}
    Circle:
      type: object
      required: [radius]
      properties:
        radius: {type: number, exclusiveMinimum: true, minimum: 0}
        label: {type: string}
    Square:
      type: object
      required: [side]
      properties:
        side: {type: number, multipleOf: 0.5}
        label: {type: string}
    Scores:
      type: object
      properties:
        name: {type: string}
      additionalProperties: {type: integer, maximum: 100}
"""


class Polymorphism(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.suite = suite_of(POLY)

    def test_no_synthesizer_error(self):
        self.assertEqual(self.suite.errors, [])

    def test_unions_round_trip_every_alternative(self):
        labels = [c.label for c in self.suite.cases if c.kind == "roundtrip"]
        for want in ("Pet: Cat min", "Pet: Dog max", "Shape: Circle min", "Shape: Square max"):
            self.assertIn(want, labels)
        cat = next(c for c in self.suite.cases if c.label == "Pet: Cat min")
        self.assertEqual(json.loads(cat.input)["kind"], "cat")

    def test_union_negatives(self):
        errs = {c.err for c in self.suite.cases if c.kind == "reject"}
        self.assertIn(("/kind", "is required"), errs)
        self.assertIn(("/kind", "must be one of: cat, dog"), errs)
        self.assertTrue(any(r.startswith("must match exactly one of: Circle, Square") for _, r in errs), errs)
        self.assertIn(("/tricks", "must not contain the same item twice"), errs)
        self.assertIn(("/extra_0", "must be <= 100"), errs)
        self.assertIn(("/side", "must be a multiple of 0.5"), errs)

    def test_map_entries_round_trip(self):
        c = next(c for c in self.suite.cases if c.label == "Scores: max")
        self.assertIn("extra_0", json.loads(c.expect))

    def test_array_and_cookie_parameters(self):
        reqs = [c for c in self.suite.cases if c.kind == "params" and c.req.startswith("GET /pets")]
        ok = next(c for c in reqs if c.status == 409)
        self.assertRegex(ok.req, r"\?tags=0(&|\s)")
        self.assertIn("Cookie: session=", ok.req)
        details = {c.detail for c in reqs if c.detail}
        for want in ['{"field":"query.tags","reason":"is required"}',
                     '{"field":"query.tags","reason":"must be >= 0"}',
                     '{"field":"query.tags","reason":"must have at most 3 items"}',
                     '{"field":"query.ids","reason":"must be one of: a, b"}',
                     '{"field":"cookie.session","reason":"is required"}',
                     '{"field":"cookie.session","reason":"must be at least 4 characters"}',
                     '{"field":"query.weight","reason":"must be a number"}']:
            self.assertIn(want, details)

    def test_path_styles_and_delimited_queries(self):
        suite = suite_of("""
            paths:
              /l/{id}:
                get:
                  operationId: labelStyle
                  parameters:
                    - {name: id, in: path, required: true, style: label, schema: {type: integer, minimum: 1}}
                  responses: {'204': {description: ok}}
              /m/{tags}:
                get:
                  operationId: matrixStyle
                  parameters:
                    - {name: tags, in: path, required: true, style: matrix, explode: true, schema: {type: array, items: {type: integer}}}
                  responses: {'204': {description: ok}}
              /q:
                get:
                  operationId: delimited
                  parameters:
                    - {name: p, in: query, required: true, style: pipeDelimited, explode: false, schema: {type: array, maxItems: 2, items: {type: integer}}}
                  responses: {'204': {description: ok}}
            """)
        first = {c.req.split("\r\n")[0] for c in suite.cases}
        for want in ("GET /l/.1 HTTP/1.1", "GET /l/x1 HTTP/1.1", "GET /m/;tags=0 HTTP/1.1",
                     "GET /m/;tags=abc HTTP/1.1", "GET /q?p=0%7C0%7C0 HTTP/1.1"):
            self.assertIn(want, first)
        details = {c.detail for c in suite.cases if c.detail}
        self.assertIn('{"field":"path.id","reason":"must start with \'.\' (label style)"}', details)
        self.assertIn('{"field":"query.p","reason":"must have at most 2 items"}', details)


class Examples(unittest.TestCase):
    def test_example_that_breaks_its_schema_is_a_warning(self):
        suite = suite_of("""
            paths: {}
            components:
              schemas:
                Pet:
                  type: object
                  required: [name]
                  properties:
                    name: {type: string, maxLength: 3}
                    age: {type: integer, example: old}
                  example: {name: Rexford}
            """)
        self.assertEqual(len(suite.warnings), 2, suite.warnings)
        self.assertIn("test.yaml#/components/schemas/Pet/example: warning: example does not match "
                      "its schema: /name must be at most 3 characters", suite.warnings)
        self.assertTrue(any("#/components/schemas/Pet/properties/age/example" in w and
                            "must be an integer" in w for w in suite.warnings), suite.warnings)
        self.assertFalse(any("example" in c.label for c in suite.cases))

    def test_unbreakable_constraint_is_noted_with_a_reason(self):
        suite = suite_of("""
            paths: {}
            components:
              schemas:
                A:
                  type: object
                  properties:
                    e: {type: string, format: email, maxLength: 254}
            """)
        self.assertTrue(any("must be at most 254 characters" in n and "alone" in n for n in suite.notes),
                        suite.notes)

    def test_pattern_the_synthesizer_cannot_read_is_a_note_with_its_reason(self):
        suite = suite_of("""
            paths: {}
            components:
              schemas:
                A:
                  type: object
                  required: [s]
                  properties:
                    s: {type: string, pattern: '^\\p{Lu}+$'}
            """)
        self.assertTrue(any("cannot build a string for the pattern" in n and "/properties/s/pattern" in n
                            for n in suite.notes), suite.notes)


class Cli(unittest.TestCase):
    def test_generate_writes_the_suite(self):
        with tempfile.TemporaryDirectory() as tmp:
            r = subprocess.run([sys.executable, GENERATE, "--spec", os.path.join(ROOT, "api", "openapi.yaml"),
                                "--out", tmp, "--conformance", tmp], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stderr, r"conformance: \d+ round-trip, \d+ reject, \d+ request cases")
            with open(os.path.join(tmp, "conformance.gen.c")) as f:
                text = f.read()
            self.assertIn("rt_status svc_create_user(", text)
            m = re.search(r"conformance-counts: roundtrip=(\d+) reject=(\d+) request=(\d+)", text)
            self.assertTrue(m and all(int(x) > 0 for x in m.groups()), m)
            self.assertEqual(text.count("    /* case "), sum(int(x) for x in m.groups()))
            # one test per type and per operation
            self.assertIn("Test(types, g000_health)", text)
            self.assertRegex(text, r"Test\(requests, g\d+_create_user\)")

    def test_conformance_usage_error(self):
        r = subprocess.run([sys.executable, os.path.join(CODEGEN, "conformance_run.py"), "--spec",
                            "/nonexistent.yaml"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("no such spec file", r.stderr)


if __name__ == "__main__":
    unittest.main()
