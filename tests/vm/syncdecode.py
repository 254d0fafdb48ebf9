#!/usr/bin/env python3
"""Decoder of IPVS connection-sync datagrams in a pcap file.

Written from the kernel's net/netfilter/ipvs/ip_vs_sync.c (struct
ip_vs_sync_mesg / ip_vs_sync_mesg_v0, ip_vs_sync_v4 / ip_vs_sync_v6,
ip_vs_sync_conn_v0, the options) and include/uapi/linux/ip_vs.h, on its
own: it shares no code with rvs's encoder, so that comparing what rvs and
ip_vs put on the wire means something.

  syncdecode.py [--port P] [--summary] [--mask F,...] FILE.pcap

Reads a classic libpcap file (either byte order, micro- or nanosecond;
link types Ethernet, Linux cooked v1/v2, raw IP, BSD loopback), takes the
UDP datagrams (IPv4 or IPv6) to port P (default 8848) and prints, for
each datagram, a `dgram` line (header: version, sync id, size, count, and
what follows the last entry: the rvs trailer as "trailer kind=... seq=...
sender=...", other bytes as "extra=N"), then one `entry` line per entry:

  entry v1 v4 proto=tcp flags=0x0183 state=FIN_WAIT(4) cport=40001
        vport=7000 dport=7000 fwmark=0 timeout=120 caddr=... vaddr=...
        daddr=... opts=-

(one line). flags is the connection's flags without HASHED (0x40): the
master clears it (ip_vs_sync_conn); a HASHED bit seen on the wire is
shown as "+HASHED". Version 0 entries have no fwmark and no timeout
("-"). Decoding faults (a size that does not match, an entry past the
end, ...) are reported on `error` lines, never raised.

--summary prints only the entry lines, without what varies by nature
(the fields named by --mask, default cport: client ports are the
system's choice; a client port 0, a template's, is kept), sorted and de-duplicated, so that two captures of the
same traffic compare with diff.

  syncdecode.py [--port P] [--mask F,...] --write FILE.pcap...

writes, for each capture FILE.pcap, FILE.full (the default output),
FILE.sum (--summary's) and FILE.sum-ports (--summary --mask ''): one
start for several captures and outputs (under emulation a Python start
costs more than the decoding).
"""
import argparse
import ipaddress
import struct
import sys

# include/uapi/linux/ip_vs.h
F_FWD_MASK = 0x0007
F_HASHED = 0x0040
F_SEQ_MASK = 0x0600
F_TEMPLATE = 0x1000
# ip_vs_sync.c
STYPE_F_INET6 = 1
SVER_SHIFT = 12
SVER_MASK = 0x0FFF
OPT_SEQ_DATA, OPT_PE_DATA, OPT_PE_NAME = 1, 2, 3
OPT_F_PARAM = 0x40  # (1 << (IPVS_OPT_PARAM - 1)): optional parameter
SYNC_PROTO_VER = 1
HDR_V1 = 8          # struct ip_vs_sync_mesg
HDR_V0 = 4          # struct ip_vs_sync_mesg_v0
V4_LEN = 36         # struct ip_vs_sync_v4
V6_LEN = 72         # struct ip_vs_sync_v6
V0_SIMPLE = 24      # struct ip_vs_sync_conn_v0
SEQ_OPTS = 24       # struct ip_vs_sync_conn_options: 2 x ip_vs_seq (3 x u32)
V0_FULL = V0_SIMPLE + SEQ_OPTS
# rvs's trailer (Documentation/sync.md): "RVS\x01", kind (u8), 3 reserved
# bytes, sequence number (be32), sender id (be32), 4-byte aligned after
# the last entry.
RVS_MAGIC = b"RVS\x01"
TRAILER_LEN = 16
TRAILER_KINDS = {0: "sync", 1: "resync-request"}

PROTOS = {0: "0", 6: "tcp", 17: "udp", 132: "sctp", 50: "esp", 51: "ah"}
# include/net/ip_vs.h, the protocols' state enums
TCP_STATES = ["NONE", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT",
              "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN",
              "SYNACK"]
UDP_STATES = ["NORMAL"]
SCTP_STATES = ["NONE", "INIT1", "INIT", "COOKIE_SENT", "COOKIE_REPLIED",
               "COOKIE_WAIT", "COOKIE", "COOKIE_ECHOED", "ESTABLISHED",
               "SHUTDOWN_SENT", "SHUTDOWN_RECEIVED", "SHUTDOWN_ACK_SENT",
               "REJECTED", "CLOSED"]
CTPL_STATES = ["NONE", "ASSURED"]


