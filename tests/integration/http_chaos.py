#!/usr/bin/env python3
"""http_chaos.py - hostile HTTP/1.1 traffic against a running server.

Each connection sends 1-6 requests drawn from valid and invalid ones (pipelined,
chunked, HEAD, Expect, HTTP/1.0, a refused body, garbage), sometimes with one
byte flipped or cut short, split into random pieces, then reads whatever comes
back for a moment and closes (half of the time with a reset). The server must
keep answering: the run fails when no connection got a well-formed status line
or when /healthz does not answer 200 afterwards. Sanitizer findings show up in
the server's own log, which the caller checks.

Usage: http_chaos.py BASE_URL SECONDS SEED
"""
import random
import socket
import struct
import sys
import time
import urllib.parse
import urllib.request

PIECES = [
    b"GET /users/42 HTTP/1.1\r\nHost: x\r\n\r\n",
    # an invalid user (no email): a 400, never a row in the database
    b"POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Content-Length: 20\r\n\r\n{\"username\":\"chaos\"}",
    b"POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n3\r\n 1}\r\n0\r\n\r\n",
    b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /users?limit=5&after=3&x=%00&y=+%2B HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n",
    b"GARBAGE\r\n\r\n",
    b"GET /healthz HTTP/1.0\r\n\r\n",
    b"\r\n\r\n",
    b"PATCH /users/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n"
    b"Content-Type: application/json\r\n\r\n{\"x\":",
    b"GET /users/1 HTTP/1.1\r\nHost: x\r\nX-Request-ID: \xff\x00\r\n\r\n",
]


def one(host, port, rng):
    data = b"".join(rng.choice(PIECES) for _ in range(rng.randint(1, 6)))
    if rng.random() < 0.3:
        i = rng.randrange(len(data))
        data = data[:i] + bytes([rng.randrange(256)]) + data[i + 1:]
    if rng.random() < 0.2:
        data = data[: rng.randrange(len(data) + 1)]
    got = b""
    with socket.create_connection((host, port), timeout=2) as s:
        try:
            i = 0
            while i < len(data):
                k = rng.choice([1, 3, 17, 4096])
                s.sendall(data[i : i + k])
                i += k
            s.settimeout(0.3)
            while len(got) < 1 << 20:
                b = s.recv(65536)
                if not b:
                    break
                got += b
        except OSError:
            pass  # the server may close first: refused input, timeouts
        if rng.random() < 0.5:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    return got.startswith(b"HTTP/1.1 ")


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    base, seconds, seed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    u = urllib.parse.urlparse(base)
    rng = random.Random(seed)
    end = time.monotonic() + seconds
    conns = answered = 0
    while time.monotonic() < end:
        try:
            answered += one(u.hostname, u.port, rng)
            conns += 1
        except OSError as e:
            print(f"connect: {e}", file=sys.stderr)
            time.sleep(0.05)
    with urllib.request.urlopen(base + "/healthz", timeout=5) as r:
        health = r.status
    print(f"{conns} connections, {answered} answered with a status line; /healthz {health}")
    sys.exit(0 if conns > 0 and answered > 0 and health == 200 else 1)


if __name__ == "__main__":
    main()
