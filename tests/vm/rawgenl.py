#!/usr/bin/env python3
"""Raw requests to the rvs generic netlink family, bypassing rvsadm.

Used by the bad-input test: every malformed or refused request must come
back with the expected errno and an extack message, and change nothing.

  rawgenl.py bad-inputs     run the table of bad requests; print one line
                            per case and "N passed, N failed"; exit 1 on any
                            failure
  rawgenl.py eperm-all      (run without CAP_NET_ADMIN over the netns) send
                            every command of the family, as a request and as
                            a dump: each must be refused with EPERM
"""
import errno
import socket
import struct
import sys

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
CTRL_ATTR_OPS = 6
GENL_CMD_CAP_DO, GENL_CMD_CAP_DUMP = 2, 4
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 1, 4, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_ACK_TLVS = 0x200
NLM_F_CAPPED = 0x100
NLMSGERR_ATTR_MSG = 1
SOL_NETLINK, NETLINK_EXT_ACK, NETLINK_CAP_ACK = 270, 11, 10
NLA_F_NESTED = 1 << 15

# Numbers from rvs/core/src/abi.rs (which mirrors ip_vs.h).
CMD = dict(NEW_SERVICE=1, SET_SERVICE=2, DEL_SERVICE=3, GET_SERVICE=4,
           NEW_DEST=5, SET_DEST=6, DEL_DEST=7, GET_DEST=8, NEW_DAEMON=9,
           DEL_DAEMON=10, GET_DAEMON=11, SET_CONFIG=12, GET_CONFIG=13,
           GET_INFO=15, ZERO=16, FLUSH=17)
A_SERVICE, A_DEST, A_DAEMON, A_TCP, A_TCPFIN, A_UDP = 1, 2, 3, 4, 5, 6
S_AF, S_PROTO, S_ADDR, S_PORT, S_FWMARK, S_SCHED, S_FLAGS, S_TIMEOUT, S_NETMASK, S_STATS, S_PE = range(1, 12)
D_ADDR, D_PORT, D_FWD, D_WEIGHT, D_U, D_L = 1, 2, 3, 4, 5, 6
D_STATS, D_AF = 10, 11
AF_INET, AF_INET6 = 2, 10
TCP, UDP = 6, 17


def nla(kind, payload):
    hdr = struct.pack("=HH", 4 + len(payload), kind)
    pad = (-len(payload)) % 4
    return hdr + payload + b"\0" * pad


def nest(kind, *attrs):
    return nla(kind | NLA_F_NESTED, b"".join(attrs))


u16 = lambda k, v: nla(k, struct.pack("=H", v))
u32 = lambda k, v: nla(k, struct.pack("=I", v))
be16 = lambda k, v: nla(k, struct.pack(">H", v))
s = lambda k, v: nla(k, v.encode() + b"\0")


def v4(a):
    return bytes(int(x) for x in a.split(".")) + b"\0" * 12


def v6(a):
    return socket.inet_pton(socket.AF_INET6, a)


def svc(af=AF_INET, proto=TCP, addr="192.168.10.100", port=80, full=False, **kw):
    attrs = [u16(S_AF, af)]
    if "fwmark" in kw:
        attrs.append(u32(S_FWMARK, kw.pop("fwmark")))
    else:
        attrs += [u16(S_PROTO, proto), nla(S_ADDR, v6(addr) if ":" in addr else v4(addr)),
                  be16(S_PORT, port)]
    if full:
        attrs += [s(S_SCHED, kw.pop("sched", "wlc")),
                  nla(S_FLAGS, struct.pack("=II", kw.pop("flags", 0), 0xFFFFFFFF)),
                  u32(S_TIMEOUT, kw.pop("timeout", 0)),
                  u32(S_NETMASK, kw.pop("netmask", 0xFFFFFFFF))]
    attrs += kw.pop("extra", [])
    return nest(A_SERVICE, *attrs)


