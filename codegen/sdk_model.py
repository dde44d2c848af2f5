"""The SDK view of a spec: the server's IR plus what only a client needs.

ir_build gives the C names, shapes and checks the server uses; the client
templates need a little more, computed here so the server's IR stays its
own:
  - the error envelope's type (the server never decodes error bodies, so its
    IR does not record them): every non-2xx JSON response must share one
    object schema, since a client decodes "an error" before it knows which;
  - per operation: path parameters in template order, the URL pieces, the
    query/header parameters, and which statuses carry which body;
  - for Python: class and attribute names, type annotations, and the checks
    as literal data (the same reasons the server reports).
What a client cannot express follows the server generator's policy: the
operation (or, for Python, the schema) is left out of the SDKs with a warning
naming the JSON pointer and the construct; with strict, it is an error.
Operations the server generator itself leaves out are left out here too.
"""

import keyword
import re
from dataclasses import dataclass, field
from typing import List, Optional

import ir
import ir_build
from clit import lit_value
from naming import snake
from spec_loader import SpecError, Unsupported, ptr_join

# Reason phrases (RFC 9110) become the Python exception class names.
REASONS = {
    400: "BadRequest", 401: "Unauthorized", 402: "PaymentRequired", 403: "Forbidden",
    404: "NotFound", 405: "MethodNotAllowed", 406: "NotAcceptable", 408: "RequestTimeout",
    409: "Conflict", 410: "Gone", 411: "LengthRequired", 412: "PreconditionFailed",
    413: "PayloadTooLarge", 414: "UriTooLong", 415: "UnsupportedMediaType",
    416: "RangeNotSatisfiable", 417: "ExpectationFailed", 421: "MisdirectedRequest",
    422: "UnprocessableContent", 423: "Locked", 424: "FailedDependency", 425: "TooEarly",
    426: "UpgradeRequired", 428: "PreconditionRequired", 429: "TooManyRequests",
    431: "RequestHeaderFieldsTooLarge", 451: "UnavailableForLegalReasons",
    500: "InternalServerError", 501: "NotImplemented", 502: "BadGateway",
    503: "ServiceUnavailable", 504: "GatewayTimeout", 505: "HttpVersionNotSupported",
}
# Answer bodies the C client decodes: the server's decoders for objects and
# unions, its own readers for scalars (and arrays of either).
ANSWER_KINDS = {"object", "union", "string", "enum", "int", "number", "bool"}
# Every client knows these, declared or not: a server may always answer them.
ALWAYS_STATUSES = [400, 404, 405, 413, 415, 500, 503]
PARAM_KINDS = {"int", "string", "enum", "bool", "datetime", "number"}
VALUE_KINDS = PARAM_KINDS | {"object", "array", "raw", "union", "list"}
FORMAT_FUNCS = {"rt_is_email": "email", "rt_is_uuid": "uuid", "rt_is_date": "date",
                "rt_is_uri": "uri", "rt_is_ipv4": "ipv4", "rt_is_ipv6": "ipv6",
                "rt_is_base64": "byte", "rt_is_date_time": "date-time"}
PY_RESERVED = {"self", "body", "cls", "timeout"}
PY_FIXED = {"ApiError", "ValidationError", "TransportError", "ProtocolError", "HttpError",
            "FieldError", "Client", "RawResponse", "Any", "Dict", "List", "Mapping", "Optional",
            "Tuple", "Union", "ClassVar"} | set(REASONS.values())


def py_string(value):
    """A Python string literal for any text (repr is stable across versions
    for str, and escapes everything non-printable)."""
    return repr(str(value))


def camel(c_name):
    """api_error_error_details -> ErrorErrorDetails."""
    base = c_name[len("api_"):] if c_name.startswith("api_") else c_name
    return "".join(p[:1].upper() + p[1:] for p in base.split("_") if p)


def py_ident(name):
    return name + "_" if keyword.iskeyword(name) or name in ("None", "True", "False") else name


