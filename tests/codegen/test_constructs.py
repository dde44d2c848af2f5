"""One test (at least) per construct of docs/SPEC-SUPPORT.md, on the IR.

The C behaviour of the same constructs is tested in
tests/generated/constructs/constructs_test.c; the corpus build in
test_generator.CompileTest and scripts/codegen-corpus.sh.
"""

import os
import re
import sys
import textwrap
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True

from test_generator import (CORPORA, ROOT, build, field, load, obj,  # noqa: E402
                            schemas)

import ir_build  # noqa: E402
import spec_loader  # noqa: E402
from spec_loader import SpecError, Unsupported  # noqa: E402


def union(api, name):
    for u in api.unions:
        if u.name == name:
            return u
    raise AssertionError("no union %s among %s" % (name, [u.name for u in api.unions]))


def op(api, c_name):
    for o in api.ops:
        if o.c_name == c_name:
            return o
    raise AssertionError("no operation %s" % c_name)


def paths(block, components=""):
    return "paths:\n" + textwrap.indent(textwrap.dedent(block), "  ") + components


def lenient(body, version="3.0.3"):
    return ir_build.build_api(load(body, version), "api/test.yaml", strict=False)


class RefsAndComposition(unittest.TestCase):
    def test_ref_chain_across_components(self):
        api = build(schemas("""
            A: {$ref: '#/components/schemas/B'}
            B: {$ref: '#/components/schemas/C'}
            C: {type: object, properties: {x: {type: integer}}}
            T: {type: object, properties: {a: {$ref: '#/components/schemas/A'}}}
        """))
        self.assertEqual(field(obj(api, "api_t"), "a").shape.c_type, "api_c")

    def test_recursive_schema_by_value_and_through_arrays(self):
        api = build(schemas("""
            Node:
              type: object
              properties:
                value: {type: integer}
                left: {$ref: '#/components/schemas/Node'}
                kids: {type: array, items: {$ref: '#/components/schemas/Node'}}
        """))
        node = obj(api, "api_node")
        self.assertTrue(field(node, "left").shape.by_ref)
        self.assertFalse(field(node, "kids").shape.by_ref)

    def test_mutual_recursion_cut_once(self):
        api = build(schemas("""
            A: {type: object, properties: {b: {$ref: '#/components/schemas/B'}}}
            B: {type: object, properties: {a: {$ref: '#/components/schemas/A'}}}
        """))
        refs = [field(obj(api, "api_a"), "b").shape.by_ref, field(obj(api, "api_b"), "a").shape.by_ref]
        self.assertEqual(sorted(refs), [False, True])
        order = [t.name for k, t in api.structs if k == "object"]
        # B holds A through a pointer, so A holds B by value and comes after it.
        self.assertTrue(field(obj(api, "api_b"), "a").shape.by_ref)
        self.assertLess(order.index("api_b"), order.index("api_a"))

    def test_all_of_merges_properties_and_required(self):
        api = build(schemas("""
            Base: {type: object, required: [id], properties: {id: {type: integer}}}
            Named:
              allOf:
                - $ref: '#/components/schemas/Base'
                - type: object
                  required: [name]
                  properties: {name: {type: string}}
        """))
        named = obj(api, "api_named")
        self.assertEqual([f.json_name for f in named.fields], ["id", "name"])
        self.assertTrue(all(f.required for f in named.fields))
        self.assertEqual(field(named, "id").pointer, "/components/schemas/Base/properties/id")

    def test_all_of_conflict_names_its_pointer(self):
        with self.assertRaises(Unsupported) as cm:
            build(schemas("""
                T:
                  allOf:
                    - {type: object, properties: {x: {type: integer}}}
                    - {type: object, properties: {x: {type: string}}}
            """))
        self.assertEqual(cm.exception.pointer, "/components/schemas/T/allOf/1/properties/x")

    def test_one_of_with_discriminator_and_mapping(self):
        api = build(schemas("""
            Cat: {type: object, properties: {t: {type: string}}}
            Dog: {type: object, properties: {t: {type: string}}}
            Pet:
              oneOf: [{$ref: '#/components/schemas/Cat'}, {$ref: '#/components/schemas/Dog'}]
              discriminator: {propertyName: t, mapping: {kitty: '#/components/schemas/Cat'}}
        """))
        pet = union(api, "api_pet")
        self.assertEqual(pet.kind, "oneOf")
        self.assertEqual(pet.disc_json, "t")
        self.assertEqual([a.disc_values for a in pet.alts], [[('"kitty"', 5)], [('"Dog"', 3)]])
        self.assertEqual([a.tag for a in pet.alts], ["API_PET_CAT", "API_PET_DOG"])

    def test_one_of_without_discriminator_and_any_of(self):
        api = build(schemas("""
            S: {oneOf: [{type: string}, {type: integer}]}
            L: {anyOf: [{type: integer}, {type: number}]}
        """))
        self.assertEqual(union(api, "api_s").reason, "must match exactly one of: string, integer")
        self.assertIn("ambiguous", union(api, "api_s").reason_many)
        self.assertEqual(union(api, "api_l").kind, "anyOf")
        self.assertEqual(union(api, "api_l").disc_json, "")

    def test_discriminator_needs_refs(self):
        with self.assertRaises(Unsupported):
            build(schemas("""
                P:
                  oneOf: [{type: object, properties: {t: {type: string}}}]
                  discriminator: {propertyName: t}
            """))


