#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The card's backend: accepts on 0.0.0.0:PORT; a line "PING" is answered
"PONG" (a pooled client checking its connection), everything else is read
and discarded, never answered (a request whose answer never comes).
Usage: card_server.py PORT"""
import socket
import sys
import threading


def serve(conn):
    with conn:
        buf = b""
        try:
            while True:
                data = conn.recv(1 << 16)
                if not data:
                    return
                buf = (buf + data)[-64:]
                while b"PING\n" in buf:
                    conn.sendall(b"PONG\n")
                    buf = buf.split(b"PING\n", 1)[1]
        except OSError:
            pass


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
    # both families on one socket (IPV6_V6ONLY off); IPv4 alone where the
    # kernel has no IPv6
    try:
        srv = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        srv.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        where = "::"
    except OSError:
        srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        where = "0.0.0.0"
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # a wide window: the backend must not be the bottleneck of an upload
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    srv.bind((where, port))
    srv.listen(16)
    print(f"listening on {where}:{port}", flush=True)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