def c_lit_text(lit):
    """The text of a C string literal clit.c_string wrote."""
    body = lit[1:-1]
    out = bytearray()
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out += ch.encode("utf-8")
            i += 1
            continue
        nxt = body[i + 1]
        if nxt.isdigit():
            out.append(int(body[i + 1:i + 4], 8))
            i += 4
            continue
        out.append(ord({"n": "\n", "r": "\r", "t": "\t"}.get(nxt, nxt)))
        i += 2
    return out.decode("utf-8")


# ---------------------------------------------------------------- model

@dataclass
class PathPart:
    text: str = ""                 # a literal piece of the path
    text_c: str = ""
    param: Optional[object] = None  # or an ir.Param


@dataclass
class Success:
    status: int
    field: str                     # body_201
    shape: object                  # ir.Shape (object or array of objects)
    py_type: str
    py_lit: str = ""               # the _T(...) literal


@dataclass
class SdkOp:
    ir: object                     # ir.Operation
    c_fn: str                      # api_client_create_user
    c_resp: str                    # api_client_create_user_response
    c_params: Optional[str]        # api_client_list_users_params (query/header)
    path_params: list
    other_params: list
    parts: List[PathPart]
    successes: List[Success]
    empty_successes: List[int]
    error_statuses: List[int]
    statuses_text: str
    method_c: str
    py_name: str
    py_result: str
    py_args: list                  # [(py name, ir.Param, annotation, _T literal)]
    py_body_type: str = ""         # the body's annotation
    py_body_lit: str = ""          # the body's _T literal
    py_headers: list = field(default_factory=list)   # [(attr, ir.RespHeader)]
    error_type: Optional[str] = None   # the C type of this operation's error envelope
    error_py: Optional[str] = None     # its Python class


@dataclass
class PyField:
    json_name: str
    attr: str
    annotation: str
    required: bool
    nullable: bool
    read_only: bool
    write_only: bool
    spec: str                      # the _T(...) literal


@dataclass
class PyClass:
    name: str
    obj: object
    fields: List[PyField]
    strict: bool
    checks: str                    # literal tuple of object-level checks
    addl: Optional[tuple] = None   # a map's extra entries: (attribute, annotation, _T literal)


@dataclass
class PyEnum:
    name: str
    enum: object
    members: list                  # [(PY_NAME, text)]


@dataclass
class Model:
    api: object
    spec_name: str
    ops: List[SdkOp]
    error_type: Optional[str]      # api_error
    error_py: Optional[str]        # Error
    byte_sets: list                # [(name, words)] for parameter patterns
    py_classes: List[PyClass]
    py_enums: List[PyEnum]
    py_status_errors: list         # [(status, ClassName)]
    warnings: list = field(default_factory=list)   # [(pointer, message)] left out of the SDKs
    left_out: list = field(default_factory=list)   # [(label, METHOD, path, pointer, message)]
    error_types: list = field(default_factory=list)  # every C error envelope type in use
    regexes: list = field(default_factory=list)    # [(name, ir.Pattern)] for parameter patterns
    c_needs_escape: bool = False        # a string path/query value or any query parameter
    c_needs_header_value: bool = False  # a string header parameter
    c_needs_decode: bool = False        # an answer body to decode
    c_needs_f64: bool = False           # a number parameter
    c_answer_kinds: list = field(default_factory=list)  # scalar kinds of answer bodies
    header_guard: str = "API_CLIENT_GEN_H"


