#!/usr/bin/env python3
# The SCTP test's sides (tests/vm/235-sctp.sh), one program because a
# Python start is slow under TCG:
#
#   serve NAME ADDR PORT...
#                          real server: on each PORT, for each
#                          association, reads a 4-byte length and that
#                          many bytes, answers "NAME LENGTH MD5", and
#                          closes once the client has (the client shuts
#                          the association down).
#   probe ADDR SIZE COUNT PORT...
#                          client: to each PORT, COUNT associations one
#                          after another, each sending SIZE bytes; prints
#                          "PORT NAME ok" for each answer whose length and
#                          MD5 match what was sent, "PORT FAIL why"
#                          otherwise, "PORT refused" when the association
#                          was aborted at set-up.
#   hold ADDR PORT FILE    client: one association, kept open (after
#                          printing the server's name) until FILE exists.
#   crc PCAP               every SCTP packet in a capture, its CRC32c
#                          checked: prints "N packets, M bad".
#
# The CRC is RFC 9260's appendix B (CRC32c, reflected, stored
# little-endian), written from the RFC, not from rvs's code.
import hashlib
import os
import select
import socket
import struct
import sys
import time

IPPROTO_SCTP = 132


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(min(65536, n - len(buf)))
        if not chunk:
            break
        buf += chunk
    return buf


def answer(s, name):
    head = recv_exact(s, 4)
    if len(head) == 4:
        (n,) = struct.unpack("!I", head)
        data = recv_exact(s, n)
        s.sendall(("%s %d %s\n" % (name, len(data), hashlib.md5(data).hexdigest())).encode())
        # The client shuts down first; wait for it.
        while s.recv(4096):
            pass
    s.close()


def serve(name, addr, *ports):
    listeners = []
    for port in ports:
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_SCTP)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((addr, int(port)))
        ls.listen(16)
        listeners.append(ls)
    print("listening", flush=True)
    while True:
        ready, _, _ = select.select(listeners, [], [])
        for ls in ready:
            s, _ = ls.accept()
            if os.fork() == 0:
                for x in listeners:
                    x.close()
                answer(s, name)
                os._exit(0)
            s.close()
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass


def read_line(s):
    line = b""
    while not line.endswith(b"\n"):
        chunk = s.recv(256)
        if not chunk:
            break
        line += chunk
    return line


def connect(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_SCTP)
    s.settimeout(15)
    s.connect((addr, int(port)))
    return s


def payload(size, i):
    return bytes((j * 7 + i) & 0xFF for j in range(size))


def probe(addr, size, count, *ports):
    size, count = int(size), int(count)
    for port in ports:
        for i in range(count):
            print(port, exchange(addr, port, payload(size, i)), flush=True)


def exchange(addr, port, data):
    try:
        s = connect(addr, port)
    except ConnectionRefusedError:
        return "refused"
    except OSError as e:
        return "FAIL connect: %s" % e
    try:
        s.sendall(struct.pack("!I", len(data)) + data)
        line = read_line(s)
        f = line.decode(errors="replace").split()
        if len(f) == 3 and f[1] == str(len(data)) and f[2] == hashlib.md5(data).hexdigest():
            return "%s ok" % f[0]
        return "FAIL answer: %r" % line
    except OSError as e:
        return "FAIL exchange: %s" % e
    finally:
        s.close()


def hold(addr, port, path):
    s = connect(addr, port)
    s.sendall(struct.pack("!I", 1) + b"x")
    line = read_line(s)
    print(line.decode(errors="replace").split()[0] if line else "FAIL no answer", flush=True)
    while not os.path.exists(path):
        time.sleep(0.2)
    s.close()


def crc32c_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


TABLE = crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def sctp_segments(path):
    with open(path, "rb") as f:
        raw = f.read()
    off = 24
    while off + 16 <= len(raw):
        incl = struct.unpack_from("<I", raw, off + 8)[0]
        frame = raw[off + 16 : off + 16 + incl]
        off += 16 + incl
        if len(frame) < 14:
            continue
        etype = struct.unpack_from("!H", frame, 12)[0]
        ip = frame[14:]
        if etype == 0x0800 and len(ip) >= 20:
            ihl = (ip[0] & 15) * 4
            frag = struct.unpack_from("!H", ip, 6)[0] & 0x3FFF
            total = struct.unpack_from("!H", ip, 2)[0]
            if ip[9] == IPPROTO_SCTP and not frag:
                yield ip[ihl:total]
        elif etype == 0x86DD and len(ip) >= 40 and ip[6] == IPPROTO_SCTP:
            plen = struct.unpack_from("!H", ip, 4)[0]
            yield ip[40 : 40 + plen]


def crc(path):
    n = bad = 0
    for seg in sctp_segments(path):
        if len(seg) < 12:
            continue
        n += 1
        zeroed = seg[:8] + b"\0\0\0\0" + seg[12:]
        if struct.pack("<I", crc32c(zeroed)) != seg[8:12]:
            bad += 1
    print("%d packets, %d bad" % (n, bad))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    {"serve": serve, "probe": probe, "hold": hold, "crc": crc}[cmd](*args)


if __name__ == "__main__":
    main()
