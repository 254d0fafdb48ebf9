#!/usr/bin/env bash
# Runs in the test VM: figure 6, time to restore N services x 4 real
# servers with rvsadm -R (rvs) and ipvsadm -R (the C IPVS), alternating,
# each in its own network namespace. Appends one JSON object per
# measurement to OUT.
# Usage: restore.sh OUT SERVICES RUNS
set -euo pipefail
out=$1 n=${2:-10000} runs=${3:-3}
export PATH=$RVS_TOP/target/release:$PATH
insmod "$RVS_TOP/rvs.ko"
modprobe ip_vs; modprobe ip_vs_wlc
rules=/tmp/restore-rules
python3 - "$n" >"$rules" <<'PY'
import sys
n = int(sys.argv[1])
for i in range(n):
    vip = "10.%d.%d.%d" % (100 + i // 65536, (i // 256) % 256, i % 256)
    print("-A -t %s:80 -s wlc" % vip)
    for j in range(4):
        print("-a -t %s:80 -r 172.16.%d.%d:8080 -m -w 1" % (vip, i % 250, j + 1))
PY
lines=$(wc -l <"$rules")
ip netns add bench; ip -n bench link set lo up
timed() { # timed TOOL: seconds to restore, then the table is checked and cleared
	local t0 t1
	t0=$(date +%s.%N)
	ip netns exec bench "$1" -R <"$rules"
	t1=$(date +%s.%N)
	local got; got=$(ip netns exec bench "$1" -S -n | wc -l)
	[ "$got" = "$lines" ] || { echo "$1 restored $got of $lines lines" >&2; exit 1; }
	ip netns exec bench "$1" -C
	awk "BEGIN { printf \"%.3f\", $t1 - $t0 }"
}
for r in $(seq 1 "$runs"); do
	for impl in rvs ipvs; do
		tool=rvsadm; [ $impl = rvs ] || tool=ipvsadm
		echo "{\"figure\":\"restore\",\"impl\":\"$impl\",\"run\":$r,\"value\":$(timed $tool),\"unit\":\"s\",\"services\":$n,\"dests_per_service\":4}" | tee -a "$out"
	done
done
ip netns del bench
rmmod rvs; rmmod ip_vs_wlc ip_vs
