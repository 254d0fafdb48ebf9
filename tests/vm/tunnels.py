#!/usr/bin/env python3
# The TUN encapsulation test's three sides (tests/vm/225-tun-encap.sh), one
# program because a Python start is slow under TCG:
#
#   serve NAME PORT...   real server: on each PORT (IPv4 and IPv6), TCP
#                        answers "NAME LENGTH MD5" of what the client sent
#                        once it closes its side; UDP answers "NAME".
#   probe ADDR PORT...   client: to each ADDR:PORT, 300 kB ($TUN_BLOB) over TCP (so
#                        that large segments cross the tunnel), then one
#                        UDP datagram; prints "PORT tcp NAME" and "PORT
#                        udp NAME" for answers that match, or "PORT tcp
#                        FAIL why".
#   decode PCAP          every tunnelled packet's outer headers in a
#                        capture, its checksums verified (ok, bad, zero;
#                        "frag" in a fragment), one line per distinct
#                        form, headed by the inner destination port:
#                        "PORT outer=... encap=... inner=...". (tcpdump
#                        captures: its ring copies each frame on arrival,
#                        where a packet socket's copy shares the data that
#                        FOU then rewrites in place.)
#
# The decoder follows the formats (RFC 791, 8200, 768, 2784 and the GUE
# draft's version 0), not rvs's code.
import hashlib
import os
import socket
import struct
import sys
import threading
import time

BLOB = bytes((i * 7 + 3) & 0xFF for i in range(int(os.environ.get("TUN_BLOB", "300000"))))
GUE_PORT = 6080


def serve(name, ports):
    def tcp(sock):
        while True:
            c, _ = sock.accept()
            threading.Thread(target=tcp_one, args=(c,), daemon=True).start()

    def tcp_one(c):
        h, n = hashlib.md5(), 0
        with c:
            c.settimeout(60)
            while True:
                b = c.recv(65536)
                if not b:
                    break
                h.update(b)
                n += len(b)
            c.sendall(("%s %d %s\n" % (name, n, h.hexdigest())).encode())

    def udp(sock):
        while True:
            _, peer = sock.recvfrom(2048)
            sock.sendto(name.encode(), peer)

    for port in ports:
        for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
            t = socket.socket(fam, socket.SOCK_STREAM)
            t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if fam == socket.AF_INET6:
                t.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            t.bind((addr, port))
            t.listen(16)
            threading.Thread(target=tcp, args=(t,), daemon=True).start()
            u = socket.socket(fam, socket.SOCK_DGRAM)
            if fam == socket.AF_INET6:
                u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            u.bind((addr, port))
            threading.Thread(target=udp, args=(u,), daemon=True).start()
    print("listening", flush=True)
    while True:
        time.sleep(3600)


def probe(addr, ports):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    want = "%d %s" % (len(BLOB), hashlib.md5(BLOB).hexdigest())
    for port in ports:
        try:
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.settimeout(20)
            s.connect((addr, port))
            s.sendall(BLOB)
            s.shutdown(socket.SHUT_WR)
            got = b""
            while True:
                b = s.recv(4096)
                if not b:
                    break
                got += b
            s.close()
            name, _, rest = got.decode().strip().partition(" ")
            print("%d tcp %s" % (port, name if rest == want else "FAIL got " + repr(got)), flush=True)
        except OSError as e:
            print("%d tcp FAIL %s" % (port, e), flush=True)
        u = socket.socket(fam, socket.SOCK_DGRAM)
        u.settimeout(3)
        name = "FAIL no answer"
        for _ in range(3):
            try:
                u.sendto(b"ping", (addr, port))
                name = u.recv(2048).decode()
                break
            except OSError:
                pass
        print("%d udp %s" % (port, name), flush=True)


