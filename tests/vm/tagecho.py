#!/usr/bin/env python3
"""A line echo service that says who answers, for sessions.py --tagged:
every line (TCP) or datagram (UDP) comes back as "NAME line".

  tagecho.py [--udp-bind ADDR] [--sysctl KEY=VALUE...] NAME PORT...
  tagecho.py [--udp-bind ADDR] [--sysctl KEY=VALUE...] --ns NS=NAME [--ns NS=NAME...] PORT...

Serves TCP on every PORT (all addresses) and UDP on every PORT bound to
ADDR (default all addresses; a DR real server binds the VIP, so that its
answers come from the VIP). One process, no fork per connection. With
--ns it serves in each network namespace NS (/run/netns/NS) as NAME, one
process for several real servers (under emulation a process start costs
more than all its serving). Each --sysctl (as `sysctl -w KEY=VALUE`) is
set in every namespace it serves before its sockets there are bound: a DR
real server's ARP settings, without a sysctl process per namespace.
Prints "tagecho: NAME... listening on PORT..." once its sockets are bound.
"""
import argparse
import ctypes
import os
import selectors
import socket

ap = argparse.ArgumentParser()
ap.add_argument("--udp-bind", default="0.0.0.0")
ap.add_argument("--ns", action="append", default=[], metavar="NS=NAME")
ap.add_argument("--sysctl", action="append", default=[], metavar="KEY=VALUE")
ap.add_argument("words", nargs="+", metavar="NAME PORT...")
a = ap.parse_intermixed_args()
if a.ns:
    servers = [tuple(x.split("=", 1)) for x in a.ns]
    ports = [int(w) for w in a.words]
else:
    servers = [(None, a.words[0])]
    ports = [int(w) for w in a.words[1:]]
CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)


def enter(ns):
    """Makes NS this process's network namespace: the sockets made next
    live there (and stay there)."""
    fd = os.open("/run/netns/" + ns, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + ns)
    finally:
        os.close(fd)


sel = selectors.DefaultSelector()
for ns, name in servers:
    if ns is not None:
        enter(ns)
    # /proc/sys/net is the namespace of whoever opens it: this one now.
    for kv in a.sysctl:
        key, value = kv.split("=", 1)
        with open("/proc/sys/" + key.replace(".", "/"), "w") as f:
            f.write(value)
    tag = name.encode() + b" "
    for port in ports:
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind(("0.0.0.0", port))
        t.listen(512)
        sel.register(t, selectors.EVENT_READ, ("listen", tag))
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        u.bind((a.udp_bind, port))
        sel.register(u, selectors.EVENT_READ, ("udp", tag))
# Back in the first namespace, so that `ip netns pids` of the first
# server finds (and its clean-up kills) this process.
if servers[0][0] is not None:
    enter(servers[0][0])
print("tagecho: %s listening on %s"
      % (" ".join(n for _, n in servers), " ".join(map(str, ports))), flush=True)
bufs = {}
while True:
    for key, _ in sel.select():
        s = key.fileobj
        kind, tag = key.data
        if kind == "listen":
            c, _ = s.accept()
            bufs[c] = b""
            sel.register(c, selectors.EVENT_READ, ("tcp", tag))
        elif kind == "udp":
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
