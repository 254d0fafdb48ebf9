#!/usr/bin/env python3
"""A line echo service that says who answers, for sessions.py --tagged:
every line (TCP) or datagram (UDP) comes back as "NAME line".

  tagecho.py NAME [--udp-bind ADDR] PORT...

Serves TCP on every PORT (all addresses) and UDP on every PORT bound to
ADDR (default all addresses; a DR real server binds the VIP, so that its
answers come from the VIP). One process, no fork per connection. Prints
"tagecho: NAME listening on PORT..." once its sockets are bound.
"""
import argparse
import selectors
import socket

ap = argparse.ArgumentParser()
ap.add_argument("name")
ap.add_argument("--udp-bind", default="0.0.0.0")
ap.add_argument("ports", type=int, nargs="+")
a = ap.parse_args()
tag = a.name.encode() + b" "
sel = selectors.DefaultSelector()
for port in a.ports:
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind(("0.0.0.0", port))
    t.listen(512)
    sel.register(t, selectors.EVENT_READ, "listen")
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    u.bind((a.udp_bind, port))
    sel.register(u, selectors.EVENT_READ, "udp")
print("tagecho: %s listening on %s" % (a.name, " ".join(map(str, a.ports))), flush=True)
bufs = {}
while True:
    for key, _ in sel.select():
        s = key.fileobj
        if key.data == "listen":
            c, _ = s.accept()
            bufs[c] = b""
            sel.register(c, selectors.EVENT_READ, "tcp")
        elif key.data == "udp":
            data, peer = s.recvfrom(65536)
            s.sendto(tag + data, peer)
        else:
            try:
                chunk = s.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                sel.unregister(s)
                s.close()
                del bufs[s]
                continue
            bufs[s] += chunk
            while b"\n" in bufs[s]:
                line, _, bufs[s] = bufs[s].partition(b"\n")
                try:
                    s.sendall(tag + line + b"\n")
                except OSError:
                    break
