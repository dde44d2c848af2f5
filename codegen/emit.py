"""Render the IR through the templates and write only files whose bytes change."""

import os

import jinja2

from clit import c_string, comment

TEMPLATE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")

# output file -> template; one template per kind of generated file
OUTPUTS = [
    ("api.gen.h", "api.gen.h.j2"),
    ("api_types.gen.c", "api_types.gen.c.j2"),
    ("api_router.gen.c", "api_router.gen.c.j2"),
    ("api_spec.gen.c", "api_spec.gen.c.j2"),
    ("operations.gen.tsv", "operations.gen.tsv.j2"),
]
# With --scaffold (a spec with no service of its own): a server that builds at once.
SCAFFOLD = [
    ("handlers_stub.gen.c", "handlers_stub.gen.c.j2"),
    ("main.gen.c", "main.gen.c.j2"),
    ("Makefile", "Makefile.j2"),
]


def _block(text, width):
    """Indent every non-empty line of a macro's output; drop its trailing newline."""
    pad = " " * width
    lines = str(text).strip("\n").split("\n")
    return "\n".join(pad + line if line.strip() else "" for line in lines)


def _tsv(text):
    return " ".join(str(text).split())


def environment():
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["cstr"] = c_string
    env.filters["cmt"] = comment
    env.filters["block"] = _block
    env.filters["tsv"] = _tsv
    return env


def render(api):
    """{file name: bytes} for every generated file."""
    env = environment()
    out = {}
    for name, tmpl in OUTPUTS + (SCAFFOLD if api.scaffold else []):
        text = env.get_template(tmpl).render(api=api, file=name)
        out[name] = text.encode("utf-8")
    return out


def write_changed(files, out_dir):
    """Write files into out_dir, touching only those whose bytes differ.
    Returns the names written."""
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for name in sorted(files):
        path = os.path.join(out_dir, name)
        try:
            with open(path, "rb") as f:
                if f.read() == files[name]:
                    continue
        except FileNotFoundError:
            pass
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(files[name])
        os.replace(tmp, path)
        written.append(name)
    return written


def diff_against(files, out_dir):
    """Names of generated files that are missing from out_dir or differ."""
    drift = []
    for name in sorted(files):
        try:
            with open(os.path.join(out_dir, name), "rb") as f:
                if f.read() == files[name]:
                    continue
        except FileNotFoundError:
            pass
        drift.append(name)
    return drift