class NullsEnumsDefaults(unittest.TestCase):
    def test_optional_required_nullable_are_distinct(self):
        api = build(schemas("""
            T:
              type: object
              required: [r, rn]
              properties:
                r: {type: integer}
                rn: {type: integer, nullable: true}
                o: {type: integer}
                on: {type: integer, nullable: true}
        """))
        t = obj(api, "api_t")
        self.assertEqual([(f.required, f.nullable) for f in t.fields],
                         [(True, False), (True, True), (False, False), (False, True)])

    def test_31_type_list_with_null_and_several_types(self):
        api = build(schemas("""
            T:
              type: object
              properties:
                a: {type: [string, 'null']}
                b: {type: [string, integer]}
        """), version="3.1.0")
        t = obj(api, "api_t")
        self.assertTrue(field(t, "a").nullable)
        self.assertEqual(field(t, "b").shape.kind, "union")

    def test_enums_of_strings_integers_booleans(self):
        api = build(schemas("""
            T:
              type: object
              properties:
                s: {type: string, enum: [a, b]}
                i: {type: integer, enum: [1, 2]}
                t: {type: boolean, enum: [true]}
        """))
        t = obj(api, "api_t")
        self.assertEqual(field(t, "s").shape.kind, "enum")
        self.assertEqual(field(t, "i").shape.checks[0].values, ["1", "2"])
        self.assertEqual(field(t, "t").shape.checks[0].values, ["true"])

    def test_defaults_applied_when_absent(self):
        api = build(schemas("""
            T:
              type: object
              properties:
                n: {type: integer, default: 20}
                s: {type: string, default: x}
                e: {type: string, enum: [a, b], default: b}
        """))
        t = obj(api, "api_t")
        self.assertEqual([f.default_c for f in t.fields], ["20", 'RT_STR("x")', "API_T_E_B"])

    def test_read_only_write_only(self):
        api = build(schemas("""
            T:
              type: object
              properties:
                id: {type: integer, readOnly: true}
                pw: {type: string, writeOnly: true}
        """))
        t = obj(api, "api_t")
        self.assertTrue(field(t, "id").read_only)
        self.assertTrue(field(t, "pw").write_only)


