#!/usr/bin/env python3
"""UDP echo for the fragment tests.
  udpecho.py serve ADDR PORT         echo every datagram back to its sender
  udpecho.py send ADDR PORT SIZE N   send N datagrams of SIZE random bytes,
                                     print how many came back intact
"""
import os
import socket
import sys
import time


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def serve(addr, port):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    while True:
        data, peer = s.recvfrom(65535)
        s.sendto(data, peer)


def send(addr, port, size, n):
    """Each datagram counts if its own echo comes back intact within 5 s.
    An echo of an earlier datagram that came back late (after its own
    wait) is skipped, so that one slow echo under load does not make every
    later datagram count as lost."""
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.connect((addr, port))
    good = 0
    earlier = set()
    for _ in range(n):
        data = os.urandom(size)
        s.send(data)
        deadline = time.monotonic() + 5
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            s.settimeout(left)
            try:
                got = s.recv(65535)
            except socket.timeout:
                break
            if got == data:
                good += 1
                break
            if got not in earlier:
                break
        earlier.add(data)
    print(good)


if __name__ == "__main__":
    cmd, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if cmd == "serve":
        serve(addr, port)
    else:
        send(addr, port, int(sys.argv[4]), int(sys.argv[5]))
