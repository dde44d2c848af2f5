"""The intermediate representation the templates render.

Plain data: everything a template needs is computed here once (C names,
C literals for keys, reasons with the constraint baked in, which helpers a
file uses), so templates stay free of spec knowledge and of Python logic
beyond loops and conditionals. Lists are in the spec's order unless a field
says otherwise.
"""

from dataclasses import dataclass, field
from typing import List, Optional


# ---------------------------------------------------------------- constraints

@dataclass
class Check:
    """One validation rule on a value.

    kind:
      length   code-point length: lo/hi (ints or None), reason_lo/reason_hi,
               or reason_eq when lo == hi
      pattern  byte-set pattern: pattern (Pattern)
      format   func (e.g. rt_is_email), reason
      compare  conds: list of (op, C literal) that each mean "broken",
               joined with ||, one reason
      oneof    values: C literals the value may equal, reason
      multiple divisor C literal, reason
      items    array length: lo/hi, reason_lo/reason_hi
      props    present-field count: lo/hi, reason_lo/reason_hi (object level)
    """
    kind: str
    reason: str = ""
    lo: Optional[int] = None
    hi: Optional[int] = None
    reason_lo: str = ""
    reason_hi: str = ""
    reason_eq: str = ""
    func: str = ""
    conds: list = field(default_factory=list)
    values: list = field(default_factory=list)
    divisor: str = ""
    pattern: Optional["Pattern"] = None


@dataclass
class Pattern:
    """A compiled pattern, emitted once per file as a static rt_byteset."""
    set_name: str
    source_c: str          # the pattern as a C comment-safe text
    pointer: str
    words: List[str]       # four C literals
    min_count: int
    max_count: Optional[int]
    count_code_points: bool
    reason: str
    regex: bool = False    # PCRE2 instead of a byte set
    regex_c: str = ""      # the pattern as a C string literal
    regex_len: int = 0


# ---------------------------------------------------------------- types

@dataclass
class EnumValue:
    c_name: str            # API_HEALTH_STATUS_OK
    text: str              # the value as written in the spec
    raw_c: str             # C literal of the raw bytes (for parsing)
    raw_len: int
    json_c: str            # C literal of the quoted JSON form (for encoding)
    json_len: int


@dataclass
class EnumType:
    name: str              # api_health_status
    label: str             # Health.status, for comments
    pointer: str
    values: List[EnumValue]
    reason: str            # must be one of: a, b
    by_len: list = field(default_factory=list)   # [(len, [EnumValue...])] sorted


@dataclass
class Shape:
    """The type of one value: a field, an array element or a parameter.

    kind: string | datetime | int | number | bool | enum | object | array
    c_type: the C type of one value (for arrays: of one element)
    """
    kind: str
    c_type: str
    pointer: str
    bits: int = 64
    checks: List[Check] = field(default_factory=list)
    enum: Optional[EnumType] = None
    obj: Optional["ObjType"] = None
    items: Optional["Shape"] = None
    type_reason: str = ""      # "must be a string", ...
    has_checks: bool = False   # filled in once every type is built
    union: Optional["UnionType"] = None   # kind union
    lst: Optional["ListType"] = None      # kind list: an array inside an array
    raw_want: str = "RT_JSON_NONE"        # kind raw: the JSON type required (or NONE: any)
    by_ref: bool = False       # object/union held through a pointer (breaks a by-value cycle)
    unique: bool = False       # array: uniqueItems


@dataclass
class Field:
    json_name: str
    c_name: str
    index: int             # position in the key switch
    pointer: str
    shape: Shape
    required: bool
    nullable: bool
    read_only: bool
    write_only: bool
    key_c: str             # C literal of the raw key bytes
    key_len: int
    enc_sep: str = "none"  # none | open | comma | dynamic: what the encoder writes before the key
    enc_key_c: str = ""    # C literal of (","?)"key": for the encoder
    enc_key_len: int = 0
    enc_set_more: bool = False
    seen_var: str = ""     # decoder local flag for required fields
    default_c: Optional[str] = None   # C literal applied when an optional field is absent


@dataclass
class ObjType:
    name: str              # api_user
    label: str             # User, or Error.error for inline types
    pointer: str
    description: str
    fields: List[Field] = field(default_factory=list)
    strict: bool = False   # additionalProperties: false
    checks: List[Check] = field(default_factory=list)   # props
    required_count: int = 0
    optional_flags: List[str] = field(default_factory=list)
    has_checks: bool = False
    key_groups: list = field(default_factory=list)  # [(len, [Field...])] sorted by len
    dec_needs_s: bool = False
    addl: Optional[Shape] = None      # additionalProperties: {schema}: the map's value shape
    addl_c_name: str = ""             # member holding the extra entries (+ _len)
    addl_nullable: bool = False
    entry_name: str = ""              # struct of one extra entry: {rt_str key; value...}
    enc_addl_sep: str = ""            # comma | dynamic
    count_unknown: str = ""           # member counting unknown keys (min/maxProperties)
    val_fields: List[Field] = field(default_factory=list)
    val_needs_n: bool = False
    enc_needs_more: bool = False