def dest(addr="10.0.0.99", port=80, fwd=0, weight=1, u=0, l=0, af=None, full=True, extra=()):
    a = [nla(D_ADDR, v4(addr) if ":" not in addr else v6(addr)), be16(D_PORT, port)]
    if af is not None:
        a.append(u16(D_AF, af))
    if full:
        a += [u32(D_FWD, fwd), u32(D_WEIGHT, weight), u32(D_U, u), u32(D_L, l)]
    a += list(extra)
    return nest(A_DEST, *a)


class Genl:
    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        self.sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        self.sock.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
        self.sock.bind((0, 0))
        self.seq = 0
        err, _, replies = self.request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                                       s(CTRL_ATTR_FAMILY_NAME, "rvs"), version=2)
        if err:
            sys.exit("rvs family not registered")
        self.family = None
        self.ops = {}  # command -> GENL_CMD_CAP_* flags
        for payload in replies:
            for kind, val in attrs_of(payload[4:]):
                if kind == CTRL_ATTR_FAMILY_ID:
                    self.family = struct.unpack("=H", val[:2])[0]
                if kind == CTRL_ATTR_OPS:
                    for _, op in attrs_of(val):
                        d = dict(attrs_of(op))
                        self.ops[struct.unpack("=I", d[1])[0]] = struct.unpack("=I", d[2])[0]

    def request(self, family, cmd, body=b"", flags=NLM_F_ACK, version=1, raw=None):
        """Returns (errno, extack message, [payloads])."""
        self.seq += 1
        msg = raw if raw is not None else struct.pack("BBH", cmd, version, 0) + body
        hdr = struct.pack("=IHHII", 16 + len(msg), family, NLM_F_REQUEST | flags, self.seq, 0)
        self.sock.send(hdr + msg)
        payloads = []
        while True:
            data = self.sock.recv(1 << 16)
            off = 0
            while off + 16 <= len(data):
                length, kind, mflags, _seq, _pid = struct.unpack_from("=IHHII", data, off)
                body_ = data[off + 16: off + length]
                if kind == NLMSG_ERROR:
                    code = -struct.unpack_from("=i", body_)[0]
                    ext = None
                    if mflags & NLM_F_ACK_TLVS:
                        inner = 16 if mflags & NLM_F_CAPPED else struct.unpack_from("=I", body_, 4)[0]
                        for k, v in attrs_of(body_[4 + ((inner + 3) & ~3):]):
                            if k == NLMSGERR_ATTR_MSG:
                                ext = v.split(b"\0")[0].decode()
                    return code, ext, payloads
                if kind == NLMSG_DONE:
                    code = -struct.unpack_from("=i", body_)[0] if len(body_) >= 4 else 0
                    return code, None, payloads
                payloads.append(body_)
                off += (length + 3) & ~3


def attrs_of(buf):
    off = 0
    while off + 4 <= len(buf):
        ln, kind = struct.unpack_from("=HH", buf, off)
        if ln < 4:
            break
        yield kind & 0x3FFF, buf[off + 4: off + ln]
        off += (ln + 3) & ~3


def listing(g):
    """A canonical snapshot of the tables: every service and its dests."""
    _, _, svcs = g.request(g.family, CMD["GET_SERVICE"], flags=NLM_F_DUMP)
    snap = []
    for p in svcs:
        snap.append(p[4:])
        for k, v in attrs_of(p[4:]):
            if k == A_SERVICE:
                _, _, ds = g.request(g.family, CMD["GET_DEST"], nla(A_SERVICE | NLA_F_NESTED, v),
                                     flags=NLM_F_DUMP)
                snap += [d[4:] for d in ds]
    _, _, cfg = g.request(g.family, CMD["GET_CONFIG"])
    return snap + [c[4:] for c in cfg]


