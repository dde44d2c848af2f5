"""Spec -> IR: types, fields, constraints, operations, parameters, responses.

Order of work, which is also the order names are claimed in (so names are
stable for a given spec):
  1. every components/schemas entry that gets its own C type (objects and
     string enums), in document order;
  2. those types built in document order, inline nested types named after
     their parent and property as they are met;
  3. operations in document order (paths, then methods as written).
Anything we cannot generate correct code for raises SpecError with the
pointer of the construct.
"""

import json
import math

import ir
from clit import byte_len, c_string, chunk_lines, comment
from naming import Namespace, member, snake, upper
from examples import check_examples
from patterns import PatternError, compile_pattern
from spec_loader import SpecError, Unsupported, ptr_join

OBJECT_KEYS = ("properties", "required", "additionalProperties", "minProperties", "maxProperties")
SCALAR_PARAM = ("int", "string", "enum", "bool", "datetime", "number")
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]

# Keywords that change what a schema accepts and that we do not implement.
UNSUPPORTED = [
    "not", "if", "then", "else", "dependentRequired",
    "dependentSchemas", "dependencies", "prefixItems", "contains", "minContains",
    "maxContains", "const", "patternProperties", "propertyNames",
    "unevaluatedProperties", "unevaluatedItems", "$dynamicRef",
    "$recursiveRef",
]
# Keywords that may sit beside a $ref (3.1) without changing validation.
ANNOTATIONS = {
    "description", "summary", "title", "example", "examples", "deprecated",
    "readOnly", "writeOnly", "default", "$comment", "externalDocs", "xml",
    "discriminator", "format", "$schema", "$id", "contentMediaType", "contentEncoding",
}
# String formats we check; every other format is an annotation (OpenAPI lets
# tools ignore formats they do not know) and is documented as not checked.
FORMATS = {
    "email": ("rt_is_email", "must be a valid email address"),
    "uuid": ("rt_is_uuid", "must be a valid UUID"),
    "date": ("rt_is_date", "must be an RFC 3339 date (YYYY-MM-DD)"),
    "uri": ("rt_is_uri", "must be an absolute URI"),
    "ipv4": ("rt_is_ipv4", "must be an IPv4 address"),
    "ipv6": ("rt_is_ipv6", "must be an IPv6 address"),
    "byte": ("rt_is_base64", "must be base64"),
}


def check_regex_syntax(source, ptr):
    """Refuse at generation a pattern that is certainly no regular
    expression (unbalanced groups or classes, a dangling quantifier), so
    PCRE2 is not first to find out at run time. Python's engine agrees
    with ECMA-262 on syntax once the escapes it spells differently
    (\\uXXXX, \\u{X}, \\p{..}, (?<name>) are replaced by plain atoms."""
    import re
    probe = re.sub(r"\\u\{[0-9A-Fa-f]+\}|\\u[0-9A-Fa-f]{4}|\\[pP]\{[^}]*\}|\\c[A-Za-z]", "x", source)
    probe = probe.replace("(?<", "(?P<").replace("(?P<=", "(?<=").replace("(?P<!", "(?<!")
    try:
        re.compile(probe)
    except re.error as exc:
        raise Unsupported(ptr, "pattern %r is not a regular expression PCRE2 can compile "
                          "(%s)" % (source, exc))


INT_RANGE = {32: (-2**31, 2**31 - 1), 64: (-2**63, 2**63 - 1)}
TYPE_REASON = {
    "string": "must be a string", "datetime": "must be a string",
    "enum": "must be a string", "int": "must be an integer",
    "number": "must be a number", "bool": "must be a boolean",
    "object": "must be an object", "array": "must be an array",
    "raw": "must be a JSON value", "union": "must match the schema", "list": "must be an array",
}
# Names the generated files define themselves.
RESERVED = [
    "api_dispatch", "api_route", "api_route_match", "api_op", "api_op_names",
    "api_spec_yaml", "api_spec_yaml_len", "api_spec_json", "api_spec_json_len",
    "API_DECODE_ENOMEM", "API_OP_COUNT", "API_OP_SPEC_YAML", "API_OP_SPEC_JSON",
    "API_ROUTE_MAX_PARAMS", "API_GEN_H", "api__serve_spec",
]


def nested(sh):
    """A shape and the shapes inside it (array items, lists), not crossing
    into named object or union types."""
    yield sh
    if sh.items is not None:
        yield from nested(sh.items)


def plural(n, word, words=None):
    return "%d %s" % (n, word if n == 1 else (words or word + "s"))


def num_text(v):
    """A bound as the spec wrote it, for reasons: 1, 1.5, 1e+20."""
    if isinstance(v, int):
        return str(v)
    return repr(v)


def int_lit(v):
    if v == -2**63:
        return "INT64_MIN"
    if -2**31 <= v < 2**31:
        return str(v)
    return "INT64_C(%d)" % v


def dbl_lit(v):
    r = repr(float(v))
    return r if any(c in r for c in ".en") else r + ".0"


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def is_json_media(media):
    m = media.split(";")[0].strip().lower()
    return m == "application/json" or (m.startswith("application/") and m.endswith("+json"))


