"""Compile the regular expressions we support into byte sets.

Supported now (a later issue brings PCRE2 for the rest):

    ^[CLASS]+$   ^[CLASS]*$   ^[CLASS]{m}$   ^[CLASS]{m,}$   ^[CLASS]{m,n}$
    ^\\d+$ (and \\w, \\s in place of the class, with the same quantifiers)

CLASS holds ASCII literals, ranges (a-z), escapes (\\d \\w \\s \\t \\n \\r and an
escaped punctuation character such as \\- \\. \\] \\\\) and may be negated with a
leading ^. Every allowed byte goes into a 256-bit set; a string matches when
each of its bytes is in the set and its length satisfies the quantifier. A
negated class also allows every byte >= 0x80 (the text is valid UTF-8, and a
negated ASCII class matches any non-ASCII code point), and then the quantifier
counts code points instead of bytes.
"""

import re
from dataclasses import dataclass
from typing import Optional

_SHAPE = re.compile(r"^\^(\[(?:\\.|[^\]\\])*\]|\\[dws])(\+|\*|\{(\d+)(,(\d*))?\})\$$", re.S)

_DIGITS = set(range(0x30, 0x3A))
_UPPER = set(range(0x41, 0x5B))
_LOWER = set(range(0x61, 0x7B))
_WORD = _DIGITS | _UPPER | _LOWER | {0x5F}
_SPACE = {0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D}
_CLASS_ESCAPES = {"d": _DIGITS, "w": _WORD, "s": _SPACE}
_CHAR_ESCAPES = {"t": 0x09, "n": 0x0A, "r": 0x0D, "f": 0x0C, "v": 0x0B}


class PatternError(Exception):
    """The pattern is outside the supported subset; str() says why."""


@dataclass
class BytePattern:
    source: str
    words: tuple          # four uint64 words, bit b set when byte b is allowed
    min_count: int
    max_count: Optional[int]
    count_code_points: bool
    reason: str           # the validation message, constraint baked in


def _parse_class(body):
    """body: the text between [ and ]. Returns (set of bytes, negated)."""
    negated = body.startswith("^")
    if negated:
        body = body[1:]
    if not body:
        raise PatternError("empty character class")
    allowed = set()
    i = 0

    def atom(i):
        """One class atom at i: (byte or None for a class escape, set, next i)."""
        c = body[i]
        if c == "\\":
            if i + 1 >= len(body):
                raise PatternError("dangling backslash")
            e = body[i + 1]
            if e in _CLASS_ESCAPES:
                return None, _CLASS_ESCAPES[e], i + 2
            if e in _CHAR_ESCAPES:
                b = _CHAR_ESCAPES[e]
                return b, {b}, i + 2
            if e.isascii() and not e.isalnum():
                return ord(e), {ord(e)}, i + 2
            raise PatternError("unsupported escape \\%s" % e)
        if not c.isascii():
            raise PatternError("non-ASCII character %r in a class" % c)
        if c == "[":
            raise PatternError("'[' inside a class must be escaped")
        return ord(c), {ord(c)}, i + 1

    while i < len(body):
        lo, s, j = atom(i)
        if j < len(body) - 1 and body[j] == "-":
            hi, _, k = atom(j + 1)
            if lo is None or hi is None:
                raise PatternError("a range cannot start or end with a class escape")
            if hi < lo:
                raise PatternError("range %s-%s is out of order" % (chr(lo), chr(hi)))
            allowed |= set(range(lo, hi + 1))
            i = k
        else:
            allowed |= s
            i = j
    if negated:
        allowed = (set(range(0x80)) - allowed) | set(range(0x80, 0x100))
    return allowed, negated


def _describe(allowed):
    if allowed == _DIGITS | _UPPER | _LOWER:
        return "letters and digits"
    if allowed == _DIGITS:
        return "digits"
    if allowed == _UPPER | _LOWER:
        return "letters"
    return None


def compile_pattern(source):
    """Compile one pattern or raise PatternError."""
    m = _SHAPE.match(source)
    if not m:
        raise PatternError(
            "pattern %r is not of a supported shape (^[class]+$, ^[class]*$, "
            "^[class]{m,n}$)" % source)
    cls, quant, qmin, comma, qmax = m.groups()
    if cls.startswith("\\"):
        allowed, negated = set(_CLASS_ESCAPES[cls[1]]), False
    else:
        allowed, negated = _parse_class(cls[1:-1])
    if quant == "+":
        lo, hi = 1, None
    elif quant == "*":
        lo, hi = 0, None
    else:
        lo = int(qmin)
        hi = lo if comma is None else (int(qmax) if qmax else None)
        if hi is not None and hi < lo:
            raise PatternError("quantifier {%d,%d} is out of order" % (lo, hi))
    words = [0, 0, 0, 0]
    for b in allowed:
        words[b >> 6] |= 1 << (b & 63)
    what = _describe(allowed)
    if what and quant in "+*":
        reason = "must contain only " + what
    else:
        reason = "must match pattern " + source
    return BytePattern(source, tuple(words), lo, hi, negated, reason)