# (name, command, body, expected errno, needs extack message)
def cases():
    E = errno
    S = CMD
    existing = svc(full=True)
    yield "new service without attributes", S["NEW_SERVICE"], b"", E.EINVAL, True
    yield "empty service nest", S["NEW_SERVICE"], nest(A_SERVICE), E.EINVAL, True
    yield "unknown address family", S["NEW_SERVICE"], svc(af=7, full=True), E.EAFNOSUPPORT, True
    yield "AF as u32", S["NEW_SERVICE"], nest(A_SERVICE, u32(S_AF, 2)), E.EINVAL, True
    yield "address of 17 bytes", S["NEW_SERVICE"], nest(A_SERVICE, u16(S_AF, 2), u16(S_PROTO, TCP),
                                                        nla(S_ADDR, b"\1" * 17), be16(S_PORT, 1)), E.ERANGE, True
    yield "IPv4 address of 2 bytes", S["NEW_SERVICE"], nest(A_SERVICE, u16(S_AF, 2), u16(S_PROTO, TCP),
                                                           nla(S_ADDR, b"\1\2"), be16(S_PORT, 1)), E.EINVAL, True
    yield "IPv6 address of 4 bytes", S["NEW_SERVICE"], nest(A_SERVICE, u16(S_AF, 10), u16(S_PROTO, TCP),
                                                           nla(S_ADDR, b"\1\2\3\4"), be16(S_PORT, 1)), E.EINVAL, True
    yield "port as u32", S["NEW_SERVICE"], nest(A_SERVICE, u16(S_AF, 2), u16(S_PROTO, TCP),
                                               nla(S_ADDR, v4("10.1.1.1")), u32(S_PORT, 80)), E.EINVAL, True
    yield "missing port", S["NEW_SERVICE"], nest(A_SERVICE, u16(S_AF, 2), u16(S_PROTO, TCP),
                                                nla(S_ADDR, v4("10.1.1.1"))), E.EINVAL, True
    yield "ICMP service", S["NEW_SERVICE"], svc(proto=1, addr="10.1.1.1", full=True), E.EPROTONOSUPPORT, True
    yield "firewall mark 0", S["NEW_SERVICE"], svc(fwmark=0, full=True), E.EINVAL, True
    yield "scheduler not found", S["NEW_SERVICE"], svc(addr="10.1.1.2", full=True, sched="nosuch"), E.ENOENT, True
    yield "scheduler name too long", S["NEW_SERVICE"], svc(addr="10.1.1.2", full=True, sched="x" * 20), E.EINVAL, True
    yield "scheduler name unterminated", S["NEW_SERVICE"], nest(
        A_SERVICE, u16(S_AF, 2), u16(S_PROTO, TCP), nla(S_ADDR, v4("10.1.1.3")), be16(S_PORT, 80),
        nla(S_SCHED, b"rr"), nla(S_FLAGS, b"\0" * 8), u32(S_TIMEOUT, 0), u32(S_NETMASK, 0xFFFFFFFF)), E.EINVAL, True
    yield "flags of 4 bytes", S["NEW_SERVICE"], nest(
        A_SERVICE, u16(S_AF, 2), u16(S_PROTO, TCP), nla(S_ADDR, v4("10.1.1.3")), be16(S_PORT, 80),
        s(S_SCHED, "rr"), nla(S_FLAGS, b"\0" * 4), u32(S_TIMEOUT, 0), u32(S_NETMASK, 0xFFFFFFFF)), E.EINVAL, True
    yield "flags of 12 bytes", S["NEW_SERVICE"], nest(
        A_SERVICE, u16(S_AF, 2), u16(S_PROTO, TCP), nla(S_ADDR, v4("10.1.1.3")), be16(S_PORT, 80),
        s(S_SCHED, "rr"), nla(S_FLAGS, b"\0" * 12), u32(S_TIMEOUT, 0), u32(S_NETMASK, 0xFFFFFFFF)), E.ERANGE, True
    yield "full entry without timeout", S["NEW_SERVICE"], nest(
        A_SERVICE, u16(S_AF, 2), u16(S_PROTO, TCP), nla(S_ADDR, v4("10.1.1.3")), be16(S_PORT, 80),
        s(S_SCHED, "rr"), nla(S_FLAGS, b"\0" * 8), u32(S_NETMASK, 0xFFFFFFFF)), E.EINVAL, True
    yield "non-contiguous netmask", S["NEW_SERVICE"], svc(addr="10.1.1.4", full=True,
                                                         netmask=struct.unpack("=I", bytes([255, 0, 255, 0]))[0]), E.EINVAL, True
    yield "IPv6 prefix 0", S["NEW_SERVICE"], svc(af=AF_INET6, addr="2001:db8::5", full=True, netmask=0), E.EINVAL, True
    yield "IPv6 prefix 129", S["NEW_SERVICE"], svc(af=AF_INET6, addr="2001:db8::5", full=True, netmask=129), E.EINVAL, True
    yield "persistence engine", S["NEW_SERVICE"], svc(addr="10.1.1.5", full=True, extra=[s(S_PE, "sip")]), E.ENOENT, True
    yield "stats in a request", S["NEW_SERVICE"], svc(addr="10.1.1.6", full=True, extra=[nest(S_STATS)]), E.EINVAL, True
    yield "unknown service attribute", S["NEW_SERVICE"], svc(addr="10.1.1.6", full=True, extra=[u32(40, 1)]), E.EINVAL, True
    yield "unknown top-level attribute", S["NEW_SERVICE"], existing + u32(42, 1), E.EINVAL, True
    yield "daemon attribute", S["NEW_SERVICE"], nest(A_DAEMON, u32(1, 1)), E.EINVAL, True
    yield "service as flat attribute", S["NEW_SERVICE"], nla(A_SERVICE, b"\1\2\3"), E.EINVAL, True
    yield "truncated attribute", S["NEW_SERVICE"], struct.pack("=HH", 40, A_SERVICE) + b"\0" * 8, E.EINVAL, True
    yield "duplicate service", S["NEW_SERVICE"], existing, E.EEXIST, True
    yield "edit missing service", S["SET_SERVICE"], svc(addr="10.55.0.1", full=True), E.ESRCH, True
    yield "edit without settings", S["SET_SERVICE"], svc(), E.EINVAL, True
    yield "delete missing service", S["DEL_SERVICE"], svc(addr="10.55.0.1"), E.ESRCH, True
    yield "delete without service", S["DEL_SERVICE"], b"", E.EINVAL, True
    yield "zero missing service", S["ZERO"], svc(addr="10.55.0.1"), E.ESRCH, True
    yield "get missing service", S["GET_SERVICE"], svc(addr="10.55.0.1"), E.ESRCH, True
    yield "dest without dest attribute", S["NEW_DEST"], svc(), E.EINVAL, True
    yield "dest on missing service", S["NEW_DEST"], svc(addr="10.55.0.1") + dest(), E.ESRCH, True
    yield "dest without weight", S["NEW_DEST"], svc() + nest(A_DEST, nla(D_ADDR, v4("10.0.0.9")), be16(D_PORT, 80),
                                                             u32(D_FWD, 0)), E.EINVAL, True
    yield "dest without port", S["NEW_DEST"], svc() + nest(A_DEST, nla(D_ADDR, v4("10.0.0.9"))), E.EINVAL, True
    yield "weight 2^31 (a negative int)", S["NEW_DEST"], svc() + dest(weight=0x80000000), E.ERANGE, True
    yield "weight -1", S["NEW_DEST"], svc() + dest(weight=0xFFFFFFFF), E.ERANGE, True
    yield "lower threshold above upper", S["NEW_DEST"], svc() + dest(u=5, l=10), E.ERANGE, True
    yield "upper threshold above INT_MAX", S["NEW_DEST"], svc() + dest(u=0x80000000), E.EINVAL, True
    yield "forwarding method 5", S["NEW_DEST"], svc() + dest(fwd=5), E.EINVAL, True
    yield "multicast real server", S["NEW_DEST"], svc() + dest(addr="224.0.0.1"), E.EINVAL, True
    yield "broadcast real server", S["NEW_DEST"], svc() + dest(addr="255.255.255.255"), E.EINVAL, True
    yield "zero real server", S["NEW_DEST"], svc() + dest(addr="0.0.0.0"), E.EINVAL, True
    yield "IPv6 dest in IPv4 service by NAT", S["NEW_DEST"], svc() + dest(addr="2001:db8::9", af=AF_INET6), E.EINVAL, True
    yield "dest family 7", S["NEW_DEST"], svc() + dest(af=7), E.EAFNOSUPPORT, True
    yield "stats in a dest", S["NEW_DEST"], svc() + dest(extra=[nest(D_STATS)]), E.EINVAL, True
    yield "duplicate dest", S["NEW_DEST"], svc() + dest(addr="10.0.0.7", fwd=0), E.EEXIST, True
    yield "edit missing dest", S["SET_DEST"], svc() + dest(addr="10.0.0.99"), E.ENOENT, True
    yield "delete missing dest", S["DEL_DEST"], svc() + dest(addr="10.0.0.99", full=False), E.ENOENT, True
    yield "timeout too large", S["SET_CONFIG"], u32(A_TCP, 0xFFFFFFFF), E.ERANGE, True
    yield "timeout as u16", S["SET_CONFIG"], u16(A_TCP, 5), E.EINVAL, True
    # Sync daemons: IPVS's errors (DAEMON attributes: 1 STATE, 2 MCAST_IFN,
    # 3 SYNC_ID, 5 MCAST_GROUP, 9.. rvs's counters, output only).
    yield "start sync daemon without attributes", S["NEW_DAEMON"], b"", E.EINVAL, True
    yield "stop sync daemon without attributes", S["DEL_DAEMON"], b"", E.EINVAL, True
    yield "start sync daemon without interface", S["NEW_DAEMON"], nest(A_DAEMON, u32(1, 1), u32(3, 0)), E.EINVAL, True
    yield "start sync daemon on no such interface", S["NEW_DAEMON"], nest(A_DAEMON, u32(1, 1), s(2, "nosuch0"), u32(3, 0)), E.ENODEV, True
    yield "start sync daemon in state 3", S["NEW_DAEMON"], nest(A_DAEMON, u32(1, 3), s(2, "lo"), u32(3, 0)), E.EINVAL, True
    yield "start sync daemon to a unicast group", S["NEW_DAEMON"], nest(A_DAEMON, u32(1, 1), s(2, "lo"), u32(3, 0),
                                                                       nla(5, v4("10.0.0.1")[:4])), E.EINVAL, True
    yield "sync daemon counters in a request", S["NEW_DAEMON"], nest(A_DAEMON, u32(1, 1), s(2, "lo"), u32(3, 0),
                                                                    nla(10, b"\0" * 8)), E.EINVAL, True
    yield "stop a sync daemon that does not run", S["DEL_DAEMON"], nest(A_DAEMON, u32(1, 2)), E.ESRCH, True
    yield "stop a sync daemon in state 0", S["DEL_DAEMON"], nest(A_DAEMON, u32(1, 0)), E.EINVAL, True
    yield "unknown command", 99, b"", E.EOPNOTSUPP, False
    yield "oversized service address", S["NEW_SERVICE"], nest(A_SERVICE, u16(S_AF, 2), u16(S_PROTO, TCP),
                                                              nla(S_ADDR, b"\1" * 4000), be16(S_PORT, 1)), E.ERANGE, True
    yield "oversized scheduler name", S["NEW_SERVICE"], svc(addr="10.1.1.7", full=True, sched="r" * 3000), E.EINVAL, True
    yield "huge unknown attribute", S["NEW_SERVICE"], existing + nla(0x3FFF, b"\0" * 30000), E.EINVAL, True
    yield "nesting too deep", S["NEW_SERVICE"], nest(A_SERVICE, nest(S_AF, nest(1, nest(1, u16(1, 2))))), E.EINVAL, True
    yield "nested flag on a u32", S["SET_CONFIG"], nest(A_TCP, u32(1, 5)), E.EINVAL, True


