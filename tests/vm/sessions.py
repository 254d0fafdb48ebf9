#!/usr/bin/env python3
"""Long-lived TCP sessions to an echo service, checked while something else
happens (configuration churn, a director failing over): opens N
connections, then every INTERVAL seconds sends a line on each and expects
it echoed back, for SECS seconds. A reset, a close or a missing echo is a
failure.

  sessions.py [OPTIONS] HOST PORT N SECS [INTERVAL]

Options (all optional; without them the behaviour is the original one):
  --src A[,B...]    bind session i to source address i mod the list's length
                    (spreads sessions over a client's addresses)
  --tagged          the service answers "NAME line" (tagecho.py): each
                    session records the NAME of its first answer, and an
                    answer with another NAME is a failure (it moved to
                    another real server)
  --udp             UDP flows instead of TCP sessions (one connected socket
                    each, so a fixed source port); a datagram without an
                    answer is "lost", not a failure, unless the flow has
                    had no answer for more than --max-gap seconds, or has
                    none at the end
  --max-gap S       (UDP) longest time without an answer (default 8 s)
  --timeout S       how long to wait for a round's echoes (default 10 s
                    for TCP, 1 s for UDP)
  --stop-file F     stop (before SECS) once the file F exists

Each round sends one line on every live session, then waits for all the
echoes. Prints "sessions: N open" once they are open, and at the end
"sessions: N sessions, M lines echoed, F failures" (with --tagged, also
"servers: NAME=count ..." of the live sessions, and for UDP the lost
lines); exits 1 on any failure.
"""
import argparse
import os
import selectors
import socket
import sys
import time

ap = argparse.ArgumentParser(usage=__doc__)
ap.add_argument("--src", default="")
ap.add_argument("--tagged", action="store_true")
ap.add_argument("--udp", action="store_true")
ap.add_argument("--max-gap", type=float, default=8.0)
ap.add_argument("--timeout", type=float, default=None)
ap.add_argument("--stop-file", default=None)
ap.add_argument("host")
ap.add_argument("port", type=int)
ap.add_argument("n", type=int)
ap.add_argument("secs", type=float)
ap.add_argument("interval", type=float, nargs="?", default=1.0)
a = ap.parse_args()
srcs = [s for s in a.src.split(",") if s]
timeout = a.timeout if a.timeout is not None else (1.0 if a.udp else 10.0)

socks = []
for i in range(a.n):
    src = (srcs[i % len(srcs)], 0) if srcs else None
    if a.udp:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if src:
            s.bind(src)
        s.connect((a.host, a.port))
    else:
        s = socket.create_connection((a.host, a.port), timeout=10, source_address=src)
    s.settimeout(10)
    socks.append(s)
names = ["%s:%d" % s.getsockname()[:2] for s in socks]
print("sessions: %d open" % a.n, flush=True)

sel = selectors.DefaultSelector()
for i, s in enumerate(socks):
    sel.register(s, selectors.EVENT_READ, i)
bufs = [b""] * a.n
tags = [None] * a.n
lost_run = [0] * a.n
last_answer = [time.time()] * a.n
lost = echoed = failures = 0
t0 = time.time()


def drop(i, k, why):
    global failures
    print("session %d (%s) failed at line %d, %.1f s in: %s"
          % (i, names[i], k, time.time() - t0, why), flush=True)
    failures += 1
    sel.unregister(socks[i])
    socks[i].close()
    socks[i] = None


def check(i, k, got, line):
    """One answer of session i to line k; returns True when it is the one
    expected (False for a UDP answer to an earlier, lost line)."""
    if a.tagged:
        tag, _, body = got.partition(b" ")
    else:
        tag, body = None, got
    if body != line:
        if a.udp and body.startswith(b"session %d line " % i):
            return False  # a late answer to a line given up on
        raise ConnectionError("echo mismatch: %r" % got)
    if a.tagged:
        if tags[i] is None:
            tags[i] = tag
        elif tags[i] != tag:
            raise ConnectionError("moved from %s to %s"
                                  % (tags[i].decode(), tag.decode()))
    return True


end = time.time() + a.secs
k = 0
while time.time() < end and not (a.stop_file and os.path.exists(a.stop_file)):
    pending = {}
    for i, s in enumerate(socks):
        if s is None:
            continue
        line = b"session %d line %d\n" % (i, k)
        try:
            s.sendall(line)
            pending[i] = line
        except OSError as e:
            drop(i, k, e)
    deadline = time.time() + timeout
    while pending:
        left = deadline - time.time()
        if left <= 0:
            break
        for key, _ in sel.select(left):
            i = key.data
            if i not in pending:
                if a.udp:  # a late answer to a line given up on
                    try:
                        socks[i].recv(65536)
                    except OSError:
                        pass
                else:  # a close, a reset or data out of turn
                    try:
                        got = socks[i].recv(65536)
                        why = "data out of turn: %r" % got if got else "closed by peer"
                    except OSError as e:
                        why = e
                    drop(i, k, why)
                continue
            try:
                if a.udp:
                    if check(i, k, socks[i].recv(65536).rstrip(b"\n") + b"\n", pending[i]):
                        del pending[i]
                        echoed += 1
                        lost_run[i] = 0
                        last_answer[i] = time.time()
                    continue
                chunk = socks[i].recv(65536)
                if not chunk:
                    raise ConnectionError("closed by peer")
                bufs[i] += chunk
                if b"\n" in bufs[i]:
                    got, _, bufs[i] = bufs[i].partition(b"\n")
                    check(i, k, got + b"\n", pending[i])
                    if bufs[i]:
                        raise ConnectionError("more than one answer: %r" % bufs[i])
                    del pending[i]
                    echoed += 1
            except (OSError, ConnectionError) as e:
                del pending[i]
                drop(i, k, e)
    for i in list(pending):
        if a.udp:
            lost += 1
            lost_run[i] += 1
            if time.time() - last_answer[i] > a.max_gap:
                drop(i, k, "no answer for %.1f s (%d lines)"
                     % (time.time() - last_answer[i], lost_run[i]))
        else:
            drop(i, k, "no echo within %.1f s" % timeout)
    k += 1
    time.sleep(a.interval)
# A UDP flow must have been answered at the end.
if a.udp:
    for i, s in enumerate(socks):
        if s is not None and lost_run[i]:
            drop(i, k, "the last %d lines were not answered" % lost_run[i])
print("sessions: %d sessions, %d lines echoed, %d failures" % (a.n, echoed, failures))
if a.tagged:
    count = {}
    for i, s in enumerate(socks):
        if s is not None and tags[i] is not None:
            count[tags[i].decode()] = count.get(tags[i].decode(), 0) + 1
    print("servers: " + " ".join("%s=%d" % kv for kv in sorted(count.items())))
if a.udp:
    print("lost: %d lines without an answer" % lost)
sys.exit(1 if failures else 0)
