#!/usr/bin/env python3
"""Which real server answers each of a fixed set of UDP flows: for the
scale-out cross-checks (the same flow must reach the same real server
through every director).

  mhprobe.py [--serial] [--timeout S] PREFIX N PORT_BASE HOST PORT

Flow i (1..N) is source address PREFIX+i, source port PORT_BASE+i, to
HOST:PORT; the service answers "NAME ..." (tagecho.py). Prints one line
per flow, "ADDR:PORT NAME", NAME "-" when no answer came. Without
--serial every flow sends at once and those without an answer are asked
again (up to three times); with --serial each flow waits for its answer
before the next sends, so that a scheduler whose choice depends on what
came before (a server's connection threshold) sees the flows in one
order.
"""
import argparse
import selectors
import socket
import time

ap = argparse.ArgumentParser(usage=__doc__)
ap.add_argument("--serial", action="store_true")
ap.add_argument("--timeout", type=float, default=2.0)
ap.add_argument("prefix")
ap.add_argument("n", type=int)
ap.add_argument("port_base", type=int)
ap.add_argument("host")
ap.add_argument("port", type=int)
a = ap.parse_args()

flows = [("%s%d" % (a.prefix, i), a.port_base + i) for i in range(1, a.n + 1)]
answer = {}


def ask(batch):
    sel = selectors.DefaultSelector()
    for src in batch:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(src)
        s.connect((a.host, a.port))
        s.send(b"probe %s:%d\n" % (src[0].encode(), src[1]))
        sel.register(s, selectors.EVENT_READ, src)
    deadline = time.time() + a.timeout
    left = len(batch)
    while left and time.time() < deadline:
        for key, _ in sel.select(max(0.0, deadline - time.time())):
            try:
                data = key.fileobj.recv(65536)
            except OSError:
                data = b""
            if data:
                answer[key.data] = data.split(b" ", 1)[0].decode()
            sel.unregister(key.fileobj)
            key.fileobj.close()
            left -= 1
    for key in list(sel.get_map().values()):
        key.fileobj.close()


if a.serial:
    for f in flows:
        ask([f])
else:
    for _ in range(3):
        missing = [f for f in flows if f not in answer]
        if not missing:
            break
        ask(missing)
for f in flows:
    print("%s:%d %s" % (f[0], f[1], answer.get(f, "-")))