def ipv6_cases():
    E = errno
    S = CMD
    v6svc = svc(af=AF_INET6, addr="2001:db8::1", port=443)
    for a in ("ff02::1", "fe80::1", "::"):
        yield "IPv6 real server " + a, S["NEW_DEST"], v6svc + dest(addr=a, af=AF_INET6), E.EINVAL, True


def bad_inputs():
    g = Genl()
    # A known table to compare against: one service with one dest, one
    # IPv6 service.
    g.request(g.family, CMD["NEW_SERVICE"], svc(full=True))
    g.request(g.family, CMD["NEW_DEST"], svc() + dest(addr="10.0.0.7"))
    g.request(g.family, CMD["NEW_SERVICE"], svc(af=AF_INET6, addr="2001:db8::1", port=443, full=True, netmask=128))
    before = listing(g)
    passed = failed = 0
    for name, cmd, body, want, need_msg in list(cases()) + list(ipv6_cases()):
        code, ext, _ = g.request(g.family, cmd, body)
        after = listing(g)
        problems = []
        if code != want:
            problems.append("errno %s, want %s" % (errno.errorcode.get(code, code), errno.errorcode[want]))
        if need_msg and not ext:
            problems.append("no extack message")
        if after != before:
            problems.append("the tables changed")
        if problems:
            failed += 1
            print("FAIL raw: %s: %s" % (name, "; ".join(problems)))
        else:
            passed += 1
            print("ok   raw: %s: %s (%s)" % (name, errno.errorcode[code], ext))
    # A GET_DEST dump without a service is refused too.
    code, _, _ = g.request(g.family, CMD["GET_DEST"], b"", flags=NLM_F_DUMP)
    if code == errno.EINVAL:
        passed += 1
        print("ok   raw: dest dump without service: EINVAL")
    else:
        failed += 1
        print("FAIL raw: dest dump without service: errno %s" % code)
    print("raw: %d passed, %d failed" % (passed, failed))
    return failed == 0


