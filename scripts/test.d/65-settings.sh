# Sourced by scripts/test.sh: settings the server cannot use stop it at
# start with exit 2 and a message naming the setting, before it touches the
# database or a port.
step "invalid settings exit 2"

settings_reject() { # VAR=value expected-text
    local out status=0
    out=$(env "$1" "$SERVER_BIN" 2>&1 </dev/null) || status=$?
    if [ "$status" -ne 2 ]; then echo "$1: exit $status, expected 2: $out"; return 1; fi
    grep -q -- "$2" <<<"$out" || { echo "$1: no \"$2\" in: $out"; return 1; }
    echo "$1: exit 2: $out"
}
settings_checks() {
    settings_reject DB_PLAN_CACHE_MODE=sometimes DB_PLAN_CACHE_MODE || return 1
    settings_reject "DB_PLAN_CACHE_MODE=auto -c work_mem=1TB" DB_PLAN_CACHE_MODE || return 1
    settings_reject LOG_LEVEL=loud LOG_LEVEL || return 1
    settings_reject THREADS=many THREADS || return 1
    settings_reject DB_PIPELINE=2 DB_PIPELINE || return 1
}
run "settings: invalid values exit 2" settings_checks