class ObjectsAndArrays(unittest.TestCase):
    def test_a_map_without_arrays_emits_no_array_helper(self):
        # -Werror rejects an unused static function: the helper that opens
        # an array is emitted only when some type has an array.
        import emit
        api = build(schemas("""
            M: {type: object, additionalProperties: {type: integer}}
        """))
        c = emit.render(api)["api_types.gen.c"].decode()
        self.assertIn("api__grow(", c)
        self.assertNotIn("api__array(", c)

    def test_maps_free_form_and_empty_schemas(self):
        api = build(schemas("""
            T:
              type: object
              properties:
                m: {type: object, additionalProperties: {type: integer}}
                f: {type: object}
                any: {}
            M: {type: object, additionalProperties: {$ref: '#/components/schemas/T'}}
        """))
        t = obj(api, "api_t")
        m = field(t, "m").shape.obj
        self.assertEqual(m.addl.kind, "int")
        self.assertEqual(m.entry_name, "api_t_m_prop")
        self.assertEqual((field(t, "f").shape.kind, field(t, "f").shape.raw_want), ("raw", "RT_JSON_OBJECT"))
        self.assertEqual((field(t, "any").shape.kind, field(t, "any").shape.raw_want), ("raw", "RT_JSON_NONE"))
        self.assertEqual(obj(api, "api_m").addl.c_type, "api_t")

    def test_nullable_array_elements_are_boxed(self):
        api = build(schemas("""
            T: {type: object, properties: {a: {type: array, items: {type: string, nullable: true}}}}
        """))
        items = field(obj(api, "api_t"), "a").shape.items
        self.assertEqual((items.kind, items.union.kind, items.union.nullable), ("union", "box", True))

    def test_arrays_of_arrays_and_nested_objects(self):
        api = build(schemas("""
            T:
              type: object
              properties:
                grid: {type: array, items: {type: array, items: {type: integer}}}
                inner: {type: object, properties: {deep: {type: object, properties: {x: {type: string}}}}}
        """))
        grid = field(obj(api, "api_t"), "grid").shape
        self.assertEqual(grid.items.kind, "list")
        self.assertEqual(grid.items.lst.name, "api_t_grid_list")
        self.assertEqual(field(obj(api, "api_t_inner"), "deep").shape.c_type, "api_t_inner_deep")

    def test_array_and_object_bounds(self):
        api = build(schemas("""
            T:
              type: object
              minProperties: 1
              maxProperties: 3
              properties:
                a: {type: array, items: {type: string}, minItems: 1, maxItems: 2, uniqueItems: true}
                b: {type: integer}
        """))
        t = obj(api, "api_t")
        self.assertEqual([c.kind for c in field(t, "a").shape.checks], ["items", "unique"])
        self.assertEqual(t.count_unknown, "other_properties")
        self.assertEqual((t.checks[0].lo, t.checks[0].hi), (1, 3))


class Formats(unittest.TestCase):
    def test_string_formats_and_patterns(self):
        api = build(schemas("""
            T:
              type: object
              properties:
                e: {type: string, format: email}
                u: {type: string, format: uuid}
                d: {type: string, format: date}
                t: {type: string, format: date-time}
                uri: {type: string, format: uri}
                v4: {type: string, format: ipv4}
                v6: {type: string, format: ipv6}
                b: {type: string, format: byte}
                bin: {type: string, format: binary}
                simple: {type: string, pattern: '^[a-z]+$'}
                regex: {type: string, pattern: '\\\\d{3}-x'}
        """))
        t = obj(api, "api_t")
        funcs = {f.json_name: [c.func for c in f.shape.checks if c.kind == "format"] for f in t.fields}
        self.assertEqual(funcs["e"], ["rt_is_email"])
        self.assertEqual(funcs["uri"], ["rt_is_uri"])
        self.assertEqual(funcs["v6"], ["rt_is_ipv6"])
        self.assertEqual(funcs["b"], ["rt_is_base64"])
        self.assertEqual(funcs["bin"], [])
        self.assertEqual(field(t, "t").shape.kind, "datetime")
        self.assertFalse(field(t, "simple").shape.checks[0].pattern.regex)
        self.assertTrue(field(t, "regex").shape.checks[0].pattern.regex)

    def test_numbers(self):
        api = build(schemas("""
            T:
              type: object
              properties:
                i32: {type: integer, format: int32, minimum: 1, exclusiveMaximum: true, maximum: 10}
                i64: {type: integer, multipleOf: 5}
                f: {type: number, format: float, multipleOf: 0.25}
        """))
        t = obj(api, "api_t")
        self.assertEqual(field(t, "i32").shape.c_type, "int32_t")
        self.assertEqual([c.conds for c in field(t, "i32").shape.checks], [[("<", "1")], [(">=", "10")]])
        self.assertEqual(field(t, "i64").shape.checks[0].kind, "multiple")
        self.assertEqual(field(t, "f").shape.checks[0].kind, "fmultiple")