def eperm_all():
    """Every operation the family has, in each mode it offers (request,
    dump), is refused with EPERM. A mode an operation does not offer is
    refused before the permission check, with EOPNOTSUPP, as genetlink
    does for every family."""
    g = Genl()
    passed = failed = 0
    if not g.ops:
        print("FAIL no operations reported for the family")
        return False
    for name, cmd in sorted(CMD.items(), key=lambda kv: kv[1]) + [("GET_CONN", 18)]:
        for flags, how, cap in ((NLM_F_ACK, "request", GENL_CMD_CAP_DO), (NLM_F_DUMP, "dump", GENL_CMD_CAP_DUMP)):
            body = svc(full=True) + dest() if cmd in (1, 2, 5, 6) else svc() if cmd in (3, 7, 8, 16) else b""
            code, ext, _ = g.request(g.family, cmd, body, flags=flags)
            want = errno.EPERM if g.ops.get(cmd, 0) & cap else errno.EOPNOTSUPP
            if code == want:
                passed += 1
                print("ok   unprivileged %s %s: %s" % (name, how, errno.errorcode[code]))
            else:
                failed += 1
                print("FAIL unprivileged %s %s: errno %s, want %s" % (name, how, errno.errorcode.get(code, code),
                                                                   errno.errorcode[want]))
    print("eperm: %d passed, %d failed" % (passed, failed))
    return failed == 0


if __name__ == "__main__":
    if sys.argv[1:] == ["bad-inputs"]:
        sys.exit(0 if bad_inputs() else 1)
    if sys.argv[1:] == ["eperm-all"]:
        sys.exit(0 if eperm_all() else 1)
    sys.exit(__doc__)
