#!/usr/bin/env bash
# Runs in the test VM: where rvs spends its time on the packet path.
# perf samples every CPU on the cpu-clock software event (no hardware
# counters under TCG) while the client drives NAT UDP datagrams, then new
# NAT connections, then a bulk NAT download, through rvs and then through
# IPVS. Writes perf reports and the perf data into OUTDIR
# (scripts/bench.sh resolves rvs's samples with tests/bench/modsyms.py).
# Usage: profile.sh OUTDIR SECS [IMPL...]   (default: rvs ipvs)
# Environment: BENCH_LOADS (default "udp cps bulk"; also "drudp" and
# "drcps": the same through the DR VIP, and "idle": no traffic),
# BENCH_BITS (conn_tab_bits for both modules).
set -euo pipefail
. "$RVS_TOP/tests/bench/lib.sh"
dir=$1 secs=$2; shift 2
impls=${*:-rvs ipvs}
echo 0 >/proc/sys/kernel/kptr_restrict
echo -1 >/proc/sys/kernel/perf_event_paranoid
bench_topo
cp /proc/kallsyms "$dir/kallsyms"
for impl in $impls; do
impl_load "$impl" ${BENCH_BITS:-}
services
for load in ${BENCH_LOADS:-udp cps bulk}; do
	if [ $load = udp ] || [ $load = drudp ]; then
		for i in $(seq 1 "$NRS"); do ip netns exec rs$i $PIN rvsbench udpsink 5000 --secs $((secs + 20)) >/dev/null & done
		sleep 0.3
	fi
	data=/tmp/perf-$impl-$load.data
	perf record -q -e cpu-clock -F 1000 -a -g -o "$data" -- sleep "$secs" 2>/dev/null &
	p=$!
	sleep 0.5
	case $load in
	cps) ip netns exec client $PIN rvsbench cps $VIP_NAT:80 --secs $((secs - 1)) --conc 32 ;;
	udp) ip netns exec client $PIN rvsbench udpflood $VIP_NAT:5000 --secs $((secs - 1)) --flows 64 ;;
	drcps) ip netns exec client $PIN rvsbench cps $VIP_DR:80 --secs $((secs - 1)) --conc 32 ;;
	drudp) ip netns exec client $PIN rvsbench udpflood $VIP_DR:5000 --secs $((secs - 1)) --flows 64 ;;
	bulk) ip netns exec client $PIN rvsbench bulk $VIP_NAT:80 --secs $((secs - 1)) --conc 2 ;;
	idle) sleep $((secs - 1)) ;;
	esac
	wait $p
	perf report -i "$data" --stdio --no-children --sort sym -g none --percent-limit 0.3 \
		>"$dir/profile-$impl-$load-sym.txt" 2>/dev/null
	perf report -i "$data" --stdio --no-children --sort dso -g none \
		>"$dir/profile-$impl-$load-dso.txt" 2>/dev/null
	perf report -i "$data" --stdio --children --sort sym -g none --percent-limit 1 \
		>"$dir/profile-$impl-$load-children.txt" 2>/dev/null
	perf report -i "$data" --stdio --no-children --sort dso,sym -g none --percent-limit 0.05 \
		>"$dir/profile-$impl-$load-dsosym.txt" 2>/dev/null || true
	cp "$data" "$dir/"
done
impl_unload "$impl"
done
