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
Anything a client cannot be generated for raises SpecError with its pointer.
"""

import keyword
import re
from dataclasses import dataclass, field
from typing import List, Optional

import ir_build
from naming import snake
from spec_loader import SpecError, ptr_join

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
# Every client knows these, declared or not: a server may always answer them.
ALWAYS_STATUSES = [400, 404, 405, 413, 415, 500, 503]
PARAM_KINDS = {"int", "string", "enum", "bool", "datetime"}
VALUE_KINDS = PARAM_KINDS | {"number", "object", "array"}
FORMAT_FUNCS = {"rt_is_email": "email", "rt_is_uuid": "uuid", "rt_is_date": "date"}
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


def c_lit_value(lit):
    """The Python value of a C literal the IR wrote (1, INT64_C(5), INT64_MIN, 1.5)."""
    if lit == "INT64_MIN":
        return -2**63
    m = re.fullmatch(r"INT64_C\((-?\d+)\)", lit)
    if m:
        return int(m.group(1))
    if re.fullmatch(r"-?\d+", lit):
        return int(lit)
    return float(lit)


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
    py_body_type: str = ""
    py_headers: list = field(default_factory=list)   # [(attr, ir.RespHeader)]


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
    c_needs_escape: bool = False        # a string path/query value or any query parameter
    c_needs_header_value: bool = False  # a string header parameter
    c_needs_decode: bool = False        # an answer body to decode
    header_guard: str = "API_CLIENT_GEN_H"


class _Build:
    def __init__(self, spec, api):
        self.spec = spec
        self.api = api
        self.objects = {o.pointer: o for o in api.objects}
        self.py_names = {}
        for e in api.enums:
            self.py_names[e.name] = camel(e.name)
        for o in api.objects:
            self.py_names[o.name] = camel(o.name)
        self.byte_sets = {}
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
            if code != "default" and 200 <= int(code) < 300:
                continue
            rptr = ptr_join(optr, "responses", code)
            r, rptr = self.spec.resolve(r, rptr)
            content = (r or {}).get("content") or {}
            media = [mt for mt in content if ir_build.is_json_media(mt)]
            if not media or not isinstance(content[media[0]], dict) \
                    or "schema" not in content[media[0]]:
                continue
            sptr = ptr_join(rptr, "content", media[0], "schema")
            obj, rptr2 = self.schema_obj(content[media[0]]["schema"], sptr)
            if obj is None:
                raise SpecError(sptr, "an error response body must be an object schema "
                                      "under components/schemas for the client SDKs")
            out.append((code, obj, sptr))
        return out

    # ------------------------------------------------------------ ops

    def op(self, o):
        fn = "api_client_" + o.c_name
        tnames = re.findall(r"\{([^}]*)\}", o.path)
        by_name = {p.name: p for p in o.params if p.location == "path"}
        path_params = [by_name[n] for n in tnames]
        other = [p for p in o.params if p.location != "path"]
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
                continue  # error bodies are decoded as the one envelope (error_responses)
            sh = r.shape
            if sh.kind == "array" and sh.items.kind != "object":
                raise SpecError(sh.pointer, "the client SDKs decode array responses of objects only")
            py_t = ("List[%s]" % self.py_names[sh.items.c_type]) if sh.kind == "array" \
                else self.py_names[sh.c_type]
            successes.append(Success(r.status, r.body_field, sh, py_t, self.type_lit(sh)[1]))
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
        if o.body_type:
            sop.py_body_type = self.py_names[o.body_type]
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

    def check_param(self, p):
        if p.shape.kind not in PARAM_KINDS:
            raise SpecError(p.pointer, "the client SDKs do not support %s parameters yet" % p.shape.kind)
        for c in p.shape.checks:
            if c.kind == "pattern" and c.pattern.set_name not in self.byte_sets:
                self.byte_sets[c.pattern.set_name] = c.pattern

    # ------------------------------------------------------------ python

    def checks_lit(self, checks, ptr):
        items = []
        for c in checks:
            if c.kind == "length":
                items.append("('length', %r, %r, %s, %s, %s)" % (
                    c.lo, c.hi, py_string(c.reason_lo), py_string(c.reason_hi),
                    py_string(c.reason_eq)))
            elif c.kind == "pattern":
                pt = c.pattern
                words = [int(w[len("UINT64_C("):-1], 16) for w in pt.words]
                mask = sum(w << (64 * i) for i, w in enumerate(words))
                items.append("('pattern', 0x%x, %r, %r, %r, %s)" % (
                    mask, pt.min_count, pt.max_count, pt.count_code_points,
                    py_string(pt.reason)))
            elif c.kind == "format":
                if c.func not in FORMAT_FUNCS:
                    raise SpecError(ptr, "format check %s has no Python counterpart" % c.func)
                items.append("('format', %r, %s)" % (FORMAT_FUNCS[c.func], py_string(c.reason)))
            elif c.kind == "compare":
                conds = ", ".join("(%r, %r)" % (op, c_lit_value(lit)) for op, lit in c.conds)
                items.append("('compare', (%s,), %s)" % (conds, py_string(c.reason)))
            elif c.kind == "multiple":
                items.append("('multiple', %r, %s)" % (c_lit_value(c.divisor), py_string(c.reason)))
            elif c.kind == "oneof":
                vals = ", ".join(repr(c_lit_value(v)) for v in c.values)
                items.append("('oneof', (%s,), %s)" % (vals, py_string(c.reason)))
            elif c.kind in ("items", "props"):
                items.append("(%r, %r, %r, %s, %s)" % (
                    c.kind, c.lo, c.hi, py_string(c.reason_lo), py_string(c.reason_hi)))
            else:
                raise SpecError(ptr, "check kind %r has no Python counterpart" % c.kind)
        return "(" + "".join(i + ", " for i in items) + ")"

    def type_lit(self, sh):
        """(annotation, _T literal) of a shape."""
        k = sh.kind
        if k not in VALUE_KINDS:
            raise SpecError(sh.pointer, "the client SDKs do not support %s values yet" % k)
        checks = self.checks_lit(sh.checks, sh.pointer)
        reason = py_string(sh.type_reason or ir_build.TYPE_REASON[k])
        if k == "array":
            ann, lit = self.type_lit(sh.items)
            return "List[%s]" % ann, "_T('array', %s, items=%s, checks=%s)" % (reason, lit, checks)
        if k == "object":
            name = self.py_names[sh.obj.name]
            return name, "_T('object', %s, cls=%s)" % (reason, name)
        if k == "enum":
            name = self.py_names[sh.enum.name]
            return name, "_T('enum', %s, cls=%s, reason_enum=%s)" % (
                reason, name, py_string(sh.enum.reason))
        ann = {"string": "str", "datetime": "datetime.datetime", "int": "int",
               "number": "float", "bool": "bool"}[k]
        bits = ", bits=%d" % sh.bits if k == "int" else ""
        return ann, "_T(%r, %s%s, checks=%s)" % (k, reason, bits, checks)

    def py_class(self, obj):
        fields, used = [], {"to_json", "from_json", "validate"}
        for f in obj.fields:
            attr = py_ident(f.c_name)
            while attr in used:
                attr += "_"
            used.add(attr)
            ann, lit = self.type_lit(f.shape)
            if f.nullable or not f.required:
                ann = "Optional[%s]" % ann
            fields.append(PyField(f.json_name, attr, ann, f.required, f.nullable, f.read_only,
                                  f.write_only, lit))
        return PyClass(self.py_names[obj.name], obj, fields, obj.strict,
                       self.checks_lit(obj.checks, obj.pointer))

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

    def build(self, spec_name):
        api = self.api
        ops = [self.op(o) for o in api.ops]
        err_types = {}
        for o in api.ops:
            for code, obj, ptr in self.error_responses(o):
                err_types.setdefault(obj.name, ptr)
        if len(err_types) > 1:
            names = sorted(err_types)
            raise SpecError(err_types[names[1]],
                            "error responses use more than one schema (%s); the client SDKs "
                            "decode one error envelope" % ", ".join(names))
        error_type = next(iter(err_types), None)
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
                     [self.py_class(o) for o in api.objects],
                     [self.py_enum(e) for e in api.enums], py_errors)
        params = [p for so in ops for p in so.ir.params]
        model.c_needs_escape = any(p.location == "query" or
                                   (p.location == "path" and p.shape.kind in ("string", "datetime"))
                                   for p in params)
        model.c_needs_header_value = any(p.location == "header" and p.shape.kind == "string"
                                         for p in params)
        model.c_needs_decode = bool(error_type) or any(so.successes for so in ops)
        return model


def build(spec, spec_name):
    api = ir_build.build_api(spec, spec_name)
    return _Build(spec, api).build(spec_name)
