#!/usr/bin/env python3
"""Drives every IPVS socket option (IP_VS_SO_SET_*, IP_VS_SO_GET_*) over an
IPv4 socket with IPVS's structures, good and bad, and prints one line per
call: its errno name or OK, and a reply's bytes in hex (list entries
sorted: their order is each implementation's hash or tree). Test 405 runs
it against ip_vs and against rvs (ipvs_abi=1) and compares the outputs.

With --unprivileged it makes only the calls a user without CAP_NET_ADMIN
may try, each of which must fail with EPERM."""
import ctypes
import errno
import socket
import struct
import sys

BASE = 64 + 1024 + 64
SET = {n: BASE + i for i, n in enumerate(
    "NONE INSERT ADD EDIT DEL FLUSH LIST ADDDEST DELDEST EDITDEST TIMEOUT "
    "STARTDAEMON STOPDAEMON RESTORE SAVE ZERO".split())}
GET = {n: BASE + i for i, n in enumerate(
    "VERSION INFO SERVICES SERVICE DESTS DEST TIMEOUT DAEMON".split())}
TCP, UDP = 6, 17
MASQ, LOCALNODE, TUNNEL, DROUTE = 0, 1, 2, 3
PERSISTENT, SCHED1, SCHED2 = 1, 8, 16
SVC_ENTRY, DEST_ENTRY = 104, 96

libc = ctypes.CDLL(None, use_errno=True)
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)


def ip(a):
    return socket.inet_aton(a)


def svc(proto=TCP, addr="0.0.0.0", port=0, fwmark=0, sched=b"rr", flags=0,
        timeout=0, netmask="255.255.255.255"):
    """struct ip_vs_service_user (44 bytes)."""
    return (struct.pack("=H2x4s", proto, ip(addr)) + struct.pack(">H", port) +
            struct.pack("=2xI16sII4s", fwmark, sched, flags, timeout, ip(netmask)))


def dest(addr, port, fwd=MASQ, weight=1, u=0, l=0):
    """struct ip_vs_dest_user (24 bytes)."""
    return ip(addr) + struct.pack(">H", port) + struct.pack("=2xIiII", fwd, weight, u, l)


def name(rc):
    return "OK" if rc == 0 else errno.errorcode.get(rc, str(rc))


def do_set(label, cmd, arg=b""):
    rc = 0
    try:
        if arg:
            sock.setsockopt(socket.IPPROTO_IP, SET[cmd] if isinstance(cmd, str) else cmd, arg)
        else:
            sock.setsockopt(socket.IPPROTO_IP, SET[cmd] if isinstance(cmd, str) else cmd, None, 0)
    except OSError as e:
        rc = e.errno
    print(f"set {label}: {name(rc)}")


def raw_get(cmd, buf):
    b = ctypes.create_string_buffer(bytes(buf), len(buf))
    n = ctypes.c_int(len(buf))
    rc = libc.getsockopt(sock.fileno(), socket.IPPROTO_IP, cmd, b, ctypes.byref(n))
    return (ctypes.get_errno() if rc else 0), b.raw, n.value


def do_get(label, cmd, buf, header=0, entry=0):
    rc, out, n = raw_get(GET[cmd] if isinstance(cmd, str) else cmd, buf)
    line = f"get {label}: {name(rc)}"
    # The connection table's size is each implementation's own: printed
    # on a line of its own, which the test checks apart.
    if rc == 0 and cmd == "VERSION":
        text = out[:n - 1].decode()
        print(f"size: {text.split('size=')[1].rstrip(')')}")
        line += " length " + ("right" if n == len(text) + 1 else f"wrong: {n}")
        n = len(text.split(" (size=")[0])
        out = out[:n]
    if rc == 0 and cmd == "INFO":
        print(f"size: {struct.unpack_from('=I', out, 4)[0]}")
        out = out[:4] + bytes(4) + out[8:]
    if rc == 0:
        if entry:
            es = sorted(out[header + i:header + i + entry].hex()
                        for i in range(0, len(out) - header, entry))
            line += f" len={n} head={out[:header].hex()} " + " ".join(es)
        else:
            line += f" len={n} {out[:n].hex()}"
    print(line)


def services_query(n):
    return struct.pack("=I4x", n) + bytes(SVC_ENTRY * n)


