#!/usr/bin/env bash
# Benchmarks inside the test VM, rvs side by side with the kernel's C IPVS.
# Usage: scripts/bench.sh restore [SERVICES] [RUNS]
#   restore   time to restore SERVICES x 4 real servers (default 10000),
#             rvsadm -R against ipvsadm -R, RUNS alternating runs (default 3)
# Results: one JSON object per run on stdout, and a summary with ratios.
set -euo pipefail
. "$(dirname "$0")/common.sh"
what=${1:-restore}; shift || true
case $what in
restore) guest="tests/bench/restore.sh ${1:-10000} ${2:-3}" ;;
*) die "unknown benchmark '$what'" ;;
esac
"$RVS_TOP/scripts/setup.sh" >&2
make -C "$RVS_TOP" -s all >/dev/null
kdir=$(kernel_build_dir base)
out=$(mktemp -d /tmp/rvs-bench.XXXXXX)
vng --verbose --run "$kdir" --disable-kvm --disable-microvm --cpus 2 --memory 4G \
	--rwdir "$out" --cwd "$RVS_TOP" \
	--exec "RVS_TOP=$RVS_TOP bash $RVS_TOP/$guest >$out/results.json" >"$out/console" 2>&1 || true
[ -s "$out/results.json" ] || { tail -30 "$out/console"; die "benchmark produced no results"; }
cat "$out/results.json"
python3 - "$out/results.json" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
r = [x["rvs_s"] for x in rows]; c = [x["ipvs_s"] for x in rows]
print("restore %d services x 4: rvsadm -R median %.2f s (min %.2f, max %.2f), "
      "ipvsadm -R median %.2f s (min %.2f, max %.2f), rvs/IPVS %.2f"
      % (rows[0]["services"], statistics.median(r), min(r), max(r),
         statistics.median(c), min(c), max(c), statistics.median(r) / statistics.median(c)))
PY