class _Build:
    def __init__(self, spec, api, strict):
        self.spec = spec
        self.api = api
        self.strict = strict
        self.objects = {o.pointer: o for o in api.objects}
        self.py_names = {}
        for e in api.enums:
            self.py_names[e.name] = camel(e.name)
        for o in api.objects:
            self.py_names[o.name] = camel(o.name)
        self.byte_sets = {}
        self.regexes = {}
        self.py_failed = {}     # ObjType name -> Unsupported (a schema left out of Python)
        self.expanding = set()  # unions being written (a cycle through unions alone)
        self.warnings = []
        self.left_out = []
        # Names the Python module defines itself; a schema that would take
        # one gets a Model suffix.
        self.taken_py = set(PY_FIXED)
        for c_name in sorted(self.py_names):
            n = self.py_names[c_name]
            while n in self.taken_py:
                n += "Model"
            self.taken_py.add(n)
            self.py_names[c_name] = n

    # ------------------------------------------------------------ errors

    def schema_obj(self, node, ptr):
        """The ObjType a response schema resolves to, or None."""
        seen = 0
        while isinstance(node, dict) and seen < 64:
            seen += 1
            if "$ref" in node:
                node, ptr = self.spec.resolve(node, ptr)
            elif isinstance(node.get("allOf"), list) and len(node["allOf"]) == 1:
                node, ptr = node["allOf"][0], ptr_join(ptr, "allOf", "0")
            else:
                break
        return self.objects.get(ptr), ptr

    def error_responses(self, op):
        """[(status or 'default', ObjType, pointer)] of the non-2xx JSON responses."""
        out = []
        optr = op.pointer
        node = self.spec.get(optr)
        responses = node.get("responses") if isinstance(node, dict) else None
        for code, r in (responses if isinstance(responses, dict) else {}).items():
            if code != "default" and (not code.isdigit() or 200 <= int(code) < 300):
                continue
            rptr = ptr_join(optr, "responses", code)
            r, rptr = self.spec.resolve(r, rptr)
            content = (r or {}).get("content") or {}
            media = [mt for mt in content if ir_build.is_json_media(mt)]
            if not media or not isinstance(content[media[0]], dict) \
                    or "schema" not in content[media[0]]:
                continue
            sptr = ptr_join(rptr, "content", media[0], "schema")
            obj, _ = self.schema_obj(content[media[0]]["schema"], sptr)
            if obj is None:
                raise Unsupported(sptr, "an error response body that is not an object schema "
                                        "is not supported by the client SDKs")
            out.append((code, obj, sptr))
        return out

    def op_error_type(self, o):
        """The one object schema of the operation's error responses (None
        when it declares none)."""
        found = self.error_responses(o)
        names = []
        for _, obj, ptr in found:
            if obj.name not in names:
                names.append(obj.name)
                if len(names) > 1:
                    raise Unsupported(ptr, "error responses of one operation in more than one "
                                           "schema (%s) are not supported by the client SDKs (a "
                                           "client decodes one error envelope per operation)"
                                      % ", ".join(names))
        if names and names[0] in self.py_failed:
            raise self.py_failed[names[0]]
        return names[0] if names else None

    # ------------------------------------------------------------ ops

    def op(self, o):
        fn = "api_client_" + o.c_name
        tnames = re.findall(r"\{([^}]*)\}", o.path)
        by_name = {p.name: p for p in o.params if p.location == "path"}
        path_params = [by_name[n] for n in tnames]
        other = [p for p in o.params if p.location != "path"]
        if o.body_form:
            for f in o.body_obj.fields:
                self.check_value(f.shape.items if f.shape.kind == "array" else f.shape, f.pointer)
        parts = []
        for piece in re.split(r"(\{[^}]*\})", o.path):
            if not piece:
                continue
            if piece.startswith("{"):
                parts.append(PathPart(param=by_name[piece[1:-1]]))
            else:
                parts.append(PathPart(text=piece, text_c=ir_build.c_string(piece)))
        successes = []
        for r in o.responses:
            if not 200 <= r.status < 300:
                continue  # error bodies are decoded as the operation's envelope
            sh = r.shape
            inner = sh.items if sh.kind == "array" else sh
            if inner.kind not in ANSWER_KINDS:
                raise Unsupported(sh.pointer, "an answer body of %s%s values is not supported by "
                                              "the client SDKs" % ("arrays of " if sh.kind == "array"
                                                                   else "", inner.kind))
            for c in inner.checks:
                if c.kind == "pattern" and c.pattern.regex:
                    self.regexes.setdefault(c.pattern.set_name, c.pattern)
                elif c.kind == "pattern":
                    self.byte_sets.setdefault(c.pattern.set_name, c.pattern)
            ann, lit = self.type_lit(sh)
            successes.append(Success(r.status, r.body_field, sh, ann, lit))
        empty = [s for s in o.other_statuses if 200 <= s < 300]
        errors = sorted({int(code) for code, _, _ in self.error_responses(o) if code != "default"})
        for p in o.params:
            self.check_param(p)
        decl = [str(s.status) for s in successes] + [str(s) for s in empty]
        text = "success " + ", ".join(decl) if decl else "no declared success"
        if errors:
            text += "; errors " + ", ".join(str(s) for s in errors)
        py_name = py_ident(o.c_name)
        args, taken = [], set(PY_RESERVED)
        for p in path_params + other:
            n = p.c_name
            while n in taken or keyword.iskeyword(n):
                n += "_"
            taken.add(n)
            ann, lit = self.type_lit(p.shape)
            args.append((n, p, ann, lit))
        sop = SdkOp(o, fn, fn + "_response", (fn + "_params") if other else None, path_params,
                    other, parts, successes, empty, errors, text, ir_build.c_string(o.method),
                    py_name, camel("api_" + o.c_name) + "Result", args)
        sop.error_type = self.op_error_type(o)
        if o.body_type:
            sh = self.body_shape(o)
            sop.py_body_type, sop.py_body_lit = self.type_lit(sh)
        used = {"status", "request_id", "body"}
        for h in o.headers:
            n = py_ident(h.c_name[len("header_"):] if h.c_name.startswith("header_") else h.c_name)
            while n in used:
                n += "_"
            used.add(n)
            sop.py_headers.append((n, h))
        if sop.py_result in self.taken_py:
            sop.py_result += "_"
        self.taken_py.add(sop.py_result)
        return sop

    def body_shape(self, o):
        """The request body as a Shape (an object, a union, or a box's value)."""
        if o.body_obj is not None:
            sh = ir.Shape("object", o.body_obj.name, o.body_obj.pointer, obj=o.body_obj)
            sh.type_reason = "must be an object"
            return sh
        u = o.body_union
        sh = ir.Shape("union", u.name, u.pointer, union=u)
        sh.type_reason = ir_build.TYPE_REASON["union"]
        return sh

    def check_param(self, p):
        sh = p.shape
        style = getattr(p, "style", "")
        if style in ("label", "matrix") and (p.location != "path" or sh.kind == "object"):
            raise Unsupported(p.pointer, "%s-style %s parameters are not supported by the client "
                                         "SDKs" % (style, p.location if sh.kind != "object" else
                                                   "object"))
        if p.location == "cookie":
            raise Unsupported(p.pointer, "cookie parameters are not supported by the client SDKs")
        if sh.kind == "object":
            # Pairs (the server's pairs_object): each property a scalar or,
            # where a name may repeat (deepObject, form exploded), an array.
            if p.split not in ("deep", "form_explode", "form_list", "list", "list_explode"):
                raise Unsupported(p.pointer, "object parameters of style %r are not supported by "
                                             "the client SDKs" % p.split)
            for f in sh.obj.fields:
                if f.shape.kind == "array" and p.split not in ("deep", "form_explode"):
                    raise Unsupported(f.pointer, "an array property in an object parameter of "
                                                 "style %r is not supported by the client SDKs"
                                      % p.split)
                self.check_value(f.shape.items if f.shape.kind == "array" else f.shape, f.pointer)
            return
        if sh.kind == "array":
            if p.split not in ("multi", "comma", "space", "pipe", "dot", "matrix") or \
                    (p.split in ("multi", "space", "pipe") and p.location != "query") or \
                    (p.split in ("dot", "matrix") and p.location != "path"):
                raise Unsupported(p.pointer, "array parameters of style %r are not supported by "
                                             "the client SDKs" % p.split)
            sh = sh.items
        self.check_value(sh, p.pointer)

    def check_value(self, sh, ptr):
        """A scalar sent as text (a parameter, a form field): its patterns
        are compiled into the C client."""
        if sh.kind not in PARAM_KINDS:
            raise Unsupported(ptr, "%s parameters are not supported by the client SDKs" % sh.kind)
        for c in sh.checks:
            if c.kind == "pattern" and c.pattern.regex:
                self.regexes.setdefault(c.pattern.set_name, c.pattern)
            elif c.kind == "pattern" and c.pattern.set_name not in self.byte_sets:
                self.byte_sets[c.pattern.set_name] = c.pattern

    # ------------------------------------------------------------ python

    def regex_source(self, pt):
        """The pattern as written (its pointer names it), checked to compile
        with Python's re the way the server's PCRE2 reads it."""
        src = self.spec.get(pt.pointer)
        if not isinstance(src, str):
            raise Unsupported(pt.pointer, "pattern source not found")
        try:
            re.compile(src, re.ASCII)
        except re.error as exc:
            raise Unsupported(pt.pointer, "pattern %r has no Python re counterpart (%s)" % (src, exc))
        return src

    def checks_lit(self, checks, ptr):
        items = []
        for c in checks:
            if c.kind == "length":
                items.append("('length', %r, %r, %s, %s, %s)" % (
                    c.lo, c.hi, py_string(c.reason_lo), py_string(c.reason_hi),
                    py_string(c.reason_eq)))
            elif c.kind == "pattern" and c.pattern.regex:
                items.append("('regex', %s, %s)" % (py_string(self.regex_source(c.pattern)),
                                                    py_string(c.pattern.reason)))
            elif c.kind == "pattern":
                pt = c.pattern
                words = [int(w[len("UINT64_C("):-1], 16) for w in pt.words]
                mask = sum(w << (64 * i) for i, w in enumerate(words))
                items.append("('pattern', 0x%x, %r, %r, %r, %s)" % (
                    mask, pt.min_count, pt.max_count, pt.count_code_points,
                    py_string(pt.reason)))
            elif c.kind == "format":
                if c.func not in FORMAT_FUNCS:
                    raise Unsupported(ptr, "format check %s has no Python counterpart" % c.func)
                items.append("('format', %r, %s)" % (FORMAT_FUNCS[c.func], py_string(c.reason)))
            elif c.kind == "compare":
                conds = ", ".join("(%r, %r)" % (op, lit_value(lit)) for op, lit in c.conds)
                items.append("('compare', (%s,), %s)" % (conds, py_string(c.reason)))
            elif c.kind in ("multiple", "fmultiple"):
                items.append("(%r, %r, %s)" % (c.kind, lit_value(c.divisor), py_string(c.reason)))
            elif c.kind == "oneof":
                vals = ", ".join(repr(lit_value(v)) if v not in ("true", "false")
                                 else repr(v == "true") for v in c.values)
                items.append("('oneof', (%s,), %s)" % (vals, py_string(c.reason)))
            elif c.kind in ("items", "props"):
                items.append("(%r, %r, %r, %s, %s)" % (
                    c.kind, c.lo, c.hi, py_string(c.reason_lo), py_string(c.reason_hi)))
            elif c.kind == "unique":
                items.append("('unique', %s)" % py_string(c.reason))
            else:
                raise Unsupported(ptr, "check kind %r has no Python counterpart" % c.kind)
        return "(" + "".join(i + ", " for i in items) + ")"

    def type_lit(self, sh):
        """(annotation, _T literal) of a shape; Unsupported when Python has
        no counterpart (or it names a schema left out of Python)."""
        k = sh.kind
        if k not in VALUE_KINDS:
            raise Unsupported(sh.pointer, "%s values are not supported by the client SDKs" % k)
        if k == "list":
            return self.type_lit(sh.items)
        checks = self.checks_lit(sh.checks, sh.pointer)
        reason = py_string(sh.type_reason or ir_build.TYPE_REASON.get(k, "has the wrong type"))
        if k == "array":
            ann, lit = self.type_lit(sh.items)
            return "List[%s]" % ann, "_T('array', %s, items=%s, checks=%s)" % (reason, lit, checks)
        if k == "object":
            if sh.obj.name in self.py_failed:
                raise self.py_failed[sh.obj.name]
            name = self.py_names[sh.obj.name]
            return name, "_T('object', %s, cls=%s)" % (reason, name)
        if k == "raw":
            obj = sh.raw_want == "RT_JSON_OBJECT"
            if sh.raw_want not in ("RT_JSON_OBJECT", "RT_JSON_NONE"):
                raise Unsupported(sh.pointer, "raw JSON values of kind %s are not supported by "
                                              "the client SDKs" % sh.raw_want)
            return ("Dict[str, Any]" if obj else "Any"), "_T('raw', %s, want_object=%r)" % (reason, obj)
        if k == "union":
            return self.union_lit(sh.union, reason)
        if k == "enum":
            name = self.py_names[sh.enum.name]
            return name, "_T('enum', %s, cls=%s, reason_enum=%s)" % (
                reason, name, py_string(sh.enum.reason))
        ann = {"string": "str", "datetime": "datetime.datetime", "int": "int",
               "number": "float", "bool": "bool"}[k]
        bits = ", bits=%d" % sh.bits if k == "int" else ""
        return ann, "_T(%r, %s%s, checks=%s)" % (k, reason, bits, checks)

    def union_lit(self, u, reason):
        if u.name in self.expanding:
            raise Unsupported(u.pointer, "a oneOf/anyOf that holds itself without an object "
                                         "between is not supported by the Python client")
        self.expanding.add(u.name)
        try:
            anns, lits, disc = [], [], []
            for i, a in enumerate(u.alts):
                ann, lit = self.type_lit(a.shape)
                anns.append(ann)
                lits.append(lit)
                disc += ["%s: %d" % (py_string(c_lit_text(v)), i) for v, _ in a.disc_values]
        finally:
            self.expanding.discard(u.name)
        ann = anns[0] if len(set(anns)) == 1 else "Union[%s]" % ", ".join(dict.fromkeys(anns))
        if u.kind == "box":
            # A bare value (a request body that is not an object): its own type.
            if u.nullable:
                return "Optional[%s]" % ann, "_T('nullable', %s, items=%s)" % (reason, lits[0])
            return ann, lits[0]
        return ann, ("_T('union', %s, alts=(%s,), ukind=%r, nullable=%r, reason_union=%s, "
                     "reason_many=%s, disc=%s, disc_reason=%s)"
                     % (reason, ", ".join(lits), u.kind, u.nullable, py_string(u.reason),
                        py_string(u.reason_many),
                        "(%s, {%s})" % (py_string(u.disc_json), ", ".join(disc))
                        if u.disc_json else "None", py_string(u.disc_reason)))

    def py_class(self, obj):
        fields, used = [], {"to_json", "from_json", "validate"}
        for f in obj.fields:
            attr = py_ident(f.c_name)
            while attr in used:
                attr += "_"
            used.add(attr)
            ann, lit = self.type_lit(f.shape)
            if f.nullable or not f.required or f.read_only:
                ann = "Optional[%s]" % ann
            fields.append(PyField(f.json_name, attr, ann, f.required, f.nullable, f.read_only,
                                  f.write_only, lit))
        cls = PyClass(self.py_names[obj.name], obj, fields, obj.strict,
                      self.checks_lit(obj.checks, obj.pointer))
        if obj.addl is not None:
            attr = py_ident(obj.addl_c_name)
            while attr in used:
                attr += "_"
            ann, lit = self.type_lit(obj.addl)
            if obj.addl_nullable:
                ann, lit = "Optional[%s]" % ann, "_T('nullable', 'must not be null', items=%s)" % lit
            cls.addl = (attr, "Optional[Dict[str, %s]]" % ann, lit)
        return cls

    def py_classes(self):
        """Every object schema's dataclass; one Python cannot express is left
        out with a warning, and so is every schema that holds it."""
        while True:
            out, grew = [], False
            for o in self.api.objects:
                if o.name in self.py_failed:
                    continue
                try:
                    out.append(self.py_class(o))
                except Unsupported as exc:
                    self.py_failed[o.name] = exc
                    grew = True
            if not grew:
                return out

    def py_enum(self, e):
        members, used = [], set()
        for v in e.values:
            n = v.c_name[len(e.name) + 1:] if v.c_name.startswith(e.name.upper() + "_") \
                else snake(v.text).upper()
            if not n or n[0].isdigit():
                n = "V_" + n
            while n in used:
                n += "_"
            used.add(n)
            members.append((n, v.text))
        return PyEnum(self.py_names[e.name], e, members)

    # ------------------------------------------------------------ whole

    def leave_out(self, o, exc):
        if self.strict:
            raise exc
        msg = "%s; operation %s (%s %s) left out of the client SDKs" % (
            exc.message, o.label, o.method, o.path)
        self.warnings.append((exc.pointer, msg))
        self.left_out.append((o.label, o.method, o.path, exc.pointer, exc.message))

    def build(self, spec_name):
        api = self.api
        for ptr, msg in api.warnings:
            self.warnings.append((ptr, msg))
        for label, method, path, ptr, msg in api.left_out:
            self.left_out.append((label, method, path, ptr, msg))
        classes = self.py_classes()
        if self.strict and self.py_failed:
            raise next(iter(self.py_failed.values()))
        for o in api.objects:
            exc = self.py_failed.get(o.name)
            if exc is not None:
                self.warnings.append((exc.pointer, "%s; schema %s left out of the Python client"
                                      % (exc.message, o.label)))
        ops = []
        for o in api.ops:
            snap = (dict(self.byte_sets), dict(self.regexes), set(self.taken_py))
            try:
                ops.append(self.op(o))
            except Unsupported as exc:
                self.byte_sets, self.regexes, self.taken_py = snap
                self.leave_out(o, exc)
        counts = {}
        for so in ops:
            if so.error_type:
                counts[so.error_type] = counts.get(so.error_type, 0) + 1
        # The envelope every client knows (api_client_raw, undeclared
        # errors): the error schema most operations use, the first on a tie.
        error_type = max(counts, key=lambda n: counts[n]) if counts else None
        for so in ops:
            so.error_type = so.error_type or error_type
            so.error_py = self.py_names[so.error_type] if so.error_type else None
        statuses = set(ALWAYS_STATUSES)
        for so in ops:
            statuses.update(so.error_statuses)
        py_errors = [(s, REASONS.get(s, "Status%d" % s)) for s in sorted(statuses) if s >= 400]
        enum_names = {e.name for e in api.enums}
        seen = set(enum_names) | {o.name for o in api.objects}
        for so in ops:
            for n in (so.c_fn, so.c_resp, so.c_params):
                if n and n in seen:
                    raise SpecError(so.ir.pointer, "client name %s collides with a type" % n)
        model = Model(api, spec_name, ops, error_type,
                      self.py_names[error_type] if error_type else None,
                      [(p.set_name.replace("api__", "api_client__"), p)
                       for p in sorted(self.byte_sets.values(),
                                       key=lambda p: int(p.set_name.rsplit("_", 1)[1]))],
                      classes, [self.py_enum(e) for e in api.enums], py_errors)
        model.regexes = [(p.set_name.replace("api__", "api_client__"), p)
                         for p in sorted(self.regexes.values(),
                                         key=lambda p: int(p.set_name.rsplit("_", 1)[1]))]
        model.warnings = self.warnings
        model.left_out = self.left_out
        model.error_types = sorted({so.error_type for so in ops if so.error_type} |
                                   ({error_type} if error_type else set()))
        params = [p for so in ops for p in so.ir.params]
        # (location, shape) of every scalar a call writes as text.
        texts = []
        for p in params:
            if p.shape.kind == "object":
                texts += [(p.location, f.shape.items or f.shape) for f in p.shape.obj.fields]
            else:
                texts.append((p.location, p.shape.items or p.shape))
        texts += [("form", f.shape.items or f.shape) for so in ops if so.ir.body_form
                  for f in so.ir.body_obj.fields]
        model.c_needs_escape = any(p.location == "query" and p.split not in ("deep", "form_explode")
                                   for p in params) or \
            any(loc != "header" and sh.kind in ("string", "datetime", "enum") for loc, sh in texts)
        model.c_needs_header_value = any(loc == "header" and sh.kind == "string" for loc, sh in texts)
        model.c_needs_f64 = any(sh.kind == "number" for _, sh in texts)
        kinds = {(sc.shape.items or sc.shape).kind for so in ops for sc in so.successes}
        kinds -= {"object", "union"}
        if "enum" in kinds:
            kinds = (kinds - {"enum"}) | {"string"}
        model.c_answer_kinds = sorted(kinds)
        model.c_needs_decode = bool(error_type) or any(so.successes for so in ops)
        return model


def build(spec, spec_name, strict=False):
    """The SDK model; with strict, a construct the SDKs (or the server
    generator) leave out is an error (Unsupported, a SpecError)."""
    api = ir_build.build_api(spec, spec_name, strict=strict)
    return _Build(spec, api, strict).build(spec_name)