def state_name(proto, flags, state):
    if flags & F_TEMPLATE:
        names = CTPL_STATES
    else:
        names = {6: TCP_STATES, 17: UDP_STATES, 132: SCTP_STATES}.get(proto, [])
    name = names[state] if state < len(names) else "?"
    return "%s(%d)" % (name, state)


# --------------------------------------------------------------- pcap

LINKTYPE_NULL, LINKTYPE_ETHERNET, LINKTYPE_RAW = 0, 1, 101
LINKTYPE_LOOP, LINKTYPE_IPV4, LINKTYPE_IPV6 = 108, 228, 229
LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2 = 113, 276


def pcap_records(data):
    """(linktype, bytes) of each record of a classic pcap file."""
    if len(data) < 24:
        raise ValueError("not a pcap file (%d bytes)" % len(data))
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    elif magic == b"\x0a\x0d\x0d\x0a":
        raise ValueError("pcapng file: write classic pcap (tcpdump -w does)")
    else:
        raise ValueError("not a pcap file (magic %s)" % magic.hex())
    linktype = struct.unpack(e + "I", data[20:24])[0] & 0x0FFFFFFF
    off = 24
    while off + 16 <= len(data):
        _sec, _frac, incl, _orig = struct.unpack(e + "IIII", data[off:off + 16])
        off += 16
        if off + incl > len(data):
            break  # truncated last record (capture killed mid-write)
        yield linktype, data[off:off + incl]
        off += incl


def l3(linktype, frame):
    """(ethertype, network-layer bytes) of a frame, or None."""
    if linktype == LINKTYPE_ETHERNET:
        if len(frame) < 14:
            return None
        etype, off = struct.unpack("!H", frame[12:14])[0], 14
        while etype in (0x8100, 0x88A8) and len(frame) >= off + 4:
            etype, off = struct.unpack("!H", frame[off + 2:off + 4])[0], off + 4
        return etype, frame[off:]
    if linktype == LINKTYPE_LINUX_SLL:
        if len(frame) < 16:
            return None
        return struct.unpack("!H", frame[14:16])[0], frame[16:]
    if linktype == LINKTYPE_LINUX_SLL2:
        if len(frame) < 20:
            return None
        return struct.unpack("!H", frame[0:2])[0], frame[20:]
    if linktype in (LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6):
        if not frame:
            return None
        return (0x86DD if frame[0] >> 4 == 6 else 0x0800), frame
    if linktype in (LINKTYPE_NULL, LINKTYPE_LOOP):
        if len(frame) < 4:
            return None
        fam = struct.unpack("<I" if linktype == LINKTYPE_NULL and frame[0] else "!I",
                            frame[:4])[0]
        return (0x86DD if fam in (10, 24, 28, 30) else 0x0800), frame[4:]
    raise ValueError("unsupported link type %d" % linktype)


def udp_payloads(path, port):
    """(src, dst, payload) of the UDP datagrams to PORT in the capture."""
    with open(path, "rb") as f:
        data = f.read()
    for linktype, frame in pcap_records(data):
        r = l3(linktype, frame)
        if r is None:
            continue
        etype, pkt = r
        if etype == 0x0800 and len(pkt) >= 20 and pkt[0] >> 4 == 4:
            ihl = (pkt[0] & 15) * 4
            total = struct.unpack("!H", pkt[2:4])[0]
            frag = struct.unpack("!H", pkt[6:8])[0]
            if pkt[9] != 17 or frag & 0x3FFF:
                continue  # not UDP, or a fragment (sync datagrams fit)
            src, dst = ipaddress.IPv4Address(pkt[12:16]), ipaddress.IPv4Address(pkt[16:20])
            seg = pkt[ihl:total]
        elif etype == 0x86DD and len(pkt) >= 40 and pkt[0] >> 4 == 6:
            nxt, plen = pkt[6], struct.unpack("!H", pkt[4:6])[0]
            src, dst = ipaddress.IPv6Address(pkt[8:24]), ipaddress.IPv6Address(pkt[24:40])
            seg, off = pkt[40:40 + plen], 0
            while nxt in (0, 43, 60) and len(seg) >= off + 8:
                nxt, off = seg[off], off + (seg[off + 1] + 1) * 8
            if nxt != 17:
                continue
            seg = seg[off:]
        else:
            continue
        if len(seg) < 8:
            continue
        dport, ulen = struct.unpack("!HH", seg[2:6])
        if dport != port:
            continue
        yield src, dst, seg[8:ulen] if 8 <= ulen <= len(seg) else seg[8:]


# --------------------------------------------------------------- sync

def addr(b):
    return str(ipaddress.ip_address(bytes(b)))


