#!/usr/bin/env bash
# Print a TCP port on 127.0.0.1 that nothing listens on, starting the search
# (callers start below 32768, outside the kernel's ephemeral range, so a
# client socket in TIME_WAIT cannot hold the port they pick)
# at $1 (default 20000) and trying at most 2000 ports.
start=${1:-20000}
for ((p = start; p < start + 2000; p++)); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
        echo "$p"
        exit 0
    fi
done
echo "free-port: no free port in $start..$((start + 1999))" >&2
exit 1
