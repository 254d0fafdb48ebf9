#!/usr/bin/env bash
# Runs in the test VM on two vCPUs (scripts/bench.sh exact boots it twice):
# UDP datagrams through the NAT VIP from one sender on vCPU 0, then from
# two at once, one on each vCPU, for rvs, the C IPVS and plain routing.
#   icount  the VM runs under `-icount shift=0,sleep=off`: QEMU then runs
#           both vCPUs in turn on one host thread and the guest's clock
#           counts the instructions of both, so the figure is instructions
#           per datagram, elapsed time less the time every vCPU was idle
#           (bounded by the smaller of the two vCPUs' idle times)
#   wall    the VM runs in real time (TCG, one host thread per vCPU): the
#           figure is datagrams per second, what a user would see
# Appends one JSON object per measurement to OUT.
# Usage: exact_scale.sh OUT RUNS SECS icount|wall
set -euo pipefail
. "$RVS_TOP/tests/bench/lib.sh"
out=$1 runs=$2 secs=$3 mode=$4
PIN=

# snap: guest nanoseconds now and each vCPU's idle + iowait nanoseconds
snap() {
	echo "$(date +%s%N) $(awk '$1 ~ /^cpu[0-9]+$/ { printf "%d ", ($5 + $6) * 10000000 }' /proc/stat)"
}

# m_udp SENDERS: "ELAPSED_NS ALL_IDLE_NS RECEIVED" with SENDERS floods of
# 64/SENDERS flows each, sender k pinned to vCPU k
m_udp() {
	local n=$1 i k pids=() fl=() a b got=0
	for i in $(seq 1 "$NRS"); do
		in_ns rs$i rvsbench udpsink 5000 --secs $((secs + 60)) --idle 300 >/tmp/sink$i &
		pids+=($!)
	done
	sleep 0.3
	a=($(snap))
	for k in $(seq 0 $((n - 1))); do
		in_ns client taskset -c $k rvsbench udpflood "$(targets "$impl" $VIP_NAT 5000)" --secs "$secs" --flows $((64 / n)) >/dev/null &
		fl+=($!)
	done
	wait "${fl[@]}" "${pids[@]}"
	b=($(snap))
	for i in $(seq 1 "$NRS"); do got=$((got + $(jget received </tmp/sink$i))); done
	# Time every vCPU was idle is at most the least idle one's.
	local idle=-1 d
	for k in $(seq 1 $((${#a[@]} - 1))); do
		d=$((b[k] - a[k]))
		[ $idle -ge 0 ] && [ $d -ge $idle ] || idle=$d
	done
	echo "$((b[0] - a[0])) $idle $got"
}

[ "$(nproc)" = 2 ] || { echo "# exact_scale.sh needs 2 vCPUs, has $(nproc)" >&2; exit 1; }
bench_topo
for r in $(seq 1 "$runs"); do
	for impl in rvs ipvs plain; do
		echo "# scale ($mode) run $r: $impl" >&2
		impl_load $impl
		[ $impl = plain ] || services
		for n in 1 2; do
			m=($(m_udp $n))
			[ "${m[2]}" -gt 0 ] || { echo "# $impl, $n senders: nothing received" >&2; exit 1; }
			if [ "$mode" = icount ]; then
				v=$(calc "(${m[0]} - ${m[1]}) / ${m[2]}" 0) unit=instr/datagram
			else
				v=$(calc "${m[2]} / (${m[0]} / 1e9)" 0) unit=datagram/s
			fi
			echo "{\"figure\":\"udp4_nat_${n}cpu_$mode\",\"impl\":\"$impl\",\"run\":$r,\"value\":$v,\"unit\":\"$unit\",\"elapsed_ns\":${m[0]},\"all_idle_ns\":${m[1]},\"count\":${m[2]}}" | tee -a "$out"
		done
		impl_unload $impl
	done
done
echo "# scale figures done" >&2