def entry_fields(ver, af, proto, flags, state, cport, vport, dport,
                 fwmark, timeout, caddr, vaddr, daddr, opts):
    hashed = "+HASHED" if flags & F_HASHED else ""
    return {
        "ver": "v%d" % ver, "type": af, "proto": PROTOS.get(proto, str(proto)),
        "flags": "0x%04x%s" % (flags & ~F_HASHED, hashed),
        "state": state_name(proto, flags, state),
        "cport": str(cport), "vport": str(vport), "dport": str(dport),
        "fwmark": "-" if fwmark is None else str(fwmark),
        "timeout": "-" if timeout is None else str(timeout),
        "caddr": caddr, "vaddr": vaddr, "daddr": daddr,
        "opts": ",".join(opts) or "-",
    }


FIELDS = ["ver", "type", "proto", "flags", "state", "cport", "vport", "dport",
          "fwmark", "timeout", "caddr", "vaddr", "daddr", "opts"]


def fmt_entry(e, mask=()):
    out = ["entry", e["ver"], e["type"]]
    for k in FIELDS[2:]:
        # Port 0 is no client's port (templates, NO_CPORT): kept.
        masked = k in mask and not (k == "cport" and e[k] == "0")
        out.append("%s=%s" % (k, "*" if masked else e[k]))
    return " ".join(out)


def parse_options(b):
    """Option names of an entry's option bytes (ip_vs_proc_sync_conn)."""
    opts, p = [], 0
    while p < len(b):
        if p + 2 > len(b):
            return opts, "option header past the entry"
        ptype, plen = b[p], b[p + 1]
        p += 2
        if plen == 0 or p + plen > len(b):
            return opts, "option %d length %d bad" % (ptype, plen)
        data = b[p:p + plen]
        base = ptype & ~OPT_F_PARAM
        if base == OPT_SEQ_DATA:
            opts.append("seq" if plen == SEQ_OPTS else "seq(len=%d!)" % plen)
        elif base == OPT_PE_DATA:
            opts.append("pe_data(%d)" % plen)
        elif base == OPT_PE_NAME:
            opts.append("pe_name=%s" % data.decode("ascii", "replace"))
        else:
            opts.append("opt%d(%d)%s" % (base, plen,
                                          "" if ptype & OPT_F_PARAM else "!mandatory"))
        p += plen
    return opts, None


def tail_info(buf, end):
    """What follows the last entry: the rvs trailer, or N extra bytes."""
    rest = buf[end:]
    if not rest:
        return ""
    pad = (4 - end % 4) % 4  # the trailer is 4-byte aligned
    if len(rest) >= pad and not any(rest[:pad]):
        t = rest[pad:]
        if len(t) == TRAILER_LEN and t[:4] == RVS_MAGIC:
            kind = TRAILER_KINDS.get(t[4], "unknown%d" % t[4])
            seq, sender = struct.unpack("!II", t[8:16])
            return " trailer kind=%s seq=%d sender=%08x" % (kind, seq, sender)
    return " extra=%d(%s)" % (len(rest), rest[:16].hex())


def decode_v1(buf, errors):
    syncid, size, count = buf[1], struct.unpack("!H", buf[2:4])[0], buf[4]
    entries, p = [], HDR_V1
    end = p
    for i in range(count):
        if p + V4_LEN > len(buf):
            errors.append("entry %d: past the end (%d bytes left)" % (i, len(buf) - p))
            break
        vs = struct.unpack("!H", buf[p + 2:p + 4])[0]
        esize, ever = vs & SVER_MASK, vs >> SVER_SHIFT
        if p + esize > len(buf):
            errors.append("entry %d: size %d past the end" % (i, esize))
            break
        if ever:
            errors.append("entry %d: entry version %d" % (i, ever))
            break
        typ, proto = buf[p], buf[p + 1]
        flags, state, cport, vport, dport, fwmark, timeout = struct.unpack(
            "!IHHHHII", buf[p + 4:p + 24])
        if typ & STYPE_F_INET6:
            af, alen, hlen = "v6", 16, V6_LEN
        elif typ == 0:
            af, alen, hlen = "v4", 4, V4_LEN
        else:
            errors.append("entry %d: type %d" % (i, typ))
            break
        if esize < hlen:
            errors.append("entry %d: size %d < %d" % (i, esize, hlen))
            break
        a = p + 24
        caddr, vaddr, daddr = (addr(buf[a + k * alen:a + (k + 1) * alen]) for k in range(3))
        opts, err = parse_options(buf[p + hlen:p + esize])
        if err:
            errors.append("entry %d: %s" % (i, err))
        entries.append(entry_fields(1, af, proto, flags, state, cport, vport, dport,
                                    fwmark, timeout, caddr, vaddr, daddr, opts))
        end = p + esize
        p += (esize + 3) & ~3  # entries are padded to 32 bits
    head = "v1 syncid=%d size=%d count=%d" % (syncid, size, count)
    return head, entries, end