@dataclass
class Alt:
    """One alternative of a oneOf/anyOf (or the single value of a box)."""
    tag: str               # API_PET_CAT (the union's which value)
    c_name: str            # member of the union (+ _len for arrays)
    label: str             # Cat, for reasons and comments
    shape: Shape
    nullable: bool = False
    disc_values: list = field(default_factory=list)   # [(C literal, len)] discriminator values
    fn: str = ""           # static decode helper of this alternative
    needs_s: bool = False  # its decoder reads an enum through a string
    needs_n: bool = False  # its decoder validates a length
    val_needs_n: bool = False


@dataclass
class UnionType:
    """oneOf / anyOf as a tagged union; kind 'box' is one bare value (a
    request body that is not an object)."""
    name: str
    label: str
    pointer: str
    kind: str              # oneOf | anyOf | box
    alts: List[Alt]
    which_enum: str = ""   # api_pet_which
    none_tag: str = ""     # API_PET_NONE
    disc_key_c: str = ""   # discriminator property (C literal), "" for none
    disc_key_len: int = 0
    disc_json: str = ""
    nullable: bool = False
    reason: str = ""       # no alternative matched
    reason_many: str = ""  # oneOf: more than one matched
    disc_reason: str = ""
    has_checks: bool = True


@dataclass
class ListType:
    """An array held as an element of another array: {T *items; size_t items_len;}."""
    name: str
    items: Shape
    pointer: str


# ---------------------------------------------------------------- operations

@dataclass
class Param:
    name: str
    c_name: str
    location: str          # path | query | header
    prefix_c: str          # "path." as a C literal
    name_c: str            # the name as a C literal
    required: bool
    default_c: Optional[str]
    shape: Shape
    pointer: str
    path_index: int = -1
    style: str = ""
    prefix_lit: str = ""   # label/matrix path values: the literal before the value (C)
    prefix_len: int = 0
    prefix_text: str = ""
    split: str = ""        # arrays: multi (?a=1&a=2) | comma (a=1,2) | space | pipe | dot | matrix;
                           # objects: deep | form_explode | form_list | list | list_explode


@dataclass
class Response:
    """A 2xx response with a JSON body the router encodes."""
    status: int
    body_field: str             # body_201
    shape: Shape                # an object, or an array (body_201 + body_201_len)


@dataclass
class RespHeader:
    name: str
    name_c: str
    c_name: str            # header_location


@dataclass
class Operation:
    op_id: str             # as written, or "" when the spec has none
    label: str             # op_id, or "METHOD /path" when there is none
    c_name: str            # create_user
    svc_name: str          # svc_create_user
    enum_name: str         # API_OP_CREATE_USER
    method: str
    path: str
    summary: str
    pointer: str
    params: List[Param]
    params_type: Optional[str]
    body_type: Optional[str]
    body_obj: Optional[ObjType]
    body_required: bool
    result_type: str
    responses: List[Response]
    headers: List[RespHeader]
    first_status: int
    has_default: bool
    other_statuses: List[int]    # declared statuses without a body the router encodes
    body_union: Optional["UnionType"] = None   # a request body that is a union or a box
    body_form: bool = False      # application/x-www-form-urlencoded into body_obj
    params_alloc: bool = False   # array or object parameters (arena, may run out)
    cookie_params: bool = False
    ranges: List[int] = field(default_factory=list)   # 2XX -> 2
    statuses_enum: str = ""      # api_<op>_status
    status_consts: list = field(default_factory=list)  # [(name, status)]
    params_needs_n: bool = False
    params_needs_present: bool = False
    params_use_req: bool = False


@dataclass
class RouteSeg:
    lit_c: Optional[str]   # None for a {param}
    length: int


@dataclass
class Route:
    template: str
    segs: List[RouteSeg]
    ops: List[str]         # per method column: an API_OP_ name or "-1"
    allow: str


@dataclass
class Api:
    spec_name: str
    title: str
    version: str
    enums: List[EnumType]
    objects: List[ObjType]       # definition order (by-value dependencies first)
    structs: list                # [(kind, ObjType|UnionType|ListType)] in definition order
    unions: List[UnionType]
    lists: List[ListType]
    warnings: list               # [(pointer, message)] constructs left out
    notes: list                  # [(pointer, message)] spec warnings
    left_out: list               # [(label, METHOD, path, pointer, message)]
    scaffold: bool
    pair_objects: list           # ObjTypes decoded from name=value pairs (api__pairs_<name>)
    ops: List[Operation]
    builtin_ops: List[tuple]     # [(enum name, "GET /openapi.yaml")]
    op_count: int
    routes: List[Route]
    methods: List[tuple]         # [(column, "GET", C literal)] in fixed order
    methods_by_len: list
    max_segs: int
    max_params: int
    spec_yaml_route: Optional[str]
    spec_json_route: Optional[str]
    types_patterns: List[Pattern]
    router_patterns: List[Pattern]
    types_helpers: List[str]
    router_helpers: List[str]
    yaml_lines: List[str]
    yaml_len: int
    json_lines: List[str]
    json_len: int
