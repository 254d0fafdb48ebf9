#!/usr/bin/env python3
"""Resolves the samples perf attributed to a module by address only (perf in
the guest does not find rvs.ko, loaded from the source tree) to the
module's functions, with the module's own symbol table.

Usage: modsyms.py PERF_DATA MODULE.ko [DSO]   (DSO default: [rvs])
Prints the module's share of all samples and its functions by share.
"""
import bisect
import collections
import subprocess
import sys

data, ko = sys.argv[1], sys.argv[2]
dso = sys.argv[3] if len(sys.argv) > 3 else "[rvs]"
rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children",
                      "--sort", "dso,sym", "-g", "none"],
                     capture_output=True, text=True).stdout
nm = subprocess.run(["nm", "-n", "--defined-only", "-C", ko],
                    capture_output=True, text=True).stdout
syms = []
for line in nm.splitlines():
    p = line.split(" ", 2)
    if len(p) == 3 and p[1] in "tTwW":
        syms.append((int(p[0], 16), p[2]))
syms.sort()
addrs = [a for a, _ in syms]
tot = collections.Counter()
for line in rep.splitlines():
    f = line.split()
    if len(f) >= 4 and f[1] == dso and f[2] == "[k]":
        pct = float(f[0].rstrip("%"))
        sym = f[3]
        if sym.startswith("0x"):
            i = bisect.bisect_right(addrs, int(sym, 16)) - 1
            sym = syms[i][1] if i >= 0 else sym
        tot[sym] += pct
print("%s: %.2f%% of all samples" % (dso, sum(tot.values())))
for name, v in tot.most_common(30):
    print("%6.2f%%  %s" % (v, name[:140]))