class Parameters(unittest.TestCase):
    SPEC = paths("""
        /items/{id}/{kind}/{n}/{s}:
          get:
            operationId: getItem
            parameters:
              - {name: id, in: path, required: true, schema: {type: string, format: uuid}}
              - {name: kind, in: path, required: true, schema: {type: string, enum: [a, b]}}
              - {name: n, in: path, required: true, schema: {type: integer, format: int32}}
              - {name: s, in: path, required: true, schema: {type: string}}
              - {name: ids, in: query, schema: {type: array, items: {type: integer}}}
              - {name: tags, in: query, explode: false, schema: {type: array, items: {type: string}}}
              - {name: f, in: query, style: deepObject, schema: {type: object, properties: {a: {type: integer}}}}
              - {name: X-Trace, in: header, schema: {type: string}}
              - {name: sid, in: cookie, required: true, schema: {type: string}}
              - {name: prefs, in: cookie, explode: false, schema: {type: array, items: {type: integer}}}
            responses: {'200': {description: ok}}
    """)

    def test_locations_styles_and_types(self):
        o = op(build(self.SPEC), "get_item")
        by = {p.name: p for p in o.params}
        self.assertEqual([by[n].shape.kind for n in ("id", "kind", "n", "s")],
                         ["string", "enum", "int", "string"])
        self.assertEqual(by["ids"].split, "multi")
        self.assertEqual(by["tags"].split, "comma")
        self.assertEqual(by["f"].split, "deep")
        self.assertEqual(by["X-Trace"].location, "header")
        self.assertEqual(by["sid"].location, "cookie")
        self.assertEqual((by["prefs"].location, by["prefs"].split), ("cookie", "comma"))
        self.assertTrue(o.cookie_params)

    def test_label_and_matrix_path_styles(self):
        o = op(build(paths("""
            /a/{x}/{y}/{z}:
              get:
                parameters:
                  - {name: x, in: path, required: true, style: label, schema: {type: integer}}
                  - {name: y, in: path, required: true, style: matrix, explode: true,
                     schema: {type: array, items: {type: integer}}}
                  - {name: z, in: path, required: true, style: matrix, schema: {type: string}}
                responses: {'200': {description: ok}}
        """)), "get_a_x_y_z")
        self.assertEqual([(p.prefix_lit, p.split) for p in o.params],
                         [('"."', ""), ('";"', "matrix"), ('";z="', "")])

    def test_object_in_matrix_style_is_left_out_with_its_pointer(self):
        spec = paths("""
            /a/{x}:
              get:
                parameters: [{name: x, in: path, required: true, style: matrix,
                              schema: {type: object, properties: {k: {type: string}}}}]
                responses: {'200': {description: ok}}
            /b:
              get: {responses: {'200': {description: ok}}}
        """)
        api = lenient(spec)
        self.assertEqual([o.path for o in api.ops], ["/b"])
        self.assertEqual(api.left_out[0][1:4], ("GET", "/a/{x}", "/paths/~1a~1{x}/get/parameters/0/style"))
        with self.assertRaises(Unsupported):
            build(spec)


