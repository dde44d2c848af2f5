"""Strings that match (or miss) a regular expression, for the conformance suite.

The pattern is parsed with Python's own regular-expression parser and walked:
literals are copied, a class yields one of its members, a repeat is taken a
chosen number of times (clamped to its bounds), an alternation takes a chosen
branch. Anchors and lookarounds produce nothing; every result is checked with
re.search afterwards, so a walk that went wrong is discarded, never used.
"""

import re

try:  # Python 3.11 moved the parser
    from re import _parser as sre_parse
    from re import _constants as C
except ImportError:  # pragma: no cover - older Pythons
    import sre_parse  # type: ignore
    import sre_constants as C  # type: ignore

# Members tried, in order, when a class or "any" must produce one character.
_PREFERRED = "aA0bB1zZ9_-. xé"


class RegexUnsupported(Exception):
    pass


def _in_class(items, ch):
    """Does ch belong to the parsed class items (without NEGATE handling)?"""
    o = ord(ch)
    for op, av in items:
        if op is C.LITERAL and av == o:
            return True
        if op is C.RANGE and av[0] <= o <= av[1]:
            return True
        if op is C.CATEGORY:
            if av is C.CATEGORY_DIGIT and ch.isdigit() and ch.isascii():
                return True
            if av is C.CATEGORY_NOT_DIGIT and not (ch.isdigit() and ch.isascii()):
                return True
            if av is C.CATEGORY_WORD and (ch.isalnum() or ch == "_"):
                return True
            if av is C.CATEGORY_NOT_WORD and not (ch.isalnum() or ch == "_"):
                return True
            if av is C.CATEGORY_SPACE and ch.isspace():
                return True
            if av is C.CATEGORY_NOT_SPACE and not ch.isspace():
                return True
    return False


def _class_member(items, pick):
    negate = bool(items) and items[0][0] is C.NEGATE
    body = items[1:] if negate else items
    pool = list(_PREFERRED)
    for op, av in body:
        if op is C.LITERAL:
            pool.append(chr(av))
        elif op is C.RANGE:
            pool.extend(chr(c) for c in (av[0], av[1], (av[0] + av[1]) // 2))
    members = [c for c in dict.fromkeys(pool) if _in_class(body, c) != negate]
    if not members:
        raise RegexUnsupported("no character found for a class")
    return members[pick % len(members)]


class _Walker:
    def __init__(self, reps, pick):
        self.reps = reps      # preferred repeat count
        self.pick = pick      # selects class members and branches
        self.groups = {}

    def walk(self, parsed):
        out = []
        for op, av in parsed:
            out.append(self.node(op, av))
        return "".join(out)

    def node(self, op, av):
        if op is C.LITERAL:
            return chr(av)
        if op is C.NOT_LITERAL:
            return "a" if av != ord("a") else "b"
        if op is C.ANY:
            return "a"
        if op is C.IN:
            return _class_member(av, self.pick)
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", None)):
            lo, hi, sub = av
            n = max(lo, self.reps)
            if hi is not C.MAXREPEAT:
                n = min(n, hi)
            return "".join(self.walk(sub) for _ in range(n))
        if op is C.SUBPATTERN:
            group, sub = av[0], av[-1]
            text = self.walk(sub)
            if group is not None:
                self.groups[group] = text
            return text
        if op is C.BRANCH:
            alts = av[1]
            return self.walk(alts[self.pick % len(alts)])
        if op is C.GROUPREF:
            return self.groups.get(av, "")
        if op in (C.AT, C.ASSERT, C.ASSERT_NOT):
            return ""
        if op is C.CATEGORY:
            return _class_member([(C.CATEGORY, av)], self.pick)
        raise RegexUnsupported("regex construct %s" % op)


def compile_source(source):
    """(compiled, parsed) or raise RegexUnsupported."""
    try:
        return re.compile(source), sre_parse.parse(source)
    except (re.error, RecursionError, OverflowError) as exc:
        raise RegexUnsupported("Python cannot read the pattern: %s" % exc)


def matching(source, reps_list=(1, 0, 2, 3, 5, 8), picks=(0, 1, 2, 3)):
    """Distinct strings matching source (searched, as JSON Schema does)."""
    rx, parsed = compile_source(source)
    out = []
    for reps in reps_list:
        for pick in picks:
            try:
                s = _Walker(reps, pick).walk(parsed)
            except (RegexUnsupported, RecursionError):
                continue
            if len(s) <= 4096 and rx.search(s) and s not in out:
                out.append(s)
    return out