def dests_query(proto, addr, port, fwmark, n):
    return (struct.pack("=H2x4s", proto, ip(addr)) + struct.pack(">H", port) +
            struct.pack("=2xII4x", fwmark, n) + bytes(DEST_ENTRY * n))


def entry_query(proto, addr, port, fwmark=0):
    return (struct.pack("=H2x4s", proto, ip(addr)) + struct.pack(">H", port) +
            struct.pack("=2xI", fwmark) + bytes(SVC_ENTRY - 16))


def daemon(state, ifn, syncid):
    return struct.pack("=i16si", state, ifn, syncid)


def unprivileged():
    do_set("FLUSH", "FLUSH")
    do_set("ADD", "ADD", svc(TCP, "10.1.1.1", 80))
    do_get("INFO", "INFO", bytes(12))
    do_get("SERVICES", "SERVICES", services_query(0))


def table():
    do_set("FLUSH", "FLUSH")
    do_set("FLUSH with an argument", "FLUSH", bytes(4))
    do_set("NONE", "NONE")
    do_set("LIST", "LIST")
    do_set("number past the range", BASE + 16, bytes(44))
    do_set("ADD tcp rr", "ADD", svc(TCP, "10.1.1.1", 80))
    do_set("ADD again", "ADD", svc(TCP, "10.1.1.1", 80))
    do_set("ADD short", "ADD", svc(TCP, "10.1.1.2", 80)[:43])
    do_set("ADD long", "ADD", svc(TCP, "10.1.1.2", 80) + b"\0")
    do_set("ADD icmp", "ADD", svc(1, "10.1.1.2", 80))
    do_set("ADD unterminated scheduler", "ADD", svc(TCP, "10.1.1.2", 80, sched=b"abcdefghijklmnop"))
    do_set("ADD unknown scheduler", "ADD", svc(TCP, "10.1.1.2", 80, sched=b"nosuch"))
    do_set("ADD udp wlc persistent", "ADD",
           svc(UDP, "10.1.1.1", 53, sched=b"wlc", flags=PERSISTENT, timeout=300, netmask="255.255.255.0"))
    do_set("ADD fwmark sh", "ADD", svc(TCP, fwmark=3, sched=b"sh", flags=SCHED1 | SCHED2))
    do_set("ADD sctp", "ADD", svc(132, "10.1.1.3", 9, sched=b"lc"))
    do_set("EDIT", "EDIT", svc(TCP, "10.1.1.1", 80, sched=b"wrr", flags=PERSISTENT, timeout=60))
    do_set("EDIT missing", "EDIT", svc(TCP, "10.9.9.9", 80))
    do_set("EDIT by another protocol", "EDIT", svc(UDP, "10.1.1.1", 80))
    do_set("DEL missing", "DEL", svc(TCP, "10.9.9.9", 80))
    s80 = svc(TCP, "10.1.1.1", 80)
    do_set("ADDDEST masq", "ADDDEST", s80 + dest("10.0.0.7", 8080, MASQ, 3))
    do_set("ADDDEST again", "ADDDEST", s80 + dest("10.0.0.7", 8080, MASQ, 3))
    do_set("ADDDEST droute thresholds", "ADDDEST", s80 + dest("10.0.0.8", 80, DROUTE, 1, 100, 10))
    do_set("ADDDEST tunnel weight 0", "ADDDEST", s80 + dest("10.0.0.9", 80, TUNNEL, 0))
    do_set("ADDDEST negative weight", "ADDDEST", s80 + dest("10.0.0.10", 80, MASQ, -1))
    do_set("ADDDEST lower above upper", "ADDDEST", s80 + dest("10.0.0.10", 80, MASQ, 1, 5, 6))
    do_set("ADDDEST to a missing service", "ADDDEST", svc(TCP, "10.9.9.9", 80) + dest("10.0.0.10", 80, MASQ, -1))
    do_set("ADDDEST multicast", "ADDDEST", s80 + dest("224.0.0.1", 80))
    do_set("ADDDEST short", "ADDDEST", (s80 + dest("10.0.0.10", 80))[:67])
    do_set("EDITDEST", "EDITDEST", s80 + dest("10.0.0.7", 8080, MASQ, 5, 50, 5))
    do_set("EDITDEST missing", "EDITDEST", s80 + dest("10.0.0.99", 80))
    do_set("DELDEST", "DELDEST", s80 + dest("10.0.0.9", 80, fwd=7, weight=-1))
    do_set("DELDEST missing", "DELDEST", s80 + dest("10.0.0.9", 80))
    do_set("ADDDEST fwmark", "ADDDEST", svc(TCP, fwmark=3) + dest("10.0.0.20", 0, DROUTE, 2))
    do_set("ADDDEST udp", "ADDDEST", svc(UDP, "10.1.1.1", 53) + dest("10.0.0.30", 53, MASQ, 1))
    do_set("TIMEOUT", "TIMEOUT", struct.pack("=iii", 900, 120, 300))
    do_set("TIMEOUT zeros keep", "TIMEOUT", struct.pack("=iii", 0, 0, 0))
    do_set("TIMEOUT negative", "TIMEOUT", struct.pack("=iii", 900, -1, 300))
    do_set("ZERO all", "ZERO", svc(0))
    do_set("ZERO one", "ZERO", s80)
    do_set("ZERO missing", "ZERO", svc(TCP, "10.9.9.9", 80))
    do_set("STARTDAEMON master", "STARTDAEMON", daemon(1, b"d0", 7))
    do_set("STARTDAEMON master again", "STARTDAEMON", daemon(1, b"d0", 7))
    do_set("STARTDAEMON empty interface", "STARTDAEMON", daemon(2, b"", 9))
    do_set("STARTDAEMON missing interface", "STARTDAEMON", daemon(2, b"nosuch", 9))
    do_set("STARTDAEMON backup", "STARTDAEMON", daemon(2, b"d0", 9))

    do_get("VERSION", "VERSION", bytes(64))
    do_get("VERSION in a bigger buffer", "VERSION", bytes(100))
    do_get("VERSION short", "VERSION", bytes(63))
    do_get("INFO", "INFO", bytes(12))
    do_get("INFO short", "INFO", bytes(11))
    do_get("SERVICES", "SERVICES", services_query(4), 8, SVC_ENTRY)
    do_get("SERVICES with room to spare", "SERVICES", services_query(6), 8, SVC_ENTRY)
    do_get("SERVICES of the wrong length", "SERVICES", services_query(4)[:-1])
    do_get("SERVICES header only", "SERVICES", services_query(0))
    do_get("SERVICE", "SERVICE", entry_query(TCP, "10.1.1.1", 80))
    do_get("SERVICE udp", "SERVICE", entry_query(UDP, "10.1.1.1", 53))
    do_get("SERVICE fwmark", "SERVICE", entry_query(0, "0.0.0.0", 0, 3))
    do_get("SERVICE missing", "SERVICE", entry_query(TCP, "10.9.9.9", 80))
    do_get("SERVICE short", "SERVICE", entry_query(TCP, "10.1.1.1", 80)[:103])
    do_get("DESTS", "DESTS", dests_query(TCP, "10.1.1.1", 80, 0, 2), 24, DEST_ENTRY)
    do_get("DESTS fwmark", "DESTS", dests_query(0, "0.0.0.0", 0, 3, 1), 24, DEST_ENTRY)
    do_get("DESTS with room to spare", "DESTS", dests_query(UDP, "10.1.1.1", 53, 0, 3), 24, DEST_ENTRY)
    do_get("DESTS of the wrong length", "DESTS", dests_query(TCP, "10.1.1.1", 80, 0, 2)[:-8])
    do_get("DESTS missing", "DESTS", dests_query(TCP, "10.9.9.9", 80, 0, 1))
    do_get("DEST", "DEST", bytes(96))
    do_get("TIMEOUT", "TIMEOUT", bytes(12))
    do_get("DAEMON", "DAEMON", bytes(48))
    do_get("number past the range", BASE + 8, bytes(64))

    do_set("STOPDAEMON master", "STOPDAEMON", daemon(1, b"", 0))
    do_set("STOPDAEMON master again", "STOPDAEMON", daemon(1, b"", 0))
    do_get("DAEMON backup only", "DAEMON", bytes(48))
    do_set("STOPDAEMON backup", "STOPDAEMON", daemon(2, b"", 0))
    do_set("DEL", "DEL", s80)
    do_get("INFO after DEL", "INFO", bytes(12))
    do_set("FLUSH at the end", "FLUSH")
    do_get("INFO after FLUSH", "INFO", bytes(12))


if __name__ == "__main__":
    unprivileged() if sys.argv[1:] == ["--unprivileged"] else table()