class Builder:
    def __init__(self, spec, spec_name, strict=True):
        self.spec = spec
        self.spec_name = spec_name
        self.strict = strict
        self.ns = Namespace(RESERVED)
        self.type_names = {}   # pointer -> claimed name, for component types
        self.types = {}        # pointer -> ObjType | EnumType | UnionType, built
        self.objects = []      # creation order
        self.enums = []
        self.unions = []
        self.lists = []
        self.patterns = {}     # source -> ir.Pattern
        self.failed = {}       # pointer of a component type -> the Unsupported it raised
        self.warnings = []     # (pointer, message): constructs left out
        self.notes = []        # (pointer, message): spec warnings
        self.left_out = []
        self.pair_objects = []  # objects decoded from name=value pairs

    def note(self, ptr, message):
        if (ptr, message) not in self.notes:
            self.notes.append((ptr, message))

    # ------------------------------------------------------------ left out

    def snapshot(self):
        return (len(self.objects), len(self.enums), len(self.unions), len(self.lists),
                set(self.types), set(self.patterns), len(self.pair_objects))

    def rollback(self, snap):
        no, ne, nu, nl, types, pats, npo = snap
        del self.pair_objects[npo:]
        del self.objects[no:]
        del self.enums[ne:]
        del self.unions[nu:]
        del self.lists[nl:]
        self.types = {k: v for k, v in self.types.items() if k in types}
        self.patterns = {k: v for k, v in self.patterns.items() if k in pats}

    def attempt(self, fn, what):
        """Run one unit (a component schema, an operation). An unsupported
        construct inside leaves the unit out with a warning (an error with
        --strict); everything it built is rolled back."""
        snap = self.snapshot()
        try:
            return fn()
        except Unsupported as exc:
            if self.strict:
                raise
            self.rollback(snap)
            self.warnings.append((exc.pointer, "%s; %s left out" % (exc.message, what)))
            return None

    # ------------------------------------------------------------ schemas

    def check_schema_keywords(self, s, ptr):
        for kw in UNSUPPORTED:
            if kw in s:
                raise Unsupported(ptr_join(ptr, kw), "unsupported schema keyword '%s'" % kw)
        if "$ref" in s and self.spec.v31:
            extra = sorted(k for k in s if k != "$ref" and k not in ANNOTATIONS
                           and not k.startswith("x-"))
            if extra:
                raise Unsupported(ptr_join(ptr, extra[0]),
                                  "keyword '%s' beside $ref is not supported" % extra[0])

    def schema_type(self, s, ptr):
        """(type, nullable) of a resolved schema, with the 3.0/3.1 rules.

        type: object | array | string | integer | number | boolean, or
        'union' (oneOf/anyOf or a 3.1 list of several types), 'any' (no
        type at all: any JSON value)."""
        if s is True or s == {}:
            return "any", False
        if not isinstance(s, dict):
            raise Unsupported(ptr, "a schema must be a mapping (boolean schemas are not supported)")
        t = s.get("type")
        nullable = False
        if self.spec.v31:
            if "nullable" in s:
                self.note(ptr_join(ptr, "nullable"),
                          "'nullable' is OpenAPI 3.0 and means nothing in 3.1 (ignored); "
                          "write type: [T, 'null']")
            if isinstance(t, list):
                rest = [x for x in t if x != "null"]
                nullable = len(rest) != len(t)
                if len(rest) > 1:
                    return "union", nullable
                if not rest:
                    raise Unsupported(ptr_join(ptr, "type"),
                                      "a schema that only allows null is not supported")
                t = rest[0]
        else:
            if isinstance(t, list):
                raise SpecError(ptr_join(ptr, "type"),
                                "type lists are OpenAPI 3.1; in 3.0 write nullable: true")
            nv = s.get("nullable", False)
            if not isinstance(nv, bool):
                raise SpecError(ptr_join(ptr, "nullable"), "nullable must be a boolean")
            nullable = nv
        enum = s.get("enum")
        if isinstance(enum, list) and None in enum:
            nullable = True
        if "oneOf" in s or "anyOf" in s:
            return "union", nullable
        if t is None:
            if "properties" in s or "allOf" in s or "additionalProperties" in s:
                t = "object"
            elif "items" in s:
                t = "array"
            elif isinstance(enum, list) and enum and all(
                    isinstance(x, str) for x in enum if x is not None):
                t = "string"
            elif isinstance(enum, list) and enum and all(
                    is_number(x) for x in enum if x is not None):
                t = "number"
            else:
                return "any", nullable
        if t == "null":
            raise Unsupported(ptr_join(ptr, "type"), "a schema that only allows null is not supported")
        if t not in ("object", "array", "string", "integer", "number", "boolean"):
            raise SpecError(ptr_join(ptr, "type"), "unknown type %r" % (t,))
        return t, nullable

    def unwrap(self, node, ptr):
        """Follow $refs and single-schema allOf wrappers.

        Returns (schema, pointer, nullable, read_only, write_only); the flags
        collect what the wrappers on the way say. An allOf of several
        schemas is returned as it is (build_object merges it)."""
        nullable = ro = wo = False
        seen = set()
        while True:
            if not isinstance(node, dict):
                break
            if ptr in seen:
                raise Unsupported(ptr, "schema cycle through allOf/$ref (a schema that is only itself)")
            seen.add(ptr)
            ro = ro or node.get("readOnly") is True
            wo = wo or node.get("writeOnly") is True
            if "$ref" in node:
                self.check_schema_keywords(node, ptr)
                node, ptr = self.spec.resolve(node, ptr)
                continue
            if "allOf" in node:
                all_of = node["allOf"]
                if not isinstance(all_of, list) or not all_of:
                    raise SpecError(ptr_join(ptr, "allOf"), "allOf must be a non-empty list")
                extra = set(node) - ANNOTATIONS - {"allOf", "nullable", "type", "discriminator"}
                extra = {k for k in extra if not k.startswith("x-")}
                if len(all_of) != 1 or extra:
                    break
                if node.get("nullable") is True and not self.spec.v31:
                    nullable = True
                node, ptr = all_of[0], ptr_join(ptr, "allOf", "0")
                continue
            break
        return node, ptr, nullable, ro, wo

    def is_free_form(self, s):
        """An object schema with no declared properties and no schema for the
        others: kept as a validated raw JSON view."""
        if "allOf" in s or s.get("properties"):
            return False
        ap = s.get("additionalProperties", True)
        return ap is True or ap == {}

    def classify(self, node, ptr):
        """Does this component schema get its own C type? 'object', 'enum',
        'union' or None."""
        s, sptr, _, _, _ = self.unwrap(node, ptr)
        if sptr != ptr:
            return None  # an alias of another schema: it shares that type
        if isinstance(s, dict):
            self.check_schema_keywords(s, sptr)
        t, _ = self.schema_type(s, sptr)
        if t == "object":
            return None if self.is_free_form(s) else "object"
        if t == "union":
            return "union"
        if t == "string" and "enum" in s and s.get("format") != "date-time":
            return "enum"
        return None

    def named_type(self, ptr):
        if ptr in self.failed:
            raise self.failed[ptr]
        if ptr in self.types:
            return self.types[ptr]
        s = self.spec.get(ptr)
        label = ptr.rsplit("/", 1)[1].replace("~1", "/").replace("~0", "~")
        kind = self.classify(s, ptr)
        try:
            if kind == "object":
                return self.build_object(s, ptr, self.type_names[ptr], label)
            if kind == "union":
                return self.build_union(s, ptr, self.type_names[ptr], label)
            return self.build_enum(s, ptr, self.type_names[ptr], label)
        except Unsupported as exc:
            self.failed[ptr] = exc
            raise

    def shape_of(self, node, ptr, base, label):
        """The Shape of a schema used as a field, element or parameter.

        base: snake name for an inline object/enum defined here.
        Returns (shape, nullable, read_only, write_only)."""
        s, ptr, nullable, ro, wo = self.unwrap(node, ptr)
        if isinstance(s, dict):
            self.check_schema_keywords(s, ptr)
        t, nl = self.schema_type(s, ptr)
        nullable = nullable or nl
        if ptr in self.type_names:
            ty = self.named_type(ptr)
            if isinstance(ty, ir.ObjType):
                shape = ir.Shape("object", ty.name, ptr, obj=ty)
            elif isinstance(ty, ir.UnionType):
                shape = ir.Shape("union", ty.name, ptr, union=ty)
            else:
                shape = ir.Shape("enum", ty.name, ptr, enum=ty)
        elif t == "any":
            shape = ir.Shape("raw", "rt_str", ptr)
        elif t == "union":
            name = self.ns.claim("api_" + base, ["{}_decode", "{}_validate", "{}_encode", "{}_which"])
            ty = self.build_union(s, ptr, name, label)
            shape = ir.Shape("union", name, ptr, union=ty)
        elif t == "object" and self.is_free_form(s):
            shape = ir.Shape("raw", "rt_str", ptr, raw_want="RT_JSON_OBJECT")
            if "minProperties" in s or "maxProperties" in s:
                raise Unsupported(ptr_join(ptr, "minProperties" if "minProperties" in s
                                           else "maxProperties"),
                                  "minProperties/maxProperties on a free-form object are not supported")
        elif t == "object":
            name = self.ns.claim("api_" + base, ["{}_decode", "{}_validate", "{}_encode", "{}_prop"])
            ty = self.build_object(s, ptr, name, label)
            shape = ir.Shape("object", name, ptr, obj=ty)
        elif t == "array":
            shape = self.array_shape(s, ptr, base, label)
        elif t == "string":
            shape = self.string_shape(s, ptr, base, label)
        elif t == "integer":
            fmt = s.get("format")
            if fmt in (None, "int64"):
                bits = 64
            elif fmt == "int32":
                bits = 32
            else:
                self.note(ptr_join(ptr, "format"),
                          "integer format %r is unknown; treated as int64" % (fmt,))
                bits = 64
            shape = ir.Shape("int", "int%d_t" % bits, ptr, bits=bits,
                             checks=self.number_checks(s, ptr, bits))
        elif t == "number":
            checks = self.number_checks(s, ptr, None)
            if s.get("format") == "float":
                checks.append(ir.Check("compare", conds=[("<", "-3.4028234663852886e+38"),
                                                         (">", "3.4028234663852886e+38")],
                                       reason="out of range for a float"))
            shape = ir.Shape("number", "double", ptr, checks=checks)
        else:
            checks = []
            if "enum" in s:
                vals = [v for v in s["enum"] if isinstance(v, bool)] \
                    if isinstance(s["enum"], list) else []
                if not vals:
                    raise SpecError(ptr_join(ptr, "enum"), "a boolean enum must list booleans")
                if len(set(vals)) == 1:
                    checks.append(ir.Check("oneof", values=["true" if vals[0] else "false"],
                                           reason="must be %s" % ("true" if vals[0] else "false")))
            shape = ir.Shape("bool", "bool", ptr, checks=checks)
        shape.type_reason = TYPE_REASON[shape.kind]
        return shape, nullable, ro, wo

    # ------------------------------------------------------------ unions

    def build_union(self, s, ptr, name, label):
        """oneOf / anyOf (or a 3.1 list of types) as a tagged union."""
        if "oneOf" in s and "anyOf" in s:
            raise Unsupported(ptr_join(ptr, "anyOf"), "oneOf and anyOf together are not supported")
        extra = sorted(k for k in s if k not in ANNOTATIONS and not k.startswith("x-") and k not in
                       ("oneOf", "anyOf", "discriminator", "nullable", "type", "enum"))
        # Object keywords beside oneOf/anyOf hold for every alternative: each
        # object alternative is merged with them (as an allOf would).
        shared = {k: s[k] for k in extra if k in OBJECT_KEYS}
        extra = [k for k in extra if k not in OBJECT_KEYS]
        if shared and ("oneOf" in s or "anyOf" in s) and s.get("type", "object") != "object":
            raise Unsupported(ptr_join(ptr, "type"), "'type' %r beside oneOf/anyOf with properties "
                              "is not supported" % (s.get("type"),))
        if extra:
            raise Unsupported(ptr_join(ptr, extra[0]),
                              "keyword '%s' beside oneOf/anyOf is not supported" % extra[0])
        if "oneOf" in s or "anyOf" in s:
            kind = "oneOf" if "oneOf" in s else "anyOf"
            alts = s[kind]
            if not isinstance(alts, list) or not alts:
                raise SpecError(ptr_join(ptr, kind), "%s must be a non-empty list" % kind)
            items = [(a, ptr_join(ptr, kind, i)) for i, a in enumerate(alts)]
            if "type" in s and not isinstance(s.get("type"), list) and s.get("type") != "object":
                raise Unsupported(ptr_join(ptr, "type"), "'type' beside %s is not supported" % kind)
        else:
            # 3.1 type: [string, integer, ...]: one alternative per type, the
            # rest of the schema's keywords applying to each.
            kind = "anyOf"
            types = [t for t in s["type"] if t != "null"]
            items = []
            for t in types:
                sub = {k: v for k, v in s.items() if k not in ("type", "enum")}
                sub["type"] = t
                items.append((sub, ptr))
        ty = ir.UnionType(name, comment(label), ptr, kind, [])
        self.types[ptr] = ty
        self.unions.append(ty)
        prefix = name.upper()
        ty.which_enum = name + "_which"
        ty.none_tag = self.ns.claim(prefix + "_NONE")
        members = Namespace(["which"])
        base = name[len("api_"):]
        labels = []
        for i, (node, aptr) in enumerate(items):
            rs, rptr, _, _, _ = self.unwrap(node, aptr) if isinstance(node, dict) else (node, aptr, 0, 0, 0)
            if rptr.startswith("/components/schemas/") and rptr.count("/") == 3:
                alabel = rptr.rsplit("/", 1)[1].replace("~1", "/").replace("~0", "~")
            elif isinstance(rs, dict) and isinstance(rs.get("type"), str):
                alabel = rs.get("title") or rs["type"]
            else:
                alabel = "alternative %d" % (i + 1)
            if shared:
                if not (isinstance(rs, dict) and self.schema_type(rs, rptr)[0] == "object"):
                    raise Unsupported(aptr, "properties beside oneOf/anyOf need object alternatives")
                oname = self.ns.claim("api_%s_%s" % (base, snake(alabel)),
                                      ["{}_decode", "{}_validate", "{}_encode", "{}_prop"])
                ty_o = self.build_object(rs, aptr, oname, "%s(%s)" % (label, alabel),
                                         parts=[(node, aptr), (shared, ptr)])
                shape, nullable = ir.Shape("object", oname, aptr, obj=ty_o), False
                shape.type_reason = TYPE_REASON["object"]
            else:
                shape, nullable, _, _ = self.shape_of(node, aptr, "%s_%s" % (base, snake(alabel)),
                                                      "%s(%s)" % (label, alabel))
            if shape.kind == "array" and shape.items.kind == "array":
                raise Unsupported(aptr, "an array of arrays as a oneOf/anyOf alternative is not supported")
            cname = members.claim(member(alabel), ["{}_len"] if shape.kind == "array" else [])
            tag = self.ns.claim(prefix + "_" + cname.upper().rstrip("_"))
            alt = ir.Alt(tag, cname, comment(alabel), shape, nullable)
            alt.fn = "api__%s_alt_%d" % (base, i)
            ty.alts.append(alt)
            labels.append(alabel)
        ty.reason = "must match %s of: %s" % ("exactly one" if kind == "oneOf" else "at least one",
                                               ", ".join(labels))
        ty.reason_many = "matches more than one of: %s (ambiguous)" % ", ".join(labels)
        ty.nullable = any(a.nullable for a in ty.alts)
        disc = s.get("discriminator")
        if disc is not None:
            self.build_discriminator(ty, disc, ptr_join(ptr, "discriminator"), items)
        return ty

    def build_discriminator(self, ty, disc, dptr, items):
        if not isinstance(disc, dict) or not isinstance(disc.get("propertyName"), str):
            raise SpecError(dptr, "a discriminator needs propertyName")
        prop = disc["propertyName"]
        mapping = disc.get("mapping") or {}
        if not isinstance(mapping, dict):
            raise SpecError(ptr_join(dptr, "mapping"), "mapping must be a mapping")
        by_target = {}
        for i, (node, aptr) in enumerate(items):
            alt = ty.alts[i]
            if alt.shape.kind != "object" or not isinstance(node, dict) or "$ref" not in node:
                raise Unsupported(aptr, "a discriminator needs every alternative to be a $ref to an object")
            _, rptr = self.spec.resolve(node, aptr)
            by_target.setdefault(rptr, alt)
            by_target.setdefault(node["$ref"], alt)
        values = []
        mapped = set()
        for value, target in mapping.items():
            if not isinstance(target, str):
                raise SpecError(ptr_join(dptr, "mapping", value), "a mapping target must be a string")
            ref = target if target.startswith("#") else "#/components/schemas/" + target
            alt = by_target.get(ref) or by_target.get(ref[1:])
            if alt is None:
                raise Unsupported(ptr_join(dptr, "mapping", value),
                                  "mapping target %r is not one of the alternatives" % target)
            alt.disc_values.append((c_string(value), byte_len(value)))
            values.append(value)
            mapped.add(id(alt))
        for alt in ty.alts:
            if id(alt) in mapped:
                continue
            # No mapping: the value is the schema's component name.
            v = alt.label
            alt.disc_values.append((c_string(v), byte_len(v)))
            values.append(v)
        ty.disc_key_c = c_string(prop)
        ty.disc_key_len = byte_len(prop)
        ty.disc_json = prop
        ty.disc_reason = "must be one of: " + ", ".join(values)

    def box(self, shape, nullable, ptr, base, label):
        """A struct holding one value of shape (a non-object request body, a
        nullable array element), with decode/validate/encode functions."""
        name = self.ns.claim("api_" + base, ["{}_decode", "{}_validate", "{}_encode", "{}_which"])
        ty = ir.UnionType(name, comment(label), ptr, "box", [])
        ty.which_enum = name + "_which"
        ty.none_tag = self.ns.claim(name.upper() + "_NONE")
        alt = ir.Alt(self.ns.claim(name.upper() + "_VALUE"), "value", ty.label, shape, nullable)
        alt.fn = "api__%s_alt_0" % name[4:]
        ty.alts.append(alt)
        ty.nullable = nullable
        self.unions.append(ty)
        self.types[ptr + "#box"] = ty
        out = ir.Shape("union", name, ptr, union=ty)
        out.type_reason = TYPE_REASON["union"]
        return out

    # ------------------------------------------------------------ allOf

    def merge_all_of(self, s, ptr, parts=None):
        """An allOf of object schemas as one object schema: properties and
        required lists merged. parts: [(schema, pointer)] to merge instead of
        s's allOf (the shared properties beside a oneOf and one alternative).
        Returns (merged schema, {property: pointer})."""
        props, prop_ptrs, required = {}, {}, []
        merged = {"type": "object"}
        strict_parts = []

        def add(part, pptr, depth):
            if depth > 32:
                raise Unsupported(pptr, "allOf nested too deeply")
            part, pptr, _, _, _ = self.unwrap(part, pptr)
            if not isinstance(part, dict):
                raise Unsupported(pptr, "a boolean schema inside allOf is not supported")
            self.check_schema_keywords(part, pptr)
            if "oneOf" in part or "anyOf" in part:
                raise Unsupported(pptr, "oneOf/anyOf inside allOf is not supported")
            t = part.get("type")
            if t not in (None, "object") and not (isinstance(t, list) and "object" in t):
                raise Unsupported(ptr_join(pptr, "type"), "allOf of non-object schemas is not supported")
            for k, v in enumerate(part.get("allOf") or []):
                add(v, ptr_join(pptr, "allOf", k), depth + 1)
            pp = part.get("properties") or {}
            if not isinstance(pp, dict):
                raise SpecError(ptr_join(pptr, "properties"), "properties must be a mapping")
            for name, node in pp.items():
                nptr = ptr_join(pptr, "properties", name)
                if name in props and not self.same_schema(props[name], prop_ptrs[name], node, nptr):
                    if self.is_empty_schema(node):
                        continue
                    if not self.is_empty_schema(props[name]):
                        raise Unsupported(nptr, "property %r is declared differently by two allOf "
                                          "schemas" % name)
                props[name] = node
                prop_ptrs[name] = nptr
            for r in part.get("required") or []:
                if r not in required:
                    required.append(r)
            ap = part.get("additionalProperties", True)
            if ap is False:
                strict_parts.append(pptr)
            elif not (ap is True or ap == {}):
                raise Unsupported(ptr_join(pptr, "additionalProperties"),
                                  "additionalProperties with a schema inside allOf is not supported")
            for k in ("minProperties", "maxProperties"):
                if k in part:
                    if k in merged and merged[k] != part[k]:
                        raise Unsupported(ptr_join(pptr, k), "%s in two allOf schemas" % k)
                    merged[k] = part[k]
            for k in ("description", "title"):
                if k in part and k not in merged:
                    merged[k] = part[k]

        if parts is None:
            outer = {k: v for k, v in s.items() if k != "allOf"}
            parts = [(v, ptr_join(ptr, "allOf", k)) for k, v in enumerate(s["allOf"])]
            if outer.get("properties") or outer.get("required") or "additionalProperties" in outer:
                parts.append((outer, ptr))
        for node, pptr in parts:
            add(node, pptr, 0)
        if strict_parts:
            if len(strict_parts) > 1 or any(p2 != strict_parts[0] for p2 in prop_ptrs.values()
                                            if not p2.startswith(strict_parts[0] + "/")):
                raise Unsupported(ptr_join(strict_parts[0], "additionalProperties"),
                                  "additionalProperties: false in one allOf schema rejects the "
                                  "properties of the others; not supported")
            merged["additionalProperties"] = False
        for k in ("description", "title"):
            if k in s:
                merged[k] = s[k]
        merged["properties"] = props
        merged["required"] = required
        return merged, prop_ptrs

    def same_schema(self, a, aptr, b, bptr):
        try:
            _, ra, _, _, _ = self.unwrap(a, aptr)
            _, rb, _, _, _ = self.unwrap(b, bptr)
        except SpecError:
            return False
        return ra == rb or a == b

    @staticmethod
    def is_empty_schema(node):
        return isinstance(node, dict) and not [k for k in node if k not in ANNOTATIONS
                                               and not k.startswith("x-")]

    def array_shape(self, s, ptr, base, label):
        iptr = ptr_join(ptr, "items")
        # No items: any JSON value (each kept as raw JSON).
        items, nullable, _, _ = self.shape_of(s.get("items", {}), iptr, base, label + "[]")
        if nullable:
            # A nullable element is a box: {which, is_null, value}.
            items = self.box(items, True, iptr, base + "_item", label + "[]")
        if items.kind == "array":
            # An array inside an array: its element is a {T *items; size_t items_len;}.
            name = self.ns.claim("api_%s_list" % base)
            lst = ir.ListType(name, items, iptr)
            self.lists.append(lst)
            items = ir.Shape("list", name, iptr, lst=lst, type_reason="must be an array",
                             items=items)
        checks = []
        lo, hi = self.count_bounds(s, ptr, "minItems", "maxItems")
        if lo or hi is not None:
            checks.append(ir.Check("items", lo=lo or None, hi=hi,
                                   reason_lo="must have at least " + plural(lo or 0, "item"),
                                   reason_hi="must have at most " + plural(hi or 0, "item")))
        shape = ir.Shape("array", items.c_type, ptr, items=items, checks=checks)
        if s.get("uniqueItems") is True:
            eq = {"string": "str", "raw": "str", "datetime": "i64", "number": "f64", "bool": "bool",
                  "enum": "enum", "int": "i%d" % items.bits}.get(items.kind)
            if eq is None:
                raise Unsupported(ptr_join(ptr, "uniqueItems"),
                                  "uniqueItems on arrays of %s is not supported" % items.kind)
            shape.unique = True
            checks.append(ir.Check("unique", func="api__eq_" + eq,
                                   reason="must not contain the same item twice"))
        return shape

    def count_bounds(self, s, ptr, kmin, kmax):
        out = []
        for k in (kmin, kmax):
            v = s.get(k)
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
                raise SpecError(ptr_join(ptr, k), "%s must be a non-negative integer" % k)
            out.append(v)
        lo, hi = out
        if lo is not None and hi is not None and hi < lo:
            raise SpecError(ptr_join(ptr, kmax), "%s is below %s" % (kmax, kmin))
        return lo, hi

    def string_shape(self, s, ptr, base, label):
        fmt = s.get("format")
        if fmt == "date-time":
            for k in ("minLength", "maxLength", "pattern", "enum"):
                if k in s:
                    raise Unsupported(ptr_join(ptr, k), "%s on a date-time is not supported" % k)
            return ir.Shape("datetime", "int64_t", ptr)
        if "enum" in s:
            name = self.ns.claim("api_" + base, ["{}_names", "{}_parse", "{}_encode"])
            ty = self.build_enum(s, ptr, name, label)
            return ir.Shape("enum", name, ptr, enum=ty)
        checks = []
        lo, hi = self.count_bounds(s, ptr, "minLength", "maxLength")
        if lo == 0:
            lo = None
        if lo is not None or hi is not None:
            chk = ir.Check("length", lo=lo, hi=hi)
            if lo is not None:
                chk.reason_lo = "must be at least " + plural(lo, "character")
            if hi is not None:
                chk.reason_hi = "must be at most " + plural(hi, "character")
            if lo is not None and lo == hi:
                chk.reason_eq = "must be exactly " + plural(lo, "character")
            checks.append(chk)
        if "pattern" in s:
            checks.append(ir.Check("pattern", pattern=self.pattern(s["pattern"],
                                                                   ptr_join(ptr, "pattern"))))
        if fmt in FORMATS:
            func, reason = FORMATS[fmt]
            checks.append(ir.Check("format", func=func, reason=reason))
        return ir.Shape("string", "rt_str", ptr, checks=checks)

    def pattern(self, source, ptr):
        if not isinstance(source, str):
            raise SpecError(ptr, "pattern must be a string")
        if source in self.patterns:
            return self.patterns[source]
        try:
            bp = compile_pattern(source)
        except PatternError:
            bp = None
        if bp is None:
            # Anything beyond a byte set goes to PCRE2 (ECMA-262 flavour,
            # unanchored search), compiled once on first use.
            check_regex_syntax(source, ptr)
            pat = ir.Pattern(
                set_name="api__re_%d" % len(self.patterns), source_c=comment(source), pointer=ptr,
                words=[], min_count=0, max_count=None, count_code_points=False,
                reason="must match pattern " + source, regex=True, regex_c=c_string(source),
                regex_len=byte_len(source))
            self.patterns[source] = pat
            return pat
        pat = ir.Pattern(
            set_name="api__set_%d" % len(self.patterns), source_c=comment(source), pointer=ptr,
            words=["UINT64_C(0x%016x)" % w for w in bp.words], min_count=bp.min_count,
            max_count=bp.max_count, count_code_points=bp.count_code_points, reason=bp.reason)
        self.patterns[source] = pat
        return pat

    def number_checks(self, s, ptr, bits):
        """Range, multipleOf and enum checks. bits None: a double."""
        bounds = []   # (fail op, value, reason)
        for key, ekey, op_in, op_ex, word in (("minimum", "exclusiveMinimum", "<", "<=", ">"),
                                              ("maximum", "exclusiveMaximum", ">", ">=", "<")):
            v = s.get(key)
            ex = s.get(ekey)
            if v is not None and not is_number(v):
                raise SpecError(ptr_join(ptr, key), "%s must be a number" % key)
            if self.spec.v31:
                if isinstance(ex, bool):
                    raise SpecError(ptr_join(ptr, ekey),
                                    "a boolean %s is OpenAPI 3.0; 3.1 takes the bound itself" % ekey)
                if v is not None:
                    bounds.append((op_in, v, "must be %s= %s" % (word, num_text(v)), key))
                if ex is not None:
                    if not is_number(ex):
                        raise SpecError(ptr_join(ptr, ekey), "%s must be a number" % ekey)
                    bounds.append((op_ex, ex, "must be %s %s" % (word, num_text(ex)), ekey))
            else:
                if ex is not None and not isinstance(ex, bool):
                    raise SpecError(ptr_join(ptr, ekey),
                                    "a numeric %s is OpenAPI 3.1; 3.0 takes a boolean" % ekey)
                if v is not None:
                    if ex:
                        bounds.append((op_ex, v, "must be %s %s" % (word, num_text(v)), key))
                    else:
                        bounds.append((op_in, v, "must be %s= %s" % (word, num_text(v)), key))
        kept = []
        for op, v, reason, key in bounds:
            if bits is None:
                if isinstance(v, float) and not math.isfinite(v):
                    raise SpecError(ptr_join(ptr, key), "%s must be finite" % key)
                kept.append((op, dbl_lit(v), reason, v))
                continue
            if isinstance(v, float):
                if not v.is_integer():
                    raise SpecError(ptr_join(ptr, key), "%s of an integer must be a whole number" % key)
                v = int(v)
            tmin, tmax = INT_RANGE[bits]
            always = {"<": v <= tmin, "<=": v < tmin, ">": v >= tmax, ">=": v > tmax}[op]
            never = {"<": v > tmax, "<=": v >= tmax, ">": v < tmin, ">=": v <= tmin}[op]
            if never:
                raise SpecError(ptr_join(ptr, key), "%s %s leaves no int%d value" % (key, v, bits))
            if not always:
                kept.append((op, int_lit(v), reason, v))
        checks = []
        if (len(kept) == 2 and kept[0][0] == "<" and kept[1][0] == ">"):
            checks.append(ir.Check("compare", conds=[(kept[0][0], kept[0][1]), (kept[1][0], kept[1][1])],
                                   reason="must be between %s and %s" % (num_text(kept[0][3]),
                                                                         num_text(kept[1][3]))))
        else:
            for op, lit, reason, _ in kept:
                checks.append(ir.Check("compare", conds=[(op, lit)], reason=reason))
        if "multipleOf" in s:
            m = s["multipleOf"]
            mptr = ptr_join(ptr, "multipleOf")
            if not is_number(m) or m <= 0 or (isinstance(m, float) and not math.isfinite(m)):
                raise SpecError(mptr, "multipleOf must be a positive number")
            if bits is None or (isinstance(m, float) and not m.is_integer()):
                checks.append(ir.Check("fmultiple", divisor=dbl_lit(m),
                                       reason="must be a multiple of %s" % num_text(m)))
            elif int(m) != 1:
                checks.append(ir.Check("multiple", divisor=int_lit(int(m)),
                                       reason="must be a multiple of %d" % int(m)))
        if "enum" in s:
            vals = [v for v in s["enum"] if v is not None] if isinstance(s["enum"], list) else None
            if vals and not all(is_number(v) for v in vals):
                self.note(ptr_join(ptr, "enum"), "a numeric enum lists values that are no numbers "
                          "(they can never match and are ignored)")
                vals = [v for v in vals if is_number(v)]
            if not vals:
                raise SpecError(ptr_join(ptr, "enum"), "a numeric enum must list numbers")
            if len(set(vals)) != len(vals):
                self.note(ptr_join(ptr, "enum"), "enum lists a value twice (the copy is ignored)")
                vals = list(dict.fromkeys(vals))
            if bits is not None and not all(float(v).is_integer() for v in vals):
                raise SpecError(ptr_join(ptr, "enum"), "an integer enum must list whole numbers")
            lits = [int_lit(int(v)) if bits else dbl_lit(v) for v in vals]
            checks.append(ir.Check("oneof", values=lits,
                                   reason="must be one of: " + ", ".join(num_text(v) for v in vals)))
        return checks

    def build_enum(self, s, ptr, name, label):
        values = s.get("enum")
        eptr = ptr_join(ptr, "enum")
        if not isinstance(values, list):
            raise SpecError(eptr, "enum must be a list")
        values = [v for v in values if v is not None]
        if not values or not all(isinstance(v, str) for v in values):
            raise SpecError(eptr, "a string enum must list strings")
        if len(set(values)) != len(values):
            self.note(eptr, "enum lists a value twice (the copy is ignored)")
            values = list(dict.fromkeys(values))
        prefix = name.upper()
        vals = []
        for v in values:
            js = json.dumps(v, ensure_ascii=False)
            vals.append(ir.EnumValue(self.ns.claim(prefix + "_" + upper(v)), v, c_string(v),
                                     byte_len(v), c_string(js), byte_len(js)))
        ty = ir.EnumType(name, comment(label), ptr, vals,
                         "must be one of: " + ", ".join(values))
        groups = {}
        for v in vals:
            groups.setdefault(v.raw_len, []).append(v)
        ty.by_len = sorted(groups.items())
        self.types[ptr] = ty
        self.enums.append(ty)
        return ty

    def build_object(self, s, ptr, name, label, parts=None):
        obj = ir.ObjType(name, comment(label), ptr, comment(s.get("description") or s.get("title") or ""))
        self.types[ptr] = obj
        self.objects.append(obj)
        self.check_schema_keywords(s, ptr)
        prop_ptrs = {}
        if "allOf" in s or parts:
            s, prop_ptrs = self.merge_all_of(s, ptr, parts)
        props = s.get("properties") or {}
        if not isinstance(props, dict):
            raise SpecError(ptr_join(ptr, "properties"), "properties must be a mapping")
        required = s.get("required") or []
        if not isinstance(required, list):
            raise SpecError(ptr_join(ptr, "required"), "required must be a list")
        props = dict(props)
        for i, r in enumerate(required):
            if r not in props:
                # Required but not declared: it must be there, with any value.
                if not isinstance(r, str):
                    raise SpecError(ptr_join(ptr, "required", i), "required must list names")
                props[r] = {}
                prop_ptrs[r] = ptr_join(ptr, "required", i)
        ap = s.get("additionalProperties", True)
        members = Namespace()
        base = name[len("api_"):]
        if ap is False:
            obj.strict = True
        elif not (ap is True or ap == {}):
            aptr = ptr_join(ptr, "additionalProperties")
            shape, nullable, _, _ = self.shape_of(ap, aptr, base + "_value", label + ".*")
            obj.addl, obj.addl_nullable = shape, nullable
            obj.entry_name = name + "_prop"
        if not props and obj.addl is None:
            raise Unsupported(ptr, "an object without properties (free-form objects are not supported)")
        for i, (pname, pnode) in enumerate(props.items()):
            pptr = prop_ptrs.get(pname) or ptr_join(ptr, "properties", pname)
            shape, nullable, ro, wo = self.shape_of(pnode, pptr, base + "_" + snake(pname),
                                                    label + "." + pname)
            req = pname in required
            comp = []
            if not req:
                comp.append("has_{}")
            if nullable:
                comp.append("{}_is_null")
            if shape.kind == "array":
                comp.append("{}_len")
            c_name = members.claim(member(pname), comp)
            f = ir.Field(pname, c_name, i, pptr, shape, req, nullable, ro, wo,
                         c_string(pname), byte_len(pname))
            if req:
                f.seen_var = "seen_" + c_name
            else:
                f.default_c = self.field_default(pnode, pptr, shape)
            obj.fields.append(f)
        if obj.addl is not None:
            obj.addl_c_name = members.claim("additional_properties", ["{}_len"])
        obj.required_count = sum(1 for f in obj.fields if f.required)
        obj.optional_flags = ["has_" + f.c_name for f in obj.fields if not f.required]
        lo, hi = self.count_bounds(s, ptr, "minProperties", "maxProperties")
        if lo or hi is not None:
            if not obj.strict and obj.addl is None:
                # Unknown keys count too: the decoder counts them.
                obj.count_unknown = members.claim("other_properties")
            elif not obj.optional_flags and obj.addl is None:
                n = obj.required_count
                if (lo or 0) <= n and (hi is None or n <= hi):
                    lo = hi = None
                else:
                    raise SpecError(ptr_join(ptr, "minProperties" if lo else "maxProperties"),
                                    "minProperties/maxProperties can never be met")
            if lo or hi is not None:
                obj.checks.append(ir.Check(
                    "props", lo=lo or None, hi=hi,
                    reason_lo="must have at least " + plural(lo or 0, "property", "properties"),
                    reason_hi="must have at most " + plural(hi or 0, "property", "properties")))
        self.layout_encoder(obj)
        groups = {}
        for f in obj.fields:
            groups.setdefault(f.key_len, []).append(f)
        obj.key_groups = sorted(groups.items())
        shapes = [f.shape for f in obj.fields] + ([obj.addl] if obj.addl else [])
        obj.dec_needs_s = any(x.kind == "enum" for sh in shapes for x in nested(sh))
        return obj

    @staticmethod
    def layout_encoder(obj):
        """Decide per field how the encoder writes the separator before it.

        Fields after one that is always written get a literal ",\"key\":";
        the first field gets none; a field preceded only by optional ones
        asks a runtime flag (`more`), which optional fields then set."""
        certain = maybe = False
        enc = [f for f in obj.fields if not f.write_only]
        for i, f in enumerate(enc):
            if certain:
                f.enc_sep = "comma"
            elif maybe:
                f.enc_sep = "dynamic"
            elif i == 0 and f.required:
                f.enc_sep = "open"   # the '{' joins the first key's literal
            else:
                f.enc_sep = "none"
            text = {"comma": ",", "open": "{"}.get(f.enc_sep, "") + \
                json.dumps(f.json_name, ensure_ascii=False) + ":"
            f.enc_key_c = c_string(text)
            f.enc_key_len = byte_len(text)
            if f.required:
                certain = True
            else:
                maybe = True
        dynamic = [i for i, f in enumerate(enc) if f.enc_sep == "dynamic"]
        obj.enc_needs_more = bool(dynamic)
        if dynamic:
            last = dynamic[-1]
            for i, f in enumerate(enc):
                f.enc_set_more = i < last and not f.required
        if obj.addl is not None:
            # The extra entries follow the declared fields: a comma before
            # each when something was written before it.
            obj.enc_addl_sep = "comma" if certain else "dynamic"
            if not certain:
                obj.enc_needs_more = True
                for f in enc:
                    f.enc_set_more = True

    # ------------------------------------------------------------ operations

    def build_ops(self):
        paths = self.spec.doc.get("paths") or {}
        if not isinstance(paths, dict):
            raise SpecError("/paths", "paths must be a mapping")
        ops, templates = [], []
        for path, item in paths.items():
            pptr = ptr_join("/paths", path)
            item, iptr = self.spec.resolve(item, pptr)
            if not isinstance(item, dict):
                raise SpecError(pptr, "a path item must be a mapping")
            segs, names = self.parse_template(path, pptr)
            path_params = item.get("parameters") or []
            methods = []
            for key, op in item.items():
                if key.upper() not in METHODS or key != key.lower():
                    continue
                label = (op.get("operationId") if isinstance(op, dict) else None) or \
                    "%s %s" % (key.upper(), path)
                n_warn = len(self.warnings)
                o = self.attempt(lambda key=key, op=op: self.build_op(
                    key.upper(), path, op, ptr_join(iptr, key), path_params,
                    ptr_join(iptr, "parameters"), names),
                    "operation %s (%s %s)" % (label, key.upper(), path))
                if o is None:
                    wptr, wmsg = self.warnings[n_warn]
                    self.left_out.append((comment(str(label)), key.upper(), comment(path), wptr, wmsg))
                    methods.append((key.upper(), "API_OP_LEFT_OUT"))
                    continue
                ops.append(o)
                methods.append((key.upper(), o.enum_name))
            templates.append((path, pptr, segs, methods))
        return ops, templates

    def parse_template(self, path, ptr):
        if not isinstance(path, str) or not path.startswith("/"):
            raise SpecError(ptr, "a path must start with '/'")
        if path == "/":
            return [], []
        segs, names = [], []
        for seg in path[1:].split("/"):
            if seg == "":
                raise SpecError(ptr, "empty path segment or trailing slash (never matched)")
            if seg.startswith("{") and seg.endswith("}") and seg.count("{") == 1 and seg.count("}") == 1:
                names.append(seg[1:-1])
                segs.append(None)
            elif "{" in seg or "}" in seg:
                raise SpecError(ptr, "segment %r: a parameter must fill a whole segment" % seg)
            else:
                segs.append(seg)
        if len(set(names)) != len(names):
            raise SpecError(ptr, "a path parameter appears twice")
        return segs, names

    def build_op(self, method, path, op, optr, path_params, ppptr, tnames):
        if not isinstance(op, dict):
            raise SpecError(optr, "an operation must be a mapping")
        op_id = op.get("operationId") or ""
        if not isinstance(op_id, str):
            raise SpecError(ptr_join(optr, "operationId"), "operationId must be a string")
        base = snake(op_id) if op_id else snake(method.lower() + "_" + path)
        c_name = self.ns.claim(base, ["api_{}_params", "api_{}_result", "svc_{}", "api__serve_{}",
                                      "api__params_{}", "api_{}_status",
                                      "api_{}_respond",
                                      lambda c: "API_OP_" + c.upper()])
        o = ir.Operation(
            op_id=op_id, label=op_id or "%s %s" % (method, path), c_name=c_name,
            svc_name="svc_" + c_name, enum_name="API_OP_" + c_name.upper(), method=method,
            path=path, summary=comment(op.get("summary") or ""), pointer=optr, params=[],
            params_type=None, body_type=None, body_obj=None, body_required=False,
            result_type="api_%s_result" % c_name, responses=[], headers=[], first_status=200,
            has_default=False, other_statuses=[])
        self.build_params(o, op, optr, path_params, ppptr, tnames)
        self.build_body(o, op, optr)
        self.build_responses(o, op, optr)
        return o

    def build_params(self, o, op, optr, path_params, ppptr, tnames):
        merged = {}
        for plist, lptr in ((path_params, ppptr), (op.get("parameters") or [], ptr_join(optr, "parameters"))):
            if not isinstance(plist, list):
                raise SpecError(lptr, "parameters must be a list")
            for i, p in enumerate(plist):
                p, pptr = self.spec.resolve(p, ptr_join(lptr, i))
                if not isinstance(p, dict) or not isinstance(p.get("name"), str) or "in" not in p:
                    raise SpecError(pptr, "a parameter needs 'name' and 'in'")
                merged[(p["name"], p["in"])] = (p, pptr)
        members = Namespace()
        seen_path = set()
        for (name, loc), (p, pptr) in merged.items():
            if loc not in ("path", "query", "header", "cookie"):
                raise SpecError(ptr_join(pptr, "in"), "unknown parameter location %r" % (loc,))
            if loc == "header" and name.lower() in ("accept", "content-type", "authorization"):
                continue  # OpenAPI says these definitions are ignored
            if "content" in p or "schema" not in p:
                raise Unsupported(pptr, "parameters with 'content' (not 'schema') are not supported")
            default_style = {"path": "simple", "query": "form", "header": "simple",
                             "cookie": "form"}[loc]
            style = p.get("style", default_style)
            explode = p.get("explode", style == "form")
            required = p.get("required") is True
            if loc == "path":
                if not required:
                    raise SpecError(ptr_join(pptr, "required"), "a path parameter must be required")
                if name not in tnames:
                    raise SpecError(pptr, "path parameter %r is not in the path template" % name)
                seen_path.add(name)
            sptr = ptr_join(pptr, "schema")
            shape, _, _, _ = self.shape_of(p["schema"], sptr, o.c_name + "_" + snake(name),
                                           "%s parameter %s" % (o.label, name))
            split = ""
            if style == "deepObject" and loc == "query" and shape.kind == "object":
                pass
            elif style in ("spaceDelimited", "pipeDelimited") and loc == "query" and \
                    shape.kind == "array" and not explode:
                pass
            elif style in ("label", "matrix") and loc == "path" and shape.kind != "object":
                pass
            elif style != default_style:
                raise Unsupported(ptr_join(pptr, "style"),
                                  "parameter style %r (in %s) is not supported" % (style, loc))
            if shape.kind == "object":
                if loc == "cookie":
                    raise Unsupported(sptr, "object cookie parameters are not supported")
                self.pairs_object(shape.obj, sptr, "object parameter")
                if style == "deepObject":
                    split = "deep"
                elif loc == "query":
                    split = "form_explode" if explode else "form_list"
                else:
                    split = "list_explode" if explode else "list"
            elif shape.kind == "array":
                if shape.items.kind not in SCALAR_PARAM:
                    raise Unsupported(ptr_join(sptr, "items"),
                                      "array parameters of this element type (%s) are not supported"
                                      % shape.items.kind)
                if loc == "cookie" and explode:
                    raise Unsupported(ptr_join(pptr, "explode"),
                                      "exploded array cookie parameters are not supported "
                                      "(explode: false, a comma list, is)")
                split = "multi" if (loc == "query" and explode and style == "form") else "comma"
                if style in ("spaceDelimited", "pipeDelimited"):
                    split = {"spaceDelimited": "space", "pipeDelimited": "pipe"}[style]
                elif style == "label" and explode:
                    split = "dot"
                elif style == "matrix" and explode:
                    split = "matrix"
            elif shape.kind not in SCALAR_PARAM:
                raise Unsupported(sptr, "parameters of this type (%s) are not supported" % shape.kind)
            schema, _, _, _, _ = self.unwrap(p["schema"], sptr)
            default_c = None
            if not required and "default" in schema and shape.kind != "array":
                try:
                    default_c = self.default_literal(shape, schema["default"],
                                                     ptr_join(sptr, "default"))
                except SpecError as exc:
                    self.note(exc.pointer, exc.message + " (not applied)")
            comp = ["has_{}"] if not required and default_c is None else []
            if shape.kind == "array":
                comp.append("{}_len")
            prm = ir.Param(name, members.claim(member(name), comp), loc, c_string(loc + "."),
                           c_string(name), required, default_c, shape, pptr)
            prm.split = split
            prm.style = style
            if style in ("label", "matrix"):
                text = "." if style == "label" else ";%s=" % name
                if style == "matrix" and split == "matrix":
                    text = ";"   # ;id=3;id=4: rt_split_matrix checks every name
                prm.prefix_lit, prm.prefix_len = c_string(text), byte_len(text)
                prm.prefix_text = "'%s' (%s style)" % (text, style)
            if loc == "path":
                prm.path_index = tnames.index(name)
            o.params.append(prm)
        missing = [n for n in tnames if n not in seen_path]
        if missing:
            raise SpecError(o.pointer, "path parameter %r is not declared" % missing[0])
        if o.params:
            o.params_type = "api_%s_params" % o.c_name
        o.params_needs_n = any(c.kind == "length" for p in o.params for sh in nested(p.shape)
                               for c in sh.checks)
        o.cookie_params = any(p.location == "cookie" for p in o.params)
        o.params_needs_present = any(p.location in ("query", "cookie") for p in o.params)
        o.params_alloc = any(p.shape.kind in ("array", "object") for p in o.params)
        o.params_use_req = any(p.location != "path" or p.shape.kind != "string" or p.shape.checks
                               for p in o.params)

    def pairs_object(self, obj, ptr, what):
        """An object decoded from name=value pairs (a form body, an object
        parameter): every property must be a scalar or an array of them."""
        for f in obj.fields:
            sh = f.shape.items if f.shape.kind == "array" else f.shape
            if sh.kind not in SCALAR_PARAM or f.nullable:
                raise Unsupported(f.pointer, "a %s property of this type (%s%s) is not supported"
                                  % (what, "nullable " if f.nullable else "", f.shape.kind))
        if obj.addl is not None:
            raise Unsupported(ptr, "additionalProperties with a schema in a %s is not supported" % what)
        if not any(x is obj for x in self.pair_objects):
            self.pair_objects.append(obj)

    def field_default(self, node, ptr, shape):
        """The C literal of an optional field's scalar default, None when it
        has none (a default of another kind is noted and not applied)."""
        try:
            schema, sptr, _, _, _ = self.unwrap(node, ptr)
        except SpecError:
            return None
        d = node.get("default", schema.get("default") if isinstance(schema, dict) else None) \
            if isinstance(node, dict) else None
        if d is None:
            return None
        if shape.kind not in ("int", "bool", "string", "enum", "number"):
            self.note(ptr_join(sptr, "default"), "a default of this type is not applied")
            return None
        try:
            return self.default_literal(shape, d, ptr_join(sptr, "default"))
        except SpecError as exc:
            self.note(exc.pointer, exc.message + " (not applied)")
            return None

    def default_literal(self, shape, v, ptr):
        if shape.kind == "int" and isinstance(v, int) and not isinstance(v, bool):
            lo, hi = INT_RANGE[shape.bits]
            if lo <= v <= hi:
                return int_lit(v)
        elif shape.kind == "bool" and isinstance(v, bool):
            return "true" if v else "false"
        elif shape.kind == "number" and is_number(v) and math.isfinite(v):
            return dbl_lit(v)
        elif shape.kind == "string" and isinstance(v, str):
            return "RT_STR(%s)" % c_string(v)
        elif shape.kind == "enum" and isinstance(v, str):
            for ev in shape.enum.values:
                if ev.text == v:
                    return ev.c_name
        raise SpecError(ptr, "default %r does not fit the parameter's type" % (v,))

    def build_body(self, o, op, optr):
        if "requestBody" not in op:
            return
        rb, rbptr = self.spec.resolve(op["requestBody"], ptr_join(optr, "requestBody"))
        content = rb.get("content") if isinstance(rb, dict) else None
        if not isinstance(content, dict):
            raise SpecError(rbptr, "a request body needs 'content'")
        media = [m for m in content if is_json_media(m)]
        form = [m for m in content
                if m.split(";")[0].strip().lower() == "application/x-www-form-urlencoded"]
        if not media and form:
            mptr = ptr_join(rbptr, "content", form[0])
            mt = content[form[0]]
            sptr = ptr_join(mptr, "schema")
            if not isinstance(mt, dict) or not isinstance(mt.get("schema"), dict):
                raise Unsupported(mptr, "a form body without a schema is not supported")
            shape, _, _, _ = self.shape_of(mt["schema"], sptr, o.c_name + "_request",
                                           o.label + " request body")
            if shape.kind != "object":
                raise Unsupported(sptr, "a form body must be an object schema")
            self.pairs_object(shape.obj, sptr, "form body")
            if isinstance(mt.get("encoding"), dict) and mt["encoding"]:
                raise Unsupported(ptr_join(mptr, "encoding"), "form 'encoding' is not supported")
            o.body_type, o.body_obj, o.body_form = shape.c_type, shape.obj, True
            o.body_required = rb.get("required") is True
            return
        if not media:
            other = sorted(content)[0] if content else "?"
            raise Unsupported(ptr_join(rbptr, "content", other),
                              "request bodies of media type %r are not supported (application/json "
                              "and application/x-www-form-urlencoded are)" % other)
        mptr = ptr_join(rbptr, "content", media[0])
        mt = content[media[0]]
        if not isinstance(mt, dict):
            raise SpecError(mptr, "a media type must be a mapping")
        sptr = ptr_join(mptr, "schema")
        shape, nullable, _, _ = self.shape_of(mt.get("schema", {}), sptr, o.c_name + "_request",
                                              o.label + " request body")
        o.body_required = rb.get("required") is True
        if shape.kind == "object" and not nullable:
            o.body_type, o.body_obj = shape.c_type, shape.obj
        elif shape.kind == "union" and not nullable:
            o.body_type, o.body_union = shape.c_type, shape.union
        else:
            # Any other body is boxed: a struct holding the one value.
            box = self.box(shape, nullable, sptr, o.c_name + "_body", o.label + " request body")
            o.body_type, o.body_union = box.c_type, box.union

    def build_responses(self, o, op, optr):
        rptr0 = ptr_join(optr, "responses")
        responses = op.get("responses")
        if responses is None and self.spec.v31:
            responses = {"default": {}}   # 3.1 makes responses optional: anything goes
        if not isinstance(responses, dict) or not responses:
            raise SpecError(rptr0, "an operation needs responses")
        members = Namespace(["status", "raw"])
        headers = {}
        first = None
        for code, r in responses.items():
            rptr = ptr_join(rptr0, code)
            if code == "default":
                o.has_default = True
            elif len(code) == 3 and code[0] in "12345" and code[1:].upper() == "XX":
                o.ranges.append(int(code[0]))
            elif not (len(code) == 3 and code.isdigit() and 100 <= int(code) <= 599):
                raise SpecError(rptr, "response key %r is not a status code, a range (2XX) or "
                                "default" % code)
            r, rrptr = self.spec.resolve(r, rptr)
            if not isinstance(r, dict):
                raise SpecError(rrptr, "a response must be a mapping")
            for hname in (r.get("headers") or {}):
                if hname.lower() in ("x-request-id", "content-type") or hname.lower() in headers:
                    continue
                hc = members.claim("header_" + snake(hname))
                headers[hname.lower()] = ir.RespHeader(hname, c_string(hname), hc)
            if code == "default" or not code.isdigit():
                continue
            status = int(code)
            body = None
            content = r.get("content") or {}
            media = [m for m in content if is_json_media(m)]
            if 200 <= status < 300 and first is None:
                first = status
            if status >= 200 and status not in (204, 205, 304):
                if media and isinstance(content[media[0]], dict) and "schema" in content[media[0]]:
                    sptr = ptr_join(rrptr, "content", media[0], "schema")
                    shape, _, _, _ = self.shape_of(content[media[0]]["schema"], sptr,
                                                   "%s_response_%d" % (o.c_name, status),
                                                   "%s response %d" % (o.label, status))
                    body = shape
            if body is not None:
                f = members.claim("body_%d" % status, ["{}_len"] if body.kind == "array" else [])
                o.responses.append(ir.Response(status, f, body))
            else:
                o.other_statuses.append(status)
        o.responses.sort(key=lambda x: x.status)
        o.other_statuses.sort()
        o.ranges.sort()
        o.statuses_enum = "api_%s_status" % o.c_name
        for st in sorted([r.status for r in o.responses] + o.other_statuses):
            o.status_consts.append((self.ns.claim("API_%s_STATUS_%d" % (o.c_name.upper(), st)), st))
        o.headers = list(headers.values())
        o.first_status = first if first is not None else 200

    # ------------------------------------------------------------ routes

    def build_routes(self, templates):
        has = {path for path, _, _, _ in templates}
        builtin = []
        for path, enum in (("/openapi.yaml", "API_OP_SPEC_YAML"), ("/openapi.json", "API_OP_SPEC_JSON")):
            if path not in has:
                templates.append((path, "", [path[1:]], [("GET", enum)]))
                builtin.append(path)
        # HEAD is served wherever GET is (RFC 9110 9.3.2): the same handler
        # runs and the runtime sends the headers without the body.
        for t in templates:
            ms = t[3]
            get = [enum for m, enum in ms if m == "GET"]
            if get and not any(m == "HEAD" for m, _ in ms):
                ms.append(("HEAD", get[0]))
        used = {m for _, _, _, ms in templates for m, _ in ms}
        methods = [m for m in METHODS if m in used]
        routes, shapes = [], {}
        order = sorted(range(len(templates)),
                       key=lambda i: (len(templates[i][2]), [s is None for s in templates[i][2]], i))
        for i in order:
            path, pptr, segs, ms = templates[i]
            if not ms:
                continue
            key = tuple(segs)
            if key in shapes:
                raise SpecError(pptr, "path %r matches the same requests as %r" % (path, shapes[key]))
            shapes[key] = path
            by_method = dict(ms)
            routes.append(ir.Route(
                comment(path),
                [ir.RouteSeg(None if s is None else c_string(s), 0 if s is None else byte_len(s))
                 for s in segs],
                [by_method.get(m, "-1") for m in methods],
                ", ".join(m for m in METHODS if m in by_method)))
        return routes, methods, builtin

    # ------------------------------------------------------------ whole

    def all_shapes(self):
        """Every shape held by a generated type, nested ones included."""
        out = []
        for obj in self.objects:
            for f in obj.fields:
                out.extend(nested(f.shape))
            if obj.addl is not None:
                out.extend(nested(obj.addl))
        for u in self.unions:
            for alt in u.alts:
                out.extend(nested(alt.shape))
        return out

    def finish_checks(self):
        """has_checks for every shape and type; recursion makes this a fixpoint."""
        shapes = self.all_shapes()
        changed = True
        while changed:
            changed = False
            for sh in shapes:
                v = bool(sh.checks) or (sh.obj is not None and sh.obj.has_checks) or \
                    (sh.union is not None and sh.union.has_checks) or \
                    (sh.items is not None and sh.items.has_checks)
                if v and not sh.has_checks:
                    sh.has_checks = changed = True
            for obj in self.objects:
                v = bool(obj.checks) or any(f.shape.has_checks for f in obj.fields) or \
                    (obj.addl is not None and obj.addl.has_checks)
                if v and not obj.has_checks:
                    obj.has_checks = changed = True
            for u in self.unions:
                v = any(a.shape.has_checks for a in u.alts)
                if v and not u.has_checks:
                    u.has_checks = changed = True
        for u in self.unions:
            u.has_checks = any(a.shape.has_checks for a in u.alts)
            for a in u.alts:
                a.needs_s = any(x.kind == "enum" for x in nested(a.shape))
                a.val_needs_n = any(c.kind == "length" for x in nested(a.shape) for c in x.checks)
                a.needs_n = a.val_needs_n
        for obj in self.objects:
            obj.val_fields = [f for f in obj.fields if f.shape.has_checks]
            obj.val_needs_n = any(c.kind == "length"
                                  for f in obj.fields
                                  for sh in nested(f.shape)
                                  for c in sh.checks)

    def definition_order(self):
        """Every struct after the types it holds by value. A cycle of by-value
        members (a tree node holding itself) is cut by holding the member
        that closes it through a pointer (shape.by_ref)."""
        out, state = [], {}

        def deps(kind, t):
            if kind == "object":
                return [f.shape for f in t.fields]
            if kind == "entry":
                return [t.addl]
            if kind == "union":
                return [a.shape for a in t.alts]
            return []

        def node_of(sh):
            if sh.kind == "object":
                return ("object", sh.obj)
            if sh.kind == "union":
                return ("union", sh.union)
            return None

        def visit(kind, t):
            state[(kind, id(t))] = "active"
            for sh in deps(kind, t):
                n = node_of(sh)
                if n is None or sh.by_ref:
                    continue
                st = state.get((n[0], id(n[1])))
                if st == "active":
                    sh.by_ref = True
                elif st is None:
                    visit(*n)
            state[(kind, id(t))] = "done"
            out.append((kind, t))
            if kind == "object" and t.addl is not None and ("entry", id(t)) not in state:
                visit("entry", t)

        for lst in self.lists:
            out.append(("list", lst))
        for obj in self.objects:
            if ("object", id(obj)) not in state:
                visit("object", obj)
        for u in self.unions:
            if ("union", id(u)) not in state:
                visit("union", u)
        return out

    def build(self):
        doc = self.spec.doc
        schemas = (doc.get("components") or {}).get("schemas") or {}
        if not isinstance(schemas, dict):
            raise SpecError("/components/schemas", "schemas must be a mapping")
        for name, node in schemas.items():
            ptr = ptr_join("/components/schemas", name)

            def claim(name=name, node=node, ptr=ptr):
                kind = self.classify(node, ptr)
                if kind == "object":
                    self.type_names[ptr] = self.ns.claim(
                        "api_" + snake(name), ["{}_decode", "{}_validate", "{}_encode", "{}_prop"])
                elif kind == "union":
                    self.type_names[ptr] = self.ns.claim(
                        "api_" + snake(name), ["{}_decode", "{}_validate", "{}_encode", "{}_which"])
                elif kind == "enum":
                    self.type_names[ptr] = self.ns.claim("api_" + snake(name),
                                                         ["{}_names", "{}_parse", "{}_encode"])
            self.attempt(claim, "schema %s" % name)
        for name, node in schemas.items():
            ptr = ptr_join("/components/schemas", name)
            if ptr in self.type_names:
                self.attempt(lambda ptr=ptr: self.named_type(ptr), "schema %s" % name)
            else:
                # A primitive or array schema has no type of its own; build it
                # anyway so an unsupported construct in it is reported.
                self.attempt(lambda node=node, ptr=ptr, name=name: self.shape_of(
                    node, ptr, snake(name), name), "schema %s" % name)
        ops, templates = self.build_ops()
        routes, methods, builtin = self.build_routes(templates)
        for ptr, msg in check_examples(self.spec):
            self.note(ptr, msg)
        self.finish_checks()
        structs = self.definition_order()
        objects = [t for k, t in structs if k == "object"]
        unions = [t for k, t in structs if k == "union"]

        type_shapes = self.all_shapes()
        param_shapes = [x for o in ops for p in o.params for x in nested(p.shape)]

        def used_patterns(shs):
            pats = {c.pattern.set_name: c.pattern for s in shs for c in s.checks if c.kind == "pattern"}
            return sorted(pats.values(), key=lambda p: int(p.set_name.rsplit("_", 1)[1]))

        kinds = {(s.kind, s.bits) for s in type_shapes}
        th = set()
        if objects or unions:
            th.add("wrong_type")
        if any(f.required for o in objects for f in o.fields) or \
                any(u.disc_key_c for u in unions):
            th.add("missing")
        if kinds & {("string", 64), ("enum", 64)}:
            th.add("str")
        for k, b, h in (("datetime", 64, "time"), ("int", 64, "i64"), ("int", 32, "i32"),
                        ("number", 64, "f64"), ("bool", 64, "bool"), ("array", 64, "grow"),
                        ("raw", 64, "raw")):
            if (k, b) in kinds:
                th.add(h)
        if ("array", 64) in kinds:
            th.add("array")
        if any(o.addl is not None for o in objects):
            th.add("grow")
            th.add("dupkeys")
        if any(u.kind != "box" and not u.disc_key_c for u in unions):
            th.add("try")
        if any(u.disc_key_c for u in unions):
            th.add("str")
        for sh in type_shapes:
            for c in sh.checks:
                if c.kind == "unique":
                    th.add("unique")
                    th.add(c.func[len("api__"):])
        if "time" in th:
            th.add("str")
        if th & {"i64", "i32"}:
            th.add("int_reason")
        rh = set()
        for s in param_shapes:
            rh.add({"int": "param_i%d" % s.bits, "bool": "param_bool", "datetime": "param_time",
                    "number": "param_f64"}.get(s.kind, ""))
        rh.discard("")
        if "param_i32" in rh:
            rh.add("param_i64")
        if any(o.body_type and not o.body_form for o in ops):
            rh.add("malformed")
        if any(o.body_type or o.params for o in ops):
            rh.add("has_errs")
        if any(p.split for o in ops for p in o.params) or any(o.body_form for o in ops):
            rh.add("split")
        for obj in self.pair_objects:
            for f in obj.fields:
                sh = f.shape.items if f.shape.kind == "array" else f.shape
                rh.add({"int": "param_i%d" % sh.bits, "bool": "param_bool",
                        "datetime": "param_time", "number": "param_f64"}.get(sh.kind, ""))
        rh.discard("")
        if "param_i32" in rh:
            rh.add("param_i64")
        if any(r.shape.kind == "array" and r.shape.items.kind == "list" for o in ops
               for r in o.responses):
            pass

        method_cols = [(i, m, c_string(m)) for i, m in enumerate(methods)]
        by_len = {}
        for i, m, lit in method_cols:
            by_len.setdefault(len(m), []).append((i, m, lit))
        yaml_bytes = self.spec.raw
        json_bytes = self.spec.to_json().encode("utf-8")
        info = doc.get("info") or {}
        builtin_ops = [("API_OP_SPEC_YAML", "GET /openapi.yaml"),
                       ("API_OP_SPEC_JSON", "GET /openapi.json")]
        if self.left_out:
            builtin_ops.append(("API_OP_LEFT_OUT", "operations the generator left out"))
        return ir.Api(
            spec_name=self.spec_name, title=comment(info.get("title") or ""),
            version=comment(info.get("version") or ""), enums=self.enums, objects=objects,
            structs=structs, unions=unions, lists=list(self.lists),
            warnings=self.warnings, notes=self.notes, left_out=self.left_out, scaffold=False,
            ops=ops, builtin_ops=builtin_ops,
            op_count=len(ops) + len(builtin_ops), routes=routes, methods=method_cols,
            methods_by_len=sorted(by_len.items()),
            max_segs=max([len(r.segs) for r in routes] + [1]),
            max_params=max([sum(1 for s in r.segs if s.lit_c is None) for r in routes] + [1]),
            spec_yaml_route="/openapi.yaml" in builtin, spec_json_route="/openapi.json" in builtin,
            types_patterns=used_patterns(type_shapes), router_patterns=used_patterns(param_shapes),
            types_helpers=sorted(th), router_helpers=sorted(rh),
            pair_objects=[o for o in objects if any(x is o for x in self.pair_objects)],
            yaml_lines=chunk_lines(yaml_bytes), yaml_len=len(yaml_bytes),
            json_lines=chunk_lines(json_bytes), json_len=len(json_bytes))


def build_api(spec, spec_name, strict=True):
    """The IR of a loaded spec. strict: an unsupported construct is an error
    (Unsupported); otherwise what uses it is left out and listed in
    api.warnings."""
    return Builder(spec, spec_name, strict).build()
