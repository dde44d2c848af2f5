#!/bin/sh
# Make the independent OpenAPI checkers in tools/ (Redocly and Spectral
# lint, Prism's validating proxy) ready to run: install Node.js and npm from
# Debian when missing, then `npm ci` from the committed lockfile when
# tools/node_modules is missing or older than the lockfile.
set -eu
cd "$(dirname "$0")/../tools"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "tools: installing nodejs and npm" >&2
    if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
        echo "tools: need nodejs and npm: apt-get install -y nodejs npm (as root)" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    echo "tools: npm ci (pinned checkers)" >&2
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
    touch node_modules
fi