class BodiesAndResponses(unittest.TestCase):
    def test_json_form_and_boxed_bodies(self):
        api = build(paths("""
            /j:
              post:
                requestBody: {content: {application/json: {schema: {type: object, properties: {a: {type: string}}}}}}
                responses: {'204': {description: ok}}
            /f:
              post:
                requestBody: {content: {application/x-www-form-urlencoded: {schema: {type: object, properties: {a: {type: integer}}}}}}
                responses: {'204': {description: ok}}
            /l:
              post:
                requestBody: {content: {application/json: {schema: {type: array, items: {type: integer}}}}}
                responses: {'204': {description: ok}}
        """))
        self.assertIsNotNone(op(api, "post_j").body_obj)
        self.assertTrue(op(api, "post_f").body_form)
        self.assertEqual(op(api, "post_l").body_union.kind, "box")

    def test_xml_and_multipart_bodies_are_left_out(self):
        api = lenient(paths("""
            /x:
              post:
                operationId: postXml
                requestBody: {content: {application/xml: {schema: {type: object}}}}
                responses: {'204': {description: ok}}
        """))
        self.assertEqual(api.ops, [])
        ptr, msg = api.warnings[0]
        self.assertEqual(ptr, "/paths/~1x/post/requestBody/content/application~1xml")
        self.assertIn("postXml", msg)

    def test_typed_responses_ranges_and_default(self):
        api = build(paths("""
            /r:
              get:
                responses:
                  '200': {description: ok, content: {application/json: {schema: {type: string}}},
                          headers: {X-Next: {schema: {type: string}}}}
                  '404': {description: missing, content: {application/json: {schema: {type: object, properties: {why: {type: string}}}}}}
                  '410': {description: gone}
                  '5XX': {description: server}
                  default: {description: other}
        """))
        o = op(api, "get_r")
        self.assertEqual([(r.status, r.shape.kind) for r in o.responses], [(200, "string"), (404, "object")])
        self.assertEqual(o.other_statuses, [410])
        self.assertEqual(o.ranges, [5])
        self.assertTrue(o.has_default)
        self.assertEqual(o.status_consts, [("API_GET_R_STATUS_200", 200), ("API_GET_R_STATUS_404", 404),
                                           ("API_GET_R_STATUS_410", 410)])
        self.assertEqual(o.headers[0].c_name, "header_x_next")


class Names(unittest.TestCase):
    def test_missing_ids_collisions_keywords_odd_characters(self):
        api = build(paths("""
            /users/{id}:
              get:
                parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
                responses: {'200': {description: ok}}
            /other/{x}:
              get:
                operationId: get_users_id
                parameters: [{name: x, in: path, required: true, schema: {type: string}}]
                responses: {'200': {description: ok}}
        """, """
components:
  schemas:
    T:
      type: object
      properties:
        int: {type: integer}
        2fa: {type: boolean}
        a-b.c: {type: string}
"""))
        self.assertEqual([o.c_name for o in api.ops], ["get_users_id", "get_users_id_2"])
        self.assertEqual([f.c_name for f in obj(api, "api_t").fields], ["int_", "n2fa", "a_b_c"])


class Unsupported_(unittest.TestCase):
    def test_unsupported_constructs_name_their_pointer(self):
        cases = {
            "/components/schemas/T/properties/a/uniqueItems":
                "a: {type: array, uniqueItems: true, items: {type: object, properties: {x: {type: string}}}}",
            "/components/schemas/T/properties/a/oneOf/0":
                "a: {oneOf: [{type: string}], properties: {x: {type: string}}}",
            "/components/schemas/T/properties/a/allOf/0/type": "a: {allOf: [{type: string}, {maxLength: 3}]}",
        }
        for ptr, prop in cases.items():
            with self.subTest(ptr=ptr):
                with self.assertRaises(Unsupported) as cm:
                    build(schemas("T:\n  type: object\n  properties:\n    " + prop + "\n"))
                self.assertEqual(cm.exception.pointer, ptr)

    def test_default_of_an_array_is_noted_not_applied(self):
        api = build(schemas("""
            T:
              type: object
              properties:
                a: {type: array, items: {type: integer}, default: [1]}
        """))
        self.assertIsNone(field(obj(api, "api_t"), "a").default_c)
        self.assertEqual([p for p, _ in api.notes], ["/components/schemas/T/properties/a/default"])


