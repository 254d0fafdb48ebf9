#!/usr/bin/env python3
"""Which real server answers each of a fixed set of UDP flows, through
each of several directors: for the scale-out cross-checks (the same flow
must reach the same real server through every director).

  mhprobe.py [--timeout S] PREFIX N VIP GW_PREFIX OUT JOB...

Flow i (1..N) is source address PREFIX+i to VIP; the service answers
"NAME ..." (tagecho.py). A JOB is D:PORT:BASE[:serial]: the route to the
VIP goes via GW_PREFIX+D (director D), and flow i goes from source port
BASE+i to VIP:PORT; the answers go to file OUT-D-PORT-BASE, one line per
flow, "ADDR:PORT NAME", NAME "-" when no answer came. Every flow sends at
once and those without an answer are asked again (up to three times);
with ":serial" each flow waits for its answer before the next sends, so
that a scheduler whose choice depends on what came before (a server's
connection threshold) sees the flows in one order. One process for many
jobs: under emulation starting Python costs more than the probing.
"""
import argparse
import selectors
import socket
import subprocess
import time

ap = argparse.ArgumentParser(usage=__doc__)
ap.add_argument("--timeout", type=float, default=2.0)
ap.add_argument("prefix")
ap.add_argument("n", type=int)
ap.add_argument("vip")
ap.add_argument("gw_prefix")
ap.add_argument("out")
ap.add_argument("jobs", nargs="+")
a = ap.parse_args()


def ask(batch, port, answer):
    sel = selectors.DefaultSelector()
    for src in batch:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(src)
        s.connect((a.vip, port))
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


for job in a.jobs:
    d, port, base, *mode = job.split(":")
    port, base = int(port), int(base)
    subprocess.run(["ip", "route", "replace", a.vip + "/32", "via", a.gw_prefix + d], check=True)
    flows = [("%s%d" % (a.prefix, i), base + i) for i in range(1, a.n + 1)]
    answer = {}
    if mode == ["serial"]:
        for f in flows:
            ask([f], port, answer)
    else:
        for _ in range(3):
            missing = [f for f in flows if f not in answer]
            if not missing:
                break
            ask(missing, port, answer)
    with open("%s-%s-%d-%d" % (a.out, d, port, base), "w") as out:
        for f in flows:
            out.write("%s:%d %s\n" % (f[0], f[1], answer.get(f, "-")))
