"""Check the spec's own examples against their schemas.

An example that does not match its schema is a spec warning (the document
contradicts itself), never an error: it changes no generated code. The
check covers the keywords the generator enforces (type, nullable, enum,
required, properties, additionalProperties, items, lengths, bounds,
multipleOf, pattern, oneOf/anyOf/allOf); formats are not checked here.
"""

import math
import re

from spec_loader import SpecError, ptr_join

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or
    (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "null": lambda v: v is None,
}


class _Checker:
    def __init__(self, spec):
        self.spec = spec

    def errors(self, schema, sptr, value, vptr, depth=0):
        """The first mismatch as (pointer into the example, reason), or None."""
        if depth > 64 or not isinstance(schema, dict):
            return None
        try:
            schema, sptr = self.spec.resolve(schema, sptr)
        except SpecError:
            return None
        if not isinstance(schema, dict):
            return None
        nullable = schema.get("nullable") is True and not self.spec.v31
        if value is None and nullable:
            return None
        t = schema.get("type")
        types = t if isinstance(t, list) else ([t] if isinstance(t, str) else [])
        if types and not any(_TYPES.get(x, lambda v: True)(value) for x in types):
            return vptr, "is not of type %s" % "/".join(types)
        if "enum" in schema and isinstance(schema["enum"], list) and value not in schema["enum"]:
            return vptr, "is not one of the enum values"
        for sub in ("allOf",):
            for i, s in enumerate(schema.get(sub) or []):
                err = self.errors(s, ptr_join(sptr, sub, i), value, vptr, depth + 1)
                if err:
                    return err
        for sub in ("oneOf", "anyOf"):
            alts = schema.get(sub)
            if isinstance(alts, list) and alts:
                ok = sum(1 for i, s in enumerate(alts)
                         if not self.errors(s, ptr_join(sptr, sub, i), value, vptr, depth + 1))
                if ok == 0:
                    return vptr, "matches none of the %s alternatives" % sub
        if isinstance(value, dict):
            props = schema.get("properties") or {}
            for r in schema.get("required") or []:
                if r not in value and not (isinstance(props.get(r), dict) and
                                           props[r].get("readOnly") is True):
                    return vptr, "lacks the required property %r" % r
            for k, v in value.items():
                if k in props:
                    err = self.errors(props[k], ptr_join(sptr, "properties", k), v,
                                      ptr_join(vptr, k), depth + 1)
                    if err:
                        return err
                elif schema.get("additionalProperties") is False:
                    return ptr_join(vptr, k), "is not a declared property"
                elif isinstance(schema.get("additionalProperties"), dict):
                    err = self.errors(schema["additionalProperties"],
                                      ptr_join(sptr, "additionalProperties"), v,
                                      ptr_join(vptr, k), depth + 1)
                    if err:
                        return err
        if isinstance(value, list):
            lo, hi = schema.get("minItems"), schema.get("maxItems")
            if isinstance(lo, int) and len(value) < lo or isinstance(hi, int) and len(value) > hi:
                return vptr, "has the wrong number of items"
            if isinstance(schema.get("items"), dict):
                for i, v in enumerate(value):
                    err = self.errors(schema["items"], ptr_join(sptr, "items"), v,
                                      ptr_join(vptr, i), depth + 1)
                    if err:
                        return err
        if isinstance(value, str):
            lo, hi = schema.get("minLength"), schema.get("maxLength")
            if isinstance(lo, int) and len(value) < lo or isinstance(hi, int) and len(value) > hi:
                return vptr, "has the wrong length"
            pat = schema.get("pattern")
            if isinstance(pat, str):
                try:
                    if not re.search(pat, value):
                        return vptr, "does not match the pattern %s" % pat
                except re.error:
                    pass
        if _TYPES["number"](value):
            for key, bad in (("minimum", lambda v, b: v < b), ("maximum", lambda v, b: v > b),
                             ("exclusiveMinimum", lambda v, b: v <= b),
                             ("exclusiveMaximum", lambda v, b: v >= b)):
                b = schema.get(key)
                if _TYPES["number"](b) and bad(value, b):
                    return vptr, "breaks %s %s" % (key, b)
            for key, base, bad in (("minimum", "exclusiveMinimum", lambda v, b: v <= b),
                                   ("maximum", "exclusiveMaximum", lambda v, b: v >= b)):
                b = schema.get(key)
                if schema.get(base) is True and _TYPES["number"](b) and bad(value, b):
                    return vptr, "breaks exclusive %s %s" % (key, b)
            m = schema.get("multipleOf")
            if _TYPES["number"](m) and m > 0:
                q = value / m
                if math.isfinite(q) and abs(q - round(q)) > 1e-9 * max(1.0, abs(q)):
                    return vptr, "is not a multiple of %s" % m
        return None


def check_examples(spec):
    """[(pointer, message)] for every example that breaks its schema."""
    chk = _Checker(spec)
    out = []

    def report(example_ptr, err):
        where, why = err
        out.append((example_ptr, "example does not match its schema: value%s %s" % (
            "" if where == "" else " at " + where, why)))

    def visit(node, ptr, depth):
        if depth > 200:
            return
        if isinstance(node, dict):
            schema = node.get("schema")
            if isinstance(schema, dict):   # a media type or a parameter
                if "example" in node:
                    err = chk.errors(schema, ptr_join(ptr, "schema"), node["example"], "")
                    if err:
                        report(ptr_join(ptr, "example"), err)
                ex = node.get("examples")
                if isinstance(ex, dict):
                    for name, e in ex.items():
                        if isinstance(e, dict) and "value" in e and "$ref" not in e:
                            err = chk.errors(schema, ptr_join(ptr, "schema"), e["value"], "")
                            if err:
                                report(ptr_join(ptr, "examples", name, "value"), err)
            if "example" in node and ("type" in node or "properties" in node) and \
                    not isinstance(node.get("schema"), dict):
                err = chk.errors(node, ptr, node["example"], "")
                if err:
                    report(ptr_join(ptr, "example"), err)
            for k, v in node.items():
                if k in ("example", "examples") and not isinstance(v, dict):
                    continue
                if k == "example":
                    continue
                visit(v, ptr_join(ptr, k), depth + 1)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                visit(v, ptr_join(ptr, i), depth + 1)

    visit(spec.doc, "", 0)
    return out
