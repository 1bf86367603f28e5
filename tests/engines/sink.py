#!/usr/bin/env python3
"""A Graphite plaintext listener on loopback for tests/engines/engines.sh: it appends
every line Icinga's GraphiteWriter sends to FILE, and writes the port it got (an
ephemeral one, so two runs never collide) to PORTFILE once it listens.

Usage: sink.py FILE PORTFILE
"""
import os
import socket
import sys
import threading


def serve(conn, out, lock):
    with conn:
        while True:
            data = conn.recv(65536)
            if not data:
                return
            with lock:
                out.write(data)


def main():
    path, portfile = sys.argv[1], sys.argv[2]
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    out = open(path, "ab", buffering=0)
    lock = threading.Lock()
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    os.rename(portfile + ".tmp", portfile)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn, out, lock), daemon=True).start()


if __name__ == "__main__":
    main()
