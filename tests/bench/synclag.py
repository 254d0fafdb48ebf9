#!/usr/bin/env python3
"""Sync lag probes for tests/bench/sync.sh: how long after a TCP
connection's third client packet its entry appears on the backup director.

  synclag.py rvs|ipvs CLIENT_NS BACKUP_NS VIP PORT COUNT

Runs in the initial namespace and moves itself (setns) between CLIENT_NS,
where it opens each connection, and BACKUP_NS, where it polls the backup's
connection table. Per probe: connect (client packets 1 SYN and 2 ACK), then
t0, then send line 1 (client packet 3, the one that has the master sync
the entry), line 2; then poll until the entry with the client's port is
listed on the backup: rvs with a GET_CONN dump of its generic netlink
family (what `rvsadm -Lnc` asks, without a process per poll: an exec of
rvsadm takes about a second under TCG), ip_vs by reading
/proc/net/ip_vs_conn. The connections stay open until the end,
so that no FIN updates share the sync messages. Prints one JSON object:
lags in ms, their median and p90, the poll interval (resolution) median
and max, and how many probes timed out (10 s).
"""
import ctypes
import json
import os
import random
import socket
import statistics
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vm"))
import rawgenl  # noqa: E402

GET_CONN, A_CONN, C_CADDR, C_CPORT = 18, 7, 3, 4


def rvs_has(g, caddr, cport):
    """Is the entry of client caddr:cport in the rvs table (a GET_CONN dump)?"""
    err, _, replies = g.request(g.family, GET_CONN, flags=rawgenl.NLM_F_DUMP)
    if err:
        raise OSError(err, "GET_CONN dump")
    for p in replies:
        for k, v in rawgenl.attrs_of(p[4:]):
            if k == A_CONN:
                d = dict(rawgenl.attrs_of(v))
                if d.get(C_CPORT, b"")[:2] == cport and d.get(C_CADDR, b"")[:4] == caddr:
                    return True
    return False

CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)


def setns(name):
    fd = os.open("/var/run/netns/" + name, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + name)
    finally:
        os.close(fd)


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round((len(v) - 1) * p)))] if v else 0


def main():
    impl, cns, bns, vip, port, count = sys.argv[1:7]
    port, count = int(port), int(count)
    vhex = "".join("%02X" % int(x) for x in vip.split("."))
    lags, polls, timeouts, socks = [], [], 0, []
    g = None
    if impl == "rvs":
        setns(bns)
        g = rawgenl.Genl()  # a netlink socket of the backup's namespace
    for _ in range(count):
        setns(cns)
        s = socket.create_connection((vip, port), timeout=5)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        src, sport = s.getsockname()
        if impl == "rvs":
            needle = (socket.inet_aton(src), struct.pack("!H", sport))
        else:
            needle = "%s %04X %s %04X" % ("".join("%02X" % int(x) for x in src.split(".")), sport, vhex, port)
        setns(bns)  # before t0: the switch is not part of the lag
        t0 = time.monotonic()
        s.send(b"line 1\n")
        s.send(b"line 2\n")
        last, found = t0, False
        while time.monotonic() - t0 < 10:
            if impl == "rvs":
                hit = rvs_has(g, *needle)
            else:
                with open("/proc/self/net/ip_vs_conn") as f:
                    hit = needle in f.read()
            now = time.monotonic()
            polls.append(now - last)
            last = now
            if hit:
                found = True
                break
        if found:
            lags.append((last - t0) * 1000)
        else:
            timeouts += 1
        socks.append(s)
        time.sleep(random.uniform(0.05, 0.3))
    for s in socks:
        s.close()
    print(json.dumps({
        "lags_ms": [round(x, 1) for x in lags],
        "p50_ms": round(statistics.median(lags), 1) if lags else 0,
        "p90_ms": round(pct(lags, 0.9), 1),
        "poll_ms_median": round(statistics.median(polls) * 1000, 2) if polls else 0,
        "poll_ms_max": round(max(polls) * 1000, 1) if polls else 0,
        "timeouts": timeouts,
    }, separators=(",", ":")))


if __name__ == "__main__":
    main()
