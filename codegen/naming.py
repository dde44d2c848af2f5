"""C identifiers from spec names: snake_case, collision-free, keyword-safe.

Every name is claimed in a Namespace in a fixed order (the spec's own order),
so the same spec always yields the same names and a collision is settled by
the first claimant keeping the plain name and later ones getting _2, _3, ...
"""

import re

# C17 keywords, the C23 ones, and names the C library or GNU mode may define
# as macros (<stdbool.h>, <errno.h>, <stdio.h>, `linux`): a member must not
# spell any of them.
C_KEYWORDS = frozenset("""
    auto break case char const continue default do double else enum extern
    float for goto if inline int long register restrict return short signed
    sizeof static struct switch typedef union unsigned void volatile while
    _Alignas _Alignof _Atomic _Bool _Complex _Generic _Imaginary _Noreturn
    _Static_assert _Thread_local alignas alignof bool constexpr false nullptr
    static_assert thread_local true typeof typeof_unqual
    errno stdin stdout stderr assert offsetof linux unix i386
""".split())

_ACRONYM = re.compile(r"([A-Z]+)([A-Z][a-z])")
_LOWER_UPPER = re.compile(r"([a-z0-9])([A-Z])")
_NON_ALNUM = re.compile(r"[^A-Za-z0-9]+")


def snake(name):
    """'NewUser' -> 'new_user', 'userID' -> 'user_id', 'X-Request-ID' -> 'x_request_id'.

    The result is never empty and never starts or ends with '_', so names
    built as api_<snake> can never meet the api__ prefix of file internals.
    """
    s = _ACRONYM.sub(r"\1_\2", name)
    s = _LOWER_UPPER.sub(r"\1_\2", s)
    s = _NON_ALNUM.sub("_", s).strip("_").lower()
    s = re.sub(r"_+", "_", s)
    return s or "x"


def upper(name):
    """Enumerator fragment: 'ok' -> 'OK', 'not-found' -> 'NOT_FOUND'."""
    return snake(name).upper()


def member(name):
    """A struct member name: snake_case, not a keyword, not starting with a digit."""
    s = snake(name)
    if s[0].isdigit():
        s = "n" + s
    if s in C_KEYWORDS:
        s += "_"
    return s


class Namespace:
    """A set of taken identifiers.

    claim(base, companions) returns the first of base, base_2, base_3, ...
    for which the name and every companion (a format string applied to the
    candidate, e.g. "{}_decode" or "has_{}", or a function of it) are free,
    and takes them all.
    """

    def __init__(self, reserved=()):
        self.taken = set(reserved)

    def claim(self, base, companions=()):
        n = 1
        while True:
            cand = base if n == 1 else "%s_%d" % (base, n)
            names = [cand] + [c(cand) if callable(c) else c.format(cand) for c in companions]
            if not any(x in self.taken for x in names) and len(set(names)) == len(names):
                self.taken.update(names)
                return cand
            n += 1

    def take(self, name):
        """Reserve a fixed name; False when it was already taken."""
        if name in self.taken:
            return False
        self.taken.add(name)
        return True
