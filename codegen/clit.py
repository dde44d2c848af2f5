"""C literal and comment text from arbitrary spec strings, and the values of numeric literals."""

import re

_SIMPLE = {0x22: '\\"', 0x5C: "\\\\", 0x0A: "\\n", 0x09: "\\t", 0x0D: "\\r"}


def c_string(value):
    """A C string literal (with quotes) holding exactly the UTF-8 bytes of value.

    Bytes outside printable ASCII become 3-digit octal escapes: unlike \\x,
    an octal escape never swallows a following digit. '?' after '?' is
    escaped so no trigraph can form (-std=c17 enables them).
    """
    data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    out = ['"']
    prev = 0
    for b in data:
        if b in _SIMPLE:
            out.append(_SIMPLE[b])
        elif b == 0x3F and prev == 0x3F:
            out.append("\\?")
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append("\\%03o" % b)
        prev = b
    out.append('"')
    return "".join(out)


def byte_len(value):
    return len(value.encode("utf-8"))


def comment(text, limit=200):
    """Text safe inside /* */ on one line: no comment delimiters, no trigraphs."""
    text = " ".join(str(text).split())
    if len(text) > limit:
        text = text[:limit - 3].rstrip() + "..."
    while "*/" in text or "/*" in text or "??" in text:
        text = text.replace("*/", "* /").replace("/*", "/ *").replace("??", "? ?")
    return text


def chunk_lines(data, width=76):
    """Split bytes into C literal pieces: one per source line, long lines cut
    after a space near `width` bytes when there is one (never inside a UTF-8
    sequence), to keep them readable."""
    pieces = []
    for line in data.splitlines(keepends=True):
        while len(line) > width:
            space = line.rfind(b" ", width // 2, width)
            cut = space + 1 if space >= 0 else width
            while cut > 1 and (line[cut] & 0xC0) == 0x80:
                cut -= 1
            pieces.append(c_string(line[:cut]))
            line = line[cut:]
        pieces.append(c_string(line))
    return pieces


def lit_value(lit):
    """The Python number behind a C numeric literal the IR wrote (1, INT64_C(5), INT64_MIN, 1.5)."""
    lit = lit.strip()
    if lit == "INT64_MIN":
        return -2**63
    m = re.fullmatch(r"INT64_C\((-?\d+)\)", lit)
    if m:
        return int(m.group(1))
    if re.fullmatch(r"-?\d+", lit):
        return int(lit)
    return float(lit)
