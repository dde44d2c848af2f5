"""The conformance suite: a Criterion test file that proves the generated code
against the spec it was generated from.

    generate.py --spec S --out DIR --conformance DIR   (writes DIR/conformance.gen.c)

Everything is derived from the IR (ir.py), the spec is read only for the
examples it gives and for a pattern's source text. Three kinds of cases:

  roundtrip  an instance of a type (a minimal one: required fields only; a
             maximal one: every field; one per valid spec example) is
             decoded, validated (no error) and encoded; the output must equal
             the expected JSON in canonical form (see conformance.gen.c.j2:
             object keys sorted by bytes, no whitespace, strings re-escaped
             minimally, integers exactly, other numbers as doubles).
  reject     an instance breaking exactly one constraint must yield exactly
             one error, at the expected JSON pointer with the expected reason.
  params     a request to the generated dispatcher with one malformed
             parameter (or body) must get 400 with the error envelope naming
             that parameter; a well-formed request must reach the handler.

Expected errors come from a Python model of the generated decoders and
validators (Oracle below). Every synthesized instance is checked against that
model before it becomes a case: a valid instance must have no error, a
negative one exactly its target error; an instance the synthesizer cannot
build becomes a note with its reason, printed by the suite and counted in the
summary, never silently dropped. A spec example that does not match its
schema is a spec warning (printed at generation, shown by the suite).
"""

import datetime
import json
import math
import os
import re
import sys

import conformance_regex
from clit import c_string, comment, lit_value

INT_RANGE = {32: (-2**31, 2**31 - 1), 64: (-2**63, 2**63 - 1)}
MAX_DEPTH = 4              # nested optional objects/arrays beyond this are left out
PROPAGATE = 3              # negatives of a nested object repeated under its parent field
TYPE_REASON = {
    "string": "must be a string", "datetime": "must be a string", "enum": "must be a string",
    "int": "must be an integer", "number": "must be a number", "bool": "must be a boolean",
    "object": "must be an object", "array": "must be an array",
}
# A value of another JSON type for each kind (the wrong-type negative).
WRONG_TYPE = {
    "string": 12345, "datetime": 12345, "enum": 12345, "int": "12", "number": "1.5",
    "bool": "true", "object": [], "array": {},
}
# Strings for formats; the checked ones are verified by the oracle anyway.
FORMAT_VALUES = {
    "email": ["user@example.com", "a.b-c+d@mail.example.org"],
    "uuid": ["123e4567-e89b-12d3-a456-426614174000", "00000000-0000-0000-0000-000000000000"],
    "date": ["2024-02-29", "1999-12-31"],
    "date-time": ["2024-01-02T03:04:05Z"],
    "time": ["12:34:56Z"],
    "uri": ["https://example.com/a?b=c"], "url": ["https://example.com/"],
    "uri-reference": ["/a/b"], "hostname": ["example.com"], "ipv4": ["192.0.2.1"],
    "ipv6": ["2001:db8::1", "::ffff:192.0.2.1"], "byte": ["aGVsbG8=", ""],
    "password": ["s3cret!"],
}
FORMAT_OF_FUNC = {"rt_is_email": "email", "rt_is_uuid": "uuid", "rt_is_date": "date",
                  "rt_is_uri": "uri", "rt_is_ipv4": "ipv4", "rt_is_ipv6": "ipv6",
                  "rt_is_base64": "byte", "rt_is_date_time": "date-time"}
BAD_FORMAT_VALUES = ["1.2.3", "01.2.3.4", "1::2::3", "abc=", "no scheme", "not-valid", "a@b", "user@@example.com", "2024-02-30", "x", "1",
                     "123e4567-e89b-12d3-a456-42661417400g", "user@example..com"]


class Skip(Exception):
    """A case the synthesizer cannot build; the message says why."""


class Pairs:
    """A JSON object written with these (key, value) pairs, duplicates included."""

    def __init__(self, pairs):
        self.pairs = list(pairs)


def ptr_key(ptr, key):
    return ptr + "/" + str(key).replace("~", "~0").replace("/", "~1")


class Raw:
    """A JSON text already serialized (a nested negative)."""

    def __init__(self, text):
        self.text = text


def to_json(v):
    """JSON text; floats keep a fraction or exponent (so 5.0 stays no integer)."""
    if isinstance(v, Raw):
        return v.text
    if isinstance(v, Pairs):
        return "{" + ",".join(to_json(k) + ":" + to_json(x) for k, x in v.pairs) + "}"
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise Skip("a non-finite number has no JSON form")
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ",".join(to_json(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(to_json(k) + ":" + to_json(x) for k, x in v.items()) + "}"
    raise Skip("a value of Python type %s has no JSON form" % type(v).__name__)


# ---------------------------------------------------------------- format checks

_ATEXT = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]")


def is_email(s):
    b = s.encode("utf-8")
    if not 0 < len(b) <= 254 or "@" not in s:
        return False
    local, _, domain = s.partition("@")
    if not 0 < len(local) <= 64 or local[0] == "." or local[-1] == "." or ".." in local:
        return False
    if not all(c == "." or _ATEXT.fullmatch(c) for c in local):
        return False
    labels = domain.split(".")
    if len(labels) < 2:
        return False
    for lab in labels:
        if not 0 < len(lab) <= 63 or lab[0] == "-" or lab[-1] == "-":
            return False
        if not re.fullmatch(r"[A-Za-z0-9-]+", lab):
            return False
    return not labels[-1].isdigit()


def is_uuid(s):
    return re.fullmatch(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}",
                        s) is not None


def is_date(s):
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", s)
    if not m:
        return False
    try:
        datetime.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return int(m.group(1)) == 0 and False
    return True


def is_uri(s):
    """rt_is_uri: scheme ":" then printable non-space characters, escapes well-formed."""
    m = re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", s)
    if not m:
        return False
    rest = s[m.end():].encode("utf-8")
    i = 0
    while i < len(rest):
        c = rest[i]
        if c <= 0x20 or c == 0x7F or chr(c) in '"<>\\^`{|}':
            return False
        if c == 0x25:
            if i + 2 >= len(rest) or not all(chr(x) in "0123456789abcdefABCDEF" for x in rest[i + 1:i + 3]):
                return False
            i += 2
        i += 1
    return True


def is_ipv4(s):
    parts = s.split(".")
    return len(parts) == 4 and all(re.fullmatch(r"0|[1-9][0-9]{0,2}", p) and int(p) <= 255
                                   for p in parts)


def is_ipv6(s):
    """rt_is_ipv6: RFC 4291 text forms, '::' once, a trailing dotted quad."""
    if not 2 <= len(s) <= 45 or not s.isascii():
        return False
    if s == "::":
        return True
    head, gap, tail = s.partition("::")
    if "::" in tail:
        return False
    groups = 0
    for part, where in ((head, "head"), (tail, "tail")):
        if part == "":
            continue
        items = part.split(":")
        for j, g in enumerate(items):
            last = (j == len(items) - 1) and (where == "tail" or not gap)
            if last and "." in g:
                if not is_ipv4(g):
                    return False
                groups += 2
            elif re.fullmatch(r"[0-9A-Fa-f]{1,4}", g):
                groups += 1
            else:
                return False
    return groups <= 7 if gap else groups == 8


def is_base64(s):
    if len(s) % 4:
        return False
    body = s.rstrip("=")
    return len(s) - len(body) <= 2 and all(c.isascii() and (c.isalnum() or c in "+/") for c in body)


FORMAT_FUNCS = {"rt_is_email": is_email, "rt_is_uuid": is_uuid, "rt_is_date": is_date,
                "rt_is_uri": is_uri, "rt_is_ipv4": is_ipv4, "rt_is_ipv6": is_ipv6,
                "rt_is_base64": is_base64,
                "rt_is_date_time": lambda s: parse_datetime(s) is not None}


def is_multiple_of(x, m):
    """rt_is_multiple_of: within a relative 1e-9."""
    if not m > 0 or not math.isfinite(x):
        return False
    q = x / m
    if not math.isfinite(q):
        return False
    return abs(q - round(q)) <= 1e-9 * max(1.0, abs(q))

_DT = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
                 r"(?:([Zz])|([+-])(\d{2}):(\d{2}))")


def parse_datetime(s):
    """Microseconds since the epoch as rt_time_parse computes them, or None."""
    if not isinstance(s, str):
        return None
    m = _DT.fullmatch(s)
    if not m:
        return None
    y, mo, d, hh, mi, ss = (int(m.group(i)) for i in range(1, 7))
    try:
        datetime.date(y, mo, d) if y > 0 else datetime.date(2000, mo, d)
    except ValueError:
        return None
    if y == 0 and mo == 2 and d == 29:
        pass  # year 0 is a leap year in the proleptic calendar
    if hh > 23 or mi > 59 or ss > 60:
        return None
    frac = (m.group(7) or "")[:6].ljust(6, "0")
    off = 0
    if m.group(9):
        oh, om = int(m.group(10)), int(m.group(11))
        if oh > 23 or om > 59:
            return None
        off = (oh * 3600 + om * 60) * (1 if m.group(9) == "+" else -1)
    days = _days_from_civil(y, mo, d)
    return (days * 86400 + hh * 3600 + mi * 60 + ss - off) * 1000000 + int(frac)


def _days_from_civil(y, m, d):
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def format_datetime(us):
    """The encoder's form: YYYY-MM-DDTHH:MM:SS.ffffffZ."""
    secs, frac = divmod(us, 1000000)
    days, rem = divmod(secs, 86400)
    z = days + 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    y += m <= 2
    return "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ" % (y, m, d, rem // 3600, rem // 60 % 60,
                                                     rem % 60, frac)


# ---------------------------------------------------------------- the model

