#!/bin/sh
# Install the Debian packages the project needs, only those that are missing.
# Works as root (apt-get directly) or through sudo; otherwise prints the
# command to run. Idempotent and quiet when everything is present.
#   scripts/deps.sh          build, run and test dependencies
set -eu

PKGS="gcc make libc6-dev pkg-config libpq-dev postgresql
      libcriterion-dev libpcre2-dev python3 python3-jinja2 python3-yaml
      libcurl4-openssl-dev curl ca-certificates clang libclang-rt-14-dev
      chromium
      libcjson-dev libjansson-dev"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing" >&2
if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "deps: missing packages:$missing" >&2
    echo "deps: run as root: apt-get update && apt-get install -y$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "deps: done" >&2
