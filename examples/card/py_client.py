#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A plain-socket client with the timeout policy in socket options, the
shape of a pooled database or RPC client: connect (with a connect timeout),
check the connection (PING/PONG), keep it idle in the pool ("pooled"),
then use it: upload a request body and wait for the answer ("request
sent").  Every deadline is the kernel's, set through socket options:
  --user-timeout MS   TCP_USER_TIMEOUT (unacknowledged data, and keepalive)
  --keepalive I,N,C   SO_KEEPALIVE with TCP_KEEPIDLE/TCP_KEEPINTVL/TCP_KEEPCNT
  --connect-timeout S the connect() deadline (application side)
Exit: 0 an answer, 1 a socket error (printed), 2 EOF, 3 connect failed.
Usage: py_client.py HOST PORT [options]"""
import argparse
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--user-timeout", type=int)
    ap.add_argument("--keepalive")
    ap.add_argument("--connect-timeout", type=float)
    ap.add_argument("--idle", type=float, default=2.0, help="seconds idle in the pool")
    ap.add_argument("--body", type=int, default=4 << 20, help="request body bytes")
    a = ap.parse_args()

    # either family: the name decides (tcpfate exec --ipv6 resolves to IPv6)
    try:
        family = socket.getaddrinfo(a.host, a.port, type=socket.SOCK_STREAM)[0][0]
    except OSError as e:
        print(f"connect: {e}", flush=True)
        return 3
    s = socket.socket(family, socket.SOCK_STREAM)
    if a.user_timeout:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, a.user_timeout)
    if a.keepalive:
        idle, intvl, cnt = (int(x) for x in a.keepalive.split(","))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, idle)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, intvl)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, cnt)
    s.settimeout(a.connect_timeout)
    try:
        s.connect((a.host, a.port))
    except OSError as e:
        print(f"connect: {e}", flush=True)
        return 3
    s.settimeout(None)   # from here on, only the kernel's deadlines
    try:
        s.sendall(b"PING\n")
        if s.recv(5) != b"PONG\n":
            print("no PONG", flush=True)
            return 2
        print("pooled", flush=True)
        time.sleep(a.idle)
        # the body in 64 KiB writes 20 ms apart: an upload that lasts,
        # like one from a disk or a generator, not one burst
        s.sendall(b"POST\n")
        chunk = b"x" * 65536
        for _ in range(a.body // len(chunk)):
            s.sendall(chunk)
            time.sleep(0.02)
        print("request sent", flush=True)
        data = s.recv(4096)
    except OSError as e:
        print(f"socket: {e}", flush=True)
        return 1
    if not data:
        print("EOF: the server closed the connection", flush=True)
        return 2
    print(f"answer: {data[:60]!r}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