class Oracle:
    """What the generated decoder + validator report for a value (a Python
    model of the generated code, merged the way the router merges)."""

    def __init__(self, spec):
        self.spec = spec

    def errors(self, shape, v, ptr="", nullable=False):
        dec, val = [], []
        self.value(shape, v, ptr, nullable, dec, val)
        return merge(dec, val)

    def obj_errors(self, obj, v, ptr=""):
        dec, val = [], []
        self.obj(obj, v, ptr, dec, val)
        return merge(dec, val)

    def value(self, sh, v, ptr, nullable, dec, val):
        k = sh.kind
        if v is None and not nullable and k not in ("raw", "union"):
            dec.append((ptr, getattr(sh, "type_reason", "") or TYPE_REASON.get(k, "must not be null")))
            return
        if v is None and (nullable or k == "raw" and getattr(sh, "raw_want", "") != "RT_JSON_OBJECT"):
            return
        if k in ("string", "enum", "datetime"):
            if not isinstance(v, str):
                dec.append((ptr, "must be a string"))
            elif k == "enum":
                if v not in [x.text for x in sh.enum.values]:
                    dec.append((ptr, sh.enum.reason))
            elif k == "datetime":
                if parse_datetime(v) is None:
                    dec.append((ptr, "must be an RFC 3339 date-time"))
            else:
                self.checks(sh, v, ptr, val)
        elif k == "int":
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                dec.append((ptr, "must be an integer"))
            elif isinstance(v, float):
                dec.append((ptr, "must be an integer"))
            elif not INT_RANGE[64][0] <= v <= INT_RANGE[64][1]:
                dec.append((ptr, "out of range"))
            elif sh.bits == 32 and not INT_RANGE[32][0] <= v <= INT_RANGE[32][1]:
                dec.append((ptr, "out of range"))
            else:
                self.checks(sh, v, ptr, val)
        elif k == "number":
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                dec.append((ptr, "must be a number"))
            elif not math.isfinite(float(v)):
                dec.append((ptr, "out of range"))
            else:
                self.checks(sh, float(v), ptr, val)
        elif k == "bool":
            if not isinstance(v, bool):
                dec.append((ptr, "must be a boolean"))
        elif k == "object":
            self.obj(sh.obj, v, ptr, dec, val)
        elif k == "array":
            if not isinstance(v, list):
                dec.append((ptr, "must be an array"))
                return
            for i, x in enumerate(v):
                self.value(sh.items, x, ptr + "/%d" % i, False, dec, val)
            self.checks(sh, v, ptr, val)
        elif k == "list":
            # an array held inside an array: the inner array's shape rules
            self.value(sh.items, v, ptr, False, dec, val)
        elif k == "raw":
            want = RAW_WANT.get(getattr(sh, "raw_want", "RT_JSON_NONE"))
            if want is not None and not want[0](v):
                dec.append((ptr, want[1]))
        elif k == "union":
            self.union(sh.union, v, ptr, dec, val)
        else:
            raise Skip("values of kind '%s' are not modelled yet" % k)

    def union(self, u, v, ptr, dec, val):
        if v is None and u.nullable:
            return
        if u.kind == "box":
            a = u.alts[0]
            self.value(a.shape, v, ptr, a.nullable, dec, val)
            return
        if u.disc_key_c:
            if not isinstance(v, (dict, Pairs)):
                dec.append((ptr, "must be an object"))
                return
            members = dict(reversed(v.pairs)) if isinstance(v, Pairs) else v
            kp = ptr_key(ptr, u.disc_json)
            if u.disc_json not in members:
                dec.append((kp, "is required"))
                return
            alt = disc_alt(u, members[u.disc_json])
            if alt is None:
                dec.append((kp, u.disc_reason))
                return
            self.value(alt.shape, v, ptr, alt.nullable, dec, val)
            return
        hits = union_hits(self, u, v)
        if not hits:
            dec.append((ptr, u.reason))
        elif u.kind == "oneOf" and len(hits) > 1:
            dec.append((ptr, u.reason_many))

    def obj(self, obj, v, ptr, dec, val):
        if isinstance(v, dict):
            pairs = list(v.items())
        elif isinstance(v, Pairs):
            pairs = v.pairs
        else:
            dec.append((ptr, "must be an object"))
            return
        fields = {f.json_name: f for f in obj.fields}
        seen = set()
        extra = 0
        for key, x in pairs:
            kp = ptr_key(ptr, key)
            f = fields.get(key)
            if f is None:
                addl = getattr(obj, "addl", None)
                if obj.strict:
                    dec.append((kp, "unknown field"))
                elif addl is not None:
                    self.value(addl, x, kp, getattr(obj, "addl_nullable", False), dec, val)
                    extra += 1
                elif getattr(obj, "count_unknown", ""):
                    extra += 1
                continue
            if key in seen:
                dec.append((kp, "duplicate field"))
                continue
            seen.add(key)
            self.value(f.shape, x, kp, f.nullable, dec, val)
        for f in obj.fields:
            # a readOnly field is never required in what a client sends
            if f.required and not f.read_only and f.json_name not in seen:
                dec.append((ptr_key(ptr, f.json_name), "is required"))
        for c in obj.checks:
            if c.kind == "props":
                n = len(seen) + extra
                if c.lo is not None and n < c.lo:
                    val.append((ptr, c.reason_lo))
                elif c.hi is not None and n > c.hi:
                    val.append((ptr, c.reason_hi))
            else:
                raise Skip("object check '%s' is not modelled yet" % c.kind)

    def checks(self, sh, v, ptr, val):
        for c in sh.checks:
            r = self.check(c, v)
            if r:
                val.append((ptr, r))

    def check(self, c, v):
        k = c.kind
        if k == "length":
            n = len(v)
            if c.reason_eq:
                return c.reason_eq if n != c.lo else None
            if c.lo is not None and n < c.lo:
                return c.reason_lo
            if c.hi is not None and n > c.hi:
                return c.reason_hi
            return None
        if k == "items":
            n = len(v)
            if c.lo is not None and n < c.lo:
                return c.reason_lo
            if c.hi is not None and n > c.hi:
                return c.reason_hi
            return None
        if k == "unique":
            texts = [to_json(x) for x in v]
            return c.reason if len(set(texts)) != len(texts) else None
        if k == "pattern":
            return None if self.pattern_ok(c.pattern, v) else c.pattern.reason
        if k == "format":
            fn = FORMAT_FUNCS.get(c.func)
            if fn is None:
                raise Skip("format check %s is not modelled yet" % c.func)
            return None if fn(v) else c.reason
        if k == "compare":
            for op, lit in c.conds:
                b = lit_value(lit)
                if {"<": v < b, "<=": v <= b, ">": v > b, ">=": v >= b}[op]:
                    return c.reason
            return None
        if k == "multiple":
            return c.reason if v % lit_value(c.divisor) != 0 else None
        if k == "fmultiple":
            return None if is_multiple_of(float(v), float(lit_value(c.divisor))) else c.reason
        if k == "oneof":
            return None if any(v == lit_value(x) for x in c.values) else c.reason
        raise Skip("check '%s' is not modelled yet" % k)

    def pattern_ok(self, pat, s):
        words = getattr(pat, "words", None)
        if words and not getattr(pat, "regex", False):
            bits = [lit_value_hex(w) for w in words]
            data = s.encode("utf-8")
            if not all((bits[b >> 6] >> (b & 63)) & 1 for b in data):
                return False
            n = len(s) if pat.count_code_points else len(data)
            if n < pat.min_count:
                return False
            return pat.max_count is None or n <= pat.max_count
        src = pattern_source(self.spec, pat)
        try:
            rx, _ = conformance_regex.compile_source(src)
        except conformance_regex.RegexUnsupported as exc:
            raise Skip("the synthesizer cannot build a string for the pattern at %s (%s)" %
                       (pat.pointer, exc))
        return rx.search(s) is not None


def lit_value_hex(w):
    m = re.search(r"0x([0-9a-fA-F]+)", w)
    return int(m.group(1), 16)


def pattern_source(spec, pat):
    src = getattr(pat, "source", None)
    if isinstance(src, str):
        return src
    try:
        src = spec.get(pat.pointer)
    except Exception:  # noqa: BLE001 - any failure means we cannot know it
        src = None
    if not isinstance(src, str):
        raise Skip("the source of the pattern at %s is unknown" % pat.pointer)
    return src


RAW_WANT = {
    "RT_JSON_OBJECT": (lambda v: isinstance(v, (dict, Pairs)), "must be an object"),
    "RT_JSON_ARRAY": (lambda v: isinstance(v, list), "must be an array"),
    "RT_JSON_STRING": (lambda v: isinstance(v, str), "must be a string"),
    "RT_JSON_NUMBER": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), "must be a number"),
    "RT_JSON_BOOL": (lambda v: isinstance(v, bool), "must be a boolean"),
}


def c_unlit(lit):
    """The text of a C string literal written by clit.c_string."""
    body = lit.strip()[1:-1]
    out = bytearray()
    i = 0
    simple = {"n": 0x0A, "t": 0x09, "r": 0x0D, '"': 0x22, "\\": 0x5C, "?": 0x3F}
    while i < len(body):
        c = body[i]
        if c == "\\":
            n = body[i + 1]
            if n in simple:
                out.append(simple[n])
                i += 2
            else:
                out.append(int(body[i + 1:i + 4], 8))
                i += 4
        else:
            out += c.encode("utf-8")
            i += 1
    return out.decode("utf-8")


def disc_texts(alt):
    return [c_unlit(lit) for lit, _ in getattr(alt, "disc_values", [])]


def disc_alt(u, tag):
    if not isinstance(tag, str):
        return None
    for alt in u.alts:
        if tag in disc_texts(alt):
            return alt
    return None


def ir_union_shape(u):
    """A Shape standing for the union u itself."""
    from ir import Shape
    return Shape("union", u.name, u.pointer, union=u)


def union_hits_all(oracle, u, v):
    return [a for a in u.alts if not oracle.errors(a.shape, v, "", a.nullable)]


def union_hits(oracle, u, v):
    """Alternatives v matches with no error (decoded and validated on a copy)."""
    hits = []
    for a in u.alts:
        if not oracle.errors(a.shape, v, "", a.nullable):
            hits.append(a)
            if u.kind == "anyOf":
                break
    return hits


def merge(dec, val):
    """rt_errs_merge: a validator finding at or below a decode error is dropped."""
    out = list(dec)
    for p, r in val:
        if any(p == d or p.startswith(d + "/") for d, _ in dec):
            continue
        out.append((p, r))
    return out


