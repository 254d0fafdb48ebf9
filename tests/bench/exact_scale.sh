#!/usr/bin/env bash
# Runs in the test VM on two vCPUs (scripts/bench.sh exact boots it twice):
# UDP datagrams through the NAT VIP from one sender on vCPU 0, then from
# two at once, one on each vCPU, for rvs, the C IPVS and plain routing.
#   icount  the VM runs under `-icount shift=0,sleep=off`: QEMU then runs
#           both vCPUs in turn on one host thread and the guest's clock
#           counts the instructions of both, so the figure is instructions
#           per datagram: the senders' shared window less the time every
#           vCPU was idle in it (rvsbench's busy_ns; at most the least idle
#           vCPU's idle time)
#   wall    the VM runs in real time (TCG, one host thread per vCPU): the
#           figure is datagrams per second, what a user would see
# Appends one JSON object per measurement to OUT.
# Usage: exact_scale.sh OUT RUNS SECS icount|wall
set -euo pipefail
. "$RVS_TOP/tests/bench/lib.sh"
out=$1 runs=$2 secs=$3 mode=$4
PIN=

# m_udp SENDERS: "WINDOW_NS BUSY_NS RECEIVED" with SENDERS floods of
# 64/SENDERS flows each, sender k pinned to vCPU k, all in one window
m_udp() {
	local n=$1 i k pids=() fl=() t got=0
	for i in $(seq 1 "$NRS"); do
		in_ns rs$i rvsbench udpsink 5000 --secs $((secs + 60)) --idle 300 >/tmp/sink$i &
		pids+=($!)
	done
	t=$(($(date +%s%N) + 2000000000))
	for k in $(seq 0 $((n - 1))); do
		in_ns client taskset -c $k rvsbench udpflood "$(targets "$impl" $VIP_NAT 5000)" --secs "$secs" \
			--flows $((64 / n)) --at "$t" >/tmp/flood$k &
		fl+=($!)
	done
	wait "${fl[@]}" "${pids[@]}"
	for i in $(seq 1 "$NRS"); do got=$((got + $(jget received </tmp/sink$i))); done
	echo "$(calc "$(jget secs </tmp/flood0) * 1e9" 0) $(jget busy_ns </tmp/flood0) $got"
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
				v=$(calc "${m[1]} / ${m[2]}" 0) unit=instr/datagram
			else
				v=$(calc "${m[2]} / (${m[0]} / 1e9)" 0) unit=datagram/s
			fi
			echo "{\"figure\":\"udp4_nat_${n}cpu_$mode\",\"impl\":\"$impl\",\"run\":$r,\"value\":$v,\"unit\":\"$unit\",\"window_ns\":${m[0]},\"busy_ns\":${m[1]},\"count\":${m[2]}}" | tee -a "$out"
		done
		impl_unload $impl
	done
done
echo "# scale figures done" >&2
