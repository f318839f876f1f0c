#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A backend that hangs: accepts TCP connections on 0.0.0.0:PORT, reads and
discards everything it is sent, and never answers.  An HTTP client talking
to it waits for a response that never comes; an upload to it streams until
the network breaks.  Usage: sink_server.py PORT"""
import socket
import sys
import threading


def drain(conn):
    with conn:
        try:
            while conn.recv(1 << 16):
                pass
        except OSError:
            pass


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # A wide receive window (inherited by accepted sockets): the sink must
    # not be the bottleneck, or an upload stalls on a closed window.
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    srv.bind(("0.0.0.0", port))
    srv.listen(16)
    print(f"sink listening on 0.0.0.0:{port}", flush=True)
    while True:
        conn, peer = srv.accept()
        print(f"connection from {peer[0]}:{peer[1]}", flush=True)
        threading.Thread(target=drain, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