def csum16(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def udp_check(v6, src, dst, seg):
    if struct.unpack_from("!H", seg, 6)[0] == 0:
        return "zero"
    if v6:
        pseudo = src + dst + struct.pack("!IxxxB", len(seg), 17)
    else:
        pseudo = src + dst + struct.pack("!xBH", 17, len(seg))
    return "ok" if csum16(pseudo + seg) == 0xFFFF else "bad"


def inner_desc(proto, data):
    """The packet inside: family, transport and destination port."""
    if proto == 4 and len(data) >= 20:
        ihl = (data[0] & 15) * 4
        l4, p = data[ihl:], data[9]
        fam = "ipv4"
    elif proto == 41 and len(data) >= 40:
        l4, p = data[40:], data[6]
        fam = "ipv6"
    else:
        return None, "inner=?%d" % proto
    kind = {6: "tcp", 17: "udp"}.get(p, str(p))
    port = struct.unpack_from("!H", l4, 2)[0] if len(l4) >= 4 else 0
    return port, "inner=%s/%s" % (fam, kind)


def decode(frame):
    """One frame: (inner port, description), or None if not tunnelled."""
    etype = struct.unpack_from("!H", frame, 12)[0]
    p = frame[14:]
    if etype == 0x0800 and len(p) >= 20:
        ihl = (p[0] & 15) * 4
        frag = struct.unpack_from("!H", p, 6)[0]
        if frag & 0x1FFF:
            return None  # not the first fragment: no headers inside
        v6, proto, src, dst = False, p[9], p[12:16], p[16:20]
        outer = "outer=ipv4 ds=%#x ttl=%d df=%d mf=%d" % (p[1], p[8], frag >> 14 & 1, frag >> 13 & 1)
        body = p[ihl:struct.unpack_from("!H", p, 2)[0]]
    elif etype == 0x86DD and len(p) >= 40:
        first = struct.unpack_from("!I", p, 0)[0]
        v6, proto, src, dst = True, p[6], p[8:24], p[24:40]
        outer = "outer=ipv6 ds=%#x flow=%#x hlim=%d" % (first >> 20 & 0xFF, first & 0xFFFFF, p[7])
        body = p[40 : 40 + struct.unpack_from("!H", p, 4)[0]]
        if proto == 44:
            if struct.unpack_from("!H", body, 2)[0] & 0xFFF8:
                return None
            proto, body = body[0], body[8:]
            outer += " frag"
    else:
        return None
    if proto in (4, 41):
        port, inner = inner_desc(proto, body)
        return port, "%s encap=ip %s" % (outer, inner)
    if proto == 17 and len(body) >= 12 and struct.unpack_from("!H", body, 2)[0] == GUE_PORT:
        check = udp_check(v6, src, dst, body) if not outer.endswith("frag") and " mf=1" not in outer else "frag"
        b0, gproto, gflags = body[8], body[9], struct.unpack_from("!H", body, 10)[0]
        hlen = (b0 & 31) * 4
        gue = "gue(ver=%d c=%d hlen=%d proto=%d flags=%#x" % (b0 >> 6, b0 >> 5 & 1, hlen, gproto, gflags)
        if gflags & 1 and hlen >= 4:
            priv = struct.unpack_from("!I", body, 12)[0]
            gue += " priv=%#x" % priv
            if priv & 0x80000000 and hlen >= 8:
                gue += " remcsum=%d,%d" % struct.unpack_from("!HH", body, 16)
        port, inner = inner_desc(gproto, body[12 + hlen :])
        return port, "%s encap=udp(csum=%s) %s) %s" % (outer, check, gue, inner)
    if proto == 47 and len(body) >= 4:
        gflags, gproto = struct.unpack_from("!HH", body, 0)
        off, desc = 4, "gre(flags=%#x proto=%#x" % (gflags, gproto)
        if gflags & 0x8000:
            ok = "frag" if " mf=1" in outer or outer.endswith("frag") else (
                "ok" if csum16(bytes(body)) == 0xFFFF else "bad")
            desc += " csum=%s" % ok
            off += 4
        port, inner = inner_desc({0x0800: 4, 0x86DD: 41}.get(gproto, 0), body[off:])
        return port, "%s encap=%s) %s" % (outer, desc, inner)
    return None


def decode_pcap(path):
    """Every tunnelled packet in a pcap file (Ethernet), one line per
    distinct form."""
    seen = set()
    with open(path, "rb") as f:
        head = f.read(24)
        magic = struct.unpack_from("<I", head)[0]
        order = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                break
            caplen = struct.unpack_from(order + "I", rec, 8)[0]
            frame = f.read(caplen)
            d = decode(frame)
            if d and d[0] is not None:
                seen.add("%d %s" % d)
    for line in sorted(seen):
        print(line)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "serve":
        serve(args[0], [int(p) for p in args[1:]])
    elif cmd == "probe":
        probe(args[0], [int(p) for p in args[1:]])
    elif cmd == "decode":
        decode_pcap(args[0])
    else:
        sys.exit("usage: tunnels.py serve|probe|decode ...")


if __name__ == "__main__":
    main()
