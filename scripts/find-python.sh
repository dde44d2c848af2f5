#!/bin/sh
# Print the path of a Python 3 that can import jinja2 and yaml (the
# generator's only dependencies). Debian's /usr/bin/python3 is tried first
# because a python3 earlier on PATH (pyenv, venvs) often lacks the packages.
for py in /usr/bin/python3 python3 /usr/local/bin/python3; do
    if command -v "$py" >/dev/null 2>&1 &&
       "$py" -c 'import jinja2, yaml' >/dev/null 2>&1; then
        command -v "$py"
        exit 0
    fi
done
echo "no python3 with jinja2 and PyYAML found; run scripts/deps.sh (installs python3-jinja2 python3-yaml)" >&2
exit 1
