#!/usr/bin/env bash
# Runs in the test VM booted with `-icount shift=0,sleep=off` on one vCPU
# (scripts/bench.sh exact): the guest's clock then advances one nanosecond
# per executed instruction, and jumps over idle time. So the guest time a
# load kept the CPU busy is the number of instructions the whole system
# spent on it, whatever the host does meanwhile. The load generator times
# its own window (rvsbench's "busy_ns": the window less idle and iowait),
# so starting and reaping processes, and the receivers' idle wait, stay
# out of it. Every figure is those instructions over the units the
# receiver counted (datagrams, connections, MB), for rvs, the C IPVS and
# plain routing (no balancer) in turn, each loaded fresh for its turn.
# Appends one JSON object per measurement to OUT.
# Usage: exact.sh OUT RUNS SECS FILL
set -euo pipefail
. "$RVS_TOP/tests/bench/lib.sh"
out=$1 runs=$2 secs=$3 fill=$4
# A subset for a quick check (bench.sh --figures, --impls).
only=${EXACT_FIGURES:-} impls=${EXACT_IMPLS:-rvs ipvs plain}
PIN=
VIP_TUN=192.168.10.201
VIP6_NAT=2001:db8:10::100 VIP6_DR=2001:db8:10::200 VIP6_TUN=2001:db8:10::201
BRS6=(2001:db8:1::7 2001:db8:1::17 2001:db8:1::27)

# emit FIGURE IMPL RUN BUSY_NS COUNT UNIT PER: one measurement, its value in
# instructions per PER units (1: per datagram or connection; 1e6 bytes: MB).
emit() {
	local v
	[ "$5" -gt 0 ] || { echo "# $1 $2: nothing received" >&2; return 1; }
	v=$(calc "$4 / ($5 / $7)" 0)
	echo "{\"figure\":\"$1\",\"impl\":\"$2\",\"run\":$3,\"value\":$v,\"unit\":\"$6\",\"busy_ns\":$4,\"count\":$5}" | tee -a "$out"
}

# at MS: the guest realtime MS from now, in ns, for rvsbench --at
at() { echo $(($(date +%s%N) + $1 * 1000000)); }

topo_exact() {
	local i ns
	bench_topo
	for ns in client director rs1 rs2 rs3; do
		ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0
	done
	ip -n client addr add 2001:db8:10::6/64 dev eth0 nodad
	ip -n client route add 2001:db8:1::/64 via 2001:db8:10::1
	ip -n director addr add 2001:db8:10::1/64 dev d0 nodad
	ip -n director addr add $VIP_TUN/32 dev d0
	# Deprecated: the director never picks a VIP as a source address
	# (a tunnelled packet from the VIP is refused by its receiver).
	for v in $VIP6_NAT $VIP6_DR $VIP6_TUN; do ip -n director addr add $v/128 dev d0 nodad preferred_lft 0; done
	ip -n director addr add 2001:db8:1::8/64 dev br0 nodad
	ip netns exec director sysctl -qw net.ipv6.conf.all.forwarding=1
	for i in $(seq 1 "$NRS"); do
		ns=rs$i
		ip -n $ns addr add ${BRS6[$((i - 1))]}/64 dev eth0 nodad
		ip -n $ns route add default via 2001:db8:1::8
		ip -n $ns addr add $VIP6_DR/128 dev lo
		ip -n $ns link set tunl0 up
		ip -n $ns addr add $VIP_TUN/32 dev tunl0
		ip netns exec $ns sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.tunl0.rp_filter=0
		ip -n $ns link set ip6tnl0 up
		ip -n $ns addr add $VIP6_TUN/128 dev ip6tnl0 nodad
		in_ns director ping -6 -c1 -W2 ${BRS6[$((i - 1))]} >/dev/null
	done
	in_ns client ping -6 -c1 -W2 $VIP6_NAT >/dev/null
}

