#!/usr/bin/env bash
# Runs in the test VM: figures 1-5 for rvs, the C IPVS and plain routing,
# alternating (rvs, IPVS, plain, rvs, ...), each implementation loaded
# fresh for its turn. Appends one JSON object per measurement to OUT.
# Usage: data.sh OUT RUNS SECS FILL [dp] [scale]
#   dp     figures 1-4: CPS through the NAT and DR VIPs, UDP pps through
#          both, bulk TCP through NAT, latency p50/p99 at a fixed rate
#   scale  figure 5: memory per connection with FILL entries in the table,
#          and CPS with them present against an empty table
set -euo pipefail
. "$RVS_TOP/tests/bench/lib.sh"
out=$1 runs=$2 secs=$3 fill=$4; shift 4
what=${*:-dp scale}
conc=${BENCH_CONC:-32} rate=${BENCH_RATE:-100} bits=${BENCH_BITS:-20}

# emit FIGURE IMPL RUN VALUE UNIT [EXTRA-JSON-FIELDS]
emit() {
	echo "{\"figure\":\"$1\",\"impl\":\"$2\",\"run\":$3,\"value\":${4:-0},\"unit\":\"$5\"${6:+,$6}}" | tee -a "$out"
}

# cps TARGETS [ARGS...]: one JSON line from the load generator
cps() { in_ns client $PIN rvsbench cps "$1" --secs "$secs" --conc "$conc" "${@:2}"; }

# udp TARGETS: datagrams/s received by the real servers, over the sender's time
udp() {
	local i pids=() got=0 j
	for i in $(seq 1 "$NRS"); do
		in_ns rs$i $PIN rvsbench udpsink 5000 --secs $((secs + 20)) --idle 500 >/tmp/sink$i &
		pids+=($!)
	done
	sleep 0.3
	j=$(in_ns client $PIN rvsbench udpflood "$1" --secs "$secs" --flows 64)
	wait "${pids[@]}"
	for i in $(seq 1 "$NRS"); do got=$((got + $(jget received </tmp/sink$i))); done
	echo "{\"received\":$got,\"sent\":$(jget sent <<<"$j"),\"pps\":$(echo "scale=1; $got / $(jget secs <<<"$j")" | bc)}"
}

dp() { # IMPL RUN
	local impl=$1 r=$2 j
	j=$(cps "$(targets "$impl" $VIP_NAT 80)")
	emit cps_nat "$impl" "$r" "$(jget cps <<<"$j")" conn/s "\"errors\":$(jget errors <<<"$j")"
	if [ "$impl" != plain ]; then
		j=$(cps "$(targets "$impl" $VIP_DR 80)")
		emit cps_dr "$impl" "$r" "$(jget cps <<<"$j")" conn/s "\"errors\":$(jget errors <<<"$j")"
	fi
	j=$(udp "$(targets "$impl" $VIP_NAT 5000)")
	emit udp_nat "$impl" "$r" "$(jget pps <<<"$j")" pkt/s "\"sent\":$(jget sent <<<"$j")"
	if [ "$impl" != plain ]; then
		j=$(udp "$(targets "$impl" $VIP_DR 5000)")
		emit udp_dr "$impl" "$r" "$(jget pps <<<"$j")" pkt/s "\"sent\":$(jget sent <<<"$j")"
	fi
	j=$(in_ns client $PIN rvsbench bulk "$(targets "$impl" $VIP_NAT 80)" --secs "$secs" --conc 2)
	emit bulk_nat "$impl" "$r" "$(jget mbit_s <<<"$j")" Mbit/s "\"errors\":$(jget errors <<<"$j")"
	j=$(cps "$(targets "$impl" $VIP_NAT 80)" --rate "$rate" --conc 16)
	emit lat_p50 "$impl" "$r" "$(jget p50_us <<<"$j")" us "\"rate\":$rate,\"errors\":$(jget errors <<<"$j")"
	emit lat_p99 "$impl" "$r" "$(jget p99_us <<<"$j")" us "\"rate\":$rate,\"errors\":$(jget errors <<<"$j")"
}

meminfo() { awk -v k="$1:" '$1 == k {print $2}' /proc/meminfo; }

scale() { # IMPL RUN
	local impl=$1 r=$2 j empty full pids=() slab0 slab1 sun0 sun1 vm0 vm1 vml n t0 took
	vml=$(meminfo VmallocUsed)
	impl_load "$impl" "$bits"
	services
	adm --set 0 0 3600
	j=$(cps $VIP_NAT:80)
	empty=$(jget cps <<<"$j")
	sync; echo 3 >/proc/sys/vm/drop_caches
	slab0=$(meminfo Slab) sun0=$(meminfo SUnreclaim) vm0=$(meminfo VmallocUsed)
	# Two senders, one per vCPU, each half of the address/port pairs.
	t0=$(date +%s.%N)
	in_ns client rvsbench spray $VIP_NAT:6000 --count $((fill / 2)) --ports 16 >/dev/null &
	pids+=($!)
	in_ns client rvsbench spray $VIP_NAT:6000 --count $((fill - fill / 2)) --start $((fill / 2)) --ports 16 >/dev/null
	wait "${pids[@]}"
	took=$(calc "$(date +%s.%N) - $t0" 2)
	sleep 1
	sync; echo 3 >/proc/sys/vm/drop_caches
	slab1=$(meminfo Slab) sun1=$(meminfo SUnreclaim) vm1=$(meminfo VmallocUsed)
	n=$(adm -L -n -u $VIP_NAT:6000 | awk '$1 == "->" && $2 ~ /^[0-9]/ {s += $5 + $6} END {print s + 0}')
	j=$(cps $VIP_NAT:80)
	full=$(jget cps <<<"$j")
	emit mem_per_conn "$impl" "$r" "$(calc "($slab1 - $slab0 + $vm1 - $vm0) * 1024 / $n")" bytes \
		"\"entries\":$n,\"slab_kb\":[$slab0,$slab1],\"sunreclaim_kb\":[$sun0,$sun1],\"vmalloc_kb\":[$vm0,$vm1],\"vmalloc_at_load_kb\":$((vm0 - vml)),\"fill_s\":$took"
	emit cps_empty "$impl" "$r" "$empty" conn/s "\"conn_tab_bits\":$bits"
	emit cps_full "$impl" "$r" "$full" conn/s "\"entries\":$n,\"conn_tab_bits\":$bits"
	emit full_over_empty "$impl" "$r" "$(calc "$full / $empty" 3)" ratio "\"entries\":$n"
	impl_unload "$impl"
}

bench_topo
for r in $(seq 1 "$runs"); do
	case " $what " in *" dp "*)
		for impl in rvs ipvs plain; do
			echo "# run $r: $impl, data path" >&2
			impl_load $impl
			[ $impl = plain ] || services
			dp $impl "$r"
			impl_unload $impl
		done ;;
	esac
	case " $what " in *" scale "*)
		for impl in rvs ipvs; do
			echo "# run $r: $impl, $fill entries" >&2
			scale $impl "$r"
		done ;;
	esac
done
