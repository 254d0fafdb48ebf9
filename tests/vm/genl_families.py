#!/usr/bin/env python3
"""Prints the names of the registered generic netlink families, one a line,
by dumping CTRL_CMD_GETFAMILY: an independent check of what rvs registers."""
import socket
import struct

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_NAME = 2
NLM_F_REQUEST, NLM_F_DUMP = 1, 0x300
NLMSG_DONE, NLMSG_ERROR = 3, 2

s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
s.bind((0, 0))
genl = struct.pack("BBH", CTRL_CMD_GETFAMILY, 1, 0)
hdr = struct.pack("=IHHII", 16 + len(genl), GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_DUMP, 1, 0)
s.send(hdr + genl)
done = False
while not done:
    data = s.recv(65536)
    off = 0
    while off < len(data):
        length, kind, _flags, _seq, _pid = struct.unpack_from("=IHHII", data, off)
        if kind in (NLMSG_DONE, NLMSG_ERROR):
            done = True
            break
        a = off + 16 + 4
        while a < off + length:
            alen, atype = struct.unpack_from("=HH", data, a)
            if alen < 4:
                break
            if atype == CTRL_ATTR_FAMILY_NAME:
                print(data[a + 4 : a + alen].split(b"\0")[0].decode())
            a += (alen + 3) & ~3
        off += (length + 3) & ~3