# ---------------------------------------------------------------- synthesis

class Synth:
    def __init__(self, spec, api):
        self.spec = spec
        self.api = api
        self.oracle = Oracle(spec)
        self.pattern_problems = {}   # shape pointer -> why no string matches its pattern

    # ------------------------------------------------------------ examples of a schema

    def schema_examples(self, pointer):
        """Values a schema offers as examples (example, examples, default)."""
        try:
            node = self.spec.get(pointer)
        except Exception:  # noqa: BLE001
            return []
        out = []
        if isinstance(node, dict):
            if "example" in node:
                out.append(node["example"])
            ex = node.get("examples")
            if isinstance(ex, list):
                out.extend(ex)
            if "default" in node:
                out.append(node["default"])
        return out

    # ------------------------------------------------------------ valid values

    def valid(self, sh, mode, depth):
        k = sh.kind
        if k == "object":
            return self.valid_obj(sh.obj, mode, depth + 1)
        if k == "array":
            return self.valid_array(sh, mode, depth)
        if k == "list":
            return self.valid_array(sh.items, mode, depth + 1)
        if k == "union":
            return self.valid_union(sh.union, mode, depth + 1)
        if k == "raw":
            if getattr(sh, "raw_want", "") == "RT_JSON_OBJECT":
                return {} if mode == "min" else {"k": [1, 2.5, "s\u00e9", None, True, {"n": {}}]}
            return 0 if mode == "min" else {"k": ["v", -1, False, None]}
        pool = self.value_pool(sh, mode)
        good = [v for v in pool if not self.oracle.errors(sh, v)]
        if not good:
            why = self.pattern_problems.get(sh.pointer)
            raise Skip("no valid value found for %s%s" % (sh.pointer, ": " + why if why else ""))
        return pick(good, mode)

    def valid_union(self, u, mode, depth, only=None):
        """A valid instance of u; `only`: the index of the alternative to use."""
        if depth > MAX_DEPTH * 2:
            raise Skip("unions nest deeper than %d levels at %s" % (MAX_DEPTH * 2, u.pointer))
        order = list(range(len(u.alts)))
        if only is not None:
            order = [only]
        elif mode == "max":
            order.reverse()
        why = "no alternative gives a valid instance"
        for i in order:
            alt = u.alts[i]
            for m in (mode, "min" if mode == "max" else "max"):
                try:
                    v = self.valid(alt.shape, m, depth)
                except Skip as exc:
                    why = str(exc)
                    continue
                if u.disc_key_c:
                    tags = disc_texts(alt)
                    if not tags or not isinstance(v, dict):
                        continue
                    v = dict(v)
                    v[u.disc_json] = tags[0]
                if u.kind == "oneOf" and not u.disc_key_c and isinstance(v, dict):
                    v = self.disambiguate(u, alt, v)
                errs = self.oracle.errors(ir_union_shape(u), v)
                if not errs:
                    if u.kind == "oneOf" and not u.disc_key_c and union_hits(self.oracle, u, v)[0] is not alt:
                        continue
                    return v
                why = "%s: %s %s" % (alt.label, errs[0][0] or "/", errs[0][1])
        raise Skip("no valid instance of %s: %s" % (u.label, why))

    def disambiguate(self, u, alt, v):
        """An instance of alt that matches it alone: when another object
        alternative accepts v too, add one of that alternative's properties
        (unknown to alt, which ignores it) with a value of the wrong type."""
        if len(union_hits(self.oracle, u, v)) <= 1 or alt.shape.kind != "object":
            return v
        mine = {f.json_name for f in alt.shape.obj.fields}
        if alt.shape.obj.strict or getattr(alt.shape.obj, "addl", None) is not None:
            return v
        out = dict(v)
        for other in u.alts:
            if other is alt or other.shape.kind != "object":
                continue
            for f in other.shape.obj.fields:
                if f.json_name in mine or f.json_name in out:
                    continue
                bad = WRONG_TYPE.get(f.shape.kind)
                if bad is None:
                    continue
                trial = dict(out, **{f.json_name: bad})
                if other not in union_hits_all(self.oracle, u, trial):
                    out = trial
                    break
        return out

    def value_pool(self, sh, mode):
        """Candidate values for a scalar shape, valid or not."""
        k = sh.kind
        ex = [v for v in self.schema_examples(sh.pointer)]
        if k == "enum":
            vals = [x.text for x in sh.enum.values]
            return [vals[0] if mode == "min" else vals[-1]]
        if k == "bool":
            return [mode == "max"]
        if k == "datetime":
            base = ["2024-01-02T03:04:05.123456Z"] if mode == "min" else \
                ["2024-07-08T23:59:58.5+02:00"]
            return base + [v for v in ex if isinstance(v, str)]
        if k == "int":
            return self.int_pool(sh) + [v for v in ex if isinstance(v, int) and not isinstance(v, bool)]
        if k == "number":
            return self.num_pool(sh) + [v for v in ex if isinstance(v, (int, float))
                                        and not isinstance(v, bool)]
        if k == "string":
            return self.string_pool(sh, mode) + [v for v in ex if isinstance(v, str)]
        raise Skip("values of kind '%s' are not synthesized yet" % k)

    def int_range(self, sh):
        lo, hi = INT_RANGE[sh.bits] if sh.kind == "int" else (-1e300, 1e300)
        for c in sh.checks:
            if c.kind != "compare":
                continue
            for op, lit in c.conds:
                b = lit_value(lit)
                if op == "<":
                    lo = max(lo, b)
                elif op == "<=":
                    lo = max(lo, b + 1 if sh.kind == "int" else b)
                elif op == ">":
                    hi = min(hi, b)
                elif op == ">=":
                    hi = min(hi, b - 1 if sh.kind == "int" else b)
        return lo, hi

    def divisors(self, sh):
        return [lit_value(c.divisor) for c in sh.checks if c.kind == "multiple"]

    def oneof(self, sh):
        out = []
        for c in sh.checks:
            if c.kind == "oneof":
                out.extend(lit_value(x) for x in c.values)
        return out

    def int_pool(self, sh):
        lo, hi = self.int_range(sh)
        pool = [0, 1, -1, 2, 7, 42, lo, hi, lo + 1, hi - 1, (lo + hi) // 2]
        for m in self.divisors(sh):
            pool += [m, -m, -(-lo // m) * m, (hi // m) * m]
        pool += [int(v) for v in self.oneof(sh)]
        return [int(v) for v in pool]

    def num_pool(self, sh):
        lo, hi = self.int_range(sh)
        pool = [0.0, 1.5, -2.25, 0.1, 1e300, -1e300, 12345.678]
        for b in (lo, hi):
            if abs(b) < 1e300:
                pool += [float(b), b + 0.5, b - 0.5, b + 1, b - 1]
        pool += [float(v) for v in self.oneof(sh)]
        return pool

    def string_pool(self, sh, mode):
        lo, hi = 0, None
        fmt = None
        pats = []
        for c in sh.checks:
            if c.kind == "length":
                lo, hi = c.lo or 0, c.hi
            elif c.kind == "pattern":
                pats.append(c.pattern)
            elif c.kind == "format":
                fmt = c.func
        raw_fmt = self.raw_format(sh)
        lengths = sorted({n for n in (lo, max(lo, 1), lo + 1, 3, 8, 20, hi, (hi or 0) - 1)
                          if n is not None and n >= 0 and (hi is None or n <= hi)})
        pool = []
        for p in pats:
            try:
                src = pattern_source(self.spec, p)
                pool += conformance_regex.matching(src, reps_list=[max(n, 0) for n in lengths] + [1, 2])
            except (Skip, conformance_regex.RegexUnsupported) as exc:
                self.pattern_problems[sh.pointer] = "the synthesizer cannot build a string for " \
                    "the pattern at %s (%s)" % (p.pointer, exc)
        for f in (raw_fmt, FORMAT_OF_FUNC.get(fmt)):
            pool += FORMAT_VALUES.get(f, [])
            if f == "email":
                pool += [email_of_length(n) for n in lengths if email_of_length(n)]
        rich = "Ab1 \"q\" \\ é ☃ \t/"
        for n in lengths:
            if mode == "max":
                pool.append((rich * (n // len(rich) + 1))[:n])
            pool.append("a" * n)
        return pool

    def raw_format(self, sh):
        try:
            node = self.spec.get(sh.pointer)
        except Exception:  # noqa: BLE001
            return None
        return node.get("format") if isinstance(node, dict) else None

    def valid_array(self, sh, mode, depth):
        lo, hi = 0, None
        for c in sh.checks:
            if c.kind == "items":
                lo, hi = c.lo or 0, c.hi
        if mode == "min" or depth >= MAX_DEPTH:
            n = lo
        else:
            n = max(lo, 2 if hi is None else min(hi, 2))
        modes = ["min", "max"]
        return [self.valid(sh.items, modes[(i + (mode == "max")) % 2], depth + 1) for i in range(n)]

    def valid_obj(self, obj, mode, depth):
        if depth > MAX_DEPTH * 2:
            raise Skip("required fields nest deeper than %d levels at %s" % (MAX_DEPTH * 2, obj.pointer))
        out = {}
        lo = hi = None
        for c in obj.checks:
            if c.kind == "props":
                lo, hi = c.lo, c.hi
        for f in obj.fields:
            take = f.required
            if not take and mode == "max" and depth <= MAX_DEPTH:
                take = hi is None or len(out) < hi
            if not take:
                continue
            try:
                out[f.json_name] = self.valid(f.shape, mode, depth)
            except Skip:
                if f.required:
                    raise
        addl = getattr(obj, "addl", None)
        if addl is not None and mode == "max" and depth <= MAX_DEPTH:
            for i, key in enumerate(extra_keys(obj, 2)):
                if hi is not None and len(out) >= hi:
                    break
                try:
                    out[key] = self.valid(addl, ("min", "max")[i % 2], depth)
                except Skip:
                    break
        if lo is not None and len(out) < lo:
            for f in obj.fields:
                if f.json_name not in out and len(out) < lo:
                    out[f.json_name] = self.valid(f.shape, "min", depth)
            if addl is not None:
                for key in extra_keys(obj, lo - len(out)):
                    out[key] = self.valid(addl, "min", depth)
        return out

    # ------------------------------------------------------------ expected encodings

    def expect(self, sh, v, nullable=False):
        if v is None:
            return None
        k = sh.kind
        if k == "object":
            return self.expect_obj(sh.obj, v)
        if k == "array":
            return [self.expect(sh.items, x) for x in v]
        if k == "list":
            return self.expect(sh.items, v)
        if k == "union":
            return self.expect_union(sh.union, v)
        if k == "datetime":
            return format_datetime(parse_datetime(v))
        if k == "number":
            return float(v)
        return v

    def expect_union(self, u, v):
        if u.kind == "box":
            return self.expect(u.alts[0].shape, v)
        if u.disc_key_c:
            alt = disc_alt(u, v.get(u.disc_json))
        else:
            alt = union_hits(self.oracle, u, v)[0]
        return self.expect(alt.shape, v)

    def expect_obj(self, obj, v):
        out = {}
        names = set()
        for f in obj.fields:
            names.add(f.json_name)
            if f.write_only:
                continue
            if f.json_name in v:
                out[f.json_name] = self.expect(f.shape, v[f.json_name], f.nullable)
            elif getattr(f, "default_c", None) is not None:
                d = self.field_default(f)
                if d is not None:
                    out[f.json_name] = self.expect(f.shape, d[0], f.nullable)
        if getattr(obj, "addl", None) is not None:
            for key, x in v.items():
                if key not in names:
                    out[key] = self.expect(obj.addl, x)
        return out

    def field_default(self, f):
        """(default,) the decoder fills in for an absent optional field, or None."""
        for ptr in (f.pointer, f.shape.pointer):
            try:
                node = self.spec.get(ptr)
                if isinstance(node, dict) and "$ref" in node:
                    node, _ = self.spec.resolve(node, ptr)
            except Exception:  # noqa: BLE001
                continue
            if isinstance(node, dict) and "default" in node:
                return (node["default"],)
        raise Skip("the default of %s is not found" % f.pointer)

    # ------------------------------------------------------------ negatives

    def bad_values(self, sh, valid_value, nullable):
        """[(label, value)] candidates that might break one constraint of sh."""
        k = sh.kind
        if k in ("union", "raw", "list"):
            out = [("wrong type", x) for x in ([], {}, "zz-not-listed", 12345, 1.5, True)]
        else:
            out = [("wrong type", WRONG_TYPE.get(k, 0))]
        if not nullable:
            out.append(("null", None))
        if k == "union" and sh.union.disc_key_c and isinstance(valid_value, dict):
            u = sh.union
            out.append(("no discriminator", {x: y for x, y in valid_value.items() if x != u.disc_json}))
            out.append(("unknown discriminator", dict(valid_value, **{u.disc_json: "zz-not-listed"})))
        if k == "enum":
            out.append(("not in enum", "zz-not-listed"))
        elif k == "datetime":
            out += [("not a date-time", "yesterday"), ("no offset", "2024-01-02T03:04:05"),
                    ("bad day", "2024-02-30T00:00:00Z")]
        elif k == "int":
            out += [("fraction", 1.5), ("out of range", 2**63), ("out of range low", -2**63 - 1)]
            if sh.bits == 32:
                out += [("out of int32", 2**31), ("below int32", -2**31 - 1)]
            out += [("bound", v) for v in self.int_bad_pool(sh)]
        elif k == "number":
            lo, hi = self.int_range(sh)
            for b in (lo, hi):
                if abs(b) < 1e300:
                    # relative steps too: past 2^53 adding 1 changes nothing
                    out += [("bound", float(b)), ("bound", b - 1.0), ("bound", b + 1.0),
                            ("bound", b - 0.5), ("bound", b + 0.5), ("bound", b * 2.0),
                            ("bound", b * 0.5)]
            out += [("not in enum", 0.123), ("huge", 1e300), ("huge", -1e300)]
        elif k == "string":
            out += [("bad", s) for s in self.string_bad_pool(sh, valid_value)]
        return out

    def int_bad_pool(self, sh):
        pool = []
        for c in sh.checks:
            if c.kind == "compare":
                for _, lit in c.conds:
                    b = lit_value(lit)
                    pool += [b, b - 1, b + 1]
                    for m in self.divisors(sh):
                        pool += [(b // m) * m, (b // m) * m - m, (b // m + 1) * m, (b // m + 2) * m]
            elif c.kind == "multiple":
                m = lit_value(c.divisor)
                lo, hi = self.int_range(sh)
                base = max(lo, min(hi, m))
                pool += [base + 1, base - 1, lo + 1 if lo % m == 0 else lo, m + 1]
            elif c.kind == "oneof":
                vals = [lit_value(x) for x in c.values]
                pool += [max(vals) + 1, min(vals) - 1]
        return [int(v) for v in pool if INT_RANGE[64][0] <= v <= INT_RANGE[64][1]]

    def string_bad_pool(self, sh, good):
        lo, hi = 0, None
        pats = []
        for c in sh.checks:
            if c.kind == "length":
                lo, hi = c.lo or 0, c.hi
            elif c.kind == "pattern":
                pats.append(c.pattern)
        pool = []
        targets = [n for n in (lo - 1, (hi + 1) if hi is not None else None) if n is not None and n >= 0]
        for p in pats:
            try:
                src = pattern_source(self.spec, p)
                pool += conformance_regex.matching(src, reps_list=targets + [1, 2]) if targets else []
            except (Skip, conformance_regex.RegexUnsupported):
                pass
        for n in targets:
            pool.append("a" * n)
            pool.append("1" * n)
            e = email_of_length(n)
            if e:
                pool.append(e)
            if isinstance(good, str) and good:
                pool.append((good * (n // len(good) + 1))[:n])
        if isinstance(good, str):
            pool += [good + "!", "!" + good, good[:-1] + "!" if good else "!", good + " ",
                     good.replace("@", "!"), good + "é", good[1:] + "-" if good else "-",
                     good.upper(), good.lower(), good[:-1] + "~" if good else "~"]
        pool += BAD_FORMAT_VALUES + ["", "!", " ", "é"]
        return list(dict.fromkeys(pool))

    def field_negatives(self, f, base, ptr):
        """(label, instance, expected error) breaking one constraint of field f
        of an object instance base."""
        out = []
        fp = ptr_key(ptr, f.json_name)
        sh = f.shape
        good = base.get(f.json_name)
        for label, bad in self.bad_values(sh, good, f.nullable):
            inst = dict(base)
            inst[f.json_name] = bad
            out.append((label, inst, fp))
        if sh.kind == "array":
            items_good = good if isinstance(good, list) else []
            one = items_good[0] if items_good else None
            if one is None:
                try:
                    one = self.valid(sh.items, "min", MAX_DEPTH)
                except Skip:
                    one = None
            for c in sh.checks:
                if c.kind == "items" and one is not None:
                    for n in (c.lo - 1 if c.lo else None, c.hi + 1 if c.hi is not None else None):
                        if n is not None and 0 <= n <= 1000:
                            inst = dict(base)
                            inst[f.json_name] = [one] * n
                            out.append(("%d items" % n, inst, fp))
            if one is not None:
                n = max(1, len(items_good))
                for label, bad in self.bad_values(sh.items, one, False):
                    inst = dict(base)
                    arr = list(items_good) if items_good else [one] * n
                    arr[0] = bad
                    inst[f.json_name] = arr
                    out.append(("item " + label, inst, fp + "/0"))
        return out

    def obj_negatives(self, obj, depth=0):
        """[(label, json_text, (pointer, reason))] for an object type."""
        bases = []
        for mode in ("max", "min"):
            try:
                bases.append(self.valid_obj(obj, mode, 0))
            except Skip:
                pass
        if not bases:
            raise Skip("no valid instance of %s" % obj.label)
        cands = [("wrong type", [], "")]
        if obj.strict:
            name = "conformance_unknown"
            while any(f.json_name == name for f in obj.fields):
                name += "_"
            cands += [("unknown field", dict(b, **{name: 1}), "") for b in bases]
        for c in obj.checks:
            if c.kind == "props":
                for b in bases:
                    if c.lo:
                        req = {f.json_name: b[f.json_name] for f in obj.fields if f.required and f.json_name in b}
                        small = dict(req)
                        for key in b:
                            if len(small) >= c.lo - 1:
                                break
                            small[key] = b[key]
                        cands.append(("too few properties", small, ""))
                    if c.hi is not None:
                        full = self.fill_obj(obj, b)
                        cands.append(("too many properties", full, ""))
        for f in obj.fields:
            if f.required:
                for b in bases:
                    cands.append(("missing", {k: v for k, v in b.items() if k != f.json_name}, ""))
        addl = getattr(obj, "addl", None)
        if addl is not None:
            key = extra_keys(obj, 1)[0]
            try:
                good = self.valid(addl, "min", MAX_DEPTH)
            except Skip:
                good = None
            for b in bases:
                for label, bad in self.bad_values(addl, good, getattr(obj, "addl_nullable", False)):
                    cands.append(("entry " + label, dict(b, **{key: bad}), ""))
        out = []
        seen = set()
        used_fields = set()
        for f in obj.fields:
            for b in bases:
                if f.json_name not in b:
                    continue
                used_fields.add(f.json_name)
                for label, inst, _ in self.field_negatives(f, b, ""):
                    cands.append((f.json_name + ": " + label, inst, ""))
                if f.shape.kind == "object" and depth < 1:
                    try:
                        sub = self.obj_negatives(f.shape.obj, depth + 1)
                    except Skip:
                        sub = []
                    for label, text, err in [s for s in sub if s[2][1] != "is required"][:PROPAGATE]:
                        inst = dict(b)
                        inst[f.json_name] = Raw(text)
                        out_err = (ptr_key("", f.json_name) + err[0], err[1])
                        key = out_err
                        if key not in seen:
                            seen.add(key)
                            out.append((f.json_name + "." + label, to_json(inst), out_err))
                break
        # duplicate key: the first field of the richest base written twice
        b = bases[0]
        if b:
            k0 = next(iter(b))
            pairs = list(b.items()) + [(k0, b[k0])]
            cands.append(("duplicate " + k0, Pairs(pairs), ""))
        for label, inst, _ in cands:
            try:
                errs = self.oracle.obj_errors(obj, inst)
                text = to_json(inst)
            except Skip:
                continue
            if len(errs) != 1 or errs[0] in seen:
                continue
            seen.add(errs[0])
            out.append(("%s %s (%s)" % (errs[0][0] or "/", errs[0][1], label), text, errs[0]))
        return out

    def union_negatives(self, u):
        """[(label, json_text, (pointer, reason))] for a union type."""
        sh = ir_union_shape(u)
        try:
            good = self.valid_union(u, "min", 0)
        except Skip:
            good = None
        out, seen = [], set()
        for label, bad in self.bad_values(sh, good, u.nullable):
            try:
                errs = self.oracle.errors(sh, bad)
                text = to_json(bad)
            except Skip:
                continue
            if len(errs) != 1 or errs[0] in seen:
                continue
            seen.add(errs[0])
            out.append(("%s %s (%s)" % (errs[0][0] or "/", errs[0][1], label), text, errs[0]))
        return out

    def fill_obj(self, obj, b):
        full = dict(b)
        for f in obj.fields:
            if f.json_name not in full:
                try:
                    full[f.json_name] = self.valid(f.shape, "min", MAX_DEPTH)
                except Skip:
                    pass
        return full

    def targets(self, obj):
        """Every (pointer, reason) the object's own constraints can produce
        (one level: the object and its fields), to report the ones no
        negative could reach."""
        out = [("", "must be an object")]
        for c in obj.checks:
            if c.kind == "props":
                if c.lo:
                    out.append(("", c.reason_lo))
                if c.hi is not None:
                    out.append(("", c.reason_hi))
        for f in obj.fields:
            fp = ptr_key("", f.json_name)
            if f.required and not f.read_only:
                out.append((fp, "is required"))
            sh = f.shape
            out.append((fp, TYPE_REASON.get(sh.kind, "?")))
            shs = [(sh, fp)]
            if sh.kind == "array":
                shs.append((sh.items, fp + "/0"))
                out.append((fp + "/0", TYPE_REASON.get(sh.items.kind, "?")))
            for s, p in shs:
                for c in s.checks:
                    rs = [c.reason, c.reason_eq, c.pattern.reason if c.pattern else ""]
                    if c.lo and not c.reason_eq:
                        rs.append(c.reason_lo)
                    if c.hi is not None and not c.reason_eq:
                        rs.append(c.reason_hi)
                    out += [(p, r) for r in rs if r]
                if s.kind == "enum":
                    out.append((p, s.enum.reason))
        return out


def extra_keys(obj, n):
    """n property names the object does not declare."""
    names = {f.json_name for f in obj.fields}
    out = []
    i = 0
    while len(out) < n:
        key = "extra_%d" % i
        if key not in names:
            out.append(key)
        i += 1
    return out


def pick(good, mode):
    """The smallest / largest valid candidate (strings by length)."""
    def key(v):
        if isinstance(v, str):
            return len(v)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return v
        return 0
    return min(good, key=key) if mode == "min" else max(good, key=key)


def email_of_length(n):
    """A valid address of exactly n characters, or None."""
    if n < 6:
        return None
    domain = "example.com" if n >= 13 else "a.io"
    local = n - 1 - len(domain)
    if local > 64:
        extra = local - 64
        local = 64
        labels = []
        while extra > 0:
            take = min(63, extra - 1) if extra > 1 else 0
            if take <= 0:
                local -= 1
                extra += 1
                continue
            labels.append("d" * take)
            extra -= take + 1
        domain = ".".join(labels + [domain])
    s = "u" * local + "@" + domain
    return s if len(s) == n and is_email(s) else None


# ---------------------------------------------------------------- parameters

def param_errors(oracle, p, text):
    """The router's verdict on one parameter (None: absent; a list of item
    texts for a repeated query parameter), as a list of reasons."""
    sh = p.shape
    if text is None or (isinstance(text, list) and not text):
        return ["is required"] if p.required and p.location != "path" else []
    if sh.kind == "array":
        items = split_items(p, text)
        out = []
        for t in items:
            out += scalar_param_errors(oracle, sh.items, t)
        for c in sh.checks:
            if c.kind == "items":
                if c.lo is not None and len(items) < c.lo:
                    out.append(c.reason_lo)
                if c.hi is not None and len(items) > c.hi:
                    out.append(c.reason_hi)
        return out
    return scalar_param_errors(oracle, sh, text)


def scalar_param_errors(oracle, sh, text):
    if sh.kind == "int":
        if not re.fullmatch(r"-?(0|[1-9][0-9]*)", text):
            return ["must be an integer"]
        v = int(text)
        if not INT_RANGE[64][0] <= v <= INT_RANGE[64][1]:
            return ["out of range"]
        if sh.bits == 32 and not INT_RANGE[32][0] <= v <= INT_RANGE[32][1]:
            return ["out of range"]
        return [r for _, r in oracle.errors(sh, v)]
    if sh.kind == "number":
        if not re.fullmatch(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?", text):
            return ["must be a number"]
        v = float(text)
        if not math.isfinite(v):
            return ["out of range"]
        return [r for _, r in oracle.errors(sh, v)]
    if sh.kind == "bool":
        return [] if text in ("true", "false") else ["must be true or false"]
    if sh.kind == "datetime":
        return [] if parse_datetime(text) is not None else ["must be an RFC 3339 date-time"]
    if sh.kind in ("enum", "string"):
        return [r for _, r in oracle.errors(sh, text)]
    raise Skip("parameters of kind '%s' are not modelled yet" % sh.kind)


SPLIT_SEP = {"comma": ",", "space": " ", "pipe": "|", "dot": "."}


def join_items(p, items):
    """An array parameter's items as the text its style sends (a list for
    a repeated query parameter); for a matrix explode, the text after ';'."""
    if p.split == "multi":
        return list(items)
    if p.split == "matrix":
        return ";".join("%s=%s" % (p.name, x) for x in items)
    return SPLIT_SEP.get(p.split, ",").join(items)


def split_items(p, text):
    if isinstance(text, list):
        return text
    if text == "":
        return []
    if p.split == "matrix":
        return [seg.split("=", 1)[-1] for seg in text.split(";")]
    return text.split(SPLIT_SEP.get(p.split, ","))


def item_sendable(p, x):
    """An item that cannot be mistaken for a separator of its style."""
    if p.split == "matrix":
        return not any(c in x for c in ";=,")
    return SPLIT_SEP.get(p.split, ",") not in x if p.split != "multi" else True


def path_prefix(p):
    """The literal a label or matrix path value starts with ('' for simple)."""
    lit = getattr(p, "prefix_lit", "")
    return c_unlit(lit) if lit else ""


def cookie_ok(s):
    return s != "" and all(0x21 <= ord(c) < 0x7F and c not in ';,"\\' for c in s)


def param_text(v):
    if v is True:
        return "true"
    if v is False:
        return "false"
    return str(v)


def pct(s, safe=""):
    out = []
    for b in s.encode("utf-8"):
        c = chr(b)
        if c.isalnum() and b < 0x80 or c in "-._~" + safe:
            out.append(c)
        else:
            out.append("%%%02X" % b)
    return "".join(out)


def header_ok(s):
    return all(0x20 <= ord(c) < 0x7F for c in s) and s == s.strip()


# ---------------------------------------------------------------- the suite

class Case:
    def __init__(self, kind, name, label, type_index=-1, input_text="", expect_text=None,
                 err=("", ""), reparse=False, req=None, status=0, code="", detail=None):
        self.kind = kind
        self.name = name
        self.label = label
        self.type_index = type_index
        self.input = input_text
        self.expect = expect_text
        self.err = err
        self.reparse = reparse
        self.req = req          # raw HTTP request text (params cases)
        self.status = status
        self.code = code        # envelope code expected
        self.detail = detail    # canonical {"field":..,"reason":..} or None
        self.input_c = c_string(input_text)
        self.expect_c = c_string(expect_text) if expect_text is not None else "NULL"
        self.label_c = c_string(label)
        self.err_field_c = c_string(err[0])
        self.err_reason_c = c_string(err[1])
        self.req_c = c_string(req) if req is not None else "NULL"
        self.code_c = c_string(code)
        self.detail_c = c_string(detail) if detail is not None else "NULL"


class Suite:
    def __init__(self, spec, api, spec_name):
        self.spec = spec
        self.api = api
        self.spec_name = spec_name
        self.synth = Synth(spec, api)
        self.oracle = self.synth.oracle
        self.cases = []
        self.notes = []          # skipped cases with their reason
        self.warnings = []       # spec warnings: examples that break their schema
        self.errors = []         # synthesizer failures, emitted as failing tests
        self.warning_ptrs = []   # the spec pointer of each warning
        self.cur_group = ("requests", "requests")
        self.names = set()
        self.types = []          # ObjType with a run function

    def note(self, what):
        self.notes.append(what)

    def add(self, case):
        # rt_errs keeps RT_FIELD_MAX - 1 = 127 bytes of a pointer and marks a
        # longer one with "..."; such cases would compare a truncated text.
        field = case.err[0] if case.kind == "reject" else None
        if case.detail is not None:
            field = json.loads(case.detail)["field"]
        if field is not None and len(field.encode("utf-8")) > 120:
            self.note("%s: not checked: the pointer %s... is longer than the runtime keeps" %
                      (case.label.split(":")[0], field[:40]))
            return
        if case.type_index >= 0:
            case.group = ("types", self.types[case.type_index].name[4:], self.types[case.type_index].label)
        else:
            case.group = ("requests",) + self.cur_group
        self.cases.append(case)

    def ordered(self):
        """The cases grouped (a group: the cases of one type, or the requests
        of one operation), groups in the order they first appear; and the
        groups as [{suite, name, first, n, what}]."""
        order = {}
        for c in self.cases:
            order.setdefault(c.group, len(order))
        cases = sorted(self.cases, key=lambda c: order[c.group])
        groups = []
        for i, c in enumerate(cases):
            if groups and groups[-1]["key"] == c.group:
                groups[-1]["n"] += 1
                continue
            base = re.sub(r"[^A-Za-z0-9]+", "_", c.group[1]).strip("_").lower()[:60] or "x"
            groups.append({"key": c.group, "suite": c.group[0], "first": i, "n": 1,
                           "name": "g%03d_%s" % (len(groups), base), "what": c.group[2]})
        for g in groups:
            g["what"] = "%s: %d case(s)" % (g["what"], g["n"])
        return cases, groups

    # ------------------------------------------------------------ types

    def guarded(self, what, fn, *args):
        """Run one part of the synthesis: a Skip becomes a note; any other
        exception (a bug of the synthesizer, or an IR it does not know)
        becomes a failing test in the suite, so the rest still runs."""
        try:
            fn(*args)
        except Skip as exc:
            self.note("%s: no cases: %s" % (what, exc))
        except Exception as exc:  # noqa: BLE001 - reported as a failing case
            self.errors.append("%s: synthesizer error: %s: %s" % (what, type(exc).__name__, exc))

    def build(self):
        for obj in self.api.objects:
            self.guarded("%s (#%s)" % (obj.label, obj.pointer), self.build_type, obj)
        for u in getattr(self.api, "unions", []):
            self.guarded("%s (#%s)" % (u.label, u.pointer), self.build_union, u)
        self.guarded("examples", self.build_examples)
        for op in self.api.ops:
            self.guarded("%s (request cases)" % op.label, self.build_op, op)
        for lo in getattr(self.api, "left_out", []):
            self.guarded("%s (left out)" % lo[0], self.build_left_out, lo)
        return self

    def build_left_out(self, lo):
        """An operation the generator left out answers 501 NOT_IMPLEMENTED."""
        label, method, path = lo[0], lo[1], lo[2]
        if method == "HEAD":
            return
        self.cur_group = ("left_out_" + label, "%s (%s %s, left out)" % (label, method, path))
        segs = []
        for seg in path.split("/"):
            if seg.startswith("{") and seg.endswith("}"):
                segs.append("1")
            else:
                segs.append(pct(seg, "!$&'()*+,;=:@"))
        lines = ["%s %s HTTP/1.1" % (method, "/".join(segs) or "/"), "Host: 127.0.0.1",
                 "Connection: close"]
        if method in ("POST", "PUT", "PATCH"):
            lines.append("Content-Length: 0")
        self.add(Case("params", "%s left out" % label,
                      "%s (%s %s): left out by the generator, answers 501" % (label, method, path),
                      req="\r\n".join(lines) + "\r\n\r\n", status=501, code="NOT_IMPLEMENTED"))

    def type_index(self, obj):
        if obj not in self.types:
            self.types.append(obj)
        return self.types.index(obj)

    def has_write_only(self, t, seen=None):
        """Does a value of type t (object or union) carry a writeOnly field
        anywhere below it (then its encoding cannot be decoded again)?"""
        seen = set() if seen is None else seen
        if t.name in seen:
            return False
        seen.add(t.name)
        shapes = []
        if hasattr(t, "fields"):
            for f in t.fields:
                if f.write_only:
                    return True
                shapes.append(f.shape)
            if getattr(t, "addl", None) is not None:
                shapes.append(t.addl)
        else:
            shapes = [a.shape for a in t.alts]
        while shapes:
            sh = shapes.pop()
            if sh.kind in ("array", "list"):
                shapes.append(sh.items)
            elif sh.kind == "object" and self.has_write_only(sh.obj, seen):
                return True
            elif sh.kind == "union" and self.has_write_only(sh.union, seen):
                return True
        return False

    def t_errors(self, t, v):
        if hasattr(t, "fields"):
            return self.oracle.obj_errors(t, v)
        return self.oracle.errors(ir_union_shape(t), v)

    def t_expect(self, t, v):
        if hasattr(t, "fields"):
            return self.synth.expect_obj(t, v)
        return self.synth.expect_union(t, v)

    def roundtrip(self, t, label, value):
        errs = self.t_errors(t, value)
        if errs:
            raise Skip("synthesized %s instance is invalid: %s %s" % (label, errs[0][0] or "/",
                                                                       errs[0][1]))
        ti = self.type_index(t)
        expect = self.t_expect(t, value)
        self.add(Case("roundtrip", "%s %s" % (t.name[4:], label), "%s: %s" % (t.label, label),
                      ti, to_json(value), to_json(expect),
                      reparse=not self.has_write_only(t) and not self.t_errors(t, expect)))

    def build_union(self, u):
        for i, alt in enumerate(u.alts):
            for mode in ("min", "max"):
                try:
                    v = self.synth.valid_union(u, mode, 0, only=i)
                    self.roundtrip(u, "%s %s" % (alt.label, mode), v)
                except Skip as exc:
                    self.note("%s (#%s): no %s round trip of %s: %s" % (u.label, u.pointer, mode,
                                                                         alt.label, exc))
        if u.nullable:
            try:
                self.roundtrip(u, "null", None)
            except Skip as exc:
                self.note("%s (#%s): no null round trip: %s" % (u.label, u.pointer, exc))
        seen = set()
        for label, text, err in self.synth.union_negatives(u):
            seen.add(err)
            self.add(Case("reject", "%s %s" % (u.name[4:], label), "%s: %s" % (u.label, label),
                          self.type_index(u), text, err=err))
        if u.kind != "box" and not any(r in (u.reason, u.disc_reason) for _, r in seen):
            self.note("%s (#%s): no instance matching no alternative was found" % (u.label, u.pointer))

    def build_type(self, obj):
        made = False
        for mode in ("min", "max"):
            try:
                v = self.synth.valid_obj(obj, mode, 0)
                self.roundtrip(obj, mode, v)
                made = True
            except Skip as exc:
                self.note("%s (#%s): no %s round trip: %s" % (obj.label, obj.pointer, mode, exc))
        # nullable fields set to null, when there are any
        nulls = [f for f in obj.fields if f.nullable]
        if nulls and made:
            try:
                v = self.synth.valid_obj(obj, "max", 0)
                for f in nulls:
                    v[f.json_name] = None
                self.roundtrip(obj, "nulls", v)
            except Skip as exc:
                self.note("%s (#%s): no null round trip: %s" % (obj.label, obj.pointer, exc))
        negs = self.synth.obj_negatives(obj)
        ti = self.type_index(obj)
        for label, text, err in negs:
            self.add(Case("reject", "%s %s" % (obj.name[4:], label),
                          "%s: %s" % (obj.label, label), ti, text, err=err))
        got = {e for _, _, e in negs}
        if obj.strict and not any(r == "unknown field" for _, r in got):
            self.note("%s (#%s): no instance with only an unknown field" % (obj.label, obj.pointer))
        for t in self.synth.targets(obj):
            if t not in got and t[1] != "?":
                self.note("%s (#%s): no instance breaks '%s' at %s alone (another check "
                          "always fails with it)" % (obj.label, obj.pointer, t[1], t[0] or "/"))

    # ------------------------------------------------------------ examples

    def examples_of(self, node, ptr):
        """[(pointer, value)] of the examples a schema or media object gives."""
        out = []
        if not isinstance(node, dict):
            return out
        if "example" in node:
            out.append((ptr + "/example", node["example"]))
        ex = node.get("examples")
        if isinstance(ex, list):
            out += [(ptr + "/examples/%d" % i, v) for i, v in enumerate(ex)]
        elif isinstance(ex, dict):
            for name, e in ex.items():
                eptr = ptr_key(ptr + "/examples", name)
                try:
                    e, eptr = self.spec.resolve(e, eptr)
                except Exception:  # noqa: BLE001
                    continue
                if isinstance(e, dict) and "value" in e:
                    out.append((eptr + "/value", e["value"]))
        return out

    def build_examples(self):
        todo = []   # (spec pointer, value, obj or shape)
        for obj in self.api.objects:
            try:
                node = self.spec.get(obj.pointer)
            except Exception:  # noqa: BLE001
                continue
            todo += [(p, v, obj) for p, v in self.examples_of(node, obj.pointer)]
            for f in obj.fields:
                sh = f.shape
                if sh.kind in ("object",):
                    continue
                try:
                    fnode = self.spec.get(f.pointer)
                except Exception:  # noqa: BLE001
                    continue
                for p, v in self.examples_of(fnode, f.pointer):
                    try:
                        errs = self.oracle.errors(sh, v, "", f.nullable)
                    except Skip:
                        continue
                    if errs:
                        self.warn(p, errs)
        for op in self.api.ops:
            for media_ptr, shape in self.op_media(op):
                try:
                    node = self.spec.get(media_ptr)
                except Exception:  # noqa: BLE001
                    continue
                for p, v in self.examples_of(node, media_ptr):
                    todo.append((p, v, shape))
        done = set()
        for p, v, target in todo:
            if p in done:
                continue
            done.add(p)
            try:
                if hasattr(target, "fields"):
                    errs = self.oracle.obj_errors(target, v)
                    objs = [(target, v)] if not errs else []
                else:
                    errs = self.oracle.errors(target, v)
                    objs = []
                    if not errs:
                        sh = target
                        many = sh.kind == "array"
                        if many:
                            sh = sh.items
                        t = sh.obj if sh.kind == "object" else sh.union if sh.kind == "union" else None
                        if t is not None:
                            objs = [(t, x) for x in v[:3]] if many else [(t, v)]
            except Skip as exc:
                self.note("example #%s not checked: %s" % (p, exc))
                continue
            if errs:
                self.warn(p, errs)
                continue
            for obj, x in objs:
                try:
                    self.roundtrip(obj, "example %s" % p.rsplit("/", 2)[-2:][0], x)
                    self.cases[-1].label = "%s: example #%s" % (obj.label, p)
                except Skip as exc:
                    self.note("example #%s: %s" % (p, exc))

    def warn(self, ptr, errs):
        self.warning_ptrs.append(ptr)
        where, why = errs[0]
        more = " (and %d more)" % (len(errs) - 1) if len(errs) > 1 else ""
        self.warnings.append("%s#%s: warning: example does not match its schema: %s %s%s" %
                             (self.spec_name, ptr, where or "/", why, more))

    def op_media(self, op):
        """[(media object pointer, shape)] of the op's JSON request and responses."""
        out = []
        body = op.body_obj if op.body_obj is not None else getattr(op, "body_union", None)
        if body is not None:
            try:
                o = self.spec.get(op.pointer)
                rb, rbptr = self.spec.resolve(o["requestBody"], op.pointer + "/requestBody")
                for m in rb.get("content") or {}:
                    if is_json(m):
                        out.append((ptr_key(rbptr + "/content", m), body))
                        break
            except Exception:  # noqa: BLE001
                pass
        for r in op.responses:
            try:
                o = self.spec.get(op.pointer)
                rr, rptr = self.spec.resolve(o["responses"][str(r.status)],
                                             op.pointer + "/responses/%d" % r.status)
                for m in rr.get("content") or {}:
                    if is_json(m):
                        out.append((ptr_key(rptr + "/content", m), r.shape))
                        break
            except Exception:  # noqa: BLE001
                pass
        return out

    # ------------------------------------------------------------ operations

    def request(self, op, values, body):
        """The raw HTTP request for op with parameter texts `values` (name ->
        text, None = absent, a list for a repeated query parameter) and a
        body (text or None), sent as JSON or, for a form operation, as
        application/x-www-form-urlencoded."""
        path = "/".join(seg if seg.startswith("{") and seg.endswith("}") else pct(seg, "!$&'()*+,;=:@")
                        for seg in op.path.split("/"))
        query = []
        headers = []
        cookies = []
        for p in op.params:
            t = values.get((p.location, p.name))
            if t is None:
                continue
            if p.shape.kind == "object" and isinstance(t, list):
                for k, x in t:      # deepObject, or form exploded
                    key = "%s[%s]" % (p.name, k) if p.split == "deep" else k
                    query.append(pct(key) + "=" + pct(x))
            elif p.location == "path":
                raw = t[1] if isinstance(t, tuple) else path_prefix(p) + t
                path = path.replace("{%s}" % p.name, pct(raw, ";=,"))
            elif p.location == "query":
                for x in (t if isinstance(t, list) else [t]):
                    query.append(pct(p.name) + "=" + pct(x))
            elif p.location == "header":
                if not header_ok(t):
                    raise Skip("header value %r cannot be sent" % t)
                headers.append("%s: %s" % (p.name, t))
            elif p.location == "cookie":
                if not cookie_ok(t):
                    raise Skip("cookie value %r cannot be sent" % t)
                cookies.append("%s=%s" % (p.name, t))
        if cookies:
            headers.append("Cookie: " + "; ".join(cookies))
        target = path + ("?" + "&".join(query) if query else "")
        lines = ["%s %s HTTP/1.1" % (op.method, target), "Host: 127.0.0.1",
                 "Connection: close"] + headers
        if body is not None:
            media = "application/x-www-form-urlencoded" if getattr(op, "body_form", False) \
                else "application/json"
            lines += ["Content-Type: " + media, "Content-Length: %d" % len(body.encode())]
        else:
            lines += ["Content-Length: 0"] if op.method in ("POST", "PUT", "PATCH") else []
        return "\r\n".join(lines) + "\r\n\r\n" + (body or "")

    def build_op(self, op):
        if op.method == "HEAD":
            return
        self.cur_group = (op.c_name, "%s (%s %s)" % (op.label, op.method, op.path))
        good = {}
        for p in op.params:
            t = self.valid_param(p)
            if p.shape.kind != "object" and param_errors(self.oracle, p, t):
                raise Skip("no valid value for parameter %s" % p.name)
            good[(p.location, p.name)] = t
        body = None
        bt = op.body_obj if op.body_obj is not None else getattr(op, "body_union", None)
        form = getattr(op, "body_form", False)
        if bt is not None:
            if form:
                pairs = self.pairs_of(bt, self.synth.valid_obj(bt, "min", 0))
                body = "&".join(pct(k) + "=" + pct(v) for k, v in pairs)
            elif hasattr(bt, "fields"):
                body = to_json(self.synth.valid_obj(bt, "min", 0))
            else:
                body = to_json(self.synth.valid_union(bt, "min", 0))
        self.add(Case("params", op.c_name + " well formed", "%s: a well-formed request reaches the handler"
                      % op.label, req=self.request(op, good, body), status=409,
                      code="CONFLICT"))
        for p in op.params:
            if p.shape.kind == "object":
                self.object_param_cases(op, p, good, body)
                continue
            tried = set()
            if p.location == "path" and path_prefix(p):
                vals = dict(good)
                vals[(p.location, p.name)] = ("raw", "x" + good[(p.location, p.name)])
                reason = "must start with " + p.prefix_text
                self.add(Case("params", "%s %s no prefix" % (op.c_name, p.name),
                              "%s: path parameter %s without its %s" % (op.label, p.name, p.prefix_text),
                              req=self.request(op, vals, body), status=400, code="VALIDATION_ERROR",
                              detail=to_canon_detail("path." + p.name, reason)))
            for label, text in self.param_bad(p, good[(p.location, p.name)]):
                errs = param_errors(self.oracle, p, text)
                if len(errs) != 1 or errs[0] in tried:
                    continue
                if p.location == "path" and (text is None or not self.sendable(p, text)):
                    continue
                if isinstance(text, str) and "\0" in text:
                    continue
                vals = dict(good)
                vals[(p.location, p.name)] = text
                try:
                    req = self.request(op, vals, body)
                except Skip:
                    continue
                tried.add(errs[0])
                field = p.location + "." + p.name
                self.add(Case("params", "%s %s %s" % (op.c_name, p.name, label),
                              "%s: %s parameter %s %s: %s" % (op.label, p.location, p.name, label,
                                                               errs[0]),
                              req=req, status=400, code="VALIDATION_ERROR",
                              detail=to_canon_detail(field, errs[0])))
        if bt is not None:
            if op.body_required:
                self.add(Case("params", op.c_name + " no body", "%s: a missing body" % op.label,
                              req=self.request(op, good, None), status=400, code="BAD_REQUEST"))
            if form:
                for label, bad, err in self.pairs_negatives(bt, pairs, "/"):
                    if not bad:
                        continue    # an empty body is no body at all
                    text = "&".join(pct(k) + "=" + pct(v) for k, v in bad)
                    self.add(Case("params", "%s form %s" % (op.c_name, label),
                                  "%s: form body %s: %s %s" % (op.label, label, err[0], err[1]),
                                  req=self.request(op, good, text), status=400,
                                  code="VALIDATION_ERROR", detail=to_canon_detail(err[0], err[1])))
                return
            self.add(Case("params", op.c_name + " malformed body", "%s: malformed JSON body" % op.label,
                          req=self.request(op, good, '{"a":'), status=400, code="BAD_REQUEST"))
            try:
                negs = self.synth.obj_negatives(bt) if hasattr(bt, "fields") else \
                    self.synth.union_negatives(bt)
            except Skip:
                negs = []
            if negs:
                label, text, err = negs[min(1, len(negs) - 1)]
                self.add(Case("params", op.c_name + " invalid body",
                              "%s: body %s: %s %s" % (op.label, label, err[0] or "/", err[1]),
                              req=self.request(op, good, text), status=400,
                              code="VALIDATION_ERROR", detail=to_canon_detail(err[0], err[1])))

    def sendable(self, p, t):
        """Can the text t of parameter p travel as is (and mean itself)?"""
        if t == "" or "\0" in t:
            return False
        if p.location == "path" and "/" in t:
            return False          # the path is split after percent-decoding
        if p.location == "header" and not header_ok(t):
            return False
        if p.location == "cookie" and not cookie_ok(t):
            return False
        return True

    def pairs_of(self, obj, inst):
        """name=value pairs of an object instance (a form body or an object
        parameter): scalars as their text, arrays as repeated names."""
        out = []
        for f in obj.fields:
            if f.json_name not in inst:
                continue
            v = inst[f.json_name]
            vals = v if f.shape.kind == "array" else [v]
            kind = f.shape.items.kind if f.shape.kind == "array" else f.shape.kind
            if kind not in ("string", "int", "number", "bool", "enum", "datetime") or v is None:
                raise Skip("property %s of %s cannot travel as name=value" % (f.json_name, obj.label))
            out += [(f.json_name, param_text(x)) for x in vals]
        return out

    def object_param_pairs(self, p):
        """Valid name=value pairs for an object parameter: its required
        properties (every scalar one when none is required), each value a
        text that travels unchanged in the parameter's place."""
        obj = p.shape.obj
        fields = [f for f in obj.fields if f.required] or obj.fields
        out = []
        for f in fields:
            sh = f.shape.items if f.shape.kind == "array" else f.shape
            if sh.kind not in ("string", "int", "number", "bool", "enum", "datetime"):
                if f.required:
                    raise Skip("property %s of %s cannot travel as name=value" % (f.json_name, obj.label))
                continue
            pool = [param_text(v) for v in self.synth.value_pool(sh, "min")]
            pool = [t for t in pool if self.sendable(p, t) and not any(c in t for c in ",=&[]")
                    and not scalar_param_errors(self.oracle, sh, t)]
            if not pool:
                if f.required:
                    raise Skip("no sendable value for property %s of %s" % (f.json_name, obj.label))
                continue
            out.append((f.json_name, min(pool, key=len)))
        if not out:
            raise Skip("no property of %s can be sent" % obj.label)
        return out

    def pairs_negatives(self, obj, pairs, prefix):
        """(label, pairs, (field, reason)) breaking one property rule."""
        out = []
        for f in obj.fields:
            if f.required:
                out.append(("%s missing" % f.json_name, [(k, v) for k, v in pairs if k != f.json_name],
                            (prefix + f.json_name, "is required")))
            kind = f.shape.items.kind if f.shape.kind == "array" else f.shape.kind
            bad = {"int": ("x", "must be an integer"), "number": ("x", "must be a number"),
                   "bool": ("x", "must be true or false"),
                   "datetime": ("x", "must be an RFC 3339 date-time")}.get(kind)
            if kind == "enum":
                sh = f.shape.items if f.shape.kind == "array" else f.shape
                bad = ("zz-not-listed", sh.enum.reason)
            if bad is not None:
                rest = [(k, v) for k, v in pairs if k != f.json_name]
                out.append(("%s %s" % (f.json_name, bad[1]), rest + [(f.json_name, bad[0])],
                            (prefix + f.json_name, bad[1])))
        if obj.strict:
            out.append(("unknown property", pairs + [("conformance_unknown", "1")],
                        (prefix + "conformance_unknown", "unknown field")))
        return out

    def valid_param(self, p):
        """The text of a valid value (a list of texts for a repeated query
        parameter): non-empty and sendable."""
        sh = p.shape
        if sh.kind == "array":
            pool = [param_text(v) for v in self.synth.value_pool(sh.items, "min")]
            pool = [t for t in pool if self.sendable(p, t) and "," not in t and item_sendable(p, t)
                    and not scalar_param_errors(self.oracle, sh.items, t)]
            if not pool:
                raise Skip("no valid item for %s parameter %s" % (p.location, p.name))
            lo = max([c.lo or 0 for c in sh.checks if c.kind == "items"] + [1])
            uniq = any(c.kind == "unique" for c in sh.checks)
            items = list(dict.fromkeys(pool))[:lo] if uniq else [min(pool, key=len)] * lo
            if len(items) < lo:
                raise Skip("no %d distinct items for %s parameter %s" % (lo, p.location, p.name))
            t = join_items(p, items)
        elif sh.kind == "object":
            t = self.object_param_pairs(p)
            if p.split in ("list", "list_explode", "form_list"):
                if any("," in k or "," in v or "=" in k for k, v in t):
                    raise Skip("an object parameter value holds ',' or '='")
                sep = "=" if p.split == "list_explode" else ","
                t = ",".join(k + sep + v for k, v in t)
                if not self.sendable(p, t):
                    raise Skip("no sendable value for %s parameter %s" % (p.location, p.name))
            return t
        elif sh.kind in ("union", "raw", "list"):
            raise Skip("parameters of kind '%s' are not synthesized yet" % sh.kind)
        else:
            pool = [param_text(v) for v in self.synth.value_pool(sh, "min")]
            pool = [t for t in pool if self.sendable(p, t)]
            pool = [t for t in pool if not param_errors(self.oracle, p, t)]
            if not pool:
                raise Skip("no valid value for %s parameter %s" % (p.location, p.name))
            t = min(pool, key=len)
        if param_errors(self.oracle, p, t):
            raise Skip("no valid value for %s parameter %s" % (p.location, p.name))
        return t

    def object_param_cases(self, op, p, good, body):
        """An object parameter: absent when required, and each property
        rule broken alone (errors named <in>.<param>.<property>)."""
        field = p.location + "." + p.name
        if p.required and p.location != "path":
            vals = dict(good)
            vals[(p.location, p.name)] = None
            self.add(Case("params", "%s %s absent" % (op.c_name, p.name),
                          "%s: %s parameter %s absent" % (op.label, p.location, p.name),
                          req=self.request(op, vals, body), status=400, code="VALIDATION_ERROR",
                          detail=to_canon_detail(field, "is required")))
        t = good[(p.location, p.name)]
        if isinstance(t, list):
            pairs = t
        else:
            sep = "=" if p.split == "list_explode" else ","
            items = t.split(",")
            pairs = [tuple(x.split("=", 1)) for x in items] if sep == "=" else \
                list(zip(items[0::2], items[1::2]))
        strict = p.shape.obj.strict and p.split in ("deep", "list", "list_explode", "form_list")
        for label, bad, err in self.pairs_negatives(p.shape.obj, pairs, field + "."):
            if err[1] == "unknown field" and not strict:
                continue
            if err[1] == "is required" and not bad and p.split in ("deep", "form_explode"):
                continue    # no property left: the parameter itself is absent
            if p.split in ("list", "list_explode", "form_list"):
                sep = "=" if p.split == "list_explode" else ","
                text = ",".join(k + sep + v for k, v in bad)
                if not text or not self.sendable(p, text):
                    continue
            else:
                text = bad
            vals = dict(good)
            vals[(p.location, p.name)] = text
            try:
                req = self.request(op, vals, body)
            except Skip:
                continue
            self.add(Case("params", "%s %s %s" % (op.c_name, p.name, label),
                          "%s: %s parameter %s: %s %s" % (op.label, p.location, p.name, err[0], err[1]),
                          req=req, status=400, code="VALIDATION_ERROR",
                          detail=to_canon_detail(err[0], err[1])))

    def param_bad(self, p, good):
        """(label, text) candidates that may break one rule of parameter p;
        good: its valid text."""
        sh = p.shape
        out = [("absent", None)]
        if sh.kind != "array":
            return out + self.scalar_bad(sh)
        items = split_items(p, good)
        for label, bad in self.scalar_bad(sh.items):
            if p.split != "multi" and ("," in bad or not item_sendable(p, bad)):
                continue
            arr = [bad] + items[1:]
            out.append(("item " + label, join_items(p, arr)))
        for c in sh.checks:
            if c.kind != "items":
                continue
            for n in (c.lo - 1 if c.lo else None, c.hi + 1 if c.hi is not None else None):
                if n is None or n < 0 or n > 100:
                    continue
                arr = (items * (n // max(len(items), 1) + 1))[:n]
                if p.split == "matrix" and not arr:
                    continue    # ';' alone names no item at all
                out.append(("%d items" % n, join_items(p, arr)))
        return out

    def scalar_bad(self, sh):
        out = []
        if sh.kind == "int":
            out += [("not a number", "abc"), ("fraction", "1.5"), ("plus sign", "+1"),
                    ("leading zero", "01"), ("empty", ""), ("out of range", str(2**63)),
                    ("out of int32", str(2**31))]
            out += [("bound", str(v)) for v in self.synth.int_bad_pool(sh)]
        elif sh.kind == "number":
            out += [("not a number", "abc"), ("trailing dot", "1."), ("hex", "0x10"),
                    ("infinite", "1e999"), ("empty", ""), ("huge", "1e300")]
            lo, hi = self.synth.int_range(sh)
            for b in (lo, hi):
                if abs(b) < 1e300:
                    out += [("bound", repr(float(x))) for x in (b, b - 1, b + 1, b - 0.5, b + 0.5)]
            out += [("not in enum", "0.123")]
        elif sh.kind == "bool":
            out += [("not a boolean", "yes"), ("capitalised", "True")]
        elif sh.kind == "datetime":
            out += [("not a date-time", "yesterday")]
        elif sh.kind == "enum":
            out += [("not in enum", "zz-not-listed")]
        elif sh.kind == "string":
            try:
                good = self.synth.valid(sh, "min", 0)
            except Skip:
                good = "a"
            out += [("bad", x) for x in self.synth.string_bad_pool(sh, good)]
        return out

    # ------------------------------------------------------------ output

    def counts(self):
        c = {"roundtrip": 0, "reject": 0, "params": 0}
        for x in self.cases:
            c[x.kind] += 1
        return c


def to_canon_detail(field, reason):
    return "{" + '"field":' + json.dumps(field, ensure_ascii=False) + ',"reason":' + \
        json.dumps(reason, ensure_ascii=False) + "}"


def is_json(media):
    m = media.split(";")[0].strip().lower()
    return m == "application/json" or (m.startswith("application/") and m.endswith("+json"))


def stubs_from_header(header_text):
    """Definitions of every svc_ handler prototype in api.gen.h: each stub
    records that it ran and fails with 409 CONFLICT, which no generated check
    produces, so a case can tell "reached the handler" from "rejected"."""
    text = re.sub(r"/\*.*?\*/", " ", header_text, flags=re.S)
    out = []
    for m in re.finditer(r"rt_status\s+(svc_\w+)\s*\(([^;{]*)\)\s*;", text):
        name, params = m.group(1), " ".join(m.group(2).split())
        names = [re.findall(r"\w+", a)[-1] for a in params.split(",") if a.strip() not in ("", "void")]
        req = names[0] if names else None
        out.append({"name": name, "params": params, "unused": names[1:], "req": req})
    return out


def build(spec, api, spec_name, files):
    """{file name: bytes} of the suite, and the Suite (for counts and notes)."""
    import emit
    suite = Suite(spec, api, spec_name).build()
    header = files.get("api.gen.h", b"").decode("utf-8")
    env = emit.environment()
    cases, groups = suite.ordered()
    text = env.get_template("conformance.gen.c.j2").render(
        api=api, file="conformance.gen.c", suite=suite, types=suite.types,
        cases=cases, groups=groups, stubs=stubs_from_header(header),
        notes=[c_string(comment(n, 400)) for n in suite.notes],
        errors=[c_string(comment(n, 400)) for n in suite.errors],
        warnings=[c_string(comment(w, 400)) for w in suite.warnings],
        counts=suite.counts())
    return {"conformance.gen.c": text.encode("utf-8")}, suite


def report(suite, out=sys.stderr):
    # The generator already printed the examples its own check (examples.py)
    # refused; print only those the model of the generated code adds.
    told = {p for p, _ in getattr(suite.api, "notes", [])}
    for w, ptr in zip(suite.warnings, suite.warning_ptrs):
        if ptr not in told:
            print(w, file=out)
    c = suite.counts()
    for e in suite.errors:
        print("conformance: %s" % e, file=out)
    print("conformance: %d round-trip, %d reject, %d request cases; %d skipped with a reason; "
          "%d example warning(s)%s" % (c["roundtrip"], c["reject"], c["params"], len(suite.notes),
                                       len(suite.warnings),
                                       "; %d synthesizer error(s)" % len(suite.errors)
                                       if suite.errors else ""), file=out)


def write(spec_path, api_spec_name, files, out_dir, quiet=False):
    """The generator's --conformance hook: build the suite for the spec just
    generated and write it into out_dir."""
    import emit
    import ir_build
    import spec_loader
    spec = spec_loader.load_spec(spec_path)
    api = ir_build.build_api(spec, api_spec_name, strict=False)
    suite_files, suite = build(spec, api, os.path.relpath(spec_path), files)
    report(suite)
    return emit.write_changed(suite_files, out_dir)
