# (Not a test: sourced, hence not .sh.) A LAN for the sync tests that drive keepalived or rebuild a director
# (460, 480); sourced after lib.sh. Bridge br0 in namespace slan; client
# 192.168.20.2 with the aliases 192.168.20.200-219; DR real servers srs1,
# srs2 (192.168.20.21, .22; the VIPs on lo) running tagecho.py on TCP 7000
# and 7001 and UDP 7000; directors sdir1, sdir2 (192.168.20.11, .12) made
# by sl_dir.
SL_CLIENTS=(192.168.20.{200..219})
SL_VIPS=(192.168.20.100 192.168.20.110)
IPVSADM=${IPVSADM:-/usr/sbin/ipvsadm}

# (One ip batch per namespace, the real servers' ARP settings by
# tagecho.py: under emulation every process start is dear.)
sl_topo() {
	local i v
	{
		for i in slan sclient srs1 srs2; do echo "netns add $i"; done
		for i in sclient srs1 srs2; do echo "link add p-$i netns slan type veth peer name eth0 netns $i"; done
	} | ip -batch -
	{
		echo "link set lo up"; echo "link add br0 type bridge"; echo "link set br0 up"
		for i in sclient srs1 srs2; do echo "link set p-$i master br0 up"; done
	} | ip -n slan -batch -
	{
		echo "link set lo up"; echo "link set eth0 up"
		echo "addr add 192.168.20.2/24 dev eth0"
		for i in "${SL_CLIENTS[@]}"; do echo "addr add $i/24 dev eth0"; done
	} | ip -n sclient -batch -
	for i in 1 2; do
		{
			echo "link set lo up"; echo "link set eth0 up"
			echo "addr add 192.168.20.2$i/24 dev eth0"
			for v in "${SL_VIPS[@]}"; do echo "addr add $v/32 dev lo"; done
		} | ip -n srs$i -batch -
	done
	nsrun srs1 python3 -S "$RVS_TOP/tests/vm/tagecho.py" --ns srs1=srs1 --ns srs2=srs2 \
		--sysctl net.ipv4.conf.all.arp_ignore=1 --sysctl net.ipv4.conf.all.arp_announce=2 \
		--sysctl net.ipv4.conf.eth0.arp_ignore=1 --sysctl net.ipv4.conf.eth0.arp_announce=2 \
		7000 7001 >/tmp/sl-rs.out 2>&1 &
	poll_for 60 line_in /tmp/sl-rs.out 'tagecho: * listening *' ||
		fail "the real servers' echo service did not start: $(</tmp/sl-rs.out)"
	slurp v /tmp/sl-rs.out; echo "$v"
}
sl_dir() { # N: director sdirN, fresh
	printf '%s\n' "netns add sdir$1" "link add p-sdir$1 netns slan type veth peer name eth0 netns sdir$1" | ip -batch -
	ip -n slan link set "p-sdir$1" master br0 up
	printf '%s\n' "link set lo up" "link set eth0 up" "addr add 192.168.20.1$1/24 dev eth0" | ip -n sdir$1 -batch -
}
sl_dir_del() { # N
	ip -n slan link del p-sdir$1 2>/dev/null || true
	ip netns del sdir$1 2>/dev/null || true
}
sl_del() {
	local ns p
	for ns in sdir1 sdir2 sclient srs1 srs2 slan; do
		ns_pids $ns
		for p in "${NS_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
		[ ! -e /run/netns/$ns ] || echo "netns del $ns"
	done | ip -force -batch - 2>/dev/null || true
}
# sl_adm IMPL NS ARGS...: rvsadm or ipvsadm in NS.
sl_adm() {
	local impl=$1 ns=$2; shift 2
	if [ "$impl" = ipvs ]; then in_ns "$ns" "$IPVSADM" "$@"; else in_ns "$ns" rvsadm "$@"; fi
}
# sl_services IMPL NS: TCP VIP:7000 rr and VIP:7001 rr persistent 60 s, DR,
# to both real servers.
sl_services() {
	local p
	for p in 7000 7001; do
		if [ $p = 7001 ]; then sl_adm "$1" "$2" -A -t ${SL_VIPS[0]}:$p -s rr -p 60
		else sl_adm "$1" "$2" -A -t ${SL_VIPS[0]}:$p -s rr; fi
		sl_adm "$1" "$2" -a -t ${SL_VIPS[0]}:$p -r 192.168.20.21 -g
		sl_adm "$1" "$2" -a -t ${SL_VIPS[0]}:$p -r 192.168.20.22 -g
	done
}
sl_takeover() { # NS: NS takes the first VIP; the others forget its MAC
	local ns
	ip -n "$1" addr add ${SL_VIPS[0]}/32 dev eth0
	for ns in sclient srs1 srs2; do ip -n $ns neigh flush dev eth0; done
}
# sl_entries IMPL NS PORT: ESTABLISHED entries to the first VIP's PORT.
sl_entries() {
	sl_adm "$1" "$2" -L -n -c | awk -v v="${SL_VIPS[0]}:$3" '$3 == "ESTABLISHED" && $5 == v' | wc -l
}
# sl_sessions VIP PORT N INTERVAL OUT: N tagged sessions from the client's
# addresses, a line every INTERVAL s, until /tmp/sl-stop (sl_stop).
sl_sessions() {
	local srcs
	srcs=$(IFS=,; echo "${SL_CLIENTS[*]}")
	nsrun sclient python3 -S "$RVS_TOP/tests/vm/sessions.py" --tagged --src "$srcs" \
		--stop-file /tmp/sl-stop "$1" "$2" "$3" 600 "$4" >"$5" 2>&1 &
}
# sl_stop OUT...: stops the sessions and waits for each OUT's report.
sl_stop() {
	local f l
	touch /tmp/sl-stop
	for f in "$@"; do
		wait_for 60 "the sessions of $f report" line_in "$f" 'sessions: * failures'
		slurp l "$f"; echo "$l"
	done
}
# sl_failures OUT: the failures OUT reported (its report must be there).
sl_failures() {
	local l n= sep=
	while IFS= read -r l; do
		[[ $l =~ ^sessions:\ .*,\ ([0-9]*)\ failures$ ]] && n+=$sep${BASH_REMATCH[1]} && sep=$'\n'
	done <"$1"
	[ -n "$n" ] || fail "no report in $1"
	echo "$n"
}
