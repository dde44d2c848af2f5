"""What the generator's command-line scripts share: the exit statuses, an
argument parser whose usage errors exit 2, the check of the spec and output
paths, and the spec name the banners show."""
import argparse
import os
import sys

EXIT_OK, EXIT_SPEC, EXIT_USAGE = 0, 1, 2


class UsageParser(argparse.ArgumentParser):
    """argparse, but a usage error exits EXIT_USAGE (argparse's own 2 as well,
    stated here so the scripts' documented statuses have one source)."""

    def error(self, message):
        self.print_usage(sys.stderr)
        print("%s: error: %s" % (self.prog, message), file=sys.stderr)
        sys.exit(EXIT_USAGE)


def spec_display_name(spec, out):
    """The spec's path as the banners show it: relative to the directory that
    holds the output directory (the project root), in / form, so the output
    never depends on where the generator runs or on absolute paths."""
    root = os.path.dirname(os.path.abspath(out))
    return os.path.relpath(os.path.abspath(spec), root).replace(os.sep, "/")


def bad_paths(prog, spec, out):
    """Print a usage error and return True when spec is not a file or out
    exists but is not a directory."""
    if not os.path.isfile(spec):
        print("%s: error: no such spec file: %s" % (prog, spec), file=sys.stderr)
        return True
    if os.path.exists(out) and not os.path.isdir(out):
        print("%s: error: --out is not a directory: %s" % (prog, out), file=sys.stderr)
        return True
    return False