services_exact() {
	local i fwd v p
	services
	adm -A -u $VIP_TUN:5000 -s rr
	for i in $(seq 1 "$NRS"); do adm -a -u $VIP_TUN:5000 -r ${BRS[$((i - 1))]}:5000 -i; done
	for v in "$VIP6_NAT -m" "$VIP6_DR -g" "$VIP6_TUN -i"; do
		fwd=${v#* } v=${v% *}
		adm -A -u "[$v]:5000" -s rr
		for i in $(seq 1 "$NRS"); do adm -a -u "[$v]:5000" -r "[${BRS6[$((i - 1))]}]:5000" $fwd; done
	done
	adm --set 0 0 3600
}

# plain_targets FAMILY PORT: every real server's own address, for the
# runs with no balancer.
plain_targets() {
	local i t= a
	for i in $(seq 1 "$NRS"); do
		if [ "$1" = 6 ]; then a="[${BRS6[$((i - 1))]}]"; else a=${BRS[$((i - 1))]}; fi
		t=$t${t:+,}$a:$2
	done
	echo "$t"
}

# m_udp TARGETS: "BUSY RECEIVED" for a flood from the client to TARGETS
m_udp() {
	local i pids=() j got=0
	for i in $(seq 1 "$NRS"); do
		in_ns rs$i rvsbench udpsink 5000 --secs $(calc "$secs + 60" 0) --idle 300 >/tmp/sink$i &
		pids+=($!)
	done
	sleep 0.3
	j=$(in_ns client rvsbench udpflood "$1" --secs "$secs" --flows 64)
	wait "${pids[@]}"
	for i in $(seq 1 "$NRS"); do got=$((got + $(jget received </tmp/sink$i))); done
	echo "$(jget busy_ns <<<"$j") $got"
}

# m_udp_reply TARGETS: the same in the reply direction: the client's
# sockets send one datagram each, then the real servers flood them back,
# all in one window (--at) whose busy time each of them reports.
m_udp_reply() {
	local i pids=() j t busy=0 b
	t=$(at 3000)
	for i in $(seq 1 "$NRS"); do
		in_ns rs$i rvsbench udpback 5000 --secs "$secs" --at "$t" >/tmp/back$i &
		pids+=($!)
	done
	sleep 0.3
	j=$(in_ns client rvsbench udpcatch "$1" --flows 64 --idle 300 --secs $(calc "$secs + 60" 0))
	wait "${pids[@]}"
	for i in $(seq 1 "$NRS"); do
		b=$(jget busy_ns </tmp/back$i)
		[ "$b" -le "$busy" ] || busy=$b
	done
	echo "$busy $(jget received <<<"$j")"
}

# m_tcp MODE TARGETS: "BUSY COUNT": connections (cps) or bytes (bulk)
m_tcp() {
	local j
	if [ "$1" = cps ]; then
		j=$(in_ns client rvsbench cps "$2" --secs "$secs" --conc 8)
		[ "$(jget errors <<<"$j")" = 0 ] || echo "# cps $2: $(jget errors <<<"$j") errors" >&2
		echo "$(jget busy_ns <<<"$j") $(jget ok <<<"$j")"
	else
		j=$(in_ns client rvsbench bulk "$2" --secs "$secs" --conc 2)
		echo "$(jget busy_ns <<<"$j") $(jget bytes <<<"$j")"
	fi
}

# figure NAME IMPL RUN UNIT PER MEASURE ARGS...
figure() {
	local m
	[ -z "$only" ] || [[ $1 =~ $only ]] || return 0
	echo "# $(cut -d' ' -f1 /proc/uptime) $1 $2" >&2
	m=$("${@:6}")
	emit "$1" "$2" "$3" ${m% *} ${m#* } "$4" "$5"
}

udp_figures() { # IMPL RUN
	local impl=$1 r=$2 f v
	if [ "$impl" = plain ]; then
		for f in 4 6; do
			figure udp${f}_plain plain "$r" instr/datagram 1 m_udp "$(plain_targets $f 5000)"
			figure udp${f}_plain_reply plain "$r" instr/datagram 1 m_udp_reply "$(plain_targets $f 5000)"
		done
		return
	fi
	figure udp4_nat "$impl" "$r" instr/datagram 1 m_udp $VIP_NAT:5000
	figure udp4_nat_reply "$impl" "$r" instr/datagram 1 m_udp_reply $VIP_NAT:5000
	figure udp4_dr "$impl" "$r" instr/datagram 1 m_udp $VIP_DR:5000
	figure udp4_tun "$impl" "$r" instr/datagram 1 m_udp $VIP_TUN:5000
	figure udp6_nat "$impl" "$r" instr/datagram 1 m_udp "[$VIP6_NAT]:5000"
	figure udp6_nat_reply "$impl" "$r" instr/datagram 1 m_udp_reply "[$VIP6_NAT]:5000"
	figure udp6_dr "$impl" "$r" instr/datagram 1 m_udp "[$VIP6_DR]:5000"
	figure udp6_tun "$impl" "$r" instr/datagram 1 m_udp "[$VIP6_TUN]:5000"
}

tcp_figures() { # IMPL RUN
	local impl=$1 r=$2
	figure tcp4_nat_conn "$impl" "$r" instr/connection 1 m_tcp cps "$(targets "$impl" $VIP_NAT 80)"
	[ "$impl" = plain ] ||
		figure tcp4_dr_conn "$impl" "$r" instr/connection 1 m_tcp cps "$(targets "$impl" $VIP_DR 80)"
	figure tcp4_nat_bulk "$impl" "$r" instr/MB 1000000 m_tcp bulk "$(targets "$impl" $VIP_NAT 80)"
}

# The table filled with FILL UDP entries (spoofed sources, to the dummy
# fill0), then new NAT connections against it: the same figure as
# tcp4_nat_conn, with the table full.
full_figure() { # IMPL RUN
	local n
	[ -z "$only" ] || [[ tcp4_nat_conn_full =~ $only ]] || return 0
	in_ns client rvsbench spray $VIP_NAT:6000 --count "$fill" --ports 16 >/dev/null
	n=$(adm -L -n -u $VIP_NAT:6000 | awk '$1 == "->" && $2 ~ /^[0-9]/ {s += $5 + $6} END {print s + 0}')
	echo "# $1: $n entries in the table" >&2
	[ "$n" -ge $((fill * 9 / 10)) ] || { echo "# $1: only $n of $fill entries made" >&2; return 1; }
	figure tcp4_nat_conn_full "$1" "$2" instr/connection 1 m_tcp cps $VIP_NAT:80
}

# The module's own share, from a cpu-clock profile (its samples are
# instructions under icount) of the load alone (perf runs the sender): one
# line per load with the percentages of the busy samples in the balancer's
# modules, in the rest of the kernel and in user space.
profile() { # IMPL
	local impl=$1 load data i mods sinks p
	case $impl in rvs) mods='^\[rvs\]$' ;; *) mods='^\[ip_vs(_rr)?\]$' ;; esac
	for load in udp4_nat udp4_nat_reply tcp4_nat_conn; do
		[ -z "$only" ] || [[ $load =~ $only ]] || continue
		echo "# $(cut -d' ' -f1 /proc/uptime) profile $load $impl" >&2
		data=/tmp/perf-exact-$impl-$load.data sinks=()
		if [ $load = udp4_nat ]; then
			for i in $(seq 1 "$NRS"); do
				in_ns rs$i rvsbench udpsink 5000 --secs $(calc "$secs + 60" 0) --idle 300 >/dev/null &
				sinks+=($!)
			done
			sleep 0.3
		fi
		# perf starts with its events off and turns them on when told
		# (its answer says they are on), so the window is the load's,
		# however long perf takes to start; idle samples are left out below.
		rm -f /tmp/perf.ctl /tmp/perf.ack
		mkfifo /tmp/perf.ctl /tmp/perf.ack
		perf record -q -e cpu-clock -F 2000 -a -D -1 --control fifo:/tmp/perf.ctl,/tmp/perf.ack \
			-o "$data" 2>/dev/null &
		p=$!
		exec 8<>/tmp/perf.ctl 9<>/tmp/perf.ack
		echo enable >&8
		read -r -t 120 -u 9 _ || { echo "# perf did not start" >&2; return 1; }
		case $load in
		udp4_nat) in_ns client rvsbench udpflood $VIP_NAT:5000 --secs "$secs" --flows 64 >/dev/null ;;
		# The wait for its common start is idle, which is left out.
		udp4_nat_reply) m_udp_reply $VIP_NAT:5000 >/dev/null ;;
		tcp4_nat_conn) in_ns client rvsbench cps $VIP_NAT:80 --secs "$secs" --conc 8 >/dev/null ;;
		esac
		kill -INT $p
		wait $p ${sinks[@]+"${sinks[@]}"} || true
		exec 8>&- 9>&-
		perf report -i "$data" --stdio --no-children --sort dso,sym -g none 2>/dev/null |
			awk -v f=$load -v impl=$impl -v mods="$mods" '
				$1 ~ /%$/ && NF >= 4 { p = $1 + 0; d = $2; s = $4
					if (s ~ /^(pv_native_safe_halt|native_safe_halt|default_idle|default_idle_call|cpuidle_idle_call|do_idle|acpi_idle_do_entry)$/) next
					if (d ~ mods) own += p; else if (d ~ /^\[/) kern += p; else user += p }
				END { t = own + kern + user; if (t == 0) t = 1
					printf "{\"share\":\"%s\",\"impl\":\"%s\",\"own_pct\":%.2f,\"kernel_pct\":%.2f,\"user_pct\":%.2f}\n", f, impl, own * 100 / t, kern * 100 / t, user * 100 / t }' |
			tee -a "$out"
		perf report -i "$data" --stdio --no-children --sort dso,sym -g none --percent-limit 0.3 \
			>"$(dirname "$out")/exact-profile-$impl-$load.txt" 2>/dev/null || true
		# rvs's samples are bare offsets to this perf (rvs.ko is not under
		# /lib/modules): the host resolves them (tests/bench/modsyms.py).
		if [ $impl = rvs ]; then mv "$data" "$(dirname "$out")/"; else rm -f "$data"; fi
	done
}

echo 0 >/proc/sys/kernel/kptr_restrict
echo -1 >/proc/sys/kernel/perf_event_paranoid
[ "$(nproc)" = 1 ] || echo "# warning: $(nproc) vCPUs; the figures assume one" >&2
perf --version >/dev/null # its binary read now, not inside a window
topo_exact
for r in $(seq 1 "$runs"); do
	for impl in $impls; do
		echo "# run $r: $impl" >&2
		impl_load $impl
		[ $impl = plain ] || services_exact
		udp_figures $impl "$r"
		tcp_figures $impl "$r"
		[ $impl = plain ] || [ "$r" != 1 ] || profile $impl
		[ $impl = plain ] || [ "$fill" = 0 ] || full_figure $impl "$r"
		impl_unload $impl
	done
done
echo "# exact figures done" >&2
