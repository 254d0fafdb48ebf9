# (Not a test: sourced, hence not .sh.) A LAN for the sync tests that drive keepalived or rebuild a director
# (460, 480); sourced after lib.sh. Bridge br0 in namespace slan; client
# 192.168.20.2 with the aliases 192.168.20.200-219; DR real servers srs1,
# srs2 (192.168.20.21, .22; the VIPs on lo) running tagecho.py on TCP 7000
# and 7001 and UDP 7000; directors sdir1, sdir2 (192.168.20.11, .12) made
# by sl_dir.
SL_CLIENTS=($(seq -f '192.168.20.%g' 200 219))
SL_VIPS=(192.168.20.100 192.168.20.110)
IPVSADM=${IPVSADM:-/usr/sbin/ipvsadm}

sl_port() { # NS IF: NS gets IF on the bridge
	ip link add "p-$1" netns slan type veth peer name "$2" netns "$1"
	ip -n slan link set "p-$1" master br0 up
	ip -n "$1" link set "$2" up
}
sl_topo() {
	local i
	new_netns slan; ip -n slan link add br0 type bridge; ip -n slan link set br0 up
	new_netns sclient; sl_port sclient eth0
	{
		echo "addr add 192.168.20.2/24 dev eth0"
		for i in "${SL_CLIENTS[@]}"; do echo "addr add $i/24 dev eth0"; done
	} | ip -n sclient -batch -
	for i in 1 2; do
		new_netns srs$i; sl_port srs$i eth0
		ip -n srs$i addr add 192.168.20.2$i/24 dev eth0
		for v in "${SL_VIPS[@]}"; do ip -n srs$i addr add $v/32 dev lo; done
		in_ns srs$i sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
		in_ns srs$i sysctl -qw net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2
	done
	nsrun srs1 python3 -S "$RVS_TOP/tests/vm/tagecho.py" --ns srs1=srs1 --ns srs2=srs2 7000 7001 &
	for i in 1 2; do listening srs$i t 7001; done
}
sl_dir() { # N: director sdirN, fresh
	new_netns sdir$1; sl_port sdir$1 eth0
	ip -n sdir$1 addr add 192.168.20.1$1/24 dev eth0
}
sl_dir_del() { # N
	ip -n slan link del p-sdir$1 2>/dev/null || true
	ip netns del sdir$1 2>/dev/null || true
}
sl_del() {
	local ns p
	for ns in sdir1 sdir2 sclient srs1 srs2 slan; do
		for p in $(ip netns pids $ns 2>/dev/null); do kill "$p" 2>/dev/null || true; done
		ip netns del $ns 2>/dev/null || true
	done
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
	local f
	touch /tmp/sl-stop
	for f in "$@"; do
		wait_for 60 "the sessions of $f report" grep -q '^sessions: .* failures$' "$f"
		cat "$f"
	done
}
# sl_failures OUT: the failures OUT reported (its report must be there).
sl_failures() {
	local n
	n=$(sed -n 's/^sessions: .*, \([0-9]*\) failures$/\1/p' "$1")
	[ -n "$n" ] || fail "no report in $1"
	echo "$n"
}