class SpecWarnings(unittest.TestCase):
    def test_example_that_breaks_its_schema_is_a_spec_warning(self):
        api = build(schemas("""
            T:
              type: object
              properties:
                t: {type: string, example: 42}
                ok: {type: string, example: '42'}
                time: {type: string, example: 18:00}
        """))
        self.assertEqual([p for p, _ in api.notes], ["/components/schemas/T/properties/t/example"])

    def test_yaml_is_read_as_yaml_1_2(self):
        # The core schema: 18:00 and yes are strings, 017 is decimal; no
        # YAML 1.1 base-60 numbers, yes/no booleans or timestamps.
        doc = spec_loader.parse_document(
            b"a: 18:00\nb: yes\nc: 017\nd: 0x1F\ne: 1e3\nf: 2020-01-01\ng: ~\nh: False\n", "t")
        self.assertEqual(doc, {"a": "18:00", "b": "yes", "c": 17, "d": 31, "e": 1000.0,
                               "f": "2020-01-01", "g": None, "h": False})

    def test_callbacks_and_webhooks_are_ignored(self):
        api = build(paths("""
            /s:
              post:
                callbacks:
                  done: {'{$request.body#/url}': {post: {responses: {'200': {description: ok}}}}}
                responses: {'204': {description: ok}}
        """))
        self.assertEqual(len(api.ops), 1)


class Corpus(unittest.TestCase):
    def test_all_documents_generate_in_seconds(self):
        import emit
        docs = [os.path.join(d, n) for d in CORPORA if os.path.isdir(d)
                for n in sorted(os.listdir(d)) if n.endswith((".yaml", ".json"))]
        if not docs:
            self.skipTest("no ../shared/testdata")
        start = time.process_time()
        for doc in docs:
            with open(doc, "rb") as f:
                data = f.read()
            import spec_loader
            spec = spec_loader.Spec(spec_loader.parse_document(data, doc), data)
            api = ir_build.build_api(spec, os.path.basename(doc), strict=False)
            emit.render(api)
        # CPU time, so a busy machine does not fail it; measured ~3 s for 22.
        self.assertLess(time.process_time() - start, 20)


class SpecSupportTable(unittest.TestCase):
    def test_every_row_names_a_test_that_exists(self):
        path = os.path.join(ROOT, "docs", "SPEC-SUPPORT.md")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        names = set()
        for mod in ("test_constructs", "test_generator"):
            src = open(os.path.join(HERE, mod + ".py"), encoding="utf-8").read()
            names |= set(re.findall(r"def (test_\w+)", src))
        c_src = open(os.path.join(ROOT, "tests", "generated", "constructs", "constructs_test.c"),
                     encoding="utf-8").read()
        names |= set(re.findall(r"Test\(constructs, (\w+)\)", c_src))
        rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line][1:]
        self.assertGreater(len(rows), 30)
        for row in rows:
            cells = [c.strip() for c in row.strip("|").split("|")]
            self.assertIn(cells[1].split()[0], ("yes", "no", "partly", "spec", "ignored"), row)
            for t in re.findall(r"`(\w+)`", cells[2]):
                self.assertIn(t, names, "SPEC-SUPPORT.md names a test that does not exist: " + t)
            self.assertTrue(re.findall(r"`(\w+)`", cells[2]), "row without a test: " + row)


if __name__ == "__main__":
    unittest.main()
