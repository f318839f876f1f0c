#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A client that sends one request and then waits, idle, for an answer:
the shape of a connection-pool member or a long poll.  It connects to
HOST:PORT, sends a line, prints "request sent", and blocks in recv().
With --keepalive it turns SO_KEEPALIVE on and leaves the timing to the
host's sysctls (net.ipv4.tcp_keepalive_time/intvl/probes); with
--idle/--intvl/--cnt it sets TCP_KEEPIDLE/TCP_KEEPINTVL/TCP_KEEPCNT itself.
--start-delay/--exit-delay make it a slow program: it waits before it
connects, and after a socket error before it exits (tcpfate's own tests of
the exit allowance).
Exit: 0 on an answer, 1 on a socket error (printed), 2 on EOF.
Usage: idle_client.py HOST PORT [--keepalive] [--idle S --intvl S --cnt N]
                      [--start-delay S] [--exit-delay S]"""
import argparse
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--keepalive", action="store_true")
    ap.add_argument("--idle", type=int)
    ap.add_argument("--intvl", type=int)
    ap.add_argument("--cnt", type=int)
    ap.add_argument("--start-delay", type=float, default=0)
    ap.add_argument("--exit-delay", type=float, default=0)
    a = ap.parse_args()

    time.sleep(a.start_delay)

    s = socket.create_connection((a.host, a.port))
    if a.keepalive or a.idle or a.intvl or a.cnt:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for opt, val in ((socket.TCP_KEEPIDLE, a.idle), (socket.TCP_KEEPINTVL, a.intvl),
                     (socket.TCP_KEEPCNT, a.cnt)):
        if val:
            s.setsockopt(socket.IPPROTO_TCP, opt, val)
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    print("request sent", flush=True)
    try:
        data = s.recv(4096)
    except OSError as e:
        print(f"recv: {e}", flush=True)
        time.sleep(a.exit_delay)
        return 1
    if not data:
        print("recv: connection closed by the server (EOF)", flush=True)
        return 2
    print(f"answer: {data[:60]!r}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