def decode_v0(buf, errors):
    count, syncid, size = buf[0], buf[1], struct.unpack("!H", buf[2:4])[0]
    entries, p = [], HDR_V0
    for i in range(count):
        if p + V0_SIMPLE > len(buf):
            errors.append("v0 entry %d: past the end" % i)
            break
        _res, proto, cport, vport, dport = struct.unpack("!BBHHH", buf[p:p + 8])
        caddr, vaddr, daddr = (addr(buf[p + 8 + 4 * k:p + 12 + 4 * k]) for k in range(3))
        flags, state = struct.unpack("!HH", buf[p + 20:p + 24])
        opts, n = [], V0_SIMPLE
        if flags & F_SEQ_MASK:
            n = V0_FULL  # options in host byte order, no type/length
            opts.append("seq")
            if p + n > len(buf):
                errors.append("v0 entry %d: options past the end" % i)
                break
        entries.append(entry_fields(0, "v4", proto, flags, state, cport, vport, dport,
                                    None, None, caddr, vaddr, daddr, opts))
        p += n
    head = "v0 syncid=%d size=%d count=%d" % (syncid, size, count)
    return head, entries, p


def decode(buf):
    """(header line, entries, errors) of one datagram (ip_vs_process_message)."""
    errors = []
    if len(buf) < HDR_V0:
        return "short(%d)" % len(buf), [], ["shorter than a header"]
    size = struct.unpack("!H", buf[2:4])[0]
    if size != len(buf):
        errors.append("header size %d != datagram length %d" % (size, len(buf)))
    if len(buf) >= HDR_V1 and buf[5] == SYNC_PROTO_VER and buf[0] == 0 and buf[6:8] == b"\0\0":
        head, entries, end = decode_v1(buf, errors)
    else:
        head, entries, end = decode_v0(buf, errors)
    return head + tail_info(buf, end), entries, errors


def full_lines(dgrams):
    """The default output: each datagram's line, its errors, its entries."""
    for n, (src, dst, payload) in enumerate(dgrams):
        head, entries, errors = decode(payload)
        yield "dgram %d %s>%s len=%d %s" % (n, src, dst, len(payload), head)
        for err in errors:
            yield "error: dgram %d: %s" % (n, err)
        for e in entries:
            yield fmt_entry(e)


def summary(dgrams, mask, errors):
    """--summary's lines; the decoding faults are added to ERRORS."""
    lines = set()
    for src, dst, payload in dgrams:
        _head, entries, errs = decode(payload)
        lines.update(fmt_entry(e, mask) for e in entries)
        errors.extend(errs)
    return sorted(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pcap", nargs="+")
    ap.add_argument("--port", type=int, default=8848)
    ap.add_argument("--summary", action="store_true",
                    help="sorted, de-duplicated entries without the masked fields")
    ap.add_argument("--mask", default="cport",
                    help="fields --summary leaves out (comma-separated; default cport)")
    ap.add_argument("--write", action="store_true",
                    help="for each FILE.pcap, FILE.full, FILE.sum and FILE.sum-ports")
    a = ap.parse_args()
    mask = set(filter(None, a.mask.split(",")))
    bad = mask - set(FIELDS)
    if bad:
        ap.error("unknown fields in --mask: %s" % ",".join(sorted(bad)))
    if a.write and a.summary:
        ap.error("--write writes the summaries itself")
    if not a.write and len(a.pcap) != 1:
        ap.error("one capture, or --write")
    for path in a.pcap:
        try:
            dgrams = list(udp_payloads(path, a.port))
        except (OSError, ValueError) as e:
            print("syncdecode: %s: %s" % (path, e), file=sys.stderr)
            return 2
        errors = []
        if not a.write:
            lines = summary(dgrams, mask, errors) if a.summary else full_lines(dgrams)
            for err in errors:
                print("error: %s" % err, file=sys.stderr)
            for line in lines:
                print(line)
            continue
        stem = path[:-len(".pcap")] if path.endswith(".pcap") else path
        for suffix, lines in ((".full", full_lines(dgrams)),
                              (".sum", summary(dgrams, mask, errors)),
                              (".sum-ports", summary(dgrams, set(), []))):
            with open(stem + suffix, "w") as out:
                for line in lines:
                    out.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
