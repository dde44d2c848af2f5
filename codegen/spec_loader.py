"""Load an OpenAPI document (YAML or JSON) and resolve local $refs.

The document is kept exactly as written (key order included, $refs
unresolved) because it is also embedded into the binary; resolution happens
on demand through Spec.resolve, which follows $ref chains and reports a
cycle with the pointers involved.

Every error is a SpecError carrying the JSON pointer of the construct, so
the user can find the line in the spec.
"""

import json
import re
import urllib.parse

import yaml


class SpecError(Exception):
    """A construct in the spec we cannot load or generate code for."""

    def __init__(self, pointer, message):
        super().__init__(message)
        self.pointer = pointer
        self.message = message

    def __str__(self):
        return "#%s: %s" % (self.pointer, self.message)


class Unsupported(SpecError):
    """A valid construct the generator does not implement. Without --strict
    the operations (and schemas) that use it are left out with a warning;
    with --strict it is an error like any other SpecError."""


def ptr_join(pointer, *tokens):
    """Append reference tokens to a JSON pointer, escaping ~ and / (RFC 6901)."""
    for t in tokens:
        pointer += "/" + str(t).replace("~", "~0").replace("/", "~1")
    return pointer


def ptr_split(pointer):
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError(pointer)
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


# ---------------------------------------------------------------- YAML

def _yaml_base():
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_yaml_base()):
    """SafeLoader whose mapping keys are always the key's text ('200', not 200),
    which rejects duplicate keys, and which leaves timestamps as strings (a
    date in an example must survive the trip to JSON unchanged)."""


def _construct_mapping(loader, node):
    loader.flatten_mapping(node)
    out = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a scalar", key_node.start_mark)
        key = key_node.value
        if key in out:
            raise yaml.constructor.ConstructorError(
                None, None, "duplicate key %r" % key, key_node.start_mark)
        out[key] = loader.construct_object(value_node, deep=True)
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:timestamp",
                        lambda loader, node: loader.construct_scalar(node))

# OpenAPI documents are YAML 1.2, whose core schema knows fewer plain
# scalars than PyYAML's YAML 1.1: `18:00` is a string there (not the
# base-60 integer 1080), `yes`/`on` are strings (not booleans), `017` is 17
# (not octal), and there are no timestamps. The implicit resolvers are
# replaced by the core schema's; only the merge key `<<` is kept.
_CORE_RESOLVERS = [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    ("tag:yaml.org,2002:float",
     r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
     r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", "-+.0123456789"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
]
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in entries if tag == "tag:yaml.org,2002:merge"]
    for first, entries in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _tag, _rx, _first in _CORE_RESOLVERS:
    _Loader.add_implicit_resolver(_tag, re.compile(_rx), list(_first))


def _core_int(loader, node):
    text = loader.construct_scalar(node)
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)


def _core_float(loader, node):
    text = loader.construct_scalar(node).lower()
    if text.endswith(".inf"):
        return float("-inf") if text.startswith("-") else float("inf")
    if text == ".nan":
        return float("nan")
    return float(text)


_Loader.add_constructor("tag:yaml.org,2002:int", _core_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _core_float)
_Loader.add_constructor("tag:yaml.org,2002:bool",
                        lambda loader, node: loader.construct_scalar(node).lower() == "true")


def _json_pairs(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise ValueError("duplicate key %r" % k)
        out[k] = v
    return out


def parse_document(data, name):
    """Bytes of a spec file -> plain dicts/lists/scalars, key order kept."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError("", "%s is not UTF-8 (%s)" % (name, exc))
    stripped = text.lstrip()
    try:
        if stripped.startswith("{"):
            return json.loads(text, object_pairs_hook=_json_pairs)
        return yaml.load(text, Loader=_Loader)
    except (ValueError, yaml.YAMLError) as exc:
        raise SpecError("", "%s cannot be parsed: %s" % (name, " ".join(str(exc).split())))


# ---------------------------------------------------------------- document

class Spec:
    """A loaded document: raw tree, version, and $ref resolution."""

    def __init__(self, doc, raw_bytes):
        if not isinstance(doc, dict):
            raise SpecError("", "the document is not a mapping")
        self.doc = doc
        self.raw = raw_bytes
        version = doc.get("openapi")
        if not isinstance(version, str):
            if "swagger" in doc:
                raise SpecError("/swagger", "Swagger 2.0 is not supported; convert to OpenAPI 3")
            raise SpecError("/openapi", "missing or non-string 'openapi' version")
        if version.startswith("3.0."):
            self.v31 = False
        elif version.startswith("3.1."):
            self.v31 = True
        else:
            raise SpecError("/openapi", "unsupported OpenAPI version %r (3.0.x or 3.1.x)" % version)

    def get(self, pointer):
        """The node at a JSON pointer, or a SpecError naming it."""
        node = self.doc
        for tok in ptr_split(pointer):
            if isinstance(node, dict) and tok in node:
                node = node[tok]
            elif isinstance(node, list) and tok.isdigit() and int(tok) < len(node):
                node = node[int(tok)]
            else:
                raise SpecError(pointer, "no such location in the document")
        return node

    def resolve(self, node, pointer):
        """Follow $ref chains. Returns (node, pointer of that node).

        A chain that comes back to a $ref it already passed is a cycle: the
        error names the first pointer of the loop and the whole loop."""
        seen = []
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str):
                raise SpecError(ptr_join(pointer, "$ref"), "$ref must be a string")
            if not ref.startswith("#"):
                raise Unsupported(ptr_join(pointer, "$ref"),
                                "external $ref %r is not supported (only #/...)" % ref)
            target = urllib.parse.unquote(ref[1:])
            if target and not target.startswith("/"):
                raise SpecError(ptr_join(pointer, "$ref"), "malformed $ref %r" % ref)
            if pointer in seen:
                loop = seen[seen.index(pointer):] + [pointer]
                raise SpecError(pointer, "$ref cycle: " + " -> ".join("#" + p for p in loop))
            seen.append(pointer)
            try:
                node = self.get(target)
            except SpecError:
                raise SpecError(ptr_join(pointer, "$ref"), "$ref %r points nowhere" % ref)
            pointer = target
        return node, pointer

    def to_json(self):
        """The document as JSON text: refs as written, keys in document order."""
        try:
            return json.dumps(self.doc, indent=2, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise SpecError("", "the document cannot be written as JSON: %s" % exc)


def load_spec(path):
    with open(path, "rb") as f:
        data = f.read()
    return Spec(parse_document(data, path), data)
