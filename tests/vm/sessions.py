#!/usr/bin/env python3
"""Long-lived TCP sessions to an echo service, checked while something else
happens (configuration churn): opens N connections, then every INTERVAL
seconds sends a line on each and expects it echoed back, for SECS seconds.
A reset, a close or a missing echo is a failure.

  sessions.py HOST PORT N SECS [INTERVAL]

Prints "sessions: N sessions, M lines echoed, F failures"; exits 1 on any
failure.
"""
import socket
import sys
import time

host, port, n, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
interval = float(sys.argv[5]) if len(sys.argv) > 5 else 1.0
socks = []
for i in range(n):
    s = socket.create_connection((host, port), timeout=10)
    s.settimeout(10)
    socks.append(s)
print("sessions: %d open" % n, flush=True)
echoed = failures = 0
t0 = time.time()
end = time.time() + secs
k = 0
while time.time() < end:
    for i, s in enumerate(socks):
        if s is None:
            continue
        line = b"session %d line %d\n" % (i, k)
        try:
            s.sendall(line)
            got = b""
            while len(got) < len(line):
                chunk = s.recv(len(line) - len(got))
                if not chunk:
                    raise ConnectionError("closed by peer")
                got += chunk
            if got != line:
                raise ConnectionError("echo mismatch: %r" % got)
            echoed += 1
        except (OSError, ConnectionError) as e:
            print("session %d (local port %d) failed at line %d, %.1f s in: %s"
                  % (i, s.getsockname()[1], k, time.time() - t0, e), flush=True)
            failures += 1
            socks[i] = None
    k += 1
    time.sleep(interval)
print("sessions: %d sessions, %d lines echoed, %d failures" % (n, echoed, failures))
sys.exit(1 if failures else 0)
