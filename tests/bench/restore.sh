# Runs in the test VM: time to restore N services x 4 real servers with
# rvsadm -R (rvs) and ipvsadm -R (the C IPVS), alternating, each in its
# own network namespace. Prints one JSON object per run.
# Usage: restore.sh SERVICES RUNS
set -euo pipefail
n=${1:-10000} runs=${2:-3}
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
	echo "$t1 - $t0" | bc
}
for r in $(seq 1 "$runs"); do
	rv=$(timed rvsadm)
	cv=$(timed ipvsadm)
	echo "{\"bench\":\"restore\",\"services\":$n,\"dests_per_service\":4,\"run\":$r,\"rvs_s\":$rv,\"ipvs_s\":$cv}"
done
