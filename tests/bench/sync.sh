#!/usr/bin/env bash
# Runs in the test VM: the connection sync benchmark (scripts/bench.sh
# sync), rvs against the kernel's ip_vs, both modules loaded at once (rvs
# with its own `rvs` family and rvsadm, ip_vs with ipvsadm), alternating
# runs (rvs, ipvs, rvs, ...), each run on a fresh network of its own
# (tests/vm/lib.sh's sync_topo dr): client, master director dir1 (holds
# the VIP), backup director dir2, two DR real servers, one bridge. Sync
# daemons: master on dir1, backup on dir2, eth0, syncid 1. Appends one
# JSON object per measurement to OUT.
# Usage: sync.sh OUT RUNS SECS
#   sync_lag_idle_*  one new TCP connection at a time (tests/bench/synclag.py):
#                    from the client's third packet until the backup lists
#                    the entry; median and p90 of BENCH_SYNC_PROBES (20)
#   sync_lag_load_*  the same under a background load of new connections
#                    (rvsbench cps --rate BENCH_SYNC_LOAD, default 100/s)
#   sync_step        new connections at each rate of BENCH_SYNC_RATES for
#                    SECS s (a service of its own per rate): entries on the
#                    master and on the backup 4 s later
#   sync_keepup      the highest of those rates at which the backup had
#                    >= 99% of the master's entries
set -euo pipefail
. "$RVS_TOP/tests/vm/lib.sh"
export PATH=$RVS_TOP/target/release:$PATH
out=$1 runs=$2 secs=$3
probes=${BENCH_SYNC_PROBES:-20} load=${BENCH_SYNC_LOAD:-100}
rates=${BENCH_SYNC_RATES:-25 50 100 200 400}
SYNC_NRS=2

emit() { # FIGURE IMPL RUN VALUE UNIT [EXTRA-JSON-FIELDS]
	echo "{\"figure\":\"$1\",\"impl\":\"$2\",\"run\":$3,\"value\":${4:-0},\"unit\":\"$5\"${6:+,$6}}" | tee -a "$out"
}
jget() { sed -nE "s/.*\"$1\":([0-9.]+).*/\1/p"; }
# entries NS PORT: connection entries listed for VIP:PORT
entries() { adm "$1" -L -n -c | awk -v v="$VIP:$2" '$5 == v {n++} END {print n + 0}'; }
# udp_errs NS: "InErrors RcvbufErrors" of the namespace's UDP
udp_errs() { ip netns exec "$1" awk '/^Udp:/ { if (h) { print $4, $6; exit } h = 1 }' /proc/net/snmp; }

lag() { # IMPL RUN KIND
	local j
	j=$(python3 "$RVS_TOP/tests/bench/synclag.py" "$1" client$SX dir2$SX $VIP 7000 "$probes")
	echo "# $3: $j" >&2
	local extra="\"probes\":$probes,\"timeouts\":$(jget timeouts <<<"$j"),\"poll_ms_median\":$(jget poll_ms_median <<<"$j"),\"poll_ms_max\":$(jget poll_ms_max <<<"$j")"
	[ "$3" = idle ] || extra="$extra,\"load_cps\":$load"
	emit sync_lag_$3_p50 "$1" "$2" "$(jget p50_ms <<<"$j")" ms "$extra"
	emit sync_lag_$3_p90 "$1" "$2" "$(jget p90_ms <<<"$j")" ms "$extra,\"lags_ms\":$(sed -nE 's/.*"lags_ms":(\[[^]]*\]).*/\1/p' <<<"$j")"
}

one() { # IMPL RUN
	local impl=$1 r=$2 i p rate k=0 j m b e0 e1 best=0 pid st
	SX=_$impl$r
	director_impl dir1$SX "$impl"; director_impl dir2$SX "$impl"
	sync_topo dr
	for i in $(seq 1 $SYNC_NRS); do
		for p in 80 $(for rate in $rates; do k=$((k + 1)); echo $((8000 + k)); done); do
			ip netns exec rs$i$SX rvsbench serve $p --threads 2 &
		done
		k=0
	done
	adm dir1$SX --start-daemon master --mcast-interface eth0 --syncid 1
	adm dir2$SX --start-daemon backup --mcast-interface eth0 --syncid 1
	for d in dir1$SX dir2$SX; do
		{
			for p in 7000 80 $(for rate in $rates; do k=$((k + 1)); echo $((8000 + k)); done); do
				echo "-A -t $VIP:$p -s rr"
				for i in $(seq 1 $SYNC_NRS); do echo "-a -t $VIP:$p -r ${LAN_RS[$((i - 1))]}:$p -g"; done
			done
		} | adm $d -R
		k=0
	done
	sync_takeover dir1$SX dr
	ip netns exec client$SX ping -c1 -W2 $VIP >/dev/null
	sleep 1
	echo "# run $r: $impl: idle sync lag" >&2
	lag "$impl" "$r" idle
	echo "# run $r: $impl: sync lag under $load conn/s" >&2
	ip netns exec client$SX rvsbench cps $VIP:80 --rate "$load" --conc 16 --secs 600 >/dev/null &
	pid=$!
	sleep 2
	lag "$impl" "$r" load
	kill "$pid"; wait "$pid" 2>/dev/null || true
	sleep 3
	for rate in $rates; do
		k=$((k + 1)) p=$((8000 + k))
		echo "# run $r: $impl: $rate conn/s for ${secs}s" >&2
		e0=$(udp_errs dir2$SX)
		j=$(ip netns exec client$SX rvsbench cps $VIP:$p --rate "$rate" --conc 32 --secs "$secs")
		sleep 4
		m=$(entries dir1$SX $p) b=$(entries dir2$SX $p)
		e1=$(udp_errs dir2$SX)
		st=
		if [ "$impl" = rvs ]; then
			st=$(adm dir2$SX -L --daemon --stats | awk '/received/' | sed 's/^ *//; s/"/'"'"'/g')
			st="$st / master: $(adm dir1$SX -L --daemon --stats | awk '/sent/' | sed 's/^ *//; s/"/'"'"'/g')"
		fi
		emit sync_step "$impl" "$r" "$(calc_frac "$b" "$m")" fraction \
			"\"rate\":$rate,\"secs\":$secs,\"achieved_cps\":$(jget cps <<<"$j"),\"ok\":$(jget ok <<<"$j"),\"errors\":$(jget errors <<<"$j"),\"master\":$m,\"backup\":$b,\"udp_inerrors_rcvbuferrors_before\":\"$e0\",\"after\":\"$e1\",\"daemon_stats\":\"$st\""
		if [ "$m" -gt 0 ] && [ $((b * 100)) -ge $((m * 99)) ]; then best=$rate; fi
	done
	emit sync_keepup "$impl" "$r" "$best" conn/s "\"rates\":\"$rates\",\"secs\":$secs"
	adm dir1$SX --stop-daemon master || true
	adm dir2$SX --stop-daemon backup || true
	adm dir1$SX -C; adm dir2$SX -C
	sync_topo_del
}
calc_frac() { awk "BEGIN { printf \"%.4f\", ($2 > 0) ? $1 / $2 : 0 }"; }

sync_load_both
for r in $(seq 1 "$runs"); do
	for impl in rvs ipvs; do one $impl "$r"; done
done
sleep 1
rmmod rvs || echo '# rmmod rvs failed' >&2
rmmod ip_vs_rr ip_vs || echo '# rmmod ip_vs failed' >&2
echo "# sync benchmark done" >&2
